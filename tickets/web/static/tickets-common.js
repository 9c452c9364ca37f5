// Shared by the tickets workspace pages (/console/tickets, /console/tickets/<number>): the server's clock,
// step-deadline countdowns, the live connection (the console websocket's "tickets" news) and small helpers.
// Exposes window.GridDeskTickets. Every server text goes in with textContent (C.el).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var OPEN_STATES = { accepted: true, analysing: true, in_progress: true };
  var offset = 0;  // server clock − this browser's clock, from the last answer's "now"

  function syncClock(iso) {
    var server = Date.parse(iso || "");
    if (!isNaN(server)) { offset = server - Date.now(); }
  }

  function now() { return Date.now() + offset; }

  // The current step's deadline as people read it: {text, late}; late = overdue (turns red).
  function countdown(ticket) {
    if (!ticket || !OPEN_STATES[ticket.state] || !ticket.step_due_at) {
      return { text: ticket && ticket.state === "resolved" ? "待客户反馈" : "—", late: false, none: true };
    }
    var left = (Date.parse(ticket.step_due_at) - now()) / 1000;
    if (left <= 0 || ticket.overdue) {
      return { text: "已超时 " + C.duration(Math.max(0, -left)), late: true };
    }
    return { text: "剩余 " + C.duration(left), late: false };
  }

  // Fills (or refreshes) a countdown element; data-due keeps what it counts to.
  function paintCountdown(node, ticket) {
    var shown = countdown(ticket);
    node.textContent = shown.text;
    node.classList.toggle("countdown--late", shown.late);
    node.classList.toggle("countdown--none", !!shown.none);
    node.title = ticket && ticket.step_due_at ? "本环节期限：" + C.clock(ticket.step_due_at) : "";
  }

  function isOpen(state) { return !!OPEN_STATES[state]; }

  function stateTag(state) {
    var tag = C.el("span", "tag tk-state", C.label(C.labels.ticketState, state));
    tag.setAttribute("data-state", String(state || ""));
    return tag;
  }

  function priorityTag(priority) {
    var tag = C.el("span", "tag tk-priority", C.label(C.labels.priority, priority));
    tag.setAttribute("data-priority", String(priority || ""));
    return tag;
  }

  function ticketUrl(number) { return "/console/tickets/" + encodeURIComponent(String(number)); }

  // The console websocket's ticket news. handlers: changes(list) for news of my grids' tickets,
  // resync() after a lost connection came back (what happened meanwhile is read again).
  function live(handlers) {
    var banner = document.getElementById("connection-banner");
    var wasDown = false;
    return new C.LiveSocket("/api/v1/console/ws", {
      open: function () {
        banner.hidden = true;
        if (wasDown && handlers.resync) { handlers.resync(); }
        wasDown = false;
      },
      message: function (data) {
        if (data.type === "tickets" && Array.isArray(data.changes)) { handlers.changes(data.changes); }
      },
      down: function () { banner.hidden = false; wasDown = true; }
    });
  }

  // many events in a burst → one call
  function debounce(fn, ms) {
    var timer = null;
    return function () {
      if (timer !== null) { return; }
      timer = window.setTimeout(function () { timer = null; fn(); }, ms);
    };
  }

  window.GridDeskTickets = {
    syncClock: syncClock, now: now, countdown: countdown, paintCountdown: paintCountdown, isOpen: isOpen,
    stateTag: stateTag, priorityTag: priorityTag, ticketUrl: ticketUrl, live: live, debounce: debounce
  };
})();
