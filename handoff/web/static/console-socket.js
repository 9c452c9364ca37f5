// The agent console's live connection: /api/v1/console/ws through C.LiveSocket (which reconnects with
// backoff). While it is down: the banner, and polling the open conversation and the lists; once back:
// the open conversation and my chats are read again, so a reconnect loses and repeats nothing.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var A = window.GridDeskAgentConsole;
  var POLL_MS = 5000;  // catch-up polling while the websocket is down

  var live = null;
  var connectedOnce = false;
  var pollTimer = null;

  function startPolling() {
    if (pollTimer !== null) { return; }
    pollTimer = window.setInterval(function () { A.chat.refreshCurrent(); A.lists.refresh(); }, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer !== null) { window.clearInterval(pollTimer); pollTimer = null; }
  }

  // onEvent(data): every message the server pushes
  function start(onEvent) {
    // serve=1: this page serves chats, so while it is open the agent counts as present (waiting customers go to them)
    live = new C.LiveSocket("/api/v1/console/ws?serve=1", {
      open: function () {
        A.nodes["connection-banner"].hidden = true;
        stopPolling();
        if (connectedOnce) {
          A.chat.refreshCurrent();
          A.lists.refreshChats();
        } else {
          A.chat.subscribe();
        }
        connectedOnce = true;
      },
      message: onEvent,
      down: function () {
        A.nodes["connection-banner"].hidden = false;
        startPolling();
      }
    });
  }

  // Sends when connected (before start() and while down: nothing; the open handler catches up).
  function send(data) {
    if (live) { live.send(data); }
  }

  A.socket = { start: start, send: send };
})();
