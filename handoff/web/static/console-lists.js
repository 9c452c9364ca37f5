// The agent console's two lists: the queue of my grids (waited time ticking, accept) and my chats
// (unread and waiting-reply markers). Selecting an item opens it (A.chat.open).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var A = window.GridDeskAgentConsole;
  var el = C.el;
  var state = A.state;
  var nodes = A.nodes;

  // ---- queue ----------------------------------------------------------------------------------

  function waitedNow(item) {
    return (item.waited_seconds || 0) + (Date.now() - state.queue.receivedAt) / 1000;
  }

  function setQueue(items) {
    state.queue = { items: Array.isArray(items) ? items : [], receivedAt: Date.now() };
    renderQueue();
  }

  function renderQueue() {
    var list = nodes.queue;
    var current = state.current;
    C.clear(list);
    state.queue.items.forEach(function (item) {
      var li = el("li", "queue-item");
      li.setAttribute("data-handoff-id", String(item.handoff_id));
      li.tabIndex = 0;
      if (current && current.handoffId === item.handoff_id) { li.classList.add("is-selected"); }
      // who (the verified name and region, else 访客 #id) and what they need: told apart at a glance
      var top = el("div", "item-row");
      top.appendChild(el("b", "item-customer", A.customerLine(item.customer, item.profile)));
      var waited = el("span", "waited", C.duration(waitedNow(item)));
      waited.setAttribute("data-waited", String(item.waited_seconds || 0));
      top.appendChild(waited);
      li.appendChild(top);
      li.appendChild(el("p", "item-question", item.question || item.preview || "（客户尚未描述问题）"));
      var tags = el("div", "item-row");
      tags.appendChild(el("span", "tag", item.grid ? item.grid.name || item.grid.code : ""));
      tags.appendChild(el("span", "item-reason item-reason--small", item.reason_label || C.label(C.labels.reason, item.reason)));
      var queueChannel = el("span", "tag tag--channel", C.channelLabel(item.channel));
      queueChannel.setAttribute("data-channel", String(item.channel || ""));
      tags.appendChild(queueChannel);
      li.appendChild(tags);
      if (item.offered_agent && A.isMine(item.offered_agent)) {
        li.classList.add("is-offered");
        li.appendChild(el("span", "badge badge--offer", "推荐给您"));
      }
      if (item.preview && item.preview !== item.question) {
        li.appendChild(el("p", "item-preview", "最新：" + item.preview));
      }
      var bottom = el("div", "item-row");
      bottom.appendChild(el("span", "item-meta", A.tierText(item.profile)));
      var accept = el("button", "btn btn--primary btn--small accept", "接入");
      accept.type = "button";
      accept.addEventListener("click", function (event) { event.stopPropagation(); acceptHandoff(item.handoff_id, accept); });
      bottom.appendChild(accept);
      li.appendChild(bottom);
      li.addEventListener("click", function () { A.chat.open(item.handoff_id); });
      li.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && event.target === li) { A.chat.open(item.handoff_id); }
      });
      list.appendChild(li);
    });
    nodes["queue-count"].textContent = String(state.queue.items.length);
    nodes["queue-empty"].hidden = state.queue.items.length > 0;
  }

  // every second: the waited times, without rebuilding the list
  function tick() {
    nodes.queue.querySelectorAll(".queue-item").forEach(function (li, index) {
      var item = state.queue.items[index];
      var waited = li.querySelector(".waited");
      if (item && waited) { waited.textContent = C.duration(waitedNow(item)); }
    });
  }

  function removeFromQueue(handoffId) {
    state.queue.items = state.queue.items.filter(function (item) { return item.handoff_id !== handoffId; });
    renderQueue();
  }

  // a handoff left the queue (taken, closed…): out of the list if it is there
  function dropFromQueue(handoffId) {
    var wasQueued = state.queue.items.some(function (item) { return item.handoff_id === handoffId; });
    if (wasQueued) { removeFromQueue(handoffId); }
  }

  function acceptHandoff(handoffId, button) {
    if (button) { button.disabled = true; }
    accepting[handoffId] = true;
    return C.api("POST", A.API + "/handoffs/" + handoffId + "/accept", {}).then(function (chat) {
      removeFromQueue(handoffId);
      if (chat && chat.handoff_id) {
        state.chats = state.chats.filter(function (c) { return c.handoff_id !== chat.handoff_id; }).concat([chat]);
        renderChats();
      }
      C.toast("已接入会话", "ok");
      return A.chat.open(handoffId);
    }, function (error) {
      if (button) { button.disabled = false; }
      C.toast(C.errorText(error, "接入失败"), "error");
      if (error.code === "already_taken" || error.status === 404) {
        removeFromQueue(handoffId);
        if (state.current && state.current.handoffId === handoffId) { A.chat.open(handoffId); }
      }
    });
  }

  // ---- my chats ---------------------------------------------------------------------------------

  var chatsLoaded = false;  // the first list is what the agent already had: no "new chat" news for it
  var accepting = {};  // handoff ids this page is accepting (their chat is not news)

  function setChats(items) {
    var before = {};
    state.chats.forEach(function (chat) { before[chat.handoff_id] = true; });
    state.chats = Array.isArray(items) ? items : [];
    var arrived = chatsLoaded ? state.chats.filter(function (chat) {
      return !before[chat.handoff_id] && !accepting[chat.handoff_id];
    }) : [];
    chatsLoaded = true;
    renderChats();
    // a chat the agent did not accept here: the dispatcher gave it (or a colleague transferred it)
    if (arrived.length) {
      C.toast("新会话已分配给您：" + A.customerLabel(arrived[0].customer, arrived[0].profile), "ok");
      if (!state.current) { A.chat.open(arrived[0].handoff_id); }
    }
  }

  function unread(chat) {
    if (state.current && state.current.conversationId === chat.conversation_id) { return false; }
    var last = state.seen[chat.conversation_id];
    if (last === undefined) { state.seen[chat.conversation_id] = chat.last_seq || 0; return false; }
    return (chat.last_seq || 0) > last;
  }

  function renderChats() {
    var list = nodes.chats;
    var current = state.current;
    C.clear(list);
    state.chats.forEach(function (chat) {
      var li = el("li", "chat-item");
      li.setAttribute("data-handoff-id", String(chat.handoff_id));
      li.setAttribute("data-conversation-id", String(chat.conversation_id));
      li.tabIndex = 0;
      if (current && current.handoffId === chat.handoff_id) { li.classList.add("is-selected"); }
      var top = el("div", "item-row");
      top.appendChild(el("b", "item-customer", A.customerLine(chat.customer, chat.profile)));
      if (unread(chat)) {
        li.classList.add("is-unread");
        top.appendChild(el("span", "unread", "新消息"));
      }
      if (chat.waiting_reply) { top.appendChild(el("span", "badge badge--wait", "待回复")); }
      li.appendChild(top);
      if (chat.question) { li.appendChild(el("p", "item-question", chat.question)); }
      var bottom = el("div", "item-row");
      bottom.appendChild(el("span", "tag", chat.grid ? chat.grid.name || chat.grid.code : ""));
      var chatChannel = el("span", "tag tag--channel", C.channelLabel(chat.channel));
      chatChannel.setAttribute("data-channel", String(chat.channel || ""));
      bottom.appendChild(chatChannel);
      bottom.appendChild(el("span", "item-meta", chat.accepted_at ? "接入于 " + C.clock(chat.accepted_at) : ""));
      li.appendChild(bottom);
      li.addEventListener("click", function () { A.chat.open(chat.handoff_id); });
      li.addEventListener("keydown", function (event) { if (event.key === "Enter") { A.chat.open(chat.handoff_id); } });
      list.appendChild(li);
    });
    nodes["chats-count"].textContent = String(state.chats.length);
    nodes["chats-empty"].hidden = state.chats.length > 0;
  }

  function chatFor(handoffId) {
    return state.chats.filter(function (c) { return c.handoff_id === handoffId; })[0];
  }

  // a chat I no longer serve (transferred, handed back, closed)
  function removeChat(handoffId) {
    state.chats = state.chats.filter(function (chat) { return chat.handoff_id !== handoffId; });
    renderChats();
  }

  // a message in a conversation that is not open: its chat gets the unread marker
  function noteMessage(conversationId, message) {
    state.chats.forEach(function (chat) {
      if (chat.conversation_id === conversationId && message && message.seq > (chat.last_seq || 0)) {
        chat.last_seq = message.seq;
      }
    });
    renderChats();
  }

  function refreshChats() {
    C.api("GET", A.API + "/chats").then(function (body) { setChats(body.items); }, function () { /* next event */ });
  }

  function refresh() {
    C.api("GET", A.API + "/queue").then(function (body) { setQueue(body.items); }, function () { /* next event */ });
    refreshChats();
  }

  // both lists again (the selected item follows the open conversation)
  function render() {
    renderQueue();
    renderChats();
  }

  A.lists = {
    setQueue: setQueue,
    dropFromQueue: dropFromQueue,
    accept: acceptHandoff,
    tick: tick,
    setChats: setChats,
    renderChats: renderChats,
    chatFor: chatFor,
    removeChat: removeChat,
    noteMessage: noteMessage,
    refresh: refresh,
    refreshChats: refreshChats,
    render: render
  };
})();
