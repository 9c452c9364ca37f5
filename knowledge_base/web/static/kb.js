// /console/kb: find FAQs, edit one (draft → review → publish), its history, diffs and restore.
// API: docs/kb-curation.md "Admin HTTP API". Every piece of data is inserted as text.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var KB = window.GridDeskKb;
  var el = C.el;
  var PAGE = 20;

  var $ = function (id) { return document.getElementById(id); };
  var list = { offset: 0, total: 0, query: {} };
  // current: the FAQ open in the editor (null with isNew = a new one); baseline: the form as loaded
  var editor = { current: null, isNew: false, expectedVersion: null, baseline: "", busy: false, versions: [] };

  // ---- the list ----
  function filters() {
    return {
      q: $("kb-search-input").value.trim(),
      category: $("kb-filter-category").value.trim(),
      grid: $("kb-filter-grid").value,
      status: $("kb-filter-status").value,
      review: $("kb-filter-review").value
    };
  }

  function search(offset) {
    list.query = filters();
    list.offset = offset || 0;
    loadList();
  }

  function loadList() {
    var params = new URLSearchParams();
    Object.keys(list.query).forEach(function (key) { if (list.query[key]) { params.set(key, list.query[key]); } });
    params.set("limit", String(PAGE));
    params.set("offset", String(list.offset));
    $("kb-search-button").disabled = true;
    return C.api("GET", "/api/v1/kb/faqs?" + params.toString()).then(function (body) {
      var items = KB.list(body, "items");
      list.total = (body && typeof body.total === "number") ? body.total : items.length;
      renderRows(items);
    }, function (error) {
      C.toast(KB.errorText(error, "搜索失败"), "error");
    }).then(function () { $("kb-search-button").disabled = false; });
  }

  function statusTag(status) {
    var tag = el("span", "tag kb-status", C.label(KB.labels.status, status));
    tag.dataset.status = status || "";
    return tag;
  }

  function renderRows(items) {
    var body = $("kb-rows");
    C.clear(body);
    var categories = {};
    items.forEach(function (faq) {
      var row = el("tr", "kb-row");
      row.dataset.faqId = String(faq.id);
      row.tabIndex = 0;
      if (editor.current && editor.current.id === faq.id) { row.classList.add("is-selected"); }
      row.appendChild(el("td", "kb-row__id", "#" + faq.id));
      // the question gets the room; its category and scope go on a muted line under it
      var question = el("td", "kb-row__question");
      question.appendChild(el("span", "kb-row__text", faq.question || ""));
      var meta = [faq.category, KB.gridName(faq.grid)].filter(Boolean).join(" · ");
      question.appendChild(el("span", "kb-row__meta muted", meta));
      row.appendChild(question);
      var state = el("td", "kb-row__state");
      state.appendChild(statusTag(faq.status));
      if (faq.review === "pending" || faq.review === "rejected" || faq.review === "draft") {
        state.appendChild(document.createTextNode(" "));
        state.appendChild(el("span", "tag tag--warn", C.label(KB.labels.review, faq.review)));
      }
      row.appendChild(state);
      var time = el("td", "kb-row__time muted", KB.shortTime(faq.updated_at));
      time.title = C.clock(faq.updated_at);
      row.appendChild(time);
      row.addEventListener("click", function () { openFromList(faq.id); });
      row.addEventListener("keydown", function (event) { if (event.key === "Enter") { openFromList(faq.id); } });
      body.appendChild(row);
      if (faq.category) { categories[faq.category] = true; }
    });
    addCategories(Object.keys(categories));
    $("kb-empty").hidden = items.length > 0;
    var first = list.total ? list.offset + 1 : 0;
    var last = list.offset + items.length;
    $("kb-page-info").textContent = list.total ? "第 " + first + "–" + last + " 条，共 " + list.total + " 条" : "";
    $("kb-prev").disabled = list.offset <= 0;
    $("kb-next").disabled = last >= list.total;
  }

  function addCategories(names) {
    var datalist = $("kb-categories");
    var known = {};
    Array.prototype.forEach.call(datalist.options, function (o) { known[o.value] = true; });
    names.forEach(function (name) { if (!known[name]) { datalist.appendChild(KB.option(name, name)); } });
  }

  function markSelected() {
    var rows = document.querySelectorAll(".kb-row");
    for (var i = 0; i < rows.length; i += 1) {
      rows[i].classList.toggle("is-selected", !!editor.current && rows[i].dataset.faqId === String(editor.current.id));
    }
  }

  // ---- reading the API's FAQ detail (live + draft + version) ----
  function content(source) {
    source = source || {};
    return {
      question: source.question || "",
      similar_questions: Array.isArray(source.similar_questions) ? source.similar_questions : [],
      answer: source.answer || "",
      category: source.category || "",
      grid: source.grid || null,
      overrides_id: source.overrides_id === undefined ? null : source.overrides_id
    };
  }

  function normalize(body) {
    var faq = (body && body.faq) || body || {};
    var draft = (body && body.draft) || faq.draft || null;
    var live = (body && body.live) || faq.live || faq;
    return {
      id: faq.id,
      version: faq.version,
      status: faq.status || "draft",
      review: faq.review || "",
      reviewNote: faq.review_note || (body && body.review_note) || (draft && draft.note) || "",
      grid: faq.grid !== undefined ? faq.grid : (draft ? draft.grid : live.grid),
      overridesId: faq.overrides_id || (draft && draft.overrides_id) || null,
      publishedVersion: faq.published_version,
      draftVersion: faq.draft_version,
      mayPublish: body && body.may_publish !== undefined ? !!body.may_publish : faq.may_publish,
      mayEdit: body && body.may_edit !== undefined ? !!body.may_edit : true,
      live: content(live),
      draft: draft ? content(draft) : null
    };
  }

  function mayPublish(faq) {
    if (faq.mayPublish !== undefined && faq.mayPublish !== null) { return !!faq.mayPublish; }
    if (KB.isAdmin()) { return true; }
    return KB.role() === "manager" && !!faq.grid && KB.ownsGrid(faq.grid);
  }

  // ---- the editor form ----
  function formDraft() {
    var similar = $("faq-similar").value.split(/\r?\n/).map(function (s) { return s.trim(); })
      .filter(function (s, i, all) { return s && all.indexOf(s) === i; });
    return {
      question: $("faq-question").value.trim(),
      similar_questions: similar,
      answer: $("faq-answer").value.trim(),
      category: $("faq-category").value.trim(),
      grid: $("faq-grid").value || null,
      overrides_id: editor.current ? editor.current.overridesId : (editor.newOverrides || null)
    };
  }

  function fillForm(data) {
    $("faq-question").value = data.question;
    $("faq-similar").value = data.similar_questions.join("\n");
    $("faq-answer").value = data.answer;
    $("faq-category").value = data.category;
    ensureGridOption(data.grid);
    $("faq-grid").value = data.grid || "";
    $("faq-note").value = "";
    KB.renderAnswer($("faq-preview"), data.answer);
  }

  function ensureGridOption(code) {
    var select = $("faq-grid");
    if (!code) { return; }
    var exists = Array.prototype.some.call(select.options, function (o) { return o.value === code; });
    if (!exists) { select.appendChild(KB.option(code, KB.gridName(code))); }
  }

  function snapshot() { return JSON.stringify(formDraft()); }
  function dirty() { return !$("editor").hidden && snapshot() !== editor.baseline; }

  function message(text, kind) {
    var box = $("faq-message");
    box.textContent = text || "";
    box.className = "kb-message" + (kind ? " kb-message--" + kind : "");
  }

  function showEditor() {
    $("editor-empty").hidden = true;
    $("editor").hidden = false;
  }

  function openFaq(id, keepMessage) {
    if (editor.current && editor.current.id === id && !keepMessage) { return Promise.resolve(); }
    return leaveIfClean().then(function (ok) {
      if (!ok) { return; }
      return loadFaq(id, keepMessage);
    });
  }

  // One column (a phone, a narrow window): the editor is below the list, so bring it into view.
  function openFromList(id) {
    openFaq(id).then(function () {
      if (window.matchMedia("(max-width: 1000px)").matches && !$("editor").hidden) {
        $("editor").scrollIntoView({ block: "start" });
      }
    });
  }

  function leaveIfClean() {
    if (!dirty()) { return Promise.resolve(true); }
    return KB.confirm({ title: "放弃未保存的修改？", text: "当前问答有尚未保存的修改，离开后将丢失。", ok: "放弃修改", danger: true })
      .then(function (answer) { return !!answer; });
  }

  function loadFaq(id, keepMessage) {
    return C.api("GET", "/api/v1/kb/faqs/" + encodeURIComponent(id)).then(function (body) {
      var faq = normalize(body);
      var other = !editor.current || editor.current.id !== faq.id;
      editor.current = faq;
      editor.isNew = false;
      editor.newOverrides = null;
      editor.expectedVersion = faq.version;
      $("faq-conflict").hidden = true;
      fillForm(faq.draft || faq.live);
      editor.baseline = snapshot();
      renderHead();
      if (!keepMessage) { message(""); }
      showEditor();
      markSelected();
      setUrl(faq.id);
      if (other) { C.clear($("diff-view")); }
      if (other && !$("history-panel").hidden) { selectTab("edit"); }
      if (!$("history-panel").hidden) { loadHistory(); } else { editor.versions = []; }
    }, function (error) {
      C.toast(KB.errorText(error, "问答加载失败"), "error");
    });
  }

  function setUrl(id) {
    var url = id ? "/console/kb?faq=" + encodeURIComponent(id) : "/console/kb";
    if (window.location.pathname + window.location.search !== url) { window.history.replaceState(null, "", url); }
  }

  function renderHead() {
    var faq = editor.current;
    if (!faq) {
      $("editor-title").textContent = "新建问答";
      $("faq-status").textContent = "未保存";
      $("faq-status").dataset.status = "new";
      $("faq-review").hidden = true;
      $("faq-versions").textContent = "";
      $("faq-override").hidden = !editor.newOverrides;
      if (editor.newOverrides) { setOverrideLink(editor.newOverrides); }
      $("faq-review-note").hidden = true;
      $("faq-usage-link").hidden = true;
      $("history-tab").disabled = true;
      selectTab("edit");
      renderButtons();
      return;
    }
    $("editor-title").textContent = "问答 #" + faq.id;
    $("faq-status").textContent = C.label(KB.labels.status, faq.status);
    $("faq-status").dataset.status = faq.status;
    var review = C.label(KB.labels.review, faq.review);
    $("faq-review").textContent = review;
    $("faq-review").hidden = !review;
    var parts = [];
    if (faq.publishedVersion) { parts.push("线上第 " + faq.publishedVersion + " 版"); }
    if (faq.draftVersion) { parts.push("草稿第 " + faq.draftVersion + " 版"); }
    $("faq-versions").textContent = parts.join(" · ");
    $("faq-override").hidden = !faq.overridesId;
    if (faq.overridesId) { setOverrideLink(faq.overridesId); }
    var note = $("faq-review-note");
    note.hidden = !(faq.review === "rejected");
    note.textContent = "驳回意见：" + (faq.reviewNote || "（无）");
    var usage = $("faq-usage-link");
    usage.href = "/console/kb/usage?faq=" + encodeURIComponent(faq.id);
    usage.hidden = false;
    $("history-tab").disabled = false;
    renderButtons();
  }

  function setOverrideLink(id) {
    var link = $("faq-override-link");
    link.textContent = "#" + id;
    link.href = "/console/kb?faq=" + encodeURIComponent(id);
  }

  function show(id, visible) { $(id).hidden = !visible; }

  function renderButtons() {
    var faq = editor.current;
    if (!faq) {
      ["submit-review", "publish", "approve", "reject", "archive"].forEach(function (id) { show(id, false); });
      show("save-draft", true);
      show("customize-box", false);
      show("faq-readonly", false);
      return;
    }
    var publisher = mayPublish(faq);
    show("save-draft", faq.mayEdit);
    show("faq-readonly", !faq.mayEdit);
    var hasDraft = !!faq.draftVersion;
    var pending = faq.review === "pending";
    show("submit-review", faq.mayEdit && !!faq.grid && hasDraft && !pending);
    show("publish", publisher && !pending && (hasDraft || faq.status === "archived"));
    $("publish").textContent = !hasDraft && faq.status === "archived" ? "重新上线" : "发布";
    show("approve", publisher && pending);
    show("reject", publisher && pending);
    show("archive", publisher && faq.status === "published");
    var customize = !faq.grid && faq.status !== "draft" && KB.state.grids.length > 0;
    show("customize-box", customize);
  }

  function setBusy(busy) {
    editor.busy = busy;
    ["save-draft", "submit-review", "publish", "approve", "reject", "archive", "customize"].forEach(function (id) {
      $(id).disabled = busy;
    });
  }

  function checkForm(draft) {
    if (!draft.question) { $("faq-question").focus(); return "请填写标准问题"; }
    if (!draft.answer) { $("faq-answer").focus(); return "请填写答案"; }
    return "";
  }

  // Save the form as a draft (PUT with expected_version; POST for a new FAQ). Resolves to true when saved.
  function saveDraft() {
    var draft = formDraft();
    var problem = checkForm(draft);
    if (problem) { message(problem, "error"); return Promise.resolve(false); }
    var note = $("faq-note").value.trim();
    var request;
    if (!editor.current) {
      request = C.api("POST", "/api/v1/kb/faqs", Object.assign({ note: note }, draft));
    } else {
      request = C.api("PUT", "/api/v1/kb/faqs/" + encodeURIComponent(editor.current.id) + "/draft",
        Object.assign({ expected_version: editor.expectedVersion, note: note }, draft));
    }
    return request.then(function (body) {
      var id = KB.faqId(body) || (editor.current && editor.current.id);
      message("草稿已保存", "ok");
      editor.current = editor.current || { id: id };
      return loadFaq(id, true).then(function () { search(list.offset); return true; });
    }, function (error) {
      if (error.status === 409 && editor.current) { return conflict().then(function () { return false; }); }
      message(KB.errorText(error, "保存失败"), "error");
      return false;
    });
  }

  // Someone else saved first: show their content, keep ours in the form.
  function conflict() {
    message("该问答已被他人修改", "error");
    return C.api("GET", "/api/v1/kb/faqs/" + encodeURIComponent(editor.current.id)).then(function (body) {
      var theirs = normalize(body);
      var data = theirs.draft || theirs.live;
      editor.conflict = theirs;
      $("conflict-version").textContent = String(theirs.version);
      $("conflict-question").textContent = data.question;
      $("conflict-similar").textContent = data.similar_questions.join("\n");
      KB.renderAnswer($("conflict-answer"), data.answer);
      $("conflict-category").textContent = data.category;
      $("conflict-grid").textContent = KB.gridName(data.grid);
      $("faq-conflict").hidden = false;
      $("faq-conflict").scrollIntoView({ block: "nearest" });
    }, function (error) {
      C.toast(KB.errorText(error, "无法读取对方的版本"), "error");
    });
  }

  function keepMine() {
    var theirs = editor.conflict;
    if (!theirs) { return; }
    editor.current = theirs;
    editor.expectedVersion = theirs.version;
    editor.conflict = null;
    $("faq-conflict").hidden = true;
    renderHead();
    message("已基于最新版本，再次点击「保存草稿」将保存您的内容", "warn");
  }

  function takeTheirs() {
    var theirs = editor.conflict;
    if (!theirs) { return; }
    editor.current = theirs;
    editor.expectedVersion = theirs.version;
    editor.conflict = null;
    $("faq-conflict").hidden = true;
    fillForm(theirs.draft || theirs.live);
    editor.baseline = snapshot();
    renderHead();
    message("已载入对方的内容", "ok");
  }

  function ensureSaved() {
    return dirty() || editor.isNew ? saveDraft() : Promise.resolve(true);
  }

  function action(path, body, done, fallback) {
    if (editor.busy) { return; }
    setBusy(true);
    ensureSaved().then(function (saved) {
      if (!saved || !editor.current) { return; }
      var id = editor.current.id;
      var payload = typeof body === "function" ? body() : body;
      return C.api("POST", "/api/v1/kb/faqs/" + encodeURIComponent(id) + "/" + path, payload).then(function () {
        message(done, "ok");
        return loadFaq(id, true).then(function () { search(list.offset); });
      }, function (error) {
        if (error.status === 409) { return conflict(); }
        message(KB.errorText(error, fallback), "error");
      });
    }).then(function () { setBusy(false); }, function () { setBusy(false); });
  }

  function reject() {
    if (editor.busy || !editor.current) { return; }
    KB.confirm({
      title: "驳回草稿", text: "请填写驳回意见，提交人会看到它。", ok: "驳回", danger: true,
      note: { required: true, placeholder: "例如：答案中的办理地址不对", requiredText: "请填写驳回意见" }
    }).then(function (answer) {
      if (!answer) { return; }
      action("reject", { note: answer.note }, "已驳回", "驳回失败");
    });
  }

  function archive() {
    if (editor.busy || !editor.current) { return; }
    KB.confirm({ title: "下线问答", text: "下线后客户将不再看到这条问答（历史保留，可重新发布）。确定下线吗？", ok: "下线", danger: true })
      .then(function (answer) { if (answer) { action("archive", {}, "已下线", "下线失败"); } });
  }

  // Publishing reaches customers within seconds: say whom and what, and ask first.
  function publish() {
    if (editor.busy || !editor.current) { return; }
    var faq = editor.current;
    var again = !faq.draftVersion && faq.status === "archived";
    var who = faq.grid ? KB.gridName(faq.grid) + "的客户" : "所有客户";
    var text = again
      ? "重新上线后，" + who + "将再次得到这条问答的答案。"
      : "发布后几秒内，" + who + "就会得到这条问答的新内容" +
        (faq.publishedVersion ? "（替换线上第 " + faq.publishedVersion + " 版）" : "") + "。";
    if (dirty()) { text += "表单中尚未保存的修改会先保存为草稿，再一起发布。"; }
    KB.confirm({ title: again ? "重新上线问答" : "发布问答", text: text + "确定吗？", ok: again ? "重新上线" : "发布" })
      .then(function (answer) {
        if (!answer) { return; }
        action("publish", function () { return { expected_version: editor.expectedVersion }; },
          again ? "已重新上线，客户几秒内即可看到" : "已发布，客户几秒内即可看到新答案", "发布失败");
      });
  }

  function newFaq(prefill, overridesId) {
    return leaveIfClean().then(function (ok) {
      if (!ok) { return; }
      editor.current = null;
      editor.isNew = true;
      editor.newOverrides = overridesId || null;
      editor.expectedVersion = null;
      editor.versions = [];
      $("faq-conflict").hidden = true;
      fillForm(content(prefill || {}));
      editor.baseline = prefill ? "" : snapshot();
      renderHead();
      message(overridesId ? "已按全局问答预填，修改后点击「保存草稿」创建网格定制" : "");
      showEditor();
      markSelected();
      setUrl(null);
      $("faq-question").focus();
    });
  }

  function customize() {
    var faq = editor.current;
    var grid = $("customize-grid").value;
    if (!faq || !grid) { return; }
    var base = content(faq.draft || faq.live);
    var source = faq.id;
    newFaq(Object.assign({}, base, { grid: grid, overrides_id: source }), source).then(function () {
      if (editor.isNew) { $("faq-grid").value = grid; }
    });
  }

  // ---- history, diff, restore ----
  function selectTab(name) {
    ["edit", "history"].forEach(function (tab) {
      $(tab + "-tab").setAttribute("aria-selected", String(tab === name));
      $(tab + "-panel").hidden = tab !== name;
    });
    if (name === "history") { loadHistory(); }
  }

  function loadHistory() {
    if (!editor.current) { return; }
    var id = editor.current.id;
    C.api("GET", "/api/v1/kb/faqs/" + encodeURIComponent(id) + "/versions").then(function (body) {
      if (!editor.current || editor.current.id !== id) { return; }
      var versions = KB.list(body, "versions").slice().sort(function (a, b) { return b.number - a.number; });
      editor.versions = versions;
      renderVersions(versions);
    }, function (error) {
      C.toast(KB.errorText(error, "历史加载失败"), "error");
    });
  }

  function renderVersions(versions) {
    var faq = editor.current;
    var body = $("versions");
    C.clear(body);
    var restorable = mayPublish(faq);
    versions.forEach(function (version) {
      var row = el("tr", "version-row");
      row.dataset.number = String(version.number);
      var number = el("td", null, "第 " + version.number + " 版 ");
      if (version.is_published || version.number === faq.publishedVersion) { number.appendChild(el("span", "tag kb-tag--live", "线上")); }
      if (version.is_draft || version.number === faq.draftVersion) { number.appendChild(el("span", "tag tag--warn", "草稿")); }
      row.appendChild(number);
      row.appendChild(el("td", null, version.author_name || version.author || ""));
      row.appendChild(el("td", "muted", C.clock(version.created_at)));
      row.appendChild(el("td", null, C.label(KB.labels.source, version.source)));
      row.appendChild(el("td", "kb-note", version.note || ""));
      var actions = el("td");
      if (restorable) {
        var restore = el("button", "btn btn--small restore", "恢复此版本");
        restore.type = "button";
        restore.dataset.number = String(version.number);
        restore.addEventListener("click", function () { restoreVersion(version.number); });
        actions.appendChild(restore);
      }
      row.appendChild(actions);
      body.appendChild(row);
    });
    $("versions-empty").hidden = versions.length > 0;
    var a = $("diff-a");
    var b = $("diff-b");
    var oldA = a.value;
    var oldB = b.value;
    C.clear(a);
    C.clear(b);
    versions.forEach(function (version) {
      a.appendChild(KB.option(String(version.number), "第 " + version.number + " 版"));
      b.appendChild(KB.option(String(version.number), "第 " + version.number + " 版"));
    });
    if (versions.length) {
      b.value = oldB && has(b, oldB) ? oldB : String(versions[0].number);
      a.value = oldA && has(a, oldA) ? oldA : String(versions[Math.min(1, versions.length - 1)].number);
    }
    $("diff-show").disabled = versions.length < 2;
  }

  function has(select, value) {
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; });
  }

  function showDiff() {
    if (!editor.current) { return; }
    var a = $("diff-a").value;
    var b = $("diff-b").value;
    var view = $("diff-view");
    if (!a || !b) { return; }
    if (a === b) { C.clear(view); view.appendChild(el("p", "empty", "请选择两个不同的版本")); return; }
    var path = "/api/v1/kb/faqs/" + encodeURIComponent(editor.current.id) + "/diff?a=" + encodeURIComponent(a) +
      "&b=" + encodeURIComponent(b);
    C.api("GET", path).then(function (body) {
      renderDiff(view, KB.list(body, "fields").length ? KB.list(body, "fields") : KB.list(body, "diff"), a, b);
    }, function (error) {
      C.toast(KB.errorText(error, "对比失败"), "error");
    });
  }

  function asText(value) {
    if (Array.isArray(value)) { return value.join("\n"); }
    if (value === null || value === undefined) { return ""; }
    return String(value);
  }

  function opsOf(field) {
    var ops = Array.isArray(field.ops) ? field.ops.map(function (op) {
      return Array.isArray(op) ? { op: op[0], text: op[1] } : { op: op.op || op.tag, text: op.text };
    }) : null;
    if (ops) { return ops; }
    var before = asText(field.before);
    var after = asText(field.after);
    if (before === after) { return [{ op: "equal", text: before }]; }
    return [{ op: "delete", text: before }, { op: "insert", text: after }];
  }

  function renderDiff(view, fields, a, b) {
    C.clear(view);
    view.appendChild(el("p", "muted", "第 " + a + " 版 → 第 " + b + " 版：删除的内容标红划线，新增的内容标绿"));
    var changed = 0;
    fields.forEach(function (field) {
      var ops = opsOf(field);
      if (!ops.some(function (op) { return op.op !== "equal"; })) { return; }
      changed += 1;
      var section = el("section", "kb-diff__field");
      section.dataset.field = field.field || "";
      section.appendChild(el("h3", "sub-title", C.label(KB.labels.field, field.field)));
      var text = el("div", "kb-diff__text");
      ops.forEach(function (op) {
        var kind = op.op === "insert" ? "ins" : op.op === "delete" ? "del" : "span";
        var node = el(kind, "kb-diff__" + (op.op === "insert" ? "ins" : op.op === "delete" ? "del" : "same"), asText(op.text));
        text.appendChild(node);
      });
      section.appendChild(text);
      view.appendChild(section);
    });
    if (!changed) { view.appendChild(el("p", "empty", "两个版本的内容相同")); }
  }

  function restoreVersion(number) {
    if (!editor.current || editor.busy) { return; }
    var id = editor.current.id;
    var extra = dirty() ? "表单中未保存的修改将被替换。" : "";
    KB.confirm({
      title: "恢复此版本",
      text: "将以第 " + number + " 版的内容生成一个新版本并立即发布。" + extra + "确定恢复吗？",
      ok: "恢复并发布", danger: true
    }).then(function (answer) {
      if (!answer) { return; }
      setBusy(true);
      C.api("POST", "/api/v1/kb/faqs/" + encodeURIComponent(id) + "/restore", { number: number }).then(function () {
        message("已恢复第 " + number + " 版并发布", "ok");
        return loadFaq(id, true).then(function () { loadHistory(); search(list.offset); });
      }, function (error) {
        message(KB.errorText(error, "恢复失败"), "error");
      }).then(function () { setBusy(false); });
    });
  }

  // ---- wiring ----
  $("kb-search-form").addEventListener("submit", function (event) { event.preventDefault(); search(0); });
  ["kb-filter-grid", "kb-filter-status", "kb-filter-review"].forEach(function (id) {
    $(id).addEventListener("change", function () { search(0); });
  });
  $("kb-prev").addEventListener("click", function () { search(Math.max(0, list.offset - PAGE)); });
  $("kb-next").addEventListener("click", function () { search(list.offset + PAGE); });
  $("kb-new").addEventListener("click", function () { newFaq(null); });
  $("faq-answer").addEventListener("input", function () { KB.renderAnswer($("faq-preview"), $("faq-answer").value); });
  $("faq-form").addEventListener("submit", function (event) { event.preventDefault(); });
  $("save-draft").addEventListener("click", function () {
    if (editor.busy) { return; }
    setBusy(true);
    saveDraft().then(function () { setBusy(false); }, function () { setBusy(false); });
  });
  $("submit-review").addEventListener("click", function () { action("submit", {}, "已提交审核，等待网格经理审核", "提交失败"); });
  $("publish").addEventListener("click", publish);
  $("approve").addEventListener("click", function () { action("approve", {}, "已通过并发布", "审核失败"); });
  $("reject").addEventListener("click", reject);
  $("archive").addEventListener("click", archive);
  $("customize").addEventListener("click", customize);
  $("conflict-keep").addEventListener("click", keepMine);
  $("conflict-take").addEventListener("click", takeTheirs);
  $("edit-tab").addEventListener("click", function () { selectTab("edit"); });
  $("history-tab").addEventListener("click", function () { if (editor.current) { selectTab("history"); } });
  $("diff-show").addEventListener("click", showDiff);
  window.addEventListener("beforeunload", function (event) {
    if (dirty()) { event.preventDefault(); event.returnValue = ""; }
  });

  KB.start().then(function () {
    KB.fillGridSelect($("kb-filter-grid"), { any: "全部范围", global: "global" });
    KB.fillGridSelect($("faq-grid"), KB.isAdmin() ? { global: "" } : {});
    KB.fillGridSelect($("customize-grid"), {});
    var params = new URLSearchParams(window.location.search);
    if (params.get("q")) { $("kb-search-input").value = params.get("q"); }
    if (params.get("review")) { $("kb-filter-review").value = params.get("review"); }
    search(0);
    var id = params.get("faq");
    if (id && /^\d+$/.test(id)) { loadFaq(Number(id)); }
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
