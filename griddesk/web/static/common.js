// Shared by the console pages: the API client (session cookie + CSRF header), DOM helpers that only
// ever insert text, Chinese labels, durations, the top bar and a reconnecting websocket.
// Exposes one global, window.GridDeskConsole.
(function () {
  "use strict";
  var csrfToken = "";
  var signedIn = null;  // me()'s answer: an unsafe call made before it arrived waits for the CSRF token it brings

  // Chinese labels of every value the pages show come from the server (GET /api/v1/console/labels, defined once
  // in the features); me() loads them before any page draws. Names here: the server's kinds, camelCased.
  var LABEL_KINDS = {
    role: "role", status: "agent_status", tier: "tier", handoffStatus: "handoff_status", channel: "channel",
    author: "author", reason: "handoff_reason", alertKind: "alert_kind", category: "ticket_category",
    ticketState: "ticket_state", priority: "ticket_priority", ticketField: "ticket_field", ticketEvent: "ticket_event",
    faqStatus: "faq_status", review: "faq_review", decision: "kb_decision", inboxKind: "inbox_kind",
    faqField: "faq_field", faqSource: "faq_source", owner: "conversation_owner", skill: "skill", intent: "intent",
    actor: "actor"
  };
  var labels = {};
  Object.keys(LABEL_KINDS).forEach(function (name) { labels[name] = {}; });

  function loadLabels() {
    return api("GET", "/api/v1/console/labels").then(function (body) {
      Object.keys(LABEL_KINDS).forEach(function (name) {
        var loaded = (body && body[LABEL_KINDS[name]]) || {};
        Object.keys(loaded).forEach(function (key) { labels[name][key] = loaded[key]; });
      });
    });
  }
  var ERROR_TEXT = {
    unauthorized: "登录已失效，请重新登录",
    forbidden: "您没有权限执行此操作",
    csrf: "页面已过期，请刷新后重试",
    already_taken: "已被其他客服接入",
    at_capacity: "您的接待量已满，请先结束部分会话",
    not_in_grid: "该会话不属于您所在的网格",
    not_assigned: "该会话已不由您接待",
    invalid_transition: "会话状态已变化，请刷新",
    not_found: "记录不存在或已被处理"
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }

  // The login page, told to come back to this very page afterwards (path, query and fragment:
  // /console/kb?faq=12 opens FAQ 12 again after the login).
  function loginUrl() {
    var here = window.location.pathname + window.location.search + window.location.hash;
    return "/console/login" + (here && here !== "/console/" ? "?next=" + encodeURIComponent(here) : "");
  }

  // Every call: JSON in, JSON out, CSRF header on unsafe methods; 401 → the login page.
  function api(method, path, body, options) {
    if (method !== "GET" && method !== "HEAD" && !csrfToken && signedIn && !(options && options.afterMe)) {
      var again = Object.assign({}, options, { afterMe: true });
      return signedIn.catch(function () { /* the call itself reports */ })
        .then(function () { return api(method, path, body, again); });
    }
    var headers = { "Accept": "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET" && method !== "HEAD" && csrfToken) { headers["X-CSRF-Token"] = csrfToken; }
    return fetch(path, init).then(function (response) {
      if (response.status === 204) { return null; }
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok) { return data; }
        var error = (data && data.error) || {};
        if (response.status === 401 && !(options && options.allow401)) {
          window.location.assign(loginUrl());
        }
        throw new ApiError(response.status, error.code || "http_" + response.status, error.message || "");
      });
    }, function () {
      throw new ApiError(0, "network", "网络连接失败，请检查网络");
    });
  }

  function errorText(error, fallback) {
    if (!error) { return fallback || "操作失败"; }
    if (error.code && ERROR_TEXT[error.code]) { return ERROR_TEXT[error.code]; }
    if (error.status === 0) { return "网络连接失败，请检查网络"; }
    if (error.message) { return error.message; }
    return (fallback || "操作失败") + (error.status ? "（" + error.status + "）" : "");
  }

  var toastTimer = null;
  // A short notice; ``link`` ({href, text}) adds a link to what it is about and keeps it up longer.
  function toast(text, kind, link) {
    var box = document.getElementById("toast");
    if (!box) { return; }
    box.textContent = text;
    if (link && link.href) {
      var anchor = document.createElement("a");
      anchor.className = "toast__link";
      anchor.href = link.href;
      anchor.textContent = link.text || "查看";
      box.appendChild(anchor);
    }
    box.className = "toast toast--" + (kind || "info");
    box.hidden = false;
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () { box.hidden = true; }, link ? 15000 : 4000);
  }

  // Where an SLA alert points: its ticket's page, else the conversation in the agent console; null for neither.
  function alertLink(alert) {
    if (!alert) { return null; }
    if (alert.ticket_number) {
      return { href: "/console/tickets/" + encodeURIComponent(String(alert.ticket_number)),
               text: "查看工单 " + alert.ticket_number };
    }
    if (alert.handoff_id) {
      return { href: "/console/?handoff=" + encodeURIComponent(String(alert.handoff_id)), text: "查看会话" };
    }
    return null;
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds || 0));
    if (seconds < 60) { return seconds + "秒"; }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + "分" + String(seconds % 60).padStart(2, "0") + "秒"; }
    return Math.floor(minutes / 60) + "小时" + (minutes % 60) + "分";
  }

  function clock(iso) {
    if (!iso) { return ""; }
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return ""; }
    var pad = function (n) { return String(n).padStart(2, "0"); };
    var today = new Date();
    var time = pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
    if (date.toDateString() === today.toDateString()) { return time; }
    return (date.getMonth() + 1) + "月" + date.getDate() + "日 " + time;
  }

  function label(map, value) {
    return value === null || value === undefined ? "" : (map[value] || String(value));
  }

  // Logged-in account: fills the top bar (name, role, manager link) and the logout button.
  function me() {
    signedIn = Promise.all([api("GET", "/api/v1/auth/me"), loadLabels()]).then(function (results) {
      var body = results[0];
      csrfToken = body.csrf_token || "";
      var account = body.account || {};
      var name = document.getElementById("me-name");
      var role = document.getElementById("me-role");
      var managerLink = document.getElementById("manager-link");
      if (name) { name.textContent = account.display_name || account.username || ""; }
      if (role) { role.textContent = label(labels.role, account.role); }
      if (managerLink) { managerLink.hidden = !isManager(account); }
      var logout = document.getElementById("logout");
      if (logout) {
        logout.addEventListener("click", function () {
          logout.disabled = true;
          api("POST", "/api/v1/auth/logout", {}).catch(function () { /* leave anyway */ })
            .then(function () { window.location.assign("/console/login"); });
        });
      }
      return body;
    });
    return signedIn;
  }

  function isManager(account) {
    return !!account && (account.role === "manager" || account.role === "admin");
  }

  function wsUrl(path) {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + path;
  }

  // A websocket that reconnects with exponential backoff and pings every 25 s.
  // handlers: open(send), message(data), down() — down runs once per lost connection.
  function LiveSocket(path, handlers) {
    var socket = null;
    var delay = 1000;
    var timer = null;
    var ping = null;
    var stopped = false;
    var self = this;

    function send(data) {
      if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(data)); return true; }
      return false;
    }

    function connect() {
      var ws;
      try { ws = new WebSocket(wsUrl(path)); } catch (e) { retry(); return; }
      socket = ws;
      ws.addEventListener("open", function () {
        delay = 1000;
        window.clearInterval(ping);
        ping = window.setInterval(function () { send({ type: "ping" }); }, 25000);
        if (handlers.open) { handlers.open(send); }
      });
      ws.addEventListener("message", function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        if (data && typeof data === "object" && handlers.message) { handlers.message(data); }
      });
      ws.addEventListener("close", function () {
        if (socket !== ws) { return; }
        socket = null;
        window.clearInterval(ping);
        if (handlers.down) { handlers.down(); }
        retry();
      });
    }

    function retry() {
      if (stopped || timer !== null) { return; }
      var wait = delay + Math.floor(Math.random() * 500);
      delay = Math.min(delay * 2, 30000);
      timer = window.setTimeout(function () {
        timer = null;
        // a dead session cannot reconnect: api() sends the agent to the login page on 401
        api("GET", "/api/v1/auth/me").then(connect, function (error) {
          if (error.status !== 401) { connect(); }
        });
      }, wait);
    }

    self.send = send;
    self.isOpen = function () { return !!socket && socket.readyState === WebSocket.OPEN; };
    self.stop = function () { stopped = true; if (socket) { socket.close(); } };
    connect();
  }

  window.GridDeskConsole = {
    api: api,
    me: me,
    loginUrl: loginUrl,
    el: el,
    clear: clear,
    toast: toast,
    alertLink: alertLink,
    errorText: errorText,
    duration: duration,
    clock: clock,
    label: label,
    isManager: isManager,
    LiveSocket: LiveSocket,
    channelLabel: function (channel) { return labels.channel[channel] || String(channel || ""); },
    labels: labels
  };
})();

// ---- knowledge base (issue 5): a 知识库 link in the top bar of the other console pages, for grid
// managers and admins. Wraps GridDeskConsole.me; the knowledge-base pages (kb-page.html) have their own
// navigation. ----
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var me = C.me;
  C.me = function () {
    return me().then(function (body) {
      var nav = document.querySelector(".topbar__nav");
      if (nav && !nav.classList.contains("kb-nav") && !document.getElementById("kb-link") &&
          C.isManager(body && body.account)) {
        var link = C.el("a", null, "知识库");
        link.id = "kb-link";
        link.href = "/console/kb";
        nav.appendChild(link);
      }
      return body;
    });
  };
})();
