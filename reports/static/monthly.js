// The printable monthly report of one grid (/console/reports/monthly?grid=CODE&month=YYYY-MM): every KPI with its
// target and whether it is met, the daily trend, the categories and the agents' scorecard; print CSS in reports.css.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var R = window.GridDeskReports;
  var $ = function (id) { return document.getElementById(id); };
  var PRINTED_CHART = { width: 180, height: 70 };  // mm: .rp-chart--print in reports.css's print style sheet

  function kpiRows(kpis) {
    return Object.keys(kpis).filter(function (name) { return kpis[name].unit !== "breakdown"; }).map(function (name) {
      var kpi = kpis[name];
      var met = kpi.met === true ? "达标" : (kpi.met === false ? "未达标" : "—");
      var flag = C.el("span", kpi.met === true ? "rp-ok" : (kpi.met === false ? "rp-bad" : "muted"), met);
      var target = kpi.target === null || kpi.target === undefined ? "—" : R.targetText(kpi).replace("目标 ", "");
      return [kpi.label, R.format(kpi.value, kpi.unit), target, flag];
    });
  }

  function load() {
    var grid = $("rp-grid").value;
    var period = R.monthPeriod(R.pickedMonth($("rp-month-year"), $("rp-month")));
    var name = $("rp-grid").selectedOptions[0] ? $("rp-grid").selectedOptions[0].textContent : grid;
    var query = R.query({ grid: grid, from: period.from, to: period.to });
    window.history.replaceState(null, "", "?" + R.query({ grid: grid, month: period.from.slice(0, 7) }));
    $("rp-sheet-title").textContent = name + " " + period.title + " 服务月报";
    $("rp-period").textContent = "统计时段：" + period.from + " 至 " + period.to + "（北京时间）";
    $("rp-generated").textContent = "生成于 " + R.iso(new Date());
    $("rp-sheet").setAttribute("aria-busy", "true");
    return Promise.all([
      C.api("GET", "/api/v1/reports/kpis?" + query).then(function (body) {
        R.table($("rp-kpi-table"), ["指标", "本月", "目标", "是否达标"], kpiRows(body.kpis));
      }),
      C.api("GET", "/api/v1/reports/kpis?" + query + "&group_by=day").then(function (body) {
        var node = $("rp-trend");
        var option = R.trendOption(body, period, node.clientWidth);
        option.animation = false;  // printed as drawn
        R.chart(node, PRINTED_CHART).setOption(option, true);
      }),
      C.api("GET", "/api/v1/reports/kpis?" + query + "&group_by=category").then(function (body) {
        R.breakdownTable($("rp-breakdown"), body, "类别");
      }),
      C.api("GET", "/api/v1/reports/scorecard?" + query).then(function (card) {
        R.scorecardTable($("rp-scorecard"), card);
      })
    ]).catch(function (error) { C.toast(C.errorText(error, "月报加载失败"), "error"); }).then(function () {
      $("rp-sheet").setAttribute("aria-busy", "false");
    });
  }

  R.start(function (me) {
    var grids = Array.isArray(me.grids) ? me.grids : [];
    R.fillGrids($("rp-grid"), grids, false);
    var asked = new URLSearchParams(window.location.search);
    if (grids.some(function (g) { return g.code === asked.get("grid"); })) { $("rp-grid").value = asked.get("grid"); }
    R.monthPicker($("rp-month-year"), $("rp-month"), /^\d{4}-\d{2}$/.test(asked.get("month") || "") ? asked.get("month") : R.thisMonth());
    $("rp-apply").addEventListener("click", load);
    $("rp-print").addEventListener("click", function () { window.print(); });
    load();
  });
})();
