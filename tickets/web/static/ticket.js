// /console/tickets/<number>: one ticket of my grids — its fields (contact masked until the audited
// reveal), the verified customer, the conversations it came from (transcript), the steps the service flow
// allows as buttons, the assignee, the grid manager's approval of high amounts, comments and the immutable
// audit trail. Every change names the version shown; when someone else changed the ticket meanwhile the
// server answers 409 ticket_conflict and the page says so plainly and shows the ticket as it is now.
// Live: the console websocket's news about this ticket reloads it. API: /api/v1/console/tickets/<number>.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var T = window.GridDeskTickets;
  var el = C.el;

  var $ = function (id) { return document.getElementById(id); };
  var number = decodeURIComponent(window.location.pathname.split("/").pop() || "");
  var api = "/api/v1/console/tickets/" + encodeURIComponent(number);
  var state = { ticket: null, account: null, revealed: null, busy: false };
  var STEP_TEXT = { analysing: "开始分析", in_progress: "开始处理", resolved: "办结（已解决）", closed: "关闭工单" };

  function fact(list, term, value, className) {
    list.appendChild(el("dt", null, term));
    var dd = el("dd", className);
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = value === null || value === undefined || value === "" ? "—" : String(value); }
    list.appendChild(dd);
    return dd;
  }

  function renderHead(t) {
    document.title = t.number + " · 工单详情 · 格网服务";
    $("tk-number").textContent = t.number;
    var tag = $("tk-state");
    tag.textContent = C.label(C.labels.ticketState, t.state);
    tag.setAttribute("data-state", t.state);
    $("tk-priority").textContent = "优先级：" + C.label(C.labels.priority, t.priority);
    $("tk-category").textContent = C.label(C.labels.category, t.category);
    T.paintCountdown($("tk-countdown"), t);
  }

  function renderFlow(t) {
    var steps = $("tk-flow-steps");
    C.clear(steps);
    ["accepted", "analysing", "in_progress", "resolved", "closed"].forEach(function (s, i, all) {
      var li = el("li", "tk-step", C.label(C.labels.ticketState, s));
      var here = all.indexOf(t.state);
      if (i < here) { li.classList.add("is-done"); }
      if (i === here) { li.classList.add("is-current"); li.setAttribute("aria-current", "step"); }
      steps.appendChild(li);
    });
    var buttons = $("tk-step-buttons");
    C.clear(buttons);
    var blocked = t.needs_approval && !t.approved_by;
    (t.next_steps || []).forEach(function (to) {
      var reopen = t.state === "resolved" && to === "in_progress";
      var button = el("button", "btn tk-step-button" + (reopen ? "" : " btn--primary"), reopen ? "重新打开（回到处理中）" : (STEP_TEXT[to] || C.label(C.labels.ticketState, to)));
      button.type = "button";
      button.setAttribute("data-to", to);
      if (to === "resolved" && blocked) {
        button.disabled = true;
        button.title = "金额达到审批线，须网格经理审批后才能办结";
      }
      button.addEventListener("click", function () { move(to); });
      buttons.appendChild(button);
    });
    var hint = $("tk-step-hint");
    hint.hidden = true;
    if (!(t.next_steps || []).length) { hint.textContent = "工单已关闭，无需再办理。"; hint.hidden = false; }
    else if (blocked && (t.next_steps || []).indexOf("resolved") >= 0) { hint.textContent = "金额达到审批线，须网格经理审批后才能办结。"; hint.hidden = false; }
  }

  function renderFields(t) {
    var list = $("tk-fields");
    C.clear(list);
    var shown = state.revealed || t;
    fact(list, "问题描述", t.description, "tk-description");
    fact(list, "联系人", shown.contact_name, "tk-contact-name");
    fact(list, "联系电话", shown.contact_phone, "tk-contact-phone");
    fact(list, "所在地区", t.region);
    fact(list, "客户类别", C.label(C.labels.tier, t.customer_tier));
    fact(list, "涉及金额", t.amount_yuan ? t.amount_yuan + " 元" : null);
    fact(list, "所属网格", t.grid_name || t.grid);
    fact(list, "登记时间", C.clock(t.created_at));
    fact(list, "本环节期限", t.step_due_at ? C.clock(t.step_due_at) : null);
    fact(list, "办结期限", t.resolve_due_at ? C.clock(t.resolve_due_at) : null);
    $("tk-reveal-row").hidden = !!state.revealed;
  }

  function renderCustomer(t) {
    var list = $("tk-customer");
    C.clear(list);
    var customer = t.customer;
    var shown = state.revealed && state.revealed.customer ? state.revealed.customer : customer;
    $("tk-customer-none").hidden = !!customer;
    list.hidden = !customer;
    if (!customer) { return; }
    var verified = el("span", "tag tag--ok", "已验证");
    var name = el("span", null, (shown.name || "—") + " ");
    name.appendChild(verified);
    fact(list, "姓名", name);
    fact(list, "电话", shown.phone);
    fact(list, "地区", customer.region);
    fact(list, "客户类别", C.label(C.labels.tier, customer.tier));
    fact(list, "网站编号", customer.external_id);
  }

  function renderConversations(t) {
    var list = $("tk-conversations");
    C.clear(list);
    var items = Array.isArray(t.conversations) ? t.conversations : [];
    $("tk-conversations-none").hidden = items.length > 0;
    items.forEach(function (conversation) {
      var li = el("li", "tk-list__item");
      li.appendChild(el("span", null, "会话 #" + conversation.id + " · " + C.channelLabel(conversation.channel) + " · " + C.clock(conversation.started_at) + " · " + conversation.messages + " 条消息"));
      var open = el("button", "btn btn--small tk-open-transcript", "查看会话记录");
      open.type = "button";
      open.setAttribute("data-conversation-id", String(conversation.id));
      open.addEventListener("click", function () { openTranscript(conversation.id); });
      li.appendChild(open);
      list.appendChild(li);
    });
  }

  function renderAssignment(t) {
    var me = state.account || {};
    $("tk-assignee").textContent = t.assignee ? t.assignee.name + (t.assignee.id === me.id ? "（我）" : "") : "未指派";
    var closed = t.state === "closed";
    var anyone = !!(t.may && t.may.assign_others) && !closed;
    $("tk-assign-any").hidden = !anyone;
    var select = $("tk-assign-select");
    var keep = select.value;
    C.clear(select);
    var none = el("option", null, "（不指派）");
    none.value = "";
    select.appendChild(none);
    (t.assignable || []).forEach(function (person) {
      var o = el("option", null, person.name + "（" + C.label(C.labels.role, person.role) + "）");
      o.value = String(person.id);
      select.appendChild(o);
    });
    select.value = keep && Array.prototype.some.call(select.options, function (o) { return o.value === keep; }) ? keep : (t.assignee ? String(t.assignee.id) : "");
    var mine = t.assignee && t.assignee.id === me.id;
    var canTake = (t.assignable || []).some(function (person) { return person.id === me.id; });
    $("tk-take").hidden = closed || mine || !canTake;
    $("tk-release").hidden = closed || !mine;
  }

  function renderApproval(t) {
    var box = $("tk-approval");
    box.hidden = !t.needs_approval;
    if (!t.needs_approval) { return; }
    var approval = (t.events || []).filter(function (e) { return e.kind === "approval"; }).pop();
    var status = $("tk-approval-status");
    if (t.approved_by) {
      status.textContent = "涉及金额 " + t.amount_yuan + " 元，已由" + (approval ? approval.actor_name : "网格经理") + "审批通过" + (approval && approval.note ? "：" + approval.note : "。");
      status.className = "tk-approved";
    } else {
      status.textContent = "涉及金额 " + t.amount_yuan + " 元，达到审批线：须本网格的网格经理审批后才能办结。";
      status.className = "tk-waiting";
    }
    $("tk-approval-form").hidden = !(t.may && t.may.approve) || !!t.approved_by || !T.isOpen(t.state);
  }

  function renderComments(t) {
    var list = $("tk-comments");
    C.clear(list);
    var comments = (t.events || []).filter(function (e) { return e.kind === "comment"; });
    $("tk-comments-none").hidden = comments.length > 0;
    comments.forEach(function (e) {
      var li = el("li", "tk-comment");
      var head = el("div", "tk-comment__head");
      head.appendChild(el("b", null, e.actor_name || e.actor));
      head.appendChild(el("time", "muted", C.clock(e.at)));
      li.appendChild(head);
      li.appendChild(el("div", "tk-comment__text", e.note));
      list.appendChild(li);
    });
  }

  function renderTrail(t) {
    var list = $("tk-trail");
    C.clear(list);
    (t.events || []).slice().reverse().forEach(function (e) {
      var li = el("li", "event tk-event");
      li.setAttribute("data-kind", e.kind);
      li.appendChild(el("time", "event__time", C.clock(e.at)));
      li.appendChild(el("b", null, e.actor_name || e.actor));
      li.appendChild(el("span", "tag", C.label(C.labels.ticketEvent, e.kind)));
      if (e.kind === "transition" && e.from_state && e.to_state) {
        li.appendChild(el("span", null, C.label(C.labels.ticketState, e.from_state) + " → " + C.label(C.labels.ticketState, e.to_state)));
      }
      if (e.note) { li.appendChild(el("span", "event__note", e.note)); }
      list.appendChild(li);
    });
  }

  function render(t) {
    state.ticket = t;
    T.syncClock(t.now);
    $("tk-missing").hidden = true;
    $("tk-main").hidden = false;
    renderHead(t);
    renderFlow(t);
    renderFields(t);
    renderCustomer(t);
    renderConversations(t);
    renderAssignment(t);
    renderApproval(t);
    renderComments(t);
    renderTrail(t);
    setBusy(state.busy);
  }

  function setBusy(busy) {
    state.busy = busy;
    document.querySelectorAll("#tk-main button").forEach(function (button) {
      if (busy) { button.setAttribute("data-busy", "1"); button.disabled = true; }
      else if (button.getAttribute("data-busy")) { button.removeAttribute("data-busy"); button.disabled = false; }
    });
    if (!busy && state.ticket) { renderFlow(state.ticket); }
  }

  function load() {
    return C.api("GET", api).then(render, function (error) {
      if (error.status === 404) {
        $("tk-main").hidden = true;
        $("tk-missing").hidden = false;
        return;
      }
      C.toast(C.errorText(error, "工单加载失败"), "error");
    });
  }

  function showConflict(text) {
    $("tk-conflict-text").textContent = text;
    $("tk-conflict").hidden = false;
    $("tk-conflict").scrollIntoView({ block: "nearest" });
  }

  // One change: POST, then show the answer; a conflict is said plainly and the ticket read again.
  function change(path, body, done, status) {
    if (state.busy) { return Promise.resolve(); }
    setBusy(true);
    return C.api("POST", api + path, body).then(function (ticket) {
      $("tk-conflict").hidden = true;
      render(ticket);
      if (done) { done(ticket); }
    }, function (error) {
      if (error.code === "ticket_conflict" || error.code === "transition_not_allowed") {
        showConflict(error.message || "工单已被他人修改，页面已刷新为最新内容。");
        return load();
      }
      if (error.status === 404) { return load(); }
      C.toast(C.errorText(error, "操作失败"), "error");
    }).then(function () { setBusy(false); if (status) { status(); } });
  }

  function move(to) {
    var note = $("tk-step-note").value.trim();
    change("/transition", { to: to, version: state.ticket.version, note: note || undefined }, function (ticket) {
      $("tk-step-note").value = "";
      C.toast("已更新为「" + C.label(C.labels.ticketState, ticket.state) + "」", "ok");
    });
  }

  function assignTo(assigneeId) {
    change("/assign", { assignee_id: assigneeId, version: state.ticket.version }, function (ticket) {
      C.toast(ticket.assignee ? "已指派给 " + ticket.assignee.name : "已取消指派", "ok");
    });
  }

  function openTranscript(conversationId) {
    var dialog = $("transcript-dialog");
    var list = $("transcript");
    C.clear(list);
    $("transcript-title").textContent = "会话记录 · 会话 #" + conversationId;
    C.api("GET", api + "/conversations/" + conversationId + "/messages").then(function (body) {
      (body.messages || []).forEach(function (message) {
        var author = String(message.author || "bot");
        var li = el("li", "msg msg--" + author);
        var head = el("div", "msg__head");
        head.appendChild(el("span", "msg__who", C.label(C.labels.author, author)));
        head.appendChild(el("time", "msg__time", C.clock(message.created_at)));
        li.appendChild(head);
        var payload = message.payload && typeof message.payload === "object" ? message.payload : {};
        li.appendChild(el("div", "msg__text", message.text || (typeof payload.text === "string" ? payload.text : "")));
        list.appendChild(li);
      });
      if (!list.firstChild) { list.appendChild(el("li", "empty", "这段会话还没有消息")); }
      if (!dialog.open) { dialog.showModal(); }
    }, function (error) { C.toast(C.errorText(error, "会话记录加载失败"), "error"); });
  }

  $("tk-reveal").addEventListener("click", function () {
    change("/reveal", {}, function (ticket) {
      state.revealed = { contact_phone: ticket.contact_phone, contact_name: ticket.contact_name, customer: ticket.customer };
      renderFields(ticket);
      renderCustomer(ticket);
    });
  });
  $("tk-assign").addEventListener("click", function () {
    var value = $("tk-assign-select").value;
    assignTo(value ? Number(value) : null);
  });
  $("tk-take").addEventListener("click", function () { assignTo(state.account.id); });
  $("tk-release").addEventListener("click", function () { assignTo(null); });
  $("tk-approve").addEventListener("click", function () {
    var note = $("tk-approval-note").value.trim();
    if (!note) { C.toast("请填写审批意见", "error"); $("tk-approval-note").focus(); return; }
    change("/approve", { note: note }, function () { $("tk-approval-note").value = ""; C.toast("已审批通过", "ok"); });
  });
  $("tk-comment-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var note = $("tk-comment-note").value.trim();
    if (!note) { C.toast("请填写备注内容", "error"); return; }
    change("/comments", { note: note }, function () { $("tk-comment-note").value = ""; C.toast("备注已添加", "ok"); });
  });
  $("tk-conflict-close").addEventListener("click", function () { $("tk-conflict").hidden = true; });
  $("transcript-close").addEventListener("click", function () { $("transcript-dialog").close(); });

  var reloadSoon = T.debounce(function () { if (!state.busy) { load(); } }, 300);

  C.me().then(function (body) {
    state.account = body.account;
    load();
    window.setInterval(function () { if (state.ticket) { T.paintCountdown($("tk-countdown"), state.ticket); } }, 1000);
    T.live({
      changes: function (changes) {
        if (changes.some(function (c) { return c.number === (state.ticket && state.ticket.number); })) { reloadSoon(); }
      },
      resync: load
    });
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
