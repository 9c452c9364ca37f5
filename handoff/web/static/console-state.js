// The agent console (console.html) is split by concern into console-*.js files that share one namespace,
// window.GridDeskAgentConsole ("A" in each file), created here: the page's state, its elements and the
// text helpers several parts use. console.html loads: console-state, -socket, -lists, -packet, -customer, -chat,
// -tools, -actions, -status, then console.js, which boots the page. The parts call each other through
// A only when something happens, never while loading, so the order matters only for A itself.
// Every text from customers, agents, the FAQ or the server goes in with textContent (C.el), never as HTML.
(function () {
  "use strict";
  var C = window.GridDeskConsole;

  // The page's state, one object. Who writes what: account — console.js; queue and chats —
  // console-lists.js; current — console-chat.js; seen — console-lists.js (a conversation first seen)
  // and console-chat.js (read up to). The websocket's own state stays in console-socket.js.
  var state = {
    account: null,  // the logged-in agent
    queue: { items: [], receivedAt: Date.now() },  // the queue of my grids, and when it arrived
    chats: [],  // my chats
    seen: {},  // conversation id → last seq the agent has looked at (unread marker)
    current: null  // the open handoff
  };

  var nodes = {};
  ["queue", "queue-count", "queue-empty", "chats", "chats-count", "chats-empty", "chat-empty", "chat-pane",
    "chat-customer", "chat-grid", "chat-state", "accept-current", "ticket-open", "transfer-open", "hand-back",
    "close-chat", "transcript", "composer", "composer-input", "composer-send", "packet-empty", "packet-body",
    "packet-notes", "packet-question", "packet-reason", "packet-intent", "packet-grid", "packet-profile", "packet-ticket",
    "packet-faqs", "packet-slots", "packet-draft", "packet-events", "kb-form", "kb-query", "kb-results", "canned",
    "ticket-hint", "ticket-form", "ticket-category", "ticket-description", "ticket-phone", "ticket-region",
    "ticket-amount", "ticket-error", "ticket-submit", "ticket-result", "ticket-number", "transfer-dialog",
    "transfer-form", "transfer-grid", "transfer-agent", "transfer-note", "transfer-error", "transfer-cancel",
    "transfer-submit", "confirm-dialog", "confirm-text", "confirm-ok", "confirm-cancel", "connection-banner",
    "status-select", "customer-empty", "customer-body", "customer-name", "customer-external-id", "customer-phone",
    "customer-region", "customer-tier", "customer-first-seen", "customer-last-seen", "customer-conversations",
    "customer-tickets"].forEach(function (id) { nodes[id] = document.getElementById(id); });

  function isMine(handoffAgent) {
    return !!handoffAgent && !!state.account && handoffAgent.id === state.account.id;
  }

  function customerLabel(value, fallbackProfile) {
    if (typeof value === "string" && value) { return value; }
    var profile = (value && typeof value === "object") ? value : (fallbackProfile || {});
    var parts = [];
    if (profile.name) { parts.push(String(profile.name)); }
    if (profile.region) { parts.push(String(profile.region)); }
    return parts.length ? parts.join(" · ") : "访客";
  }

  // the customer as lists name them: the server's name (verified, claimed and marked, or 访客 #id) and
  // the verified region
  function customerLine(customer, profile) {
    var name = customerLabel(customer, profile);
    var region = profile && profile.verified === true && profile.region ? String(profile.region) : "";
    return region && name.indexOf(region) < 0 ? name + " · " + region : name;
  }

  // the customer group and whether the site vouched for the customer
  function tierText(profile) {
    if (!profile || typeof profile !== "object") { return "未验证身份"; }
    var parts = [];
    if (profile.tier) { parts.push(C.label(C.labels.tier, profile.tier)); }
    parts.push(profile.verified === true ? "已验证" : "未验证身份");
    return parts.join(" · ");
  }

  function profileText(profile) {
    if (!profile || typeof profile !== "object") { return "—"; }
    var parts = [];
    if (profile.name) { parts.push(String(profile.name)); }
    if (profile.region) { parts.push(String(profile.region)); }
    if (profile.tier) { parts.push(C.label(C.labels.tier, profile.tier)); }
    if (!parts.length) { return "—"; }
    // only a customer the embedding site signed is verified; anything else is what their client claimed
    parts.push(profile.verified === true ? "已验证" : "未验证");
    return parts.join(" · ");
  }

  window.GridDeskAgentConsole = {
    API: "/api/v1/console",
    state: state,
    nodes: nodes,
    isMine: isMine,
    customerLabel: customerLabel,
    customerLine: customerLine,
    tierText: tierText,
    profileText: profileText
  };
})();
