// Console login: POST /api/v1/auth/login, then on to the console (or the page that sent us here).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var form = document.getElementById("login-form");
  var username = document.getElementById("username");
  var password = document.getElementById("password");
  var submit = document.getElementById("login-submit");
  var error = document.getElementById("login-error");

  // only pages of the console itself, never another site
  function nextPage() {
    var next = new URLSearchParams(window.location.search).get("next") || "";
    return /^\/console\/[A-Za-z0-9_\-\/]*$/.test(next) && next.indexOf("//") < 0 ? next : "/console/";
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  function loginError(failure) {
    if (failure.code === "invalid_credentials" || failure.status === 401) { return "用户名或密码错误"; }
    if (failure.code === "locked" || failure.status === 429) { return failure.message || "登录失败次数过多，请稍后再试。"; }
    if (failure.status === 0) { return "网络连接失败，请检查网络后重试"; }
    if (failure.status === 422 || failure.status === 400) { return "请输入用户名和密码"; }
    return "登录失败，请稍后再试" + (failure.status ? "（" + failure.status + "）" : "");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var name = username.value.trim();
    if (!name || !password.value) { showError("请输入用户名和密码"); return; }
    showError("");
    submit.disabled = true;
    C.api("POST", "/api/v1/auth/login", { username: name, password: password.value }, { allow401: true })
      .then(function () {
        window.location.assign(nextPage());
      }, function (failure) {
        password.value = "";
        password.focus();
        showError(loginError(failure));
        submit.disabled = false;
      });
  });
})();
