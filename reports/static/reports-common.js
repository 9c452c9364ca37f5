// Shared by the report pages (reports-page.html): periods, value formatting, the KPI tables and tiles, the
// scorecard table and ECharts set-up. Builds on window.GridDeskConsole (common.js); exposes window.GridDeskReports.
// Every server text goes into the page with textContent (C.el); charts draw on canvas (no HTML from data).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var el = C.el;

  function pad(n) { return String(n).padStart(2, "0"); }
  function iso(date) { return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()); }
  function lastDay(year, month) { return new Date(year, month, 0).getDate(); }  // month 1–12

  function today() { return iso(new Date()); }

  // A period that reaches past today ends today (this month so far): its title, figures and trend stop there.
  function upToToday(period) {
    var now = today();
    if (period.from <= now && period.to > now) { period.to = now; }
    return period;
  }

  // {from, to, bucket, title} of a period: a month "YYYY-MM", a quarter (year, 1–4), a year, or two days.
  function monthPeriod(value) {
    var parts = String(value || "").split("-");
    var year = Number(parts[0]), month = Number(parts[1]);
    return upToToday({ from: year + "-" + pad(month) + "-01", to: year + "-" + pad(month) + "-" + pad(lastDay(year, month)),
      bucket: "day", title: year + "年" + month + "月" });
  }
  function quarterPeriod(year, quarter) {
    var first = (quarter - 1) * 3 + 1, last = first + 2;
    return upToToday({ from: year + "-" + pad(first) + "-01", to: year + "-" + pad(last) + "-" + pad(lastDay(year, last)),
      bucket: "week", title: year + "年第" + "一二三四".charAt(quarter - 1) + "季度" });
  }
  function yearPeriod(year) {
    return upToToday({ from: year + "-01-01", to: year + "-12-31", bucket: "month", title: year + "年" });
  }
  function customPeriod(from, to) {
    var days = (utcDay(to) - utcDay(from)) / 86400000 + 1;
    return { from: from, to: to, bucket: days > 190 ? "month" : (days > 62 ? "week" : "day"), title: from + " 至 " + to };
  }

  // Calendar days as UTC midnights (no time zone or daylight saving in the arithmetic).
  function utcDay(text) {
    var p = String(text).split("-");
    return Date.UTC(Number(p[0]), Number(p[1]) - 1, Number(p[2]));
  }
  function dayText(ms) {
    var d = new Date(ms);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
  }

  // Every bucket of a period, in order, keyed as the API keys its groups: day "2026-03-01", week its Monday,
  // month "2026-03"; a bucket without any activity is still on the chart's axis.
  function buckets(period) {
    var keys = [], seen = {};
    for (var ms = utcDay(period.from), last = utcDay(period.to); ms <= last; ms += 86400000) {
      var key = dayText(ms);
      if (period.bucket === "week") { key = dayText(ms - ((new Date(ms).getUTCDay() + 6) % 7) * 86400000); }
      if (period.bucket === "month") { key = key.slice(0, 7); }
      if (!seen[key]) { seen[key] = true; keys.push(key); }
    }
    return keys;
  }

  // A bucket's name on the axis: 3月1日 · 3月2日起（the week from that Monday） · 2026年3月.
  function bucketLabel(key, bucket) {
    var p = key.split("-");
    if (bucket === "month") { return p[0] + "年" + Number(p[1]) + "月"; }
    return Number(p[1]) + "月" + Number(p[2]) + "日" + (bucket === "week" ? "起" : "");
  }

  // The picker of a month: a year and a month select (the browser's own month field shows its own language).
  function monthPicker(yearSelect, monthSelect, value) {
    var year = new Date().getFullYear();
    for (var y = year; y >= year - 4; y -= 1) { yearSelect.appendChild(option(String(y), y + "年")); }
    for (var m = 1; m <= 12; m += 1) { monthSelect.appendChild(option(pad(m), m + "月")); }
    var parts = String(value || thisMonth()).split("-");
    yearSelect.value = parts[0];
    monthSelect.value = parts[1];
    if (!yearSelect.value || !monthSelect.value) { yearSelect.value = String(year); monthSelect.value = thisMonth().slice(5); }
  }
  function pickedMonth(yearSelect, monthSelect) { return yearSelect.value + "-" + monthSelect.value; }

  var UNIT = { rate: "rate", seconds: "seconds", count: "count", score: "score" };

  function format(value, unit) {
    if (value === null || value === undefined || typeof value !== "number") { return "—"; }
    if (unit === UNIT.rate) { return (value * 100).toFixed(1) + "%"; }
    if (unit === UNIT.seconds) { return value < 60 ? value.toFixed(value < 10 ? 1 : 0) + "秒" : C.duration(value); }
    if (unit === UNIT.score) { return value.toFixed(2); }
    return String(Math.round(value));
  }

  function targetText(kpi) {
    if (kpi.target === null || kpi.target === undefined) { return "无目标"; }
    return "目标 " + (kpi.op === ">=" ? "≥ " : "≤ ") + format(kpi.target, kpi.unit);
  }

  function state(kpi) {
    return kpi.met === true ? "met" : (kpi.met === false ? "missed" : "none");
  }

  // The tiles of ``names`` from a report body's kpis: value, target, red/green.
  function tiles(container, kpis, names) {
    C.clear(container);
    names.forEach(function (name) {
      var kpi = kpis[name];
      if (!kpi) { return; }
      var tile = el("div", "rp-tile rp-tile--" + state(kpi));
      tile.setAttribute("data-kpi", name);
      tile.appendChild(el("div", "rp-tile__label", kpi.label));
      tile.appendChild(el("div", "rp-tile__value", format(kpi.value, kpi.unit)));
      var foot = el("div", "rp-tile__target", targetText(kpi));
      if (kpi.met !== null && kpi.met !== undefined) {
        foot.appendChild(el("span", "rp-flag", kpi.met ? " 达标" : " 未达标"));
      }
      tile.appendChild(foot);
      container.appendChild(tile);
    });
  }

  function table(node, headers, rows) {
    C.clear(node);
    var head = el("thead"), tr = el("tr");
    headers.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    head.appendChild(tr);
    node.appendChild(head);
    var body = el("tbody");
    rows.forEach(function (cells) {
      var row = el("tr");
      cells.forEach(function (cell) {
        var td = el("td");
        if (cell instanceof Node) { td.appendChild(cell); } else { td.textContent = cell === null || cell === undefined ? "" : String(cell); }
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    if (!rows.length) {
      var empty = el("tr"), td = el("td", "muted", "所选时段没有数据");
      td.colSpan = headers.length;
      empty.appendChild(td);
      body.appendChild(empty);
    }
    node.appendChild(body);
  }

  // The columns of the breakdown tables: [KPI name, unit, header] (the groups carry plain values).
  var BREAKDOWN = [
    ["conversations", "count", "会话量"], ["handoffs", "count", "转人工"],
    ["first_response_p90_seconds", "seconds", "首次响应（90分位）"], ["csat_satisfied_share", "rate", "客户满意度"],
    ["tickets_opened", "count", "新建工单"],
    ["resolved_on_time_rate", "rate", "处理及时率"], ["first_contact_resolution_rate", "rate", "一次解决率"]
  ];

  function breakdownTable(node, body, firstHeader) {
    var headers = [firstHeader].concat(BREAKDOWN.map(function (b) { return b[2]; }));
    var rows = (body.groups || []).map(function (group) {
      return [group.label].concat(BREAKDOWN.map(function (b) { return format(group.kpis[b[0]], b[1]); }));
    });
    table(node, headers, rows);
  }

  function score(value) { return value === null || value === undefined ? "—" : value.toFixed(1); }

  function scorecardTable(node, card) {
    var rows = (card.agents || []).map(function (a) {
      var total = el("b", a.total === null ? "muted" : null, a.total === null ? "数据不足" : score(a.total));
      return [a.name, a.handoffs, a.csat_count, score(a.quality), score(a.efficiency), score(a.satisfaction), total];
    });
    table(node, ["客服", "接待量", "评价数", "服务质量（40%）", "服务效率（30%）", "客户满意度（30%）", "综合得分"], rows);
  }

  // ECharts on canvas (CSP: no inline styles or scripts), tooltips drawn in the canvas too. ``print``: the chart
  // is redrawn at the size the print style sheet gives it (mm at 96 px per inch) while the page prints.
  function chart(node, print) {
    var existing = window.echarts.getInstanceByDom(node);
    if (existing) { return existing; }
    var instance = window.echarts.init(node, null, { renderer: "canvas", devicePixelRatio: print ? 2 : undefined });
    window.addEventListener("resize", function () { instance.resize(); });
    if (print) {
      window.addEventListener("beforeprint", function () {
        instance.resize({ width: Math.round(print.width * 96 / 25.4), height: Math.round(print.height * 96 / 25.4) });
      });
      window.addEventListener("afterprint", function () { instance.resize({ width: "auto", height: "auto" }); });
    }
    return instance;
  }

  var COLORS = ["#1f6feb", "#f59e0b", "#10b981", "#cf222e", "#8250df"];
  var NARROW = 560;  // px: below, legends get a row of their own above the axis names

  function present(v) { return v !== null && v !== undefined; }

  // The trend of a period: every bucket on the axis (none without activity is skipped); counts of a bucket
  // without rows are 0, rates null (no data).
  function trendOption(body, period, width) {
    var byKey = {};
    (body.groups || []).forEach(function (g) { byKey[g.key] = g.kpis; });
    var keys = buckets(period);
    var narrow = width < NARROW;
    function series(name, kpi, type, axis) {
      return { name: name, type: type, yAxisIndex: axis || 0, connectNulls: false,
        data: keys.map(function (key) {
          var v = (byKey[key] || {})[kpi];
          if (!present(v)) { return axis ? null : 0; }
          return axis ? Math.round(v * 1000) / 10 : v;
        }) };
    }
    return {
      color: COLORS,
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0, itemWidth: narrow ? 14 : 25, itemGap: narrow ? 6 : 10 },
      grid: { left: 48, right: 48, top: narrow ? 64 : 44, bottom: 28 },
      xAxis: { type: "category", data: keys.map(function (key) { return bucketLabel(key, period.bucket); }) },
      yAxis: [{ type: "value", name: "数量", minInterval: 1 },
        { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" }, splitLine: { show: false } }],
      series: [series("会话量", "conversations", "bar"), series("转人工", "handoffs", "bar"),
        series("新建工单", "tickets_opened", "bar"), series("客户满意度（%）", "csat_satisfied_share", "line", 1)]
    };
  }

  // Volumes of each group (the first 20): conversations where the dimension has them, handoffs, new tickets.
  function breakdownOption(body) {
    var groups = (body.groups || []).slice(0, 20);
    var volumes = [["会话量", "conversations"], ["转人工", "handoffs"], ["新建工单", "tickets_opened"]].filter(function (v) {
      return groups.some(function (g) { return present(g.kpis[v[1]]); });
    });
    return {
      color: COLORS,
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 120, right: 24, top: 30, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, axisLabel: { width: 108, overflow: "truncate" },
        data: groups.map(function (g) { return g.label; }) },
      series: volumes.map(function (v) {
        return { name: v[0], type: "bar", data: groups.map(function (g) { return g.kpis[v[1]] || 0; }) };
      })
    };
  }

  // Height of the breakdown chart: room for each group's bars.
  function breakdownHeight(body) {
    return Math.max(160, Math.min(20, (body.groups || []).length) * 44 + 60);
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      if (params[key] !== null && params[key] !== undefined && params[key] !== "") {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(params[key]));
      }
    });
    return parts.join("&");
  }

  function fillGrids(select, grids, withAll) {
    C.clear(select);
    if (withAll) { select.appendChild(option("", "全部网格")); }
    grids.forEach(function (g) { select.appendChild(option(g.code, g.name)); });
  }
  function option(value, text) { var o = el("option", null, text); o.value = value; return o; }

  // The page's start: the account (refusal for agents), its grids.
  function start(onReady) {
    C.me().then(function (body) {
      if (!C.isManager(body && body.account)) {
        document.getElementById("forbidden").hidden = false;
        document.querySelector(".rp-nav").hidden = true;  // the report pages are not theirs either
        return;
      }
      document.getElementById("report").hidden = false;
      onReady(body);
    }, function (error) { C.toast(C.errorText(error, "加载失败"), "error"); });
  }

  function thisMonth() { var d = new Date(); return d.getFullYear() + "-" + pad(d.getMonth() + 1); }

  window.GridDeskReports = {
    monthPeriod: monthPeriod, quarterPeriod: quarterPeriod, yearPeriod: yearPeriod, customPeriod: customPeriod,
    format: format, targetText: targetText, tiles: tiles, table: table, breakdownTable: breakdownTable,
    scorecardTable: scorecardTable, chart: chart, trendOption: trendOption, breakdownOption: breakdownOption,
    query: query, fillGrids: fillGrids, option: option, start: start, thisMonth: thisMonth, iso: iso,
    buckets: buckets, bucketLabel: bucketLabel, monthPicker: monthPicker, pickedMonth: pickedMonth,
    breakdownHeight: breakdownHeight
  };
})();
