// The agent console's 客户档案 tab: the verified customer of the open conversation — the record the
// embedding site signed, their conversations on every device and channel, their tickets
// (GET /api/v1/console/customers/{id}). An anonymous visitor has no record. Text goes in with textContent only.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var A = window.GridDeskAgentConsole;
  var el = C.el;
  var nodes = A.nodes;
  var shown = null;  // the customer id on screen (or being loaded)

  function text(value) {
    return value === null || value === undefined || value === "" ? "—" : String(value);
  }

  function message(note) {
    shown = null;
    nodes["customer-body"].hidden = true;
    nodes["customer-empty"].hidden = false;
    nodes["customer-empty"].textContent = note;
  }

  function conversationItem(item, currentId) {
    var li = el("li", "event");
    li.appendChild(el("time", "event__time", C.clock(item.started_at)));
    li.appendChild(el("span", "tag", C.label(C.labels.channel, item.channel)));
    var owner = C.label(C.labels.owner, item.owner);
    if (item.agent_name) { owner += "（" + item.agent_name + "）"; }
    li.appendChild(el("span", "event__what", owner + (item.id === currentId ? " · 当前会话" : "")));
    var last = item.last_message;
    if (last) {
      var who = C.label(C.labels.author, last.author);
      li.appendChild(el("span", "event__note", who + " " + C.clock(last.at) + "：" + text(last.text)));
    }
    return li;
  }

  function ticketItem(ticket) {
    var li = el("li", "event");
    li.appendChild(el("time", "event__time", C.clock(ticket.created_at)));
    li.appendChild(el("b", null, ticket.number));
    li.appendChild(el("span", "event__what", C.label(C.labels.category, ticket.category)));
    li.appendChild(el("span", "tag", C.label(C.labels.ticketState, ticket.state)));
    return li;
  }

  function render(body) {
    var customer = body.customer || {};
    nodes["customer-name"].textContent = text(customer.name) + " · 已验证";
    nodes["customer-external-id"].textContent = text(customer.external_id);
    nodes["customer-phone"].textContent = text(customer.phone);
    nodes["customer-region"].textContent = text(customer.region);
    nodes["customer-tier"].textContent = customer.tier ? C.label(C.labels.tier, customer.tier) : "—";
    nodes["customer-first-seen"].textContent = text(C.clock(customer.first_seen_at));
    nodes["customer-last-seen"].textContent = text(C.clock(customer.last_seen_at));
    var currentId = A.state.current ? A.state.current.conversationId : null;
    var conversations = nodes["customer-conversations"];
    C.clear(conversations);
    (Array.isArray(body.conversations) ? body.conversations : []).forEach(function (item) {
      conversations.appendChild(conversationItem(item, currentId));
    });
    if (!conversations.firstChild) { conversations.appendChild(el("li", "muted", "无")); }
    var tickets = nodes["customer-tickets"];
    C.clear(tickets);
    (Array.isArray(body.tickets) ? body.tickets : []).forEach(function (ticket) { tickets.appendChild(ticketItem(ticket)); });
    if (!tickets.firstChild) { tickets.appendChild(el("li", "muted", "无")); }
    nodes["customer-empty"].hidden = true;
    nodes["customer-body"].hidden = false;
  }

  // the open conversation's customer (null = an anonymous visitor)
  function show(customerId) {
    if (typeof customerId !== "number") {
      message("匿名访客：网站未验证其身份，没有客户档案。");
      return;
    }
    shown = customerId;
    C.api("GET", A.API + "/customers/" + customerId).then(function (body) {
      if (shown === customerId) { render(body); }
    }, function (error) {
      if (shown === customerId) { message(C.errorText(error, "无法加载客户档案")); }
    });
  }

  function clear() { message("选择会话后显示客户档案"); }

  A.customer = { show: show, clear: clear };
})();
