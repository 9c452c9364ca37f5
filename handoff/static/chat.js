// GridDesk customer chat page: talks Rasa's REST channel protocol to the gateway.
// Every piece of text is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var WEBHOOK = "/webhooks/rest/webhook";
  var HISTORY = "/webhooks/rest/history";
  var POLL_MS = 4000;
  var shown = {};  // transcript seqs already on screen
  var lastSeq = 0;  // every seq up to this one is on screen (polls ask for what comes after)
  var inFlight = false;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var send = document.getElementById("send");
  var typing = document.getElementById("typing");

  function senderId() {
    var key = "griddesk.sender";
    var id = null;
    try { id = window.localStorage.getItem(key); } catch (e) { /* private mode */ }
    if (!id) {
      id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
        : "web-" + Date.now().toString(36) + Math.random().toString(36).slice(2);
      try { window.localStorage.setItem(key, id); } catch (e) { /* keep for this page only */ }
    }
    return id;
  }
  var sender = senderId();

  function addMessage(kind, text, buttons) {
    var item = document.createElement("li");
    item.className = "msg msg--" + kind;
    var bubble = document.createElement("div");
    bubble.className = "msg__bubble";
    bubble.textContent = text || "";
    if (buttons && buttons.length) {
      var row = document.createElement("div");
      row.className = "msg__buttons";
      buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = String(b.title || b.payload || "");
        button.addEventListener("click", function () {
          row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          deliver(String(b.payload || b.title || ""), String(b.title || b.payload || ""));
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

  function render(reply) {
    if (typeof reply.text === "string" || reply.buttons) {
      addMessage("bot", reply.text || "", reply.buttons || []);
    } else if (reply.custom && typeof reply.custom.text === "string") {
      addMessage("bot", reply.custom.text, reply.custom.buttons || []);
    }
  }

  function busy(on) {
    inFlight = on;
    send.disabled = on;
    typing.hidden = !on;
  }

  function markShown(seqs) {
    seqs.forEach(function (seq) { shown[seq] = true; });
    while (shown[lastSeq + 1]) { lastSeq += 1; }
  }

  // Messages the customer has not seen yet: earlier visits, ticket progress, agents' replies.
  function renderStored(message) {
    if (shown[message.seq]) { return; }
    markShown([message.seq]);
    var payload = message.payload || {};
    if (message.author === "customer") {
      addMessage("me", message.text || "");
    } else if (message.author === "system") {
      addMessage("system", message.text || payload.text || "");
    } else {
      render(payload.text || payload.buttons || payload.custom ? payload : { text: message.text || "" });
    }
  }

  function fetchHistory() {
    if (inFlight) { return Promise.resolve(); }
    var url = HISTORY + "?sender=" + encodeURIComponent(sender) + "&after=" + lastSeq;
    return fetch(url).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body && !inFlight) { body.messages.forEach(renderStored); } })
      .catch(function () { /* offline for a moment: the next poll catches up */ });
  }

  function errorText(status, body) {
    if (body && body.error && body.error.message) { return body.error.message; }
    return "网络异常 (" + status + "),请稍后再试。";
  }

  function deliver(message, shown) {
    addMessage("me", shown);
    busy(true);
    return fetch(WEBHOOK, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: message })
    }).then(function (response) {
      markShown((response.headers.get("X-GridDesk-Seq") || "").split(",").filter(Boolean).map(Number));
      return response.json().catch(function () { return null; }).then(function (body) {
        if (!response.ok) { addMessage("system", errorText(response.status, body)); return; }
        (body || []).forEach(render);
      });
    }).catch(function () {
      addMessage("system", "网络连接失败,请检查网络后重试。");
    }).then(function () { busy(false); input.focus(); });
  }

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
  addMessage("bot", "您好,我是格网服务智能客服,请问有什么可以帮您?");
  fetchHistory().then(function () { window.setInterval(fetchHistory, POLL_MS); });
})();
