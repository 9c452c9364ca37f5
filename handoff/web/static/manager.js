// The grid manager's board: per grid its live queue (over the first-response SLA highlighted),
// agent load, tickets per state (overdue, awaiting approval; each count links to the tickets workspace
// filtered so), the customers' ratings and SLA alerts (each linking to its ticket or conversation).
// GET /api/v1/console/manager, again on websocket queue/alert/tickets events and every 10 s. Every
// server text goes in with textContent (C.el).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var el = C.el;
  var REFRESH_MS = 10000;
  var FIRST_RESPONSE_SLA_SECONDS = 60;  // DOMAIN.md: online chat, first response within 1 minute

  var grids = document.getElementById("grids");
  var board = { grids: [], receivedAt: Date.now() };
  var pending = null;

  function waited(item) {
    return (item.waited_seconds || 0) + (Date.now() - board.receivedAt) / 1000;
  }

  function slaSeconds(grid) {
    var value = grid.first_response_seconds;
    return typeof value === "number" && value > 0 ? value : FIRST_RESPONSE_SLA_SECONDS;
  }

  function table(headers) {
    var t = el("table", "table");
    var head = el("tr");
    headers.forEach(function (h) { head.appendChild(el("th", null, h)); });
    var thead = el("thead");
    thead.appendChild(head);
    t.appendChild(thead);
    var body = el("tbody");
    t.appendChild(body);
    return { table: t, body: body };
  }

  function row(className, cells) {
    var tr = el("tr", className);
    cells.forEach(function (cell) {
      var td = el("td");
      if (cell instanceof Node) { td.appendChild(cell); } else { td.textContent = cell === null || cell === undefined ? "" : String(cell); }
      tr.appendChild(td);
    });
    return tr;
  }

  function loadBar(active, max) {
    var wrap = el("span", "load");
    var track = el("span", "load__track");
    var bar = el("span", "load__bar");
    track.appendChild(bar);
    var ratio = max > 0 ? Math.min(active / max, 1) : 0;
    bar.style.width = Math.round(ratio * 100) + "%";
    if (ratio >= 1) { bar.classList.add("load__bar--full"); }
    wrap.appendChild(track);
    wrap.appendChild(el("span", "load__text", active + "/" + max));
    return wrap;
  }

  var STATES = ["accepted", "analysing", "in_progress", "resolved", "closed"];

  function ticketsLink(grid, query, text, className) {
    var params = new URLSearchParams(Object.assign({ grid: grid.code }, query));
    var link = el("a", className || "ticket-count", text);
    link.href = "/console/tickets?" + params.toString();
    return link;
  }

  function renderTickets(grid) {
    var counts = grid.tickets || { by_state: {}, overdue: 0, awaiting_approval: 0 };
    var box = el("div", "ticket-counts");
    box.setAttribute("data-grid", String(grid.code));
    STATES.forEach(function (state) {
      var n = (counts.by_state && counts.by_state[state]) || 0;
      var item = ticketsLink(grid, { state: state }, C.label(C.labels.ticketState, state) + " " + n);
      item.setAttribute("data-state", state);
      item.setAttribute("data-count", String(n));
      box.appendChild(item);
    });
    var overdue = ticketsLink(grid, { overdue: "true" }, "超时 " + (counts.overdue || 0), "ticket-count ticket-count--overdue");
    overdue.setAttribute("data-count", String(counts.overdue || 0));
    overdue.classList.toggle("is-zero", !counts.overdue);
    box.appendChild(overdue);
    var waiting = ticketsLink(grid, { awaiting_approval: "true" }, "待审批 " + (counts.awaiting_approval || 0), "ticket-count ticket-count--approval");
    waiting.setAttribute("data-count", String(counts.awaiting_approval || 0));
    box.appendChild(waiting);
    return box;
  }

  function ratingText(ratings) {
    if (!ratings || !ratings.count) { return "近" + ((ratings && ratings.days) || 30) + "天暂无评价"; }
    return "近" + ratings.days + "天评价 " + Number(ratings.average).toFixed(2) + " 分 · " + ratings.count + " 条";
  }

  // an alert's link: its ticket's page, or the conversation in the agent console (C.alertLink)
  function alertLink(alert) {
    var link = C.alertLink(alert);
    if (!link) { return null; }
    var anchor = el("a", "alert-link", link.text);
    anchor.href = link.href;
    return anchor;
  }

  function renderGrid(grid) {
    var card = el("section", "grid-card");
    card.setAttribute("data-grid", String(grid.code));
    var head = el("header", "grid-card__head");
    head.appendChild(el("h2", null, grid.name || grid.code));
    head.appendChild(el("span", "tag", grid.code));
    var queue = Array.isArray(grid.queue) ? grid.queue : [];
    var agents = Array.isArray(grid.agents) ? grid.agents : [];
    var alerts = Array.isArray(grid.alerts) ? grid.alerts.slice() : [];
    var online = agents.filter(function (a) { return a.status === "online"; }).length;
    head.appendChild(el("span", "grid-card__stat", "排队 " + queue.length + " · 在线客服 " + online + "/" + agents.length));
    card.appendChild(head);
    var rating = el("p", "grid-card__rating muted", ratingText(grid.ratings));
    rating.setAttribute("data-count", String((grid.ratings && grid.ratings.count) || 0));
    card.appendChild(rating);

    card.appendChild(el("h3", "sub-title", "工单"));
    card.appendChild(renderTickets(grid));

    card.appendChild(el("h3", "sub-title", "排队中"));
    if (queue.length) {
      var q = table(["#", "等待时长", "原因", "客户", "推荐客服", "内容"]);
      queue.forEach(function (item) {
        var seconds = waited(item);
        var time = el("span", "waited", C.duration(seconds));
        var tr = row("manager-queue-item", [item.position, time, item.reason_label || item.reason,
          [item.profile && item.profile.region, item.profile && C.label(C.labels.tier, item.profile.tier)].filter(Boolean).join(" · "),
          item.offered_agent ? item.offered_agent.name : "—", item.preview || ""]);
        tr.setAttribute("data-handoff-id", String(item.handoff_id));
        tr.setAttribute("data-waited", String(item.waited_seconds || 0));
        if (seconds >= slaSeconds(grid)) { tr.classList.add("over-sla"); }
        q.body.appendChild(tr);
      });
      card.appendChild(q.table);
    } else {
      card.appendChild(el("p", "empty", "暂无排队"));
    }

    card.appendChild(el("h3", "sub-title", "客服负载"));
    if (agents.length) {
      var a = table(["客服", "状态", "会话", "技能"]);
      agents.forEach(function (agent) {
        var status = el("span", "status-dot status-dot--" + String(agent.status), C.label(C.labels.status, agent.status));
        var tr = row("agent-row", [agent.name, status, loadBar(agent.active_chats || 0, agent.max_chats || 0),
          (Array.isArray(agent.skills) ? agent.skills : []).map(function (skill) {
            return C.label(C.labels.skill, skill);
          }).join("、") || "—"]);
        tr.setAttribute("data-agent-id", String(agent.id));
        a.body.appendChild(tr);
      });
      card.appendChild(a.table);
    } else {
      card.appendChild(el("p", "empty", "暂无客服"));
    }

    card.appendChild(el("h3", "sub-title", "服务时限提醒"));
    alerts.sort(function (x, y) { return String(y.created_at || "").localeCompare(String(x.created_at || "")) || (y.id || 0) - (x.id || 0); });
    if (alerts.length) {
      var list = el("ol", "alert-list");
      alerts.forEach(function (alert) {
        var li = el("li", "alert-item");
        li.setAttribute("data-alert-id", String(alert.id));
        li.appendChild(el("time", "alert-item__time", C.clock(alert.created_at)));
        li.appendChild(el("span", "tag tag--warn", C.labels.alertKind[alert.kind] || alert.kind || "提醒"));
        li.appendChild(el("span", "alert-item__message", alert.message || ""));
        var link = alertLink(alert);
        if (link) { li.appendChild(link); }
        var ack = el("button", "btn btn--small alert-ack", "已知悉");
        ack.type = "button";
        ack.addEventListener("click", function () {
          ack.disabled = true;
          C.api("POST", "/api/v1/console/alerts/" + encodeURIComponent(String(alert.id)) + "/ack").then(function () {
            li.remove();
          }, function (error) {
            ack.disabled = false;
            C.toast(C.errorText(error, "操作失败"), "error");
          });
        });
        li.appendChild(ack);
        list.appendChild(li);
      });
      card.appendChild(list);
    } else {
      card.appendChild(el("p", "empty", "暂无提醒"));
    }
    return card;
  }

  function render() {
    C.clear(grids);
    board.grids.forEach(function (grid) { grids.appendChild(renderGrid(grid)); });
    document.getElementById("grids-empty").hidden = board.grids.length > 0;
    document.getElementById("updated-at").textContent = "更新于 " + C.clock(new Date().toISOString());
  }

  function tick() {
    grids.querySelectorAll(".manager-queue-item").forEach(function (tr) {
      var card = tr.closest(".grid-card");
      var grid = board.grids.filter(function (g) { return String(g.code) === card.getAttribute("data-grid"); })[0];
      var seconds = Number(tr.getAttribute("data-waited")) + (Date.now() - board.receivedAt) / 1000;
      var cell = tr.querySelector(".waited");
      if (cell) { cell.textContent = C.duration(seconds); }
      if (grid && seconds >= slaSeconds(grid)) { tr.classList.add("over-sla"); }
    });
  }

  // messages waiting for the bot (it could not answer): the outage is visible while it lasts
  function showBacklog(backlog) {
    var banner = document.getElementById("bot-backlog");
    var waiting = backlog && backlog.messages > 0;
    banner.hidden = !waiting;
    if (waiting) {
      banner.textContent = "智能助手暂时无法回复：" + backlog.conversations + " 位客户的 " + backlog.messages +
        " 条消息等待回复，最早已等待 " + C.duration(backlog.oldest_seconds || 0) +
        "。助手恢复后会按顺序回复，等待过久的客户将自动转人工。";
    }
  }

  function forbidden() {
    document.getElementById("forbidden").hidden = false;
    grids.hidden = true;
  }

  function load() {
    return C.api("GET", "/api/v1/console/manager").then(function (body) {
      board = { grids: (body && Array.isArray(body.grids)) ? body.grids : [], receivedAt: Date.now() };
      render();
      showBacklog(body && body.bot_backlog);
    }, function (error) {
      if (error.status === 403) { forbidden(); return; }
      C.toast(C.errorText(error, "看板加载失败"), "error");
    });
  }

  // many events in a burst → one reload
  function reloadSoon() {
    if (pending !== null) { return; }
    pending = window.setTimeout(function () { pending = null; load(); }, 300);
  }

  C.me().then(function (body) {
    if (!C.isManager(body.account)) { forbidden(); return; }
    load();
    window.setInterval(load, REFRESH_MS);
    window.setInterval(tick, 1000);
    new C.LiveSocket("/api/v1/console/ws", {
      open: function () { document.getElementById("connection-banner").hidden = true; },
      message: function (data) {
        if (data.type === "queue" || data.type === "alert" || data.type === "handoff" || data.type === "tickets") { reloadSoon(); }
      },
      down: function () { document.getElementById("connection-banner").hidden = false; }
    });
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
