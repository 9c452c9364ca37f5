// The dashboard (/console/reports): KPI tiles against their targets, the trend, breakdowns by grid, agent,
// category and channel, the agents' scorecard, exports of the current view. GET /api/v1/reports/kpis,
// …/scorecard and …/export with the chosen grid and period.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var R = window.GridDeskReports;
  var TILES = ["conversations", "bot_resolved_rate", "handoff_rate", "first_response_p90_seconds",
    "csat_satisfied_share", "csat_avg", "tickets_opened", "ticket_response_p90_seconds", "sla_compliance_rate",
    "resolved_on_time_rate", "first_contact_resolution_rate", "complaint_one_time_resolution_rate",
    "agent_utilisation", "kb_deflection_rate"];
  var DIM_HEADERS = { grid: "网格", agent: "客服", category: "类别", channel: "渠道" };
  var $ = function (id) { return document.getElementById(id); };
  var dimension = "grid";
  var current = null;  // {grid, from, to, bucket, title}
  // Each answer is drawn only if it is still the latest asked for its part (a slow answer to an older
  // query or tab never overwrites a newer one).
  var asked = { view: 0, breakdown: 0 };

  function picks() {
    var kind = $("rp-kind").value;
    $("rp-month-pick").hidden = kind !== "month";
    $("rp-quarter-pick").hidden = kind !== "quarter";
    $("rp-year-pick").hidden = kind !== "year";
    $("rp-custom-pick").hidden = kind !== "custom";
  }

  function chosen() {
    var kind = $("rp-kind").value;
    if (kind === "quarter") { return R.quarterPeriod(Number($("rp-quarter-year").value), Number($("rp-quarter").value)); }
    if (kind === "year") { return R.yearPeriod(Number($("rp-year").value)); }
    if (kind === "custom") {
      if (!$("rp-from").value || !$("rp-to").value) { return null; }
      return R.customPeriod($("rp-from").value, $("rp-to").value);
    }
    return R.monthPeriod(R.pickedMonth($("rp-month-year"), $("rp-month")));
  }

  function params(extra) {
    var base = { grid: current.grid, from: current.from, to: current.to };
    Object.keys(extra || {}).forEach(function (k) { base[k] = extra[k]; });
    return R.query(base);
  }

  function exportLinks() {
    $("rp-export-csv").href = "/api/v1/reports/export?" + params({ format: "csv", group_by: dimension });
    $("rp-export-xlsx").href = "/api/v1/reports/export?" + params({ format: "xlsx", group_by: dimension });
    var month = current.from.slice(0, 7);
    $("rp-monthly").href = "/console/reports/monthly?" + R.query({ grid: current.grid, month: month });
  }

  function get(extra) { return C.api("GET", "/api/v1/reports/kpis?" + params(extra)); }

  function latest(part, draw) {
    var ticket = ++asked[part];
    return function (body) { if (ticket === asked[part]) { draw(body); } };
  }

  function loadBreakdown() {
    exportLinks();
    var dim = dimension;
    return get({ group_by: dim }).then(latest("breakdown", function (body) {
      R.breakdownTable($("rp-breakdown"), body, DIM_HEADERS[dim]);
      var node = $("rp-breakdown-chart");
      node.style.height = R.breakdownHeight(body) + "px";
      var chart = R.chart(node);
      chart.resize();
      chart.setOption(R.breakdownOption(body), true);
    }));
  }

  function load() {
    var period = chosen();
    if (!period) { C.toast("请选择开始日期和结束日期。", "error"); return; }
    if (period.from > period.to) { C.toast("结束日期不能早于开始日期。", "error"); return; }
    current = { grid: $("rp-grid").value, from: period.from, to: period.to, bucket: period.bucket, title: period.title };
    var gridText = $("rp-grid").selectedOptions[0] ? $("rp-grid").selectedOptions[0].textContent : "";
    $("rp-period").textContent = "正在加载 " + gridText + " · " + period.title + "…";
    $("rp-apply").disabled = true;
    var ticket = ++asked.view;
    function mine(draw) { return function (body) { if (ticket === asked.view) { draw(body); } }; }
    Promise.all([
      get({}).then(mine(function (body) { R.tiles($("rp-tiles"), body.kpis, TILES); })),
      get({ group_by: period.bucket }).then(mine(function (body) {
        var node = $("rp-trend");
        R.chart(node).setOption(R.trendOption(body, period, node.clientWidth), true);
      })),
      loadBreakdown(),
      C.api("GET", "/api/v1/reports/scorecard?" + params({})).then(mine(function (card) {
        R.scorecardTable($("rp-scorecard"), card);
      }))
    ]).then(mine(function () {
      $("rp-period").textContent = gridText + " · " + period.title + "（" + period.from + " 至 " + period.to + "，北京时间）";
      $("rp-apply").disabled = false;
    }), function (error) {
      if (ticket !== asked.view) { return; }
      $("rp-period").textContent = "";
      $("rp-apply").disabled = false;
      C.toast(C.errorText(error, "报表加载失败"), "error");
    });
  }

  R.start(function (me) {
    var grids = Array.isArray(me.grids) ? me.grids : [];
    R.fillGrids($("rp-grid"), grids, true);
    var year = new Date().getFullYear();
    [$("rp-year"), $("rp-quarter-year")].forEach(function (select) {
      for (var y = year; y >= year - 4; y -= 1) { select.appendChild(R.option(String(y), y + "年")); }
    });
    $("rp-quarter").value = String(Math.floor(new Date().getMonth() / 3) + 1);
    R.monthPicker($("rp-month-year"), $("rp-month"), R.thisMonth());
    $("rp-kind").addEventListener("change", picks);
    $("rp-apply").addEventListener("click", load);
    Array.prototype.forEach.call(document.querySelectorAll(".rp-tab"), function (tab) {
      tab.addEventListener("click", function () {
        dimension = tab.getAttribute("data-dim");
        Array.prototype.forEach.call(document.querySelectorAll(".rp-tab"), function (t) {
          t.setAttribute("aria-selected", t === tab ? "true" : "false");
        });
        if (current) { loadBreakdown().catch(function (error) { C.toast(C.errorText(error, "加载失败"), "error"); }); }
      });
    });
    picks();
    load();
  });
})();
