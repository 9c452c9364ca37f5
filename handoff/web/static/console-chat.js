// The agent console's open conversation: opening a handoff (transcript, packet, who serves it), live
// messages de-duplicated and kept in seq order, catching up after a lost connection, the action
// buttons' state, and the composer that sends the agent's reply.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var A = window.GridDeskAgentConsole;
  var el = C.el;
  var state = A.state;
  var nodes = A.nodes;

  // what the customer's control buttons mean, in transcripts written before presses were kept as titles
  var CONTROL_LABELS = {
    "/griddesk_keep_waiting": "（客户选择：继续等待）", "/griddesk_leave_message": "（客户选择：留言）",
    "/griddesk_back_to_bot": "（客户选择：返回智能助手）"
  };

  // ---- transcript ---------------------------------------------------------------------------------

  function markSeen(seq) {
    var current = state.current;
    if (!current) { return; }
    current.shown[seq] = true;
    if (seq > current.lastSeq && current.lastSeq === 0 && !current.loaded) { current.lastSeq = seq; }
    while (current.shown[current.lastSeq + 1]) { current.lastSeq += 1; }
    state.seen[current.conversationId] = Math.max(state.seen[current.conversationId] || 0, current.lastSeq);
  }

  function appendMessage(message) {
    var current = state.current;
    if (!current || !message || typeof message.seq !== "number" || current.shown[message.seq]) { return; }
    markSeen(message.seq);
    var payload = (message.payload && typeof message.payload === "object") ? message.payload : {};
    var author = String(message.author || "bot");
    var li = el("li", "msg msg--" + author);
    li.setAttribute("data-seq", String(message.seq));
    var head = el("div", "msg__head");
    var who = C.labels.author[author] || author;
    if (author === "agent") {
      var name = payload.agent_name ? String(payload.agent_name) : "客服";
      who = (state.account && payload.agent_id === state.account.id) ? name + "（我）" : name;
    }
    head.appendChild(el("span", "msg__who", who));
    head.appendChild(el("time", "msg__time", C.clock(message.created_at)));
    li.appendChild(head);
    var text = message.text || (typeof payload.text === "string" ? payload.text : "")
      || (payload.custom && typeof payload.custom.text === "string" ? payload.custom.text : "");
    if (author === "customer" && CONTROL_LABELS[text]) { text = CONTROL_LABELS[text]; }
    // a button press is kept as the button's title, its payload under payload.button
    if (author === "customer" && typeof payload.button === "string") { text = "（客户选择：" + text + "）"; }
    li.appendChild(el("div", "msg__text", text));
    var buttons = payload.buttons || (payload.custom && payload.custom.buttons) || (payload.reply && payload.reply.buttons);
    if (Array.isArray(buttons) && buttons.length) {
      var row = el("div", "msg__buttons");
      buttons.forEach(function (b) { if (b) { row.appendChild(el("span", "chip", b.title || b.payload || "")); } });
      li.appendChild(row);
    }
    // keep seq order even if a late message arrives after a newer one
    var list = nodes.transcript;
    var after = null;
    list.querySelectorAll(".msg[data-seq]").forEach(function (other) {
      if (!after && Number(other.getAttribute("data-seq")) > message.seq) { after = other; }
    });
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.insertBefore(li, after);
    if (atBottom || author === "agent") { list.scrollTop = list.scrollHeight; }
  }

  function onLiveMessage(conversationId, message) {
    if (state.current && state.current.conversationId === conversationId) {
      appendMessage(message);
      return;
    }
    A.lists.noteMessage(conversationId, message);
  }

  function catchUp() {
    if (!state.current) { return Promise.resolve(); }
    var opened = state.current;
    return C.api("GET", A.API + "/conversations/" + opened.conversationId + "/messages?after=" + opened.lastSeq)
      .then(function (body) {
        if (state.current === opened && body && Array.isArray(body.messages)) { body.messages.forEach(appendMessage); }
      }, function () { /* next poll */ });
  }

  // after a lost connection: who serves the open conversation now, and anything missed, then live again
  function refreshCurrent() {
    if (!state.current || !state.current.loaded) { return; }
    var opened = state.current;
    C.api("GET", A.API + "/handoffs/" + opened.handoffId).then(function (detail) {
      if (state.current !== opened) { return; }
      opened.status = detail.status;
      opened.mine = A.isMine(detail.agent);
      (Array.isArray(detail.messages) ? detail.messages : []).forEach(appendMessage);
      setActions();
      subscribe();
    }, function () { subscribe(); });
  }

  function subscribe() {
    if (state.current) {
      A.socket.send({ type: "subscribe", conversation_id: state.current.conversationId, after: state.current.lastSeq });
    }
  }

  // ---- the open handoff -----------------------------------------------------------------------------

  function setActions() {
    var current = state.current;
    var open = !!current && current.loaded;
    var active = open && current.status === "active" && current.mine;
    nodes["composer-input"].disabled = !active;
    nodes["composer-send"].disabled = !active;
    nodes["transfer-open"].disabled = !active;
    nodes["hand-back"].disabled = !active;
    nodes["close-chat"].disabled = !active;
    nodes["ticket-open"].disabled = !open || !current.mine;
    nodes["accept-current"].hidden = !(open && current.status === "queued");
    nodes["composer-input"].placeholder = active ? "输入回复，Enter 发送，Shift+Enter 换行"
      : (open && current.status === "queued" ? "接入后即可回复客户" : "此会话当前不由您接待");
    if (open) {
      nodes["chat-state"].textContent = C.label(C.labels.handoffStatus, current.status);
      nodes["chat-state"].setAttribute("data-status", current.status);
    }
  }

  function openHandoff(handoffId) {
    if (state.current && state.current.handoffId !== handoffId) {
      A.socket.send({ type: "unsubscribe", conversation_id: state.current.conversationId });
    }
    var opening = { handoffId: handoffId, conversationId: null, shown: {}, lastSeq: 0, loaded: false, status: null, mine: false, grid: null };
    state.current = opening;
    C.clear(nodes.transcript);
    nodes["chat-empty"].hidden = true;
    nodes["chat-pane"].hidden = false;
    A.tools.resetTicket();
    A.lists.render();
    setActions();
    return C.api("GET", A.API + "/handoffs/" + handoffId).then(function (detail) {
      if (state.current !== opening) { return; }
      opening.conversationId = detail.conversation_id;
      opening.status = detail.status;
      opening.mine = A.isMine(detail.agent);
      opening.grid = detail.grid || null;
      opening.packet = detail.packet || {};
      var messages = Array.isArray(detail.messages) ? detail.messages : [];
      messages.forEach(appendMessage);
      opening.loaded = true;
      var packetProfile = (detail.packet && detail.packet.profile) || {};
      var chat = A.lists.chatFor(handoffId);
      nodes["chat-customer"].textContent = A.customerLabel(chat ? chat.customer : detail.customer, packetProfile);
      nodes["chat-grid"].textContent = detail.grid ? (detail.grid.name || detail.grid.code) : "";
      A.packet.render(detail);
      A.customer.show(detail.customer_id);
      setActions();
      A.lists.renderChats();
      subscribe();
      nodes.transcript.scrollTop = nodes.transcript.scrollHeight;
      if (opening.mine && opening.status === "active") { nodes["composer-input"].focus(); }
    }, function (error) {
      if (state.current !== opening) { return; }
      C.toast(C.errorText(error, "无法打开会话"), "error");
      closePane();
    });
  }

  function closePane() {
    if (state.current && state.current.conversationId) {
      A.socket.send({ type: "unsubscribe", conversation_id: state.current.conversationId });
    }
    state.current = null;
    nodes["chat-pane"].hidden = true;
    nodes["chat-empty"].hidden = false;
    A.packet.clear();
    A.customer.clear();
    A.lists.render();
  }

  function onHandoffEvent(event) {
    var current = state.current;
    if (current && current.handoffId === event.handoff_id) {
      var before = current.status;
      current.status = event.status;
      if (event.status === "active" && before !== "active") {
        openHandoff(current.handoffId);  // someone accepted it: reload who serves it
        return;
      }
      setActions();
      if (before === "active" && current.mine && event.status !== "active") {
        C.toast("会话状态：" + C.label(C.labels.handoffStatus, event.status));
      }
    }
    if (event.status !== "queued") { A.lists.dropFromQueue(event.handoff_id); }
  }

  // ---- composer -----------------------------------------------------------------------------------

  function insertIntoComposer(text) {
    var input = nodes["composer-input"];
    input.value = input.value.trim() ? input.value.replace(/\s+$/, "") + "\n" + text : text;
    if (!input.disabled) { input.focus(); }
  }

  function sendReply() {
    var input = nodes["composer-input"];
    var text = input.value.trim();
    if (!text || !state.current || !state.current.mine || nodes["composer-send"].disabled) { return; }
    var sending = state.current;
    nodes["composer-send"].disabled = true;
    C.api("POST", A.API + "/handoffs/" + sending.handoffId + "/messages", { text: text }).then(function (body) {
      if (state.current === sending) {
        input.value = "";
        if (!body || !sending.shown[body.seq]) { catchUp(); }
      }
    }, function (error) {
      C.toast(C.errorText(error, "发送失败"), "error");
      if (error.code === "not_assigned") { openHandoff(sending.handoffId); }
    }).then(function () { setActions(); });
  }

  nodes.composer.addEventListener("submit", function (event) { event.preventDefault(); sendReply(); });
  nodes["composer-input"].addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendReply();
    }
  });

  A.chat = {
    open: openHandoff,
    subscribe: subscribe,
    refreshCurrent: refreshCurrent,
    onLiveMessage: onLiveMessage,
    onHandoffEvent: onHandoffEvent,
    setActions: setActions,
    insert: insertIntoComposer
  };
})();
