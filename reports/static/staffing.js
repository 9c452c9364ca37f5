// The staffing forecast (/console/reports/staffing?grid=CODE&weeks=N): the grid's agents now (the roster) beside
// the agents each hour of the week needs (Erlang C on the handoffs of the last weeks) and the agents who were
// online in that hour; short hours in red. GET /api/v1/reports/staffing (docs/kpis.md, Staffing forecast).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var R = window.GridDeskReports;
  var el = C.el;
  var $ = function (id) { return document.getElementById(id); };
  var DAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
  var asked = 0;  // only the latest answer is drawn

  function pad(n) { return String(n).padStart(2, "0"); }
  function number(value) { return (Math.round(value * 10) / 10).toFixed(1); }
  function clock(hour) { return pad(hour) + ":00"; }

  function cell(hour) {
    var td = el("td", "sf-cell" + (hour.short ? " sf-cell--short" : (hour.handoffs > 0 ? "" : " sf-cell--idle")));
    td.setAttribute("data-hour-of-week", String(hour.hour_of_week));
    td.appendChild(el("b", "sf-need", String(hour.agents_needed)));
    td.appendChild(el("span", "sf-have", "/" + number(hour.agents_available)));
    var when = DAYS[hour.weekday - 1] + " " + clock(hour.hour) + "–" + clock(hour.hour + 1);
    td.title = when + "：预计转人工 " +
      hour.handoffs + " 次，同时接待 " + hour.slots_needed + " 个会话，需要 " + hour.agents_needed + " 名客服；" +
      "历史平均在线 " + number(hour.agents_available) + " 名" + (hour.short ? "（人手不足）" : "");
    return td;
  }

  function forecastTable(node, hours) {
    C.clear(node);
    var head = el("thead"), tr = el("tr");
    tr.appendChild(el("th", "sf-hour", "时段"));
    DAYS.forEach(function (day) { tr.appendChild(el("th", null, day)); });
    head.appendChild(tr);
    node.appendChild(head);
    var body = el("tbody");
    for (var h = 0; h < 24; h += 1) {
      var row = el("tr");
      row.appendChild(el("th", "sf-hour", clock(h)));
      for (var d = 0; d < 7; d += 1) { row.appendChild(cell(hours[d * 24 + h])); }
      body.appendChild(row);
    }
    node.appendChild(body);
  }

  function rosterTable(node, roster) {
    var rows = roster.map(function (agent) {
      var status = el("span", "status-dot status-dot--" + String(agent.status), C.label(C.labels.status, agent.status));
      var row = [agent.name, status, agent.active_chats + " / " + agent.max_chats];
      return row;
    });
    R.table(node, ["客服", "状态", "当前会话 / 上限"], rows);
    if (!rows.length) { node.querySelector("tbody td").textContent = "该网格还没有客服"; }
  }

  function basis(body) {
    var source = body.handle_time_source === "history" ? "（历史平均）" : "（无历史，按默认值）";
    return "依据 " + body.from + " 至 " + body.to + "（" + body.weeks + " 周，北京时间）的 " + body.handoffs + " 次转人工；" +
      "平均处理时长 " + C.duration(body.handle_time_avg_seconds) + source + "；等待目标：" +
      Math.round(body.service_level * 100) + "% 的客户在 " + body.wait_target_seconds + " 秒内接入；" +
      "每位客服同时接待 " + body.chats_per_agent + " 个会话。";
  }

  function load() {
    var grid = $("sf-grid").value, weeks = $("sf-weeks").value;
    if (!grid) { return; }
    window.history.replaceState(null, "", "?" + R.query({ grid: grid, weeks: weeks }));
    $("sf-basis").textContent = "正在计算…";
    $("sf-apply").disabled = true;
    var ticket = ++asked;
    C.api("GET", "/api/v1/reports/staffing?" + R.query({ grid: grid, weeks: weeks })).then(function (body) {
      if (ticket !== asked) { return; }
      rosterTable($("sf-roster"), body.roster || []);
      $("sf-online").textContent = "当前在线 " + body.online_now + " 名，共 " + (body.roster || []).length + " 名客服";
      forecastTable($("sf-table"), body.hours);
      $("sf-short").textContent = body.short_hours ? "人手不足 " + body.short_hours + " 个时段" : "各时段人手充足";
      $("sf-short").className = "tag" + (body.short_hours ? " sf-tag--short" : " sf-tag--ok");
      $("sf-basis").textContent = basis(body);
      $("sf-apply").disabled = false;
    }, function (error) {
      if (ticket !== asked) { return; }
      $("sf-basis").textContent = "";
      $("sf-apply").disabled = false;
      C.toast(C.errorText(error, "预测加载失败"), "error");
    });
  }

  R.start(function (me) {
    var grids = Array.isArray(me.grids) ? me.grids : [];
    R.fillGrids($("sf-grid"), grids, false);
    var query = new URLSearchParams(window.location.search);
    if (grids.some(function (g) { return g.code === query.get("grid"); })) { $("sf-grid").value = query.get("grid"); }
    if (["4", "8", "12"].indexOf(query.get("weeks")) >= 0) { $("sf-weeks").value = query.get("weeks"); }
    if (!grids.length) { $("sf-basis").textContent = "您没有负责的网格。"; $("sf-apply").disabled = true; return; }
    $("sf-apply").addEventListener("click", load);
    load();
  });
})();
