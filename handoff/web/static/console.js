// The agent console: the queue of my grids, my chats, one open conversation with its handoff packet,
// knowledge-base search, canned replies, tickets, transfer / hand back / close. Each concern has its
// file (console-state.js describes them); this one boots the page and routes the server's live events.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var A = window.GridDeskAgentConsole;

  function onEvent(data) {
    switch (data.type) {
      case "queue": A.lists.setQueue(data.items); break;
      case "chats": A.lists.setChats(data.items); break;
      case "message": A.chat.onLiveMessage(data.conversation_id, data.message); break;
      case "handoff": A.chat.onHandoffEvent(data); break;
      case "hello": A.status.show(data.agent_status); break;
      case "agent_status": A.status.show(data.status); break;
      case "alert":
        if (data.alert && data.alert.message) {
          C.toast("服务时限提醒：" + data.alert.message, "warn", C.alertLink(data.alert));
        }
        break;
      default: break;  // pong and anything newer
    }
  }

  C.me().then(function (body) {
    A.state.account = body.account;
    A.status.init();
    A.lists.refresh();
    A.tools.loadCanned();
    A.socket.start(onEvent);
    window.setInterval(A.lists.tick, 1000);
    // ?handoff=<id>: open that conversation (the board's chat alerts link here)
    var linked = Number(new URLSearchParams(window.location.search).get("handoff"));
    if (linked > 0 && linked < 1e12 && Math.floor(linked) === linked) { A.chat.open(linked); }
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
