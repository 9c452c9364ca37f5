// The agent's own status in the top bar (在线 / 忙碌 / 离线): shown at start, changed from the select.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var A = window.GridDeskAgentConsole;
  var nodes = A.nodes;

  var statusValue = null;  // the last status the server confirmed
  nodes["status-select"].addEventListener("change", function () {
    var select = nodes["status-select"];
    var wanted = select.value;
    select.disabled = true;
    C.api("POST", A.API + "/status", { status: wanted }).then(function () {
      statusValue = wanted;
      C.toast("状态已切换为" + C.label(C.labels.status, wanted), "ok");
    }, function (error) {
      if (statusValue) { select.value = statusValue; }
      C.toast(C.errorText(error, "状态切换失败"), "error");
    }).then(function () { select.disabled = false; });
  });

  // body: /auth/me
  function init(body) {
    var status = (body.agent && body.agent.status) || body.agent_status || (body.account && body.account.agent_status);
    if (status) {
      statusValue = status;
      nodes["status-select"].value = status;
      return;
    }
    // /auth/me may not carry the agent's status: look ourselves up among the transfer targets
    C.api("GET", A.API + "/transfer-targets").then(function (targets) {
      (targets.agents || []).forEach(function (agent) {
        if (agent.id === A.state.account.id && agent.status) { statusValue = agent.status; nodes["status-select"].value = agent.status; }
      });
    }, function () { /* keep the default */ });
  }

  A.status = { init: init };
})();
