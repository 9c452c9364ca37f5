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

  // {from, to, bucket} of a period: a month "YYYY-MM", a quarter (year, 1–4), a year, or two days.
  function monthPeriod(value) {
    var parts = String(value || "").split("-");
    var year = Number(parts[0]), month = Number(parts[1]);
    return { from: year + "-" + pad(month) + "-01", to: year + "-" + pad(month) + "-" + pad(lastDay(year, month)),
      bucket: "day", title: year + "年" + month + "月" };
  }
  function quarterPeriod(year, quarter) {
    var first = (quarter - 1) * 3 + 1, last = first + 2;
    return { from: year + "-" + pad(first) + "-01", to: year + "-" + pad(last) + "-" + pad(lastDay(year, last)),
      bucket: "week", title: year + "年第" + "一二三四".charAt(quarter - 1) + "季度" };
  }
  function yearPeriod(year) {
    return { from: year + "-01-01", to: year + "-12-31", bucket: "month", title: year + "年" };
  }
  function customPeriod(from, to) {
    var days = (new Date(to) - new Date(from)) / 86400000 + 1;
    return { from: from, to: to, bucket: days > 190 ? "month" : (days > 62 ? "week" : "day"), title: from + " 至 " + to };
  }

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

  // The KPIs of the breakdown tables: [name, unit] (the groups carry plain values).
  var BREAKDOWN = [
    ["conversations", "count", "会话量"], ["handoffs", "count", "转人工"], ["first_response_p90_seconds", "seconds", "首次响应P90"],
    ["csat_satisfied_share", "rate", "满意度"], ["tickets_opened", "count", "新建工单"],
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
    table(node, ["客服", "接待量", "评价数", "服务质量(40%)", "服务效率(30%)", "客户满意度(30%)", "综合得分"], rows);
  }

  // ECharts on canvas (CSP: no inline styles or scripts), tooltips drawn in the canvas too.
  function chart(node) {
    var existing = window.echarts.getInstanceByDom(node);
    if (existing) { return existing; }
    var instance = window.echarts.init(node, null, { renderer: "canvas" });
    window.addEventListener("resize", function () { instance.resize(); });
    return instance;
  }

  var COLORS = ["#1f6feb", "#f59e0b", "#10b981", "#cf222e", "#8250df"];

  function trendOption(body) {
    var groups = body.groups || [];
    var keys = groups.map(function (g) { return g.label; });
    function series(name, kpi, type, axis) {
      return { name: name, type: type, yAxisIndex: axis || 0, smooth: type === "line",
        data: groups.map(function (g) {
          var v = g.kpis[kpi];
          return v === null || v === undefined ? null : (axis ? Math.round(v * 1000) / 10 : v);
        }) };
    }
    return {
      color: COLORS,
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 36, bottom: 28 },
      xAxis: { type: "category", data: keys },
      yAxis: [{ type: "value", name: "数量" }, { type: "value", name: "满意度%", min: 0, max: 100 }],
      series: [series("会话量", "conversations", "bar"), series("转人工", "handoffs", "bar"),
        series("新建工单", "tickets_opened", "bar"), series("满意度%", "csat_satisfied_share", "line", 1)]
    };
  }

  function breakdownOption(body) {
    var groups = (body.groups || []).slice(0, 20);
    return {
      color: COLORS,
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 110, right: 24, top: 30, bottom: 24 },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: groups.map(function (g) { return g.label; }) },
      series: [
        { name: "转人工", type: "bar", data: groups.map(function (g) { return g.kpis.handoffs || 0; }) },
        { name: "新建工单", type: "bar", data: groups.map(function (g) { return g.kpis.tickets_opened || 0; }) }
      ]
    };
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
    query: query, fillGrids: fillGrids, option: option, start: start, thisMonth: thisMonth, iso: iso
  };
})();
