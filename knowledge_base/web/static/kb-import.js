// /console/kb/import: validate a CSV/XLSX/JSONL file (row-by-row report), import it all or nothing,
// export the whole base. Uploads go through XHR for the progress bar (multipart field "file").
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var KB = window.GridDeskKb;
  var el = C.el;
  var MAX_BYTES = 20 * 1024 * 1024;
  var EXTENSIONS = /\.(csv|xlsx|jsonl)$/i;

  var $ = function (id) { return document.getElementById(id); };
  var state = { file: null, validated: null, busy: false };

  function message(text, kind) {
    $("import-message").textContent = text || "";
    $("import-message").className = "kb-message" + (kind ? " kb-message--" + kind : "");
  }

  function refreshButtons() {
    $("import-validate").disabled = state.busy || !state.file;
    // 导入 only for the very file whose report had no errors
    $("import-run").disabled = state.busy || !state.file || state.validated !== state.file;
  }

  function pickFile() {
    var file = $("import-file").files[0] || null;
    state.file = null;
    state.validated = null;
    C.clear($("import-report"));
    C.clear($("import-result"));
    message("");
    if (file) {
      if (!EXTENSIONS.test(file.name)) {
        message("只支持 .csv、.xlsx、.jsonl 文件", "error");
      } else if (file.size > MAX_BYTES) {
        message("文件太大（" + (file.size / 1048576).toFixed(1) + " MB），不能超过 20 MB", "error");
      } else if (file.size === 0) {
        message("文件是空的", "error");
      } else {
        state.file = file;
      }
    }
    refreshButtons();
  }

  // POST the file; resolves {status, body}. Progress: the upload, then "processing".
  function upload(path, file) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      var form = new FormData();
      form.append("file", file, file.name);
      xhr.open("POST", path);
      xhr.responseType = "text";
      xhr.setRequestHeader("Accept", "application/json");
      if (KB.state.csrf) { xhr.setRequestHeader("X-CSRF-Token", KB.state.csrf); }
      $("import-progress-box").hidden = false;
      progress(0, "正在上传…");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          var pct = Math.round(event.loaded / event.total * 100);
          progress(pct, pct < 100 ? "正在上传 " + pct + "%" : "上传完成，服务器处理中…");
        }
      });
      xhr.upload.addEventListener("load", function () { progress(100, "上传完成，服务器处理中…"); });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        resolve({ status: xhr.status, body: body });
      });
      xhr.addEventListener("error", function () { resolve({ status: 0, body: null }); });
      xhr.addEventListener("abort", function () { resolve({ status: 0, body: null }); });
      xhr.send(form);
    }).then(function (result) {
      $("import-progress-box").hidden = true;
      if (result.status === 401) { window.location.assign(C.loginUrl()); }
      return result;
    });
  }

  function progress(pct, text) {
    $("import-progress").value = pct;
    $("import-progress-text").textContent = text;
  }

  function failure(result, fallback) {
    var error = (result.body && result.body.error) || {};
    if (result.status === 0) { return "网络连接失败，请检查网络后重试"; }
    if (result.status === 413) { return "文件太大，不能超过 20 MB"; }
    if (result.status === 403) { return "只有管理员可以导入知识库"; }
    return error.message || (fallback + "(" + result.status + ")");
  }

  function count(parent, value, labelText, kind) {
    var box = el("div", "kb-count" + (kind ? " kb-count--" + kind : ""));
    box.appendChild(el("span", "kb-count__value", String(value)));
    box.appendChild(el("span", "kb-count__label", labelText));
    parent.appendChild(box);
  }

  function rowsTable(title, rows) {
    var wrap = el("div");
    wrap.appendChild(el("h3", "sub-title", title));
    var scroller = el("div", "kb-report-table");
    var table = el("table", "table");
    var head = el("tr");
    ["行号", "字段", "原因"].forEach(function (name) { head.appendChild(el("th", null, name)); });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr", "kb-report-row");
      tr.dataset.line = String(row.line);
      tr.appendChild(el("td", "kb-num", row.line ? String(row.line) : "整个文件"));
      tr.appendChild(el("td", null, row.field || ""));
      tr.appendChild(el("td", null, row.reason || ""));
      body.appendChild(tr);
    });
    table.appendChild(body);
    scroller.appendChild(table);
    wrap.appendChild(scroller);
    return wrap;
  }

  function renderReport(report) {
    var box = $("import-report");
    C.clear(box);
    var errors = Array.isArray(report.errors) ? report.errors : [];
    var warnings = Array.isArray(report.warnings) ? report.warnings : [];
    var errorCount = typeof report.error_count === "number" ? report.error_count : errors.length;
    var warningCount = typeof report.warning_count === "number" ? report.warning_count : warnings.length;
    var ok = report.ok === undefined ? errorCount === 0 : !!report.ok && errorCount === 0;
    box.appendChild(el("h3", ok ? "kb-ok" : "kb-bad",
      ok ? "校验通过：可以导入" : "校验未通过：请按下表修改文件后重新校验（没有写入任何内容）"));
    var counts = el("div", "kb-counts");
    var rows = Array.isArray(report.rows) ? report.rows.length : report.rows;
    if (typeof rows === "number") { count(counts, rows, "有效行", "good"); }
    count(counts, errorCount, "错误", errorCount ? "bad" : null);
    if (warningCount) { count(counts, warningCount, "提醒"); }
    box.appendChild(counts);
    if (errors.length) {
      box.appendChild(rowsTable("错误" + (errorCount > errors.length ? "（仅列出前 " + errors.length + " 条）" : ""), errors));
    }
    if (warnings.length) { box.appendChild(rowsTable("提醒（不影响导入）", warnings)); }
    return ok;
  }

  function validate() {
    var file = state.file;
    if (!file || state.busy) { return; }
    state.busy = true;
    refreshButtons();
    message("");
    C.clear($("import-result"));
    upload("/api/v1/kb/import/validate", file).then(function (result) {
      if (file !== state.file) { return; }
      var body = result.body || {};
      if ((result.status === 200 || result.status === 422) && Array.isArray(body.errors)) {
        if (renderReport(body)) { state.validated = file; }
      } else {
        C.clear($("import-report"));
        message(failure(result, "校验失败"), "error");
      }
    }).then(function () { state.busy = false; refreshButtons(); });
  }

  function runImport() {
    var file = state.file;
    if (!file || state.validated !== file || state.busy) { return; }
    state.busy = true;
    refreshButtons();
    message("");
    upload("/api/v1/kb/import", file).then(function (result) {
      var body = result.body || {};
      var box = $("import-result");
      C.clear(box);
      if (result.status === 200) {
        box.appendChild(el("h3", "kb-ok", "导入完成"));
        var counts = el("div", "kb-counts");
        count(counts, body.created || 0, "新建", "good");
        count(counts, body.updated || 0, "更新", "good");
        count(counts, body.unchanged || 0, "无变化");
        box.appendChild(counts);
        state.validated = null;
        message("已导入，客户几秒内即可看到新内容", "ok");
      } else if (result.status === 422 && Array.isArray(body.errors)) {
        state.validated = null;
        renderReport(body);
        message(failure(result, "导入失败"), "error");
      } else {
        message(failure(result, "导入失败"), "error");
      }
    }).then(function () { state.busy = false; refreshButtons(); });
  }

  $("import-file").addEventListener("change", pickFile);
  $("import-validate").addEventListener("click", validate);
  $("import-run").addEventListener("click", runImport);

  KB.start().then(function () {
    if (!KB.isAdmin()) {
      message("只有管理员可以导入和导出知识库", "warn");
      $("export-box").hidden = true;
      $("import-file").disabled = true;
    }
    pickFile();
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
