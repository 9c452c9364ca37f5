// Shared by the knowledge-base admin pages (kb-page.html + kb*.main.html): labels, the grid list, the safe answer
// preview, the confirm dialog, an FAQ picker and tolerant readers of the API's lists.
// Builds on window.GridDeskConsole (common.js); exposes window.GridDeskKb.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var el = C.el;

  var ERROR_TEXT = {
    faq_conflict: "该问答已被他人修改",
    nothing_to_publish: "没有可发布的草稿",
    invalid_draft: "内容不符合要求",
    faq_not_found: "问答不存在或已被删除",
    file_too_large: "文件太大（不能超过 20 MB）"
  };

  var state = { me: null, csrf: "", grids: [] };

  function errorText(error, fallback) {
    if (error && error.code && ERROR_TEXT[error.code] && !error.message) { return ERROR_TEXT[error.code]; }
    return C.errorText(error, fallback);
  }

  // The logged-in account (fills the top bar); remembers the CSRF token and the grids for XHR uploads.
  function start() {
    return C.me().then(function (body) {
      state.me = body || {};
      state.csrf = (body && body.csrf_token) || "";
      state.grids = (body && Array.isArray(body.grids)) ? body.grids : [];
      markCurrentNav();
      return body;
    });
  }

  function markCurrentNav() {
    var links = document.querySelectorAll(".kb-nav a");
    for (var i = 0; i < links.length; i += 1) {
      if (links[i].getAttribute("href") === window.location.pathname) { links[i].setAttribute("aria-current", "page"); }
    }
  }

  function role() { return (state.me && state.me.account && state.me.account.role) || ""; }
  function isAdmin() { return role() === "admin"; }
  function ownsGrid(code) {
    return !!code && state.grids.some(function (g) { return g.code === code; });
  }
  function gridName(code) {
    if (!code) { return "全局"; }
    var grid = state.grids.filter(function (g) { return g.code === code; })[0];
    return grid ? grid.name + "(" + code + ")" : String(code);
  }

  // <option>s for the grids; withGlobal adds 全局 (value "global" for filters, "" for the editor).
  function fillGridSelect(select, options) {
    options = options || {};
    C.clear(select);
    if (options.any) { select.appendChild(option("", options.any)); }
    if (options.global !== undefined) { select.appendChild(option(options.global, "全局")); }
    state.grids.forEach(function (g) { select.appendChild(option(g.code, g.name + "(" + g.code + ")")); });
  }

  function option(value, text) {
    var node = el("option", null, text);
    node.value = value;
    return node;
  }

  // ---- lists the API may send as a bare array or wrapped ----
  function list(body, key) {
    if (Array.isArray(body)) { return body; }
    if (body && Array.isArray(body[key])) { return body[key]; }
    if (body && Array.isArray(body.items)) { return body.items; }
    return [];
  }

  // ---- the answer's simple formatting: /static/kit/format.js (shared with the customer chat page) ----
  function renderAnswer(target, text) { window.GridDeskFormat.render(target, text); }
  var safeUrl = window.GridDeskFormat.safeUrl;

  // ---- confirm dialog (markup in kb-page.html, the pages' shared skeleton: #confirm-dialog, #confirm-title,
  // #confirm-text, optional #confirm-note-row/#confirm-note, #confirm-error, #confirm-ok, #confirm-cancel) ----
  var pendingConfirm = null;

  function confirmDialog(options) {
    var dialog = document.getElementById("confirm-dialog");
    document.getElementById("confirm-title").textContent = options.title || "请确认";
    document.getElementById("confirm-text").textContent = options.text || "";
    var noteRow = document.getElementById("confirm-note-row");
    var note = document.getElementById("confirm-note");
    var error = document.getElementById("confirm-error");
    var ok = document.getElementById("confirm-ok");
    noteRow.hidden = !options.note;
    note.value = "";
    note.placeholder = (options.note && options.note.placeholder) || "";
    error.hidden = true;
    ok.textContent = options.ok || "确定";
    ok.className = "btn " + (options.danger ? "btn--danger" : "btn--primary");
    return new Promise(function (resolve) {
      pendingConfirm = { resolve: resolve, options: options };
      dialog.showModal();
      if (options.note) { note.focus(); } else { ok.focus(); }
    });
  }

  function wireConfirm() {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog) { return; }
    var finish = function (value) {
      var pending = pendingConfirm;
      pendingConfirm = null;
      if (dialog.open) { dialog.close(); }
      if (pending) { pending.resolve(value); }
    };
    document.getElementById("confirm-ok").addEventListener("click", function () {
      if (!pendingConfirm) { return; }
      var note = document.getElementById("confirm-note").value.trim();
      var noteOptions = pendingConfirm.options.note;
      if (noteOptions && noteOptions.required && !note) {
        var error = document.getElementById("confirm-error");
        error.textContent = noteOptions.requiredText || "请填写说明";
        error.hidden = false;
        return;
      }
      finish({ note: note });
    });
    document.getElementById("confirm-cancel").addEventListener("click", function () { finish(null); });
    dialog.addEventListener("cancel", function () { finish(null); });
  }

  // ---- an FAQ picker: a search box and a result list; onPick(faq) ----
  function faqPicker(input, button, results, onPick) {
    function run() {
      var q = input.value.trim();
      C.clear(results);
      if (!q) { return; }
      var id = /^\d+$/.test(q) ? q : null;
      var request = C.api("GET", "/api/v1/kb/faqs?limit=10&q=" + encodeURIComponent(q));
      request.then(function (body) {
        C.clear(results);
        var items = list(body, "items");
        if (!items.length && id) { items = [{ id: Number(id), question: "编号 " + id }]; }
        if (!items.length) { results.appendChild(el("li", "empty", "没有找到匹配的问答")); return; }
        items.forEach(function (faq) {
          var item = el("li", "kb-pick");
          var pick = el("button", "kb-pick__button");
          pick.type = "button";
          pick.dataset.faqId = String(faq.id);
          pick.appendChild(el("span", "kb-pick__id", "#" + faq.id));
          pick.appendChild(el("span", "kb-pick__question", faq.question || ""));
          if (faq.grid) { pick.appendChild(el("span", "tag", gridName(faq.grid))); }
          pick.addEventListener("click", function () { onPick(faq); });
          item.appendChild(pick);
          results.appendChild(item);
        });
      }, function (error) {
        C.clear(results);
        results.appendChild(el("li", "form__error", errorText(error, "搜索失败")));
      });
    }
    button.addEventListener("click", run);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); run(); }
    });
  }

  function number(value, digits) {
    var n = Number(value);
    return isFinite(n) ? n.toFixed(digits === undefined ? 3 : digits) : "";
  }

  // A list's time in few characters: 14:58 today, 12月7日 this year, 2025年12月7日 before.
  function shortTime(iso) {
    var date = new Date(iso || "");
    if (isNaN(date.getTime())) { return ""; }
    var now = new Date();
    if (date.toDateString() === now.toDateString()) {
      return String(date.getHours()).padStart(2, "0") + ":" + String(date.getMinutes()).padStart(2, "0");
    }
    var day = (date.getMonth() + 1) + "月" + date.getDate() + "日";
    return date.getFullYear() === now.getFullYear() ? day : date.getFullYear() + "年" + day;
  }

  function faqId(faq) {
    if (!faq) { return null; }
    if (faq.faq && faq.faq.id !== undefined) { return faq.faq.id; }
    return faq.id !== undefined ? faq.id : (faq.faq_id !== undefined ? faq.faq_id : null);
  }

  document.addEventListener("DOMContentLoaded", wireConfirm);

  window.GridDeskKb = {
    start: start,
    state: state,
    role: role,
    isAdmin: isAdmin,
    ownsGrid: ownsGrid,
    gridName: gridName,
    fillGridSelect: fillGridSelect,
    option: option,
    list: list,
    renderAnswer: renderAnswer,
    safeUrl: safeUrl,
    confirm: confirmDialog,
    faqPicker: faqPicker,
    errorText: errorText,
    number: number,
    shortTime: shortTime,
    faqId: faqId,
    labels: {
      status: C.labels.faqStatus, review: C.labels.review, decision: C.labels.decision, kind: C.labels.inboxKind,
      source: C.labels.faqSource, field: C.labels.faqField
    }
  };
})();
