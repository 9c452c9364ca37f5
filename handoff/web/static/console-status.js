// The agent's own status in the top bar (在线 / 忙碌 / 离线): read from the server at start
// (GET /status; online after login unless the agent chose otherwise), changed from the select, and
// followed live (the websocket's hello and agent_status events: another tab, a logout elsewhere).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var A = window.GridDeskAgentConsole;
  var nodes = A.nodes;

  var statusValue = null;  // the last status the server confirmed

  function show(status) {
    if (!status) { return; }
    statusValue = status;
    var select = nodes["status-select"];
    select.value = status;
    select.setAttribute("data-status", status);
  }

  nodes["status-select"].addEventListener("change", function () {
    var select = nodes["status-select"];
    var wanted = select.value;
    select.disabled = true;
    C.api("POST", A.API + "/status", { status: wanted }).then(function () {
      show(wanted);
      C.toast("状态已切换为" + C.label(C.labels.status, wanted), "ok");
    }, function (error) {
      if (statusValue) { select.value = statusValue; }
      C.toast(C.errorText(error, "状态切换失败"), "error");
    }).then(function () { select.disabled = false; });
  });

  function init() {
    // the options' words come from the labels API, like every other label of the console
    Array.prototype.forEach.call(nodes["status-select"].options, function (option) {
      option.textContent = C.label(C.labels.status, option.value);
    });
    return C.api("GET", A.API + "/status").then(function (body) {
      if (body && body.status) { show(body.status); } else { nodes["status-select"].disabled = true; }
    }, function () { /* the hello of the live connection carries it too */ });
  }

  A.status = { init: init, show: show };
})();
