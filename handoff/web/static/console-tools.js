// The agent console's side tabs: knowledge-base search (insert an answer into the reply), canned
// replies, and a ticket from the open chat (the form pre-filled from the conversation).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var A = window.GridDeskAgentConsole;
  var el = C.el;
  var state = A.state;
  var nodes = A.nodes;

  // ---- tabs ---------------------------------------------------------------------------------------

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

  // ---- knowledge base -------------------------------------------------------------------------------

  nodes["kb-form"].addEventListener("submit", function (event) {
    event.preventDefault();
    var q = nodes["kb-query"].value.trim();
    var results = nodes["kb-results"];
    if (!q) { return; }
    var url = A.API + "/kb/search?q=" + encodeURIComponent(q);
    var current = state.current;
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
        insert.addEventListener("click", function () { A.chat.insert(String(hit.answer || "")); });
        li.appendChild(insert);
        results.appendChild(li);
      });
      if (!hits.length) { results.appendChild(el("li", "muted", "没有找到相关答案")); }
    }, function (error) {
      C.clear(results);
      results.appendChild(el("li", "form__error", C.errorText(error, "搜索失败")));
    });
  });

  // ---- canned replies -------------------------------------------------------------------------------

  function loadCanned() {
    C.api("GET", A.API + "/canned-replies").then(function (body) {
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
        button.addEventListener("click", function () { A.chat.insert(String(reply.text || "")); });
        li.appendChild(button);
        list.appendChild(li);
      });
      if (!items.length) { list.appendChild(el("li", "muted", "暂无快捷回复")); }
    }, function () { /* the tab stays empty */ });
  }

  // ---- ticket from the chat ---------------------------------------------------------------------------

  // another conversation opened: back to the hint
  function resetTicket() {
    nodes["ticket-form"].hidden = true;
    nodes["ticket-result"].hidden = true;
    nodes["ticket-hint"].hidden = false;
  }

  function showTicketError(text) {
    nodes["ticket-error"].textContent = text || "";
    nodes["ticket-error"].hidden = !text;
  }

  var ticketDraft = {};  // the server's draft: the customer's name and tier go with the ticket as drafted

  nodes["ticket-open"].addEventListener("click", function () {
    if (!state.current) { return; }
    var opened = state.current;
    showTab("ticket");
    showTicketError("");
    nodes["ticket-result"].hidden = true;
    C.api("GET", A.API + "/handoffs/" + opened.handoffId + "/ticket-draft").then(function (draft) {
      if (state.current !== opened) { return; }
      draft = draft || {};
      ticketDraft = draft;
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
    if (!state.current) { return; }
    var body = {
      category: nodes["ticket-category"].value,
      description: nodes["ticket-description"].value.trim(),
      contact_phone: nodes["ticket-phone"].value.trim(),
      region: nodes["ticket-region"].value.trim()
    };
    if (ticketDraft.contact_name) { body.contact_name = String(ticketDraft.contact_name); }
    if (ticketDraft.customer_tier) { body.customer_tier = String(ticketDraft.customer_tier); }
    var amount = nodes["ticket-amount"].value.trim();
    if (amount) { body.amount = amount; }
    if (!body.description || !body.contact_phone || !body.region) { showTicketError("请填写问题描述、联系电话和所在区域"); return; }
    showTicketError("");
    nodes["ticket-submit"].disabled = true;
    C.api("POST", A.API + "/handoffs/" + state.current.handoffId + "/ticket", body).then(function (result) {
      nodes["ticket-number"].textContent = result && result.number ? String(result.number) : "";
      nodes["ticket-result"].hidden = false;
      nodes["ticket-form"].hidden = true;
      C.toast("工单已创建：" + nodes["ticket-number"].textContent, "ok");
    }, function (error) {
      showTicketError(C.errorText(error, "工单创建失败"));
    }).then(function () { nodes["ticket-submit"].disabled = false; });
  });

  A.tools = { showTab: showTab, loadCanned: loadCanned, resetTicket: resetTicket };
})();
