// Console login: POST /api/v1/auth/login, then on to the console (or the page that sent us here).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var form = document.getElementById("login-form");
  var username = document.getElementById("username");
  var password = document.getElementById("password");
  var submit = document.getElementById("login-submit");
  var error = document.getElementById("login-error");

  // Back to the page that sent us here, with its query (/console/kb?faq=12) — but only a page of the
  // console on this very site: a relative path under /console/, never "//host", "/\host" or a scheme.
  function nextPage() {
    var next = new URLSearchParams(window.location.search).get("next") || "";
    if (!/^\/console\//.test(next) || /[\\\u0000-\u001f\s]/.test(next)) { return "/console/"; }
    var target;
    try { target = new URL(next, window.location.origin); } catch (e) { return "/console/"; }
    if (target.origin !== window.location.origin || target.pathname.indexOf("/console/") !== 0) { return "/console/"; }
    return target.pathname + target.search + target.hash;
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
