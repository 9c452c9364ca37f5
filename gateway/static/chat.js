// GridDesk customer chat page: talks Rasa's REST channel protocol to the gateway, follows the
// conversation live (queue position, the agent's replies) and asks for a rating after a human chat.
// Every piece of text is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var WEBHOOK = "/webhooks/rest/webhook";
  var HISTORY = "/webhooks/rest/history";
  var STATUS = "/webhooks/rest/status";
  var LIVE = "/webhooks/rest/live";
  var RATING = "/webhooks/rest/rating";
  // The conversation key: the gateway issues it for our page's first message ("new"); every later call
  // presents it (the live socket as a subprotocol beside "griddesk.live"), so the sender id alone opens nothing.
  var KEY_HEADER = "X-GridDesk-Key";
  var KEY_ERRORS = { conversation_key_required: true, conversation_key_invalid: true };
  var HISTORY_PAGE = 200;  // the gateway returns at most this many messages per history call
  var POLL_MS = 4000;  // history + status polling while the live connection is down
  // history also while it is up: transcript writes that bypass the live hub (another process, a
  // database-only notice) still reach an open page
  var SAFETY_POLL_MS = 8000;
  var RECONNECT_MIN_MS = 1000;
  var RECONNECT_MAX_MS = 30000;
  // the customer's control payloads, shown by their button titles when history brings them back
  var CONTROL_TITLES = {
    "/griddesk_keep_waiting": "继续等待", "/griddesk_leave_message": "留言", "/griddesk_back_to_bot": "返回智能助手"
  };
  var SCORE_LABELS = { 1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意" };
  // the close notice's rating buttons carry the one-time token a rating must present
  var RATE_PAYLOAD = /^\/griddesk_rate(\{.*\})$/;

  var shown = {};  // transcript seqs already on screen
  var lastSeq = 0;  // every seq up to this one is on screen (live/poll ask for what comes after)
  var inFlight = false;
  var held = [];  // live messages that arrived while a webhook call was running
  var socket = null;
  var reconnectDelay = RECONNECT_MIN_MS;
  var reconnectTimer = null;
  var pollTimer = null;
  var statusVersion = 0;  // bumps on every live status event, so a slower GET cannot undo it
  var status = null;
  var rating = { handoffId: null, score: 0, done: false, sending: false };
  var ratingToken = null;  // from the latest close notice's buttons

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var send = document.getElementById("send");
  var typing = document.getElementById("typing");
  var statusBar = document.getElementById("status");
  var ratingCard = document.getElementById("rating");
  var ratingComment = document.getElementById("rating-comment");
  var ratingSubmit = document.getElementById("rating-submit");
  var ratingError = document.getElementById("rating-error");
  var ratingLabel = document.getElementById("rating-label");
  var ratingThanks = document.getElementById("rating-thanks");
  var params = new URLSearchParams(window.location.search);
  // the widget passes who the customer is in the #fragment, which never reaches a server log
  var fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));

  function param(key) {
    return fragment.get(key) || params.get(key) || "";
  }

  // Who the embedding site says the customer is: a signed token (customer_token), or a signed customer
  // (customer_id + customer_signature, with the name, phone, region and tier it signed), passed on as
  // metadata exactly as given (the gateway checks the proof; a changed value breaks it). Without a proof
  // only a name is kept, shown to agents as unverified.
  function customerMetadata() {
    var metadata = {};
    var token = param("customer_token").trim();
    if (token) { metadata.customer_token = token; }
    var customer = {};
    if (param("customer_id")) { customer.id = param("customer_id"); }
    ["name", "phone", "region", "tier"].forEach(function (key) {
      if (param(key)) { customer[key] = param(key); }
    });
    if (param("customer_signature")) { customer.signature = param("customer_signature").trim(); }
    if (Object.keys(customer).length) { metadata.customer = customer; }
    return Object.keys(metadata).length ? metadata : null;
  }
  var customerData = customerMetadata();

  // The id the site gives the customer, read (not trusted) only to keep one conversation per customer in a
  // shared browser: a token's "sub" claim or customer_id.
  function claimedCustomerId() {
    if (customerData && customerData.customer_token) {
      try {
        var part = customerData.customer_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
        var bytes = Uint8Array.from(window.atob(part), function (c) { return c.charCodeAt(0); });
        var claims = JSON.parse(new TextDecoder().decode(bytes));
        if (claims && typeof claims.sub === "string") { return claims.sub; }
      } catch (e) { /* not a token this page can read: the gateway will refuse it too */ }
      return "";
    }
    return (customerData && customerData.customer && customerData.customer.signature && customerData.customer.id) || "";
  }

  // One conversation (its sender id and its key) per customer the site names, in a shared browser.
  var claimed = claimedCustomerId();
  var SENDER_STORE = claimed ? "griddesk.sender:" + claimed : "griddesk.sender";
  var KEY_STORE = claimed ? "griddesk.key:" + claimed : "griddesk.key";

  // The sender id is the customer's credential: 128 random bits (a UUID, or 32 hex digits where
  // crypto.randomUUID is missing, e.g. on plain http), the shape the gateway requires.
  var SENDER_SHAPE = /^[A-Za-z0-9_-]{22,128}$/;
  function randomId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  function senderId() {
    var id = null;
    try { id = window.localStorage.getItem(SENDER_STORE); } catch (e) { /* private mode */ }
    if (!id || !SENDER_SHAPE.test(id)) {
      id = randomId();
      try {
        window.localStorage.setItem(SENDER_STORE, id);
        window.localStorage.removeItem(KEY_STORE);
      } catch (e) { /* keep for this page only */ }
    }
    return id;
  }
  var sender = senderId();
  var memoryKey = null;  // this page's key (also when storage is blocked or another tab started over)

  // The key of this page's conversation: the stored one while the stored sender is still ours (another tab
  // of this page may have received it), else the one this page received.
  function currentKey() {
    try {
      if (window.localStorage.getItem(SENDER_STORE) === sender) {
        memoryKey = window.localStorage.getItem(KEY_STORE) || memoryKey;
      }
    } catch (e) { /* private mode */ }
    return memoryKey;
  }
  function keepKey(key) {
    memoryKey = key;
    try {
      if (window.localStorage.getItem(SENDER_STORE) === sender) { window.localStorage.setItem(KEY_STORE, key); }
    } catch (e) { /* keep for this page only */ }
  }
  function keyHeaders(headers) {
    var key = currentKey();
    if (key) { headers[KEY_HEADER] = key; }
    return headers;
  }
  function isKeyError(status, body) {
    return status === 403 && !!(body && body.error && KEY_ERRORS[body.error.code]);
  }

  if (params.get("embed") === "1") { document.documentElement.classList.add("embed"); }
  if (params.get("title")) { document.getElementById("chat-title").textContent = params.get("title").slice(0, 40); }

  // ---- transcript ---------------------------------------------------------------------------

  function buttonsOf(payload) {
    if (!payload || typeof payload !== "object") { return []; }
    var found = payload.buttons
      || (payload.custom && payload.custom.buttons)
      || (payload.reply && payload.reply.buttons);
    return Array.isArray(found) ? found : [];
  }

  function textOf(payload) {
    if (!payload || typeof payload !== "object") { return ""; }
    if (typeof payload.text === "string") { return payload.text; }
    if (payload.custom && typeof payload.custom.text === "string") { return payload.custom.text; }
    if (payload.reply && typeof payload.reply.text === "string") { return payload.reply.text; }
    return "";
  }

  // Buttons of past turns are inert: once the customer has answered (or a person has taken over), the
  // choices offered before cannot be pressed again, on screen or after a reload.
  function retireButtons() {
    log.querySelectorAll(".msg__buttons").forEach(function (row) {
      row.classList.add("msg__buttons--past");
      row.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    });
  }

  // The queue's buttons live in the status bar (shown only while queued) and the rating in its card: the
  // copies the gateway puts in the transcript for other channels are not shown twice here.
  function shownHere(button) {
    var payload = String(button.payload || "");
    return !CONTROL_TITLES[payload] && !/^\/griddesk_rate\{/.test(payload);
  }

  function addMessage(kind, text, buttons, author) {
    if (kind === "me" || kind === "agent") { retireButtons(); }
    buttons = (buttons || []).filter(function (b) { return b && typeof b === "object" && shownHere(b); });
    var item = document.createElement("li");
    item.className = "msg msg--" + kind;
    var bubble = document.createElement("div");
    bubble.className = "msg__bubble";
    if (author) {
      var name = document.createElement("span");
      name.className = "msg__author";
      name.textContent = author;
      item.appendChild(name);
    }
    var body = document.createElement("span");
    body.className = "msg__text";
    if (kind === "bot" && window.GridDeskFormat) {
      window.GridDeskFormat.render(body, text);  // FAQ answers: **bold**, line breaks, http(s) links
    } else {
      body.textContent = text || "";
    }
    bubble.appendChild(body);
    if (buttons && buttons.length) {
      var row = document.createElement("div");
      row.className = "msg__buttons";
      buttons.forEach(function (b) {
        if (!b || typeof b !== "object") { return; }
        var title = String(b.title || b.payload || "");
        var payload = String(b.payload || b.title || "");
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = title;
        button.addEventListener("click", function () {
          if (inFlight) { return; }
          row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          deliver(payload, title);
        });
        row.appendChild(button);
      });
      bubble.appendChild(row);
    }
    item.appendChild(bubble);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function noteRatingToken(buttons) {
    buttons.forEach(function (b) {
      var match = b && typeof b.payload === "string" ? RATE_PAYLOAD.exec(b.payload) : null;
      if (!match) { return; }
      try {
        var fields = JSON.parse(match[1]);
        if (fields && typeof fields.token === "string") { ratingToken = fields.token; }
      } catch (e) { /* not ours */ }
    });
  }

  // A reply exactly as Rasa's REST channel returns it.
  function render(reply) {
    if (!reply || typeof reply !== "object") { return; }
    var text = textOf(reply);
    var buttons = buttonsOf(reply);
    noteRatingToken(buttons);
    if (text || buttons.length) { addMessage("bot", text, buttons); }
  }

  function markShown(seqs) {
    seqs.forEach(function (seq) { if (seq > 0) { shown[seq] = true; } });
    while (shown[lastSeq + 1]) { lastSeq += 1; }
  }

  // A transcript entry (history, live): earlier visits, ticket progress, agents' replies.
  function renderStored(message) {
    if (!message || typeof message.seq !== "number" || shown[message.seq]) { return; }
    markShown([message.seq]);
    var payload = message.payload || {};
    var text = message.text || textOf(payload);
    var buttons = buttonsOf(payload);
    noteRatingToken(buttons);
    if (message.author === "customer") {
      // a button press is kept by the gateway as the button's title; older transcripts kept the payload
      var said = message.text || "";
      if (CONTROL_TITLES[said]) { said = CONTROL_TITLES[said]; }
      if (/^\/griddesk_rate\{/.test(said)) { said = "评价"; }
      addMessage("me", said);
    } else if (message.author === "system") {
      addMessage("system", text, buttons);
    } else if (message.author === "agent") {
      var name = typeof payload.agent_name === "string" && payload.agent_name ? payload.agent_name : "";
      addMessage("agent", text, buttons, name ? "人工客服 " + name : "人工客服");
    } else if (text || buttons.length) {
      addMessage("bot", text, buttons);
    }
  }

  function receive(message) {
    if (inFlight) { held.push(message); } else { renderStored(message); }
  }

  function busy(on) {
    inFlight = on;
    send.disabled = on;
    typing.hidden = !on;
    if (!on) {
      var waiting = held;
      held = [];
      waiting.forEach(renderStored);
    }
  }

  function fetchHistory() {
    if (inFlight) { return Promise.resolve(); }
    var url = HISTORY + "?sender=" + encodeURIComponent(sender) + "&after=" + lastSeq;
    var sentKey = currentKey();
    return fetch(url, { cache: "no-store", headers: keyHeaders({}) })
      .then(function (response) {
        if (response.ok) { return response.json(); }
        return response.json().catch(function () { return null; }).then(function (error) {
          if (isKeyError(response.status, error)) { recover(sentKey); }
          return null;
        });
      })
      .then(function (body) {
        if (!body || inFlight || !Array.isArray(body.messages)) { return; }
        var before = lastSeq;
        body.messages.forEach(renderStored);
        if (body.messages.length >= HISTORY_PAGE && lastSeq > before) { return fetchHistory(); }
      })
      .catch(function () { /* offline for a moment: the next poll catches up */ });
  }

  function errorText(status, body) {
    if (body && body.error && body.error.message) { return body.error.message; }
    return "网络异常（" + status + "），请稍后再试。";
  }

  // A conversation this page cannot use (its key is gone, e.g. the service was reset): take the key another
  // tab of this page got meanwhile, or start a new conversation.
  function recover(sentKey) {
    var key = currentKey();
    if (key && key !== sentKey) { return; }
    sender = randomId();
    memoryKey = null;
    try {
      window.localStorage.setItem(SENDER_STORE, sender);
      window.localStorage.removeItem(KEY_STORE);
    } catch (e) { /* keep for this page only */ }
    shown = {};
    lastSeq = 0;
    ratingToken = null;
    addMessage("system", "之前的会话已无法继续，已为您开始新的会话。");
    if (socket) { socket.close(); }
  }

  function deliver(message, visible, retried) {
    var mine = retried ? null : addMessage("me", visible);
    busy(true);
    var body = { sender: sender, message: message };
    if (customerData) { body.metadata = customerData; }
    var sentKey = currentKey();
    var headers = { "Content-Type": "application/json" };
    headers[KEY_HEADER] = sentKey || "new";  // without a key: ask for one
    return fetch(WEBHOOK, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body)
    }).then(function (response) {
      var issued = response.headers.get(KEY_HEADER);
      if (issued) { keepKey(issued); }
      markShown((response.headers.get("X-GridDesk-Seq") || "").split(",").filter(Boolean).map(Number));
      return response.json().catch(function () { return null; }).then(function (replies) {
        if (isKeyError(response.status, replies) && !retried) {
          recover(sentKey);
          return deliver(message, visible, true);
        }
        if (!response.ok) {
          if (response.status === 413 && message === visible && mine) {
            // refused as too long, nothing was sent: the text goes back into the box to be shortened or split
            log.removeChild(mine);
            input.value = message;
          }
          addMessage("system", errorText(response.status, replies));
          return;
        }
        (Array.isArray(replies) ? replies : []).forEach(render);
      });
    }).catch(function () {
      addMessage("system", "网络连接失败，请检查网络后重试。");
    }).then(function () {
      busy(false);
      if (!socket || socket.readyState !== WebSocket.OPEN) { fetchStatus(); }
      input.focus();
    });
  }

  // ---- status bar ---------------------------------------------------------------------------

  function etaText(seconds) {
    if (typeof seconds !== "number" || seconds < 60) { return "不到 1 分钟"; }
    return "约 " + Math.ceil(seconds / 60) + " 分钟";
  }

  // the wait counts down between status updates (the gateway's estimate already counts the time waited)
  var etaEnds = null;
  window.setInterval(function () {
    if (etaEnds === null || !status || status.owner !== "queued") { return; }
    document.getElementById("queue-eta").textContent = etaText(Math.max(0, (etaEnds - Date.now()) / 1000));
  }, 10000);

  function showFor(node, owner) {
    var states = (node.getAttribute("data-state") || "").split(" ");
    node.hidden = states.indexOf(owner) < 0;
  }

  function renderStatus(next) {
    if (!next || typeof next !== "object") { return; }
    status = next;
    var owner = String(next.owner || "bot");
    if (owner === "queued") {
      var ahead = typeof next.position === "number" ? Math.max(next.position - 1, 0) : 0;
      document.getElementById("queue-position").textContent = String(ahead);
      etaEnds = typeof next.eta_seconds === "number" ? Date.now() + next.eta_seconds * 1000 : null;
      document.getElementById("queue-eta").textContent = etaText(next.eta_seconds);
    } else if (owner === "human") {
      document.getElementById("agent-name").textContent = next.agent_name ? String(next.agent_name) : "";
    }
    statusBar.querySelectorAll("[data-state]").forEach(function (node) { showFor(node, owner); });
    statusBar.hidden = owner !== "queued" && owner !== "human";
    statusBar.setAttribute("data-owner", owner);
    renderRating(next);
  }

  function fetchStatus() {
    var version = statusVersion;
    return fetch(STATUS + "?sender=" + encodeURIComponent(sender), { cache: "no-store", headers: keyHeaders({}) })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body && version === statusVersion) { renderStatus(body); } })
      .catch(function () { /* the next poll or live event brings it */ });
  }

  statusBar.querySelectorAll("button[data-payload]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (inFlight) { return; }
      deliver(button.getAttribute("data-payload"), button.textContent);
    });
  });

  // ---- rating ---------------------------------------------------------------------------------

  function renderRating(next) {
    var handoffId = typeof next.handoff_id === "number" ? next.handoff_id : null;
    if (next.rating_pending && handoffId !== null) {
      if (rating.handoffId !== handoffId) {
        rating = { handoffId: handoffId, score: 0, done: false, sending: false };
        resetRatingForm();
      }
      if (ratingCard.hidden) {
        ratingCard.hidden = false;
        log.scrollTop = log.scrollHeight;  // the card takes room: keep the latest messages in view
      }
      return;
    }
    // keep the thank-you on screen until the conversation moves on
    var keepThanks = (rating.done || rating.sending) && rating.handoffId === handoffId && next.owner === "closed";
    if (!keepThanks) { ratingCard.hidden = true; }
  }

  function resetRatingForm() {
    ratingCard.querySelector(".rating__form").hidden = false;
    ratingThanks.hidden = true;
    ratingComment.value = "";
    ratingError.textContent = "";
    selectScore(0);
  }

  function selectScore(score) {
    rating.score = score;
    ratingCard.querySelectorAll("[data-score]").forEach(function (star) {
      var value = Number(star.getAttribute("data-score"));
      star.setAttribute("aria-pressed", value === score ? "true" : "false");
      star.classList.toggle("rating__star--on", value <= score);
    });
    ratingLabel.textContent = score ? SCORE_LABELS[score] : "请选择";
    ratingSubmit.disabled = !score || rating.sending;
  }

  function ratingErrorText(status, body) {
    var code = body && body.error && body.error.code;
    if (status === 409 || code === "already_rated") { return "您已经评价过本次服务，谢谢！"; }
    if (code === "invalid_rating_token") { return "评价凭证无效，请刷新页面后重试。"; }
    if (status === 404) { return "没有找到可以评价的服务记录。"; }
    if (status === 422) { return "请选择 1 到 5 星，评价意见不超过 500 字。"; }
    if (status === 429) { return "提交过于频繁，请稍后再试。"; }
    return "评价提交失败（" + status + "），请稍后再试。";
  }

  function ratingFinished() {
    rating.done = true;
    ratingCard.hidden = false;
    ratingCard.querySelector(".rating__form").hidden = true;
    ratingThanks.hidden = false;
  }

  ratingCard.querySelectorAll("[data-score]").forEach(function (star) {
    star.setAttribute("aria-label", star.getAttribute("data-score") + " 星：" + star.title);
    star.addEventListener("click", function () { selectScore(Number(star.getAttribute("data-score"))); });
  });

  ratingSubmit.addEventListener("click", function () {
    if (!rating.score || rating.sending || rating.handoffId === null) { return; }
    var comment = ratingComment.value.trim();
    if (comment.length > 500) { ratingError.textContent = "评价意见最多 500 字。"; return; }
    rating.sending = true;
    ratingSubmit.disabled = true;
    ratingError.textContent = "";
    var body = { sender: sender, handoff_id: rating.handoffId, score: rating.score, token: ratingToken || "" };
    if (comment) { body.comment = comment; }
    fetch(RATING, {
      method: "POST",
      headers: keyHeaders({ "Content-Type": "application/json" }),
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 204 || response.ok) { ratingFinished(); return; }
      return response.json().catch(function () { return null; }).then(function (error) {
        if (response.status === 409) { ratingFinished(); ratingThanks.textContent = ratingErrorText(409, error); return; }
        ratingError.textContent = ratingErrorText(response.status, error);
      });
    }).catch(function () {
      ratingError.textContent = "网络连接失败，请检查网络后重试。";
    }).then(function () {
      rating.sending = false;
      ratingSubmit.disabled = !rating.score || rating.done;
    });
  });

  // ---- live connection (polling while it is down) -------------------------------------------

  var pollEvery = 0;
  function poll(every) {
    if (pollEvery === every) { return; }
    if (pollTimer !== null) { window.clearInterval(pollTimer); }
    pollEvery = every;
    pollTimer = window.setInterval(function () {
      fetchHistory();
      if (every === POLL_MS) { fetchStatus(); }
    }, every);
  }
  function startPolling() { poll(POLL_MS); }
  function stopPolling() { poll(SAFETY_POLL_MS); }

  function liveUrl() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + LIVE + "?sender=" + encodeURIComponent(sender) + "&after=" + lastSeq;
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null) { return; }
    var delay = reconnectDelay + Math.floor(Math.random() * 500);
    reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
    reconnectTimer = window.setTimeout(function () { reconnectTimer = null; connect(); }, delay);
  }

  function connect() {
    if (!("WebSocket" in window)) { startPolling(); return; }
    var ws;
    var key = currentKey();
    try {
      ws = key ? new WebSocket(liveUrl(), ["griddesk.live", "griddesk.key." + key]) : new WebSocket(liveUrl());
    } catch (e) { startPolling(); scheduleReconnect(); return; }
    socket = ws;
    ws.addEventListener("open", function () {
      reconnectDelay = RECONNECT_MIN_MS;
      stopPolling();
      fetchStatus();
    });
    ws.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (!data || typeof data !== "object") { return; }
      if (data.type === "message") {
        receive(data.message);
      } else if (data.type === "status") {
        statusVersion += 1;
        renderStatus(data);
      }
    });
    ws.addEventListener("close", function () {
      if (socket !== ws) { return; }
      socket = null;
      startPolling();
      fetchHistory();
      scheduleReconnect();
    });
  }

  // ---- composer -------------------------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || send.disabled) { return; }
    input.value = "";
    deliver(text, text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  addMessage("bot", "您好，我是格网服务智能客服，请问有什么可以帮您？");
  Promise.all([fetchHistory(), fetchStatus()]).then(connect);
})();
