// The agent console: the queue of my grids, my chats, one open conversation with its handoff packet,
// knowledge-base search, canned replies, tickets, transfer / hand back / close.
// Live over /api/v1/console/ws; messages are de-duplicated by seq so a reconnect loses and repeats nothing.
// Every text from customers, agents, the FAQ or the server goes in with textContent (C.el), never as HTML.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var el = C.el;
  var API = "/api/v1/console";
  var POLL_MS = 5000;  // catch-up polling while the websocket is down

  var SLOT_LABELS = {
    ticket_category: "工单类别", ticket_description: "问题描述", ticket_amount: "金额(元)", ticket_phone: "联系电话",
    ticket_name: "联系人", ticket_region: "所在区域", customer_tier: "客户类型", ticket_number: "工单号",
    category: "类别", description: "描述", contact_phone: "联系电话", contact_name: "联系人", region: "区域",
    amount: "金额(元)"
  };
  var CATEGORY_LABELS = {
    consultation: "咨询", fault: "故障报修", complaint: "投诉", suggestion: "建议", billing: "账务/发票",
    after_sales: "售后", refund: "退款/赔偿"
  };
  var AUTHOR_LABELS = { customer: "客户", bot: "智能助手", agent: "客服", system: "系统" };
  // what the customer's control buttons mean, when the transcript keeps their payloads
  var CONTROL_LABELS = {
    "/griddesk_keep_waiting": "(客户选择:继续等待)", "/griddesk_leave_message": "(客户选择:留言)",
    "/griddesk_back_to_bot": "(客户选择:返回智能助手)"
  };

  var account = null;
  var queue = { items: [], receivedAt: Date.now() };
  var chats = [];
  var seen = {};  // conversation id → last seq the agent has looked at (unread marker)
  var current = null;  // the open handoff
  var live = null;
  var connectedOnce = false;
  var pollTimer = null;

  var nodes = {};
  ["queue", "queue-count", "queue-empty", "chats", "chats-count", "chats-empty", "chat-empty", "chat-pane",
    "chat-customer", "chat-grid", "chat-state", "accept-current", "ticket-open", "transfer-open", "hand-back",
    "close-chat", "transcript", "composer", "composer-input", "composer-send", "packet-empty", "packet-body",
    "packet-reason", "packet-intent", "packet-grid", "packet-profile", "packet-summary", "packet-ticket",
    "packet-faqs", "packet-slots", "packet-draft", "packet-events", "kb-form", "kb-query", "kb-results", "canned",
    "ticket-hint", "ticket-form", "ticket-category", "ticket-description", "ticket-phone", "ticket-region",
    "ticket-amount", "ticket-error", "ticket-submit", "ticket-result", "ticket-number", "transfer-dialog",
    "transfer-form", "transfer-grid", "transfer-agent", "transfer-note", "transfer-error", "transfer-cancel",
    "transfer-submit", "confirm-dialog", "confirm-text", "confirm-ok", "confirm-cancel", "connection-banner",
    "status-select"].forEach(function (id) { nodes[id] = document.getElementById(id); });

  function isMine(handoffAgent) {
    return !!handoffAgent && !!account && handoffAgent.id === account.id;
  }

  function customerLabel(value, fallbackProfile) {
    if (typeof value === "string" && value) { return value; }
    var profile = (value && typeof value === "object") ? value : (fallbackProfile || {});
    var parts = [];
    if (profile.name) { parts.push(String(profile.name)); }
    if (profile.region) { parts.push(String(profile.region)); }
    return parts.length ? parts.join(" · ") : "访客";
  }

  function profileText(profile) {
    if (!profile || typeof profile !== "object") { return "—"; }
    var parts = [];
    if (profile.name) { parts.push(String(profile.name)); }
    if (profile.region) { parts.push(String(profile.region)); }
    if (profile.tier) { parts.push(C.label(C.labels.tier, profile.tier)); }
    return parts.length ? parts.join(" · ") : "—";
  }

  function valueText(value) {
    if (value === null || value === undefined || value === "") { return "—"; }
    if (typeof value === "object") { return JSON.stringify(value); }
    return String(value);
  }

  // ---- queue ----------------------------------------------------------------------------------

  function waitedNow(item) {
    return (item.waited_seconds || 0) + (Date.now() - queue.receivedAt) / 1000;
  }

  function setQueue(items) {
    queue = { items: Array.isArray(items) ? items : [], receivedAt: Date.now() };
    renderQueue();
  }

  function renderQueue() {
    var list = nodes.queue;
    C.clear(list);
    queue.items.forEach(function (item) {
      var li = el("li", "queue-item");
      li.setAttribute("data-handoff-id", String(item.handoff_id));
      li.tabIndex = 0;
      if (current && current.handoffId === item.handoff_id) { li.classList.add("is-selected"); }
      var top = el("div", "item-row");
      top.appendChild(el("span", "tag", item.grid ? item.grid.name || item.grid.code : ""));
      top.appendChild(el("span", "item-reason", item.reason_label || item.reason || ""));
      var queueChannel = el("span", "tag tag--channel", C.channelLabel(item.channel));
      queueChannel.setAttribute("data-channel", String(item.channel || ""));
      top.appendChild(queueChannel);
      var waited = el("span", "waited", C.duration(waitedNow(item)));
      waited.setAttribute("data-waited", String(item.waited_seconds || 0));
      top.appendChild(waited);
      li.appendChild(top);
      if (item.offered_agent && isMine(item.offered_agent)) {
        li.classList.add("is-offered");
        li.appendChild(el("span", "badge badge--offer", "推荐给您"));
      }
      li.appendChild(el("p", "item-preview", item.preview || ""));
      var bottom = el("div", "item-row");
      bottom.appendChild(el("span", "item-meta", profileText(item.profile)));
      var accept = el("button", "btn btn--primary btn--small accept", "接入");
      accept.type = "button";
      accept.addEventListener("click", function (event) { event.stopPropagation(); acceptHandoff(item.handoff_id, accept); });
      bottom.appendChild(accept);
      li.appendChild(bottom);
      li.addEventListener("click", function () { openHandoff(item.handoff_id); });
      li.addEventListener("keydown", function (event) { if (event.key === "Enter" && event.target === li) { openHandoff(item.handoff_id); } });
      list.appendChild(li);
    });
    nodes["queue-count"].textContent = String(queue.items.length);
    nodes["queue-empty"].hidden = queue.items.length > 0;
  }

  function tick() {
    nodes.queue.querySelectorAll(".queue-item").forEach(function (li, index) {
      var item = queue.items[index];
      var waited = li.querySelector(".waited");
      if (item && waited) { waited.textContent = C.duration(waitedNow(item)); }
    });
  }

  function removeFromQueue(handoffId) {
    queue.items = queue.items.filter(function (item) { return item.handoff_id !== handoffId; });
    renderQueue();
  }

  function acceptHandoff(handoffId, button) {
    if (button) { button.disabled = true; }
    return C.api("POST", API + "/handoffs/" + handoffId + "/accept", {}).then(function (chat) {
      removeFromQueue(handoffId);
      if (chat && chat.handoff_id) {
        chats = chats.filter(function (c) { return c.handoff_id !== chat.handoff_id; }).concat([chat]);
        renderChats();
      }
      C.toast("已接入会话", "ok");
      return openHandoff(handoffId);
    }, function (error) {
      if (button) { button.disabled = false; }
      C.toast(C.errorText(error, "接入失败"), "error");
      if (error.code === "already_taken" || error.status === 404) {
        removeFromQueue(handoffId);
        if (current && current.handoffId === handoffId) { openHandoff(handoffId); }
      }
    });
  }

  // ---- my chats ---------------------------------------------------------------------------------

  function setChats(items) {
    chats = Array.isArray(items) ? items : [];
    renderChats();
  }

  function unread(chat) {
    if (current && current.conversationId === chat.conversation_id) { return false; }
    var last = seen[chat.conversation_id];
    if (last === undefined) { seen[chat.conversation_id] = chat.last_seq || 0; return false; }
    return (chat.last_seq || 0) > last;
  }

  function renderChats() {
    var list = nodes.chats;
    C.clear(list);
    chats.forEach(function (chat) {
      var li = el("li", "chat-item");
      li.setAttribute("data-handoff-id", String(chat.handoff_id));
      li.setAttribute("data-conversation-id", String(chat.conversation_id));
      li.tabIndex = 0;
      if (current && current.handoffId === chat.handoff_id) { li.classList.add("is-selected"); }
      var top = el("div", "item-row");
      top.appendChild(el("b", "item-customer", customerLabel(chat.customer)));
      if (unread(chat)) {
        li.classList.add("is-unread");
        top.appendChild(el("span", "unread", "新消息"));
      }
      if (chat.waiting_reply) { top.appendChild(el("span", "badge badge--wait", "待回复")); }
      li.appendChild(top);
      var bottom = el("div", "item-row");
      bottom.appendChild(el("span", "tag", chat.grid ? chat.grid.name || chat.grid.code : ""));
      var chatChannel = el("span", "tag tag--channel", C.channelLabel(chat.channel));
      chatChannel.setAttribute("data-channel", String(chat.channel || ""));
      bottom.appendChild(chatChannel);
      bottom.appendChild(el("span", "item-meta", chat.accepted_at ? "接入于 " + C.clock(chat.accepted_at) : ""));
      li.appendChild(bottom);
      li.addEventListener("click", function () { openHandoff(chat.handoff_id); });
      li.addEventListener("keydown", function (event) { if (event.key === "Enter") { openHandoff(chat.handoff_id); } });
      list.appendChild(li);
    });
    nodes["chats-count"].textContent = String(chats.length);
    nodes["chats-empty"].hidden = chats.length > 0;
  }

  function refreshLists() {
    C.api("GET", API + "/queue").then(function (body) { setQueue(body.items); }, function () { /* next event */ });
    C.api("GET", API + "/chats").then(function (body) { setChats(body.items); }, function () { /* next event */ });
  }

  // ---- the open conversation --------------------------------------------------------------------

  function markSeen(seq) {
    if (!current) { return; }
    current.shown[seq] = true;
    if (seq > current.lastSeq && current.lastSeq === 0 && !current.loaded) { current.lastSeq = seq; }
    while (current.shown[current.lastSeq + 1]) { current.lastSeq += 1; }
    seen[current.conversationId] = Math.max(seen[current.conversationId] || 0, current.lastSeq);
  }

  function appendMessage(message) {
    if (!current || !message || typeof message.seq !== "number" || current.shown[message.seq]) { return; }
    markSeen(message.seq);
    var payload = (message.payload && typeof message.payload === "object") ? message.payload : {};
    var author = String(message.author || "bot");
    var li = el("li", "msg msg--" + author);
    li.setAttribute("data-seq", String(message.seq));
    var head = el("div", "msg__head");
    var who = AUTHOR_LABELS[author] || author;
    if (author === "agent") {
      var name = payload.agent_name ? String(payload.agent_name) : "客服";
      who = (account && payload.agent_id === account.id) ? name + "(我)" : name;
    }
    head.appendChild(el("span", "msg__who", who));
    head.appendChild(el("time", "msg__time", C.clock(message.created_at)));
    li.appendChild(head);
    var text = message.text || (typeof payload.text === "string" ? payload.text : "")
      || (payload.custom && typeof payload.custom.text === "string" ? payload.custom.text : "");
    if (author === "customer" && CONTROL_LABELS[text]) { text = CONTROL_LABELS[text]; }
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
    if (current && current.conversationId === conversationId) {
      appendMessage(message);
      return;
    }
    chats.forEach(function (chat) {
      if (chat.conversation_id === conversationId && message && message.seq > (chat.last_seq || 0)) {
        chat.last_seq = message.seq;
      }
    });
    renderChats();
  }

  function catchUp() {
    if (!current) { return Promise.resolve(); }
    var opened = current;
    return C.api("GET", API + "/conversations/" + opened.conversationId + "/messages?after=" + opened.lastSeq)
      .then(function (body) {
        if (current === opened && body && Array.isArray(body.messages)) { body.messages.forEach(appendMessage); }
      }, function () { /* next poll */ });
  }

  // after a lost connection: who serves the open conversation now, and anything missed, then live again
  function refreshCurrent() {
    if (!current || !current.loaded) { return; }
    var opened = current;
    C.api("GET", API + "/handoffs/" + opened.handoffId).then(function (detail) {
      if (current !== opened) { return; }
      opened.status = detail.status;
      opened.mine = isMine(detail.agent);
      (Array.isArray(detail.messages) ? detail.messages : []).forEach(appendMessage);
      setActions();
      subscribe();
    }, function () { subscribe(); });
  }

  function subscribe() {
    if (current && live) {
      live.send({ type: "subscribe", conversation_id: current.conversationId, after: current.lastSeq });
    }
  }

  function setActions() {
    var open = !!current && current.loaded;
    var active = open && current.status === "active" && current.mine;
    nodes["composer-input"].disabled = !active;
    nodes["composer-send"].disabled = !active;
    nodes["transfer-open"].disabled = !active;
    nodes["hand-back"].disabled = !active;
    nodes["close-chat"].disabled = !active;
    nodes["ticket-open"].disabled = !open || !current.mine;
    nodes["accept-current"].hidden = !(open && current.status === "queued");
    nodes["composer-input"].placeholder = active ? "输入回复,Enter 发送,Shift+Enter 换行"
      : (open && current.status === "queued" ? "接入后即可回复客户" : "此会话当前不由您接待");
    if (open) {
      nodes["chat-state"].textContent = C.label(C.labels.handoffStatus, current.status);
      nodes["chat-state"].setAttribute("data-status", current.status);
    }
  }

  function openHandoff(handoffId) {
    if (current && live && current.handoffId !== handoffId) {
      live.send({ type: "unsubscribe", conversation_id: current.conversationId });
    }
    var opening = { handoffId: handoffId, conversationId: null, shown: {}, lastSeq: 0, loaded: false, status: null, mine: false, grid: null };
    current = opening;
    C.clear(nodes.transcript);
    nodes["chat-empty"].hidden = true;
    nodes["chat-pane"].hidden = false;
    nodes["ticket-form"].hidden = true;
    nodes["ticket-result"].hidden = true;
    nodes["ticket-hint"].hidden = false;
    renderQueue();
    renderChats();
    setActions();
    return C.api("GET", API + "/handoffs/" + handoffId).then(function (detail) {
      if (current !== opening) { return; }
      opening.conversationId = detail.conversation_id;
      opening.status = detail.status;
      opening.mine = isMine(detail.agent);
      opening.grid = detail.grid || null;
      opening.packet = detail.packet || {};
      var messages = Array.isArray(detail.messages) ? detail.messages : [];
      messages.forEach(appendMessage);
      opening.loaded = true;
      var packetProfile = (detail.packet && detail.packet.profile) || {};
      var chat = chats.filter(function (c) { return c.handoff_id === handoffId; })[0];
      nodes["chat-customer"].textContent = customerLabel(chat ? chat.customer : null, packetProfile);
      nodes["chat-grid"].textContent = detail.grid ? (detail.grid.name || detail.grid.code) : "";
      renderPacket(detail);
      setActions();
      renderChats();
      subscribe();
      nodes.transcript.scrollTop = nodes.transcript.scrollHeight;
      if (opening.mine && opening.status === "active") { nodes["composer-input"].focus(); }
    }, function (error) {
      if (current !== opening) { return; }
      C.toast(C.errorText(error, "无法打开会话"), "error");
      closePane();
    });
  }

  function closePane() {
    if (current && live && current.conversationId) {
      live.send({ type: "unsubscribe", conversation_id: current.conversationId });
    }
    current = null;
    nodes["chat-pane"].hidden = true;
    nodes["chat-empty"].hidden = false;
    nodes["packet-body"].hidden = true;
    nodes["packet-empty"].hidden = false;
    renderQueue();
    renderChats();
  }

  function onHandoffEvent(event) {
    if (current && current.handoffId === event.handoff_id) {
      var before = current.status;
      current.status = event.status;
      if (event.status === "active" && before !== "active") {
        openHandoff(current.handoffId);  // someone accepted it: reload who serves it
        return;
      }
      setActions();
      if (before === "active" && current.mine && event.status !== "active") {
        C.toast("会话状态:" + C.label(C.labels.handoffStatus, event.status));
      }
    }
    if (event.status !== "queued") {
      var wasQueued = queue.items.some(function (item) { return item.handoff_id === event.handoff_id; });
      if (wasQueued) { removeFromQueue(event.handoff_id); }
    }
  }

  // ---- packet -----------------------------------------------------------------------------------

  function fillFacts(list, data) {
    C.clear(list);
    var keys = data && typeof data === "object" ? Object.keys(data) : [];
    keys.forEach(function (key) {
      list.appendChild(el("dt", null, SLOT_LABELS[key] || key));
      var value = data[key];
      if (key === "category" || key === "ticket_category") { value = CATEGORY_LABELS[value] || value; }
      if (key === "customer_tier") { value = C.label(C.labels.tier, value); }
      list.appendChild(el("dd", null, valueText(value)));
    });
    if (!keys.length) { list.appendChild(el("dd", "muted", "无")); }
  }

  function renderPacket(detail) {
    var packet = detail.packet || {};
    nodes["packet-empty"].hidden = true;
    nodes["packet-body"].hidden = false;
    nodes["packet-reason"].textContent = detail.reason_label || packet.reason || detail.reason || "—";
    var intent = packet.intent;
    if (intent && intent.name) {
      var confidence = typeof intent.confidence === "number" ? " (" + Math.round(intent.confidence * 100) + "%)" : "";
      nodes["packet-intent"].textContent = intent.name + confidence;
    } else {
      nodes["packet-intent"].textContent = "—";
    }
    nodes["packet-grid"].textContent = detail.grid ? (detail.grid.name || detail.grid.code) : valueText(packet.grid);
    nodes["packet-profile"].textContent = profileText(packet.profile);
    nodes["packet-summary"].textContent = valueText(packet.summary);
    nodes["packet-ticket"].textContent = valueText(packet.ticket_number);

    var faqs = nodes["packet-faqs"];
    C.clear(faqs);
    (Array.isArray(packet.faq_candidates) ? packet.faq_candidates : []).forEach(function (faq) {
      var li = el("li", "faq-candidate");
      li.appendChild(el("span", "faq-candidate__question", faq.question || ("FAQ #" + faq.faq_id)));
      li.appendChild(el("span", "score", typeof faq.score === "number" ? faq.score.toFixed(2) : ""));
      faqs.appendChild(li);
    });
    if (!faqs.firstChild) { faqs.appendChild(el("li", "muted", "无")); }
    fillFacts(nodes["packet-slots"], packet.slots);
    fillFacts(nodes["packet-draft"], packet.draft_ticket);

    var events = nodes["packet-events"];
    C.clear(events);
    (Array.isArray(detail.events) ? detail.events : []).forEach(function (event) {
      var li = el("li", "event");
      li.appendChild(el("time", "event__time", C.clock(event.created_at)));
      li.appendChild(el("span", "event__what", valueText(event.from) + " → " + valueText(event.to)));
      if (event.actor) { li.appendChild(el("span", "event__actor", String(event.actor))); }
      if (event.note) { li.appendChild(el("span", "event__note", String(event.note))); }
      events.appendChild(li);
    });
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
    if (!text || !current || !current.mine || nodes["composer-send"].disabled) { return; }
    var sending = current;
    nodes["composer-send"].disabled = true;
    C.api("POST", API + "/handoffs/" + sending.handoffId + "/messages", { text: text }).then(function (body) {
      if (current === sending) {
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

  // ---- tabs, knowledge base, canned replies ---------------------------------------------------------

  function showTab(name) {
    document.querySelectorAll(".tab").forEach(function (tab) {
      tab.setAttribute("aria-selected", tab.getAttribute("data-tab") === name ? "true" : "false");
    });
    document.querySelectorAll(".tab-panel").forEach(function (panel) {
      panel.hidden = panel.getAttribute("data-panel") !== name;
    });
  }
  document.querySelectorAll(".tab").forEach(function (tab) {
    tab.addEventListener("click", function () { showTab(tab.getAttribute("data-tab")); });
  });

  nodes["kb-form"].addEventListener("submit", function (event) {
    event.preventDefault();
    var q = nodes["kb-query"].value.trim();
    var results = nodes["kb-results"];
    if (!q) { return; }
    var url = API + "/kb/search?q=" + encodeURIComponent(q);
    if (current && current.grid && current.grid.code) { url += "&grid=" + encodeURIComponent(current.grid.code); }
    C.clear(results);
    results.appendChild(el("li", "muted", "搜索中…"));
    C.api("GET", url).then(function (body) {
      C.clear(results);
      var hits = (body && Array.isArray(body.hits)) ? body.hits : [];
      hits.forEach(function (hit) {
        var li = el("li", "kb-hit");
        li.setAttribute("data-faq-id", String(hit.faq_id));
        var head = el("div", "item-row");
        head.appendChild(el("b", "kb-hit__question", hit.question || ""));
        head.appendChild(el("span", "score", typeof hit.score === "number" ? hit.score.toFixed(2) : ""));
        li.appendChild(head);
        li.appendChild(el("p", "kb-hit__answer", hit.answer || ""));
        var insert = el("button", "btn btn--small insert", "插入");
        insert.type = "button";
        insert.addEventListener("click", function () { insertIntoComposer(String(hit.answer || "")); });
        li.appendChild(insert);
        results.appendChild(li);
      });
      if (!hits.length) { results.appendChild(el("li", "muted", "没有找到相关答案")); }
    }, function (error) {
      C.clear(results);
      results.appendChild(el("li", "form__error", C.errorText(error, "搜索失败")));
    });
  });

  function loadCanned() {
    C.api("GET", API + "/canned-replies").then(function (body) {
      var list = nodes.canned;
      C.clear(list);
      var items = (body && Array.isArray(body.items)) ? body.items : [];
      items.forEach(function (reply) {
        var li = el("li");
        var button = el("button", "canned-item");
        button.type = "button";
        button.setAttribute("data-canned-id", String(reply.id));
        button.appendChild(el("b", "canned-item__title", reply.title || ""));
        button.appendChild(el("span", "canned-item__text", reply.text || ""));
        button.addEventListener("click", function () { insertIntoComposer(String(reply.text || "")); });
        li.appendChild(button);
        list.appendChild(li);
      });
      if (!items.length) { list.appendChild(el("li", "muted", "暂无快捷回复")); }
    }, function () { /* the tab stays empty */ });
  }

  // ---- ticket from the chat ---------------------------------------------------------------------------

  function showTicketError(text) {
    nodes["ticket-error"].textContent = text || "";
    nodes["ticket-error"].hidden = !text;
  }

  nodes["ticket-open"].addEventListener("click", function () {
    if (!current) { return; }
    var opened = current;
    showTab("ticket");
    showTicketError("");
    nodes["ticket-result"].hidden = true;
    C.api("GET", API + "/handoffs/" + opened.handoffId + "/ticket-draft").then(function (draft) {
      if (current !== opened) { return; }
      draft = draft || {};
      if (draft.category) { nodes["ticket-category"].value = String(draft.category); }
      nodes["ticket-description"].value = draft.description ? String(draft.description) : "";
      nodes["ticket-phone"].value = draft.contact_phone ? String(draft.contact_phone) : "";
      nodes["ticket-region"].value = draft.region ? String(draft.region) : "";
      nodes["ticket-amount"].value = draft.amount !== undefined && draft.amount !== null ? String(draft.amount) : "";
      nodes["ticket-hint"].hidden = true;
      nodes["ticket-form"].hidden = false;
      nodes["ticket-description"].focus();
    }, function (error) { C.toast(C.errorText(error, "无法读取工单草稿"), "error"); });
  });

  nodes["ticket-form"].addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) { return; }
    var body = {
      category: nodes["ticket-category"].value,
      description: nodes["ticket-description"].value.trim(),
      contact_phone: nodes["ticket-phone"].value.trim(),
      region: nodes["ticket-region"].value.trim()
    };
    var amount = nodes["ticket-amount"].value.trim();
    if (amount) { body.amount = amount; }
    if (!body.description || !body.contact_phone || !body.region) { showTicketError("请填写问题描述、联系电话和所在区域"); return; }
    showTicketError("");
    nodes["ticket-submit"].disabled = true;
    C.api("POST", API + "/handoffs/" + current.handoffId + "/ticket", body).then(function (result) {
      nodes["ticket-number"].textContent = result && result.number ? String(result.number) : "";
      nodes["ticket-result"].hidden = false;
      nodes["ticket-form"].hidden = true;
      C.toast("工单已创建:" + nodes["ticket-number"].textContent, "ok");
    }, function (error) {
      showTicketError(C.errorText(error, "工单创建失败"));
    }).then(function () { nodes["ticket-submit"].disabled = false; });
  });

  // ---- transfer, hand back, close ---------------------------------------------------------------------

  function option(value, text) {
    var node = el("option", null, text);
    node.value = value;
    return node;
  }

  function showTransferError(text) {
    nodes["transfer-error"].textContent = text || "";
    nodes["transfer-error"].hidden = !text;
  }

  nodes["transfer-open"].addEventListener("click", function () {
    if (!current) { return; }
    showTransferError("");
    nodes["transfer-note"].value = "";
    C.api("GET", API + "/transfer-targets").then(function (targets) {
      var grids = nodes["transfer-grid"];
      var agents = nodes["transfer-agent"];
      C.clear(grids);
      C.clear(agents);
      grids.appendChild(option("", "(不更换网格)"));
      agents.appendChild(option("", "(网格内任意客服)"));
      (targets.grids || []).forEach(function (grid) { grids.appendChild(option(grid.code, grid.name || grid.code)); });
      (targets.agents || []).forEach(function (agent) {
        if (account && agent.id === account.id) { return; }
        var text = agent.name + " · " + C.label(C.labels.status, agent.status) + " · " + (agent.active_chats || 0) + "/" + (agent.max_chats || 0);
        agents.appendChild(option(String(agent.id), text));
      });
      nodes["transfer-dialog"].showModal();
    }, function (error) { C.toast(C.errorText(error, "无法读取转接对象"), "error"); });
  });

  nodes["transfer-cancel"].addEventListener("click", function () { nodes["transfer-dialog"].close(); });

  nodes["transfer-form"].addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) { return; }
    var grid = nodes["transfer-grid"].value;
    var agent = nodes["transfer-agent"].value;
    if (!grid && !agent) { showTransferError("请选择要转接的网格或客服"); return; }
    var body = { note: nodes["transfer-note"].value.trim() };
    if (grid) { body.grid = grid; }
    if (agent) { body.agent_id = Number(agent); }
    var handoffId = current.handoffId;
    nodes["transfer-submit"].disabled = true;
    C.api("POST", API + "/handoffs/" + handoffId + "/transfer", body).then(function () {
      nodes["transfer-dialog"].close();
      C.toast("已转接", "ok");
      leaveChat(handoffId);
    }, function (error) {
      showTransferError(C.errorText(error, "转接失败"));
    }).then(function () { nodes["transfer-submit"].disabled = false; });
  });

  function leaveChat(handoffId) {
    chats = chats.filter(function (chat) { return chat.handoff_id !== handoffId; });
    renderChats();
    if (current && current.handoffId === handoffId) { openHandoff(handoffId); }
  }

  var confirmAction = null;
  function confirmThen(text, action) {
    nodes["confirm-text"].textContent = text;
    confirmAction = action;
    nodes["confirm-dialog"].showModal();
  }
  nodes["confirm-cancel"].addEventListener("click", function () { confirmAction = null; nodes["confirm-dialog"].close(); });
  nodes["confirm-ok"].addEventListener("click", function () {
    var action = confirmAction;
    confirmAction = null;
    nodes["confirm-dialog"].close();
    if (action) { action(); }
  });

  nodes["hand-back"].addEventListener("click", function () {
    if (!current) { return; }
    var handoffId = current.handoffId;
    C.api("POST", API + "/handoffs/" + handoffId + "/hand-back", {}).then(function () {
      C.toast("已交回智能助手", "ok");
      leaveChat(handoffId);
    }, function (error) { C.toast(C.errorText(error, "操作失败"), "error"); });
  });

  nodes["close-chat"].addEventListener("click", function () {
    if (!current) { return; }
    var handoffId = current.handoffId;
    confirmThen("确定结束本次会话吗?结束后将邀请客户评价。", function () {
      C.api("POST", API + "/handoffs/" + handoffId + "/close", {}).then(function () {
        C.toast("会话已结束,已邀请客户评价", "ok");
        leaveChat(handoffId);
      }, function (error) { C.toast(C.errorText(error, "操作失败"), "error"); });
    });
  });

  nodes["accept-current"].addEventListener("click", function () {
    if (current) { acceptHandoff(current.handoffId, nodes["accept-current"]); }
  });

  // ---- agent status ---------------------------------------------------------------------------------

  var statusValue = null;
  nodes["status-select"].addEventListener("change", function () {
    var select = nodes["status-select"];
    var wanted = select.value;
    select.disabled = true;
    C.api("POST", API + "/status", { status: wanted }).then(function () {
      statusValue = wanted;
      C.toast("状态已切换为" + C.label(C.labels.status, wanted), "ok");
    }, function (error) {
      if (statusValue) { select.value = statusValue; }
      C.toast(C.errorText(error, "状态切换失败"), "error");
    }).then(function () { select.disabled = false; });
  });

  function initialStatus(body) {
    var status = (body.agent && body.agent.status) || body.agent_status || (body.account && body.account.agent_status);
    if (status) {
      statusValue = status;
      nodes["status-select"].value = status;
      return;
    }
    // /auth/me may not carry the agent's status: look ourselves up among the transfer targets
    C.api("GET", API + "/transfer-targets").then(function (targets) {
      (targets.agents || []).forEach(function (agent) {
        if (agent.id === account.id && agent.status) { statusValue = agent.status; nodes["status-select"].value = agent.status; }
      });
    }, function () { /* keep the default */ });
  }

  // ---- live ---------------------------------------------------------------------------------------------

  function startPolling() {
    if (pollTimer !== null) { return; }
    pollTimer = window.setInterval(function () { refreshCurrent(); refreshLists(); }, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer !== null) { window.clearInterval(pollTimer); pollTimer = null; }
  }

  function onEvent(data) {
    switch (data.type) {
      case "queue": setQueue(data.items); break;
      case "chats": setChats(data.items); break;
      case "message": onLiveMessage(data.conversation_id, data.message); break;
      case "handoff": onHandoffEvent(data); break;
      case "alert":
        if (data.alert && data.alert.message) { C.toast("服务时限提醒:" + data.alert.message, "warn"); }
        break;
      default: break;  // pong and anything newer
    }
  }

  function startLive() {
    live = new C.LiveSocket("/api/v1/console/ws", {
      open: function () {
        nodes["connection-banner"].hidden = true;
        stopPolling();
        if (connectedOnce) {
          refreshCurrent();
          C.api("GET", API + "/chats").then(function (body) { setChats(body.items); }, function () {});
        } else {
          subscribe();
        }
        connectedOnce = true;
      },
      message: onEvent,
      down: function () {
        nodes["connection-banner"].hidden = false;
        startPolling();
      }
    });
  }

  C.me().then(function (body) {
    account = body.account;
    initialStatus(body);
    refreshLists();
    loadCanned();
    startLive();
    window.setInterval(tick, 1000);
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
