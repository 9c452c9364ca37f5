// The agent console's actions on the open handoff: accept it, transfer it (dialog: another grid and/or
// agent, with a note), hand it back to the bot, close it (after confirming). Leaving a chat drops it
// from my chats and reopens it read-only.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var A = window.GridDeskAgentConsole;
  var el = C.el;
  var state = A.state;
  var nodes = A.nodes;

  function leaveChat(handoffId) {
    A.lists.removeChat(handoffId);
    if (state.current && state.current.handoffId === handoffId) { A.chat.open(handoffId); }
  }

  nodes["accept-current"].addEventListener("click", function () {
    if (state.current) { A.lists.accept(state.current.handoffId, nodes["accept-current"]); }
  });

  // ---- transfer -------------------------------------------------------------------------------------

  function option(value, text) {
    var node = el("option", null, text);
    node.value = value;
    return node;
  }

  function showTransferError(text) {
    nodes["transfer-error"].textContent = text || "";
    nodes["transfer-error"].hidden = !text;
  }

  function skillsText(skills) {
    var names = (Array.isArray(skills) ? skills : []).map(function (skill) { return C.label(C.labels.skill, skill); });
    return names.length ? names.join("、") : "";
  }

  // where the chat can go: a grid's queue, or an online colleague of the chat's grid (one of the two)
  nodes["transfer-open"].addEventListener("click", function () {
    if (!state.current) { return; }
    showTransferError("");
    nodes["transfer-note"].value = "";
    C.api("GET", A.API + "/transfer-targets?handoff=" + state.current.handoffId).then(function (targets) {
      var grids = nodes["transfer-grid"];
      var agents = nodes["transfer-agent"];
      C.clear(grids);
      C.clear(agents);
      grids.appendChild(option("", "（不转到网格）"));
      (targets.grids || []).forEach(function (grid) {
        var name = grid.name || grid.code;
        grids.appendChild(option(grid.code, grid.code === targets.current_grid ? name + "（当前网格，重新排队）" : name));
      });
      var colleagues = targets.agents || [];
      agents.appendChild(option("", colleagues.length ? "（不指定同事）" : "（本网格暂无其他在线同事）"));
      colleagues.forEach(function (agent) {
        var parts = [agent.name, "接待 " + (agent.active_chats || 0) + "/" + (agent.max_chats || 0)];
        var skills = skillsText(agent.skills);
        if (skills) { parts.push(skills); }
        agents.appendChild(option(String(agent.id), parts.join(" · ")));
      });
      agents.disabled = !colleagues.length;
      nodes["transfer-dialog"].showModal();
    }, function (error) { C.toast(C.errorText(error, "无法读取转接对象"), "error"); });
  });

  // one target: choosing a grid clears the colleague and the other way round
  nodes["transfer-grid"].addEventListener("change", function () {
    if (nodes["transfer-grid"].value) { nodes["transfer-agent"].value = ""; }
    showTransferError("");
  });
  nodes["transfer-agent"].addEventListener("change", function () {
    if (nodes["transfer-agent"].value) { nodes["transfer-grid"].value = ""; }
    showTransferError("");
  });

  nodes["transfer-cancel"].addEventListener("click", function () { nodes["transfer-dialog"].close(); });

  nodes["transfer-form"].addEventListener("submit", function (event) {
    event.preventDefault();
    if (!state.current) { return; }
    var grid = nodes["transfer-grid"].value;
    var agent = nodes["transfer-agent"].value;
    if (!grid && !agent) { showTransferError("请选择转到哪个网格，或转给哪位同事"); return; }
    var body = { note: nodes["transfer-note"].value.trim() };
    if (grid) { body.grid = grid; }
    if (agent) { body.agent_id = Number(agent); }
    var handoffId = state.current.handoffId;
    nodes["transfer-submit"].disabled = true;
    C.api("POST", A.API + "/handoffs/" + handoffId + "/transfer", body).then(function () {
      nodes["transfer-dialog"].close();
      C.toast("已转接", "ok");
      leaveChat(handoffId);
    }, function (error) {
      showTransferError(C.errorText(error, "转接失败"));
    }).then(function () { nodes["transfer-submit"].disabled = false; });
  });

  // ---- hand back, close -------------------------------------------------------------------------------

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
    if (!state.current) { return; }
    var handoffId = state.current.handoffId;
    C.api("POST", A.API + "/handoffs/" + handoffId + "/hand-back", {}).then(function () {
      C.toast("已交回智能助手", "ok");
      leaveChat(handoffId);
    }, function (error) { C.toast(C.errorText(error, "操作失败"), "error"); });
  });

  nodes["close-chat"].addEventListener("click", function () {
    if (!state.current) { return; }
    var handoffId = state.current.handoffId;
    confirmThen("确定结束本次会话吗？结束后将邀请客户评价。", function () {
      C.api("POST", A.API + "/handoffs/" + handoffId + "/close", {}).then(function () {
        C.toast("会话已结束，已邀请客户评价", "ok");
        leaveChat(handoffId);
      }, function (error) { C.toast(C.errorText(error, "操作失败"), "error"); });
    });
  });
})();
