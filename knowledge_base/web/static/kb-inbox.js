// /console/kb/inbox: the unanswered questions grouped by meaning; per group: add as a similar
// question of an FAQ, start a new FAQ draft, or dismiss (admins; managers only read).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var KB = window.GridDeskKb;
  var el = C.el;
  var $ = function (id) { return document.getElementById(id); };
  var SAMPLES = 5;
  var open = null; // the cluster a dialog works on

  function message(text, kind) {
    $("inbox-message").textContent = text || "";
    $("inbox-message").className = "kb-message" + (kind ? " kb-message--" + kind : "");
  }

  function itemIds(cluster) {
    if (Array.isArray(cluster.item_ids) && cluster.item_ids.length) { return cluster.item_ids.slice(); }
    return (cluster.items || []).map(function (item) { return item.id; })
      .filter(function (id) { return typeof id === "number"; });
  }

  function proposedAnswer(cluster) {
    var item = (cluster.items || []).filter(function (i) { return i.kind === "agent_answer" && i.proposed_answer; })[0];
    return item ? item.proposed_answer : "";
  }

  // the closest FAQ by its question (its number only when the FAQ is gone)
  function faqName(cluster) {
    var id = "#" + cluster.top_faq_id;
    return cluster.top_faq_question ? cluster.top_faq_question + "（" + id + "）" : id + "（已删除）";
  }

  function load() {
    $("inbox-reload").disabled = true;
    return C.api("GET", "/api/v1/kb/inbox").then(function (body) {
      render(KB.list(body, "clusters"));
    }, function (error) {
      message(KB.errorText(error, "加载失败"), "error");
    }).then(function () { $("inbox-reload").disabled = false; });
  }

  function render(clusters) {
    var list = $("clusters");
    C.clear(list);
    clusters = clusters.slice().sort(function (a, b) { return (b.size || 0) - (a.size || 0); });
    clusters.forEach(function (cluster) { list.appendChild(card(cluster)); });
    $("inbox-count").textContent = String(clusters.length);
    $("inbox-empty").hidden = clusters.length > 0;
  }

  function card(cluster) {
    var items = cluster.items || [];
    var node = el("li", "cluster");
    node.dataset.cluster = String(cluster.id);
    var head = el("div", "cluster__head");
    head.appendChild(el("span", "cluster__question", cluster.representative || (items[0] && items[0].text) || ""));
    head.appendChild(el("span", "badge cluster__size", (cluster.size || items.length) + " 次"));
    var kinds = cluster.kinds || {};
    Object.keys(kinds).forEach(function (kind) {
      if (kinds[kind]) { head.appendChild(el("span", "tag", C.label(KB.labels.kind, kind) + " " + kinds[kind])); }
    });
    node.appendChild(head);

    var samples = el("ul", "cluster__items");
    items.slice(0, SAMPLES).forEach(function (item) {
      var row = el("li", "cluster__item");
      row.appendChild(el("span", "cluster__text", item.text || ""));
      row.appendChild(el("span", "tag", C.label(KB.labels.kind, item.kind)));
      if (item.grid) { row.appendChild(el("span", "muted", KB.gridName(item.grid))); }
      row.appendChild(el("span", "muted", C.clock(item.created_at)));
      samples.appendChild(row);
    });
    if (items.length > SAMPLES) { samples.appendChild(el("li", "muted", "……还有 " + (items.length - SAMPLES) + " 条")); }
    node.appendChild(samples);

    var proposal = proposedAnswer(cluster);
    if (proposal) {
      node.appendChild(el("div", "sub-title", "客服给出的回答"));
      node.appendChild(el("div", "cluster__proposal", proposal));
    }
    if (cluster.top_faq_id) {
      var guess = el("p", "cluster__guess muted", "最接近的问答：");
      var link = el("a", "cluster__faq", faqName(cluster));
      link.href = "/console/kb?faq=" + encodeURIComponent(cluster.top_faq_id);
      guess.appendChild(link);
      node.appendChild(guess);
    }
    if (KB.isAdmin()) {
      var actions = el("div", "cluster__actions");
      actions.appendChild(button("btn btn--primary to-similar", "加为相似问", function () { openSimilar(cluster); }));
      actions.appendChild(button("btn to-draft", "新建草稿", function () { openDraft(cluster); }));
      actions.appendChild(button("btn btn--danger dismiss", "忽略", function (event) { dismiss(cluster, event.currentTarget); }));
      node.appendChild(actions);
    }
    return node;
  }

  function button(className, text, onClick) {
    var node = el("button", "btn--small " + className, text);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function removeCard(cluster) {
    var node = document.querySelector('.cluster[data-cluster="' + CSS.escape(String(cluster.id)) + '"]');
    if (node) { node.remove(); }
    var left = document.querySelectorAll(".cluster").length;
    $("inbox-count").textContent = String(left);
    $("inbox-empty").hidden = left > 0;
  }

  // ---- 加为相似问 ----
  function openSimilar(cluster) {
    open = cluster;
    $("similar-question").textContent = "「" + (cluster.representative || "") + "」将成为下面这条问答的相似问题（同组 " +
      itemIds(cluster).length + " 条问题一起处理）。";
    $("similar-faq").value = cluster.top_faq_id ? String(cluster.top_faq_id) : "";
    $("similar-target").textContent = cluster.top_faq_id ? "系统推荐：" + faqName(cluster) : "";
    $("similar-search").value = "";
    C.clear($("similar-results"));
    $("similar-error").hidden = true;
    $("similar-confirm").disabled = false;
    $("similar-dialog").showModal();
    $("similar-faq").focus();
  }

  function confirmSimilar(event) {
    event.preventDefault();
    var cluster = open;
    var id = Number($("similar-faq").value);
    if (!cluster) { return; }
    if (!id || id < 1 || Math.floor(id) !== id) { showError("similar-error", "请填写或选择要加入的问答编号"); return; }
    $("similar-confirm").disabled = true;
    C.api("POST", "/api/v1/kb/inbox/similar", { item_ids: itemIds(cluster), faq_id: id }).then(function (body) {
      $("similar-dialog").close();
      removeCard(cluster);
      var published = body && body.status === "published" && !body.review;
      message("已加为问答 #" + id + " 的相似问题" + (published ? "，客户几秒内即可命中" : "（已存为草稿，发布后生效）"), "ok");
    }, function (error) {
      showError("similar-error", KB.errorText(error, "操作失败"));
      $("similar-confirm").disabled = false;
    });
  }

  // ---- 新建草稿 ----
  function openDraft(cluster) {
    open = cluster;
    $("draft-question").textContent = "标准问题：" + (cluster.representative || "");
    $("draft-answer").value = proposedAnswer(cluster);
    $("draft-error").hidden = true;
    $("draft-confirm").disabled = false;
    $("draft-dialog").showModal();
    $("draft-answer").focus();
  }

  function confirmDraft(event) {
    event.preventDefault();
    var cluster = open;
    if (!cluster) { return; }
    var payload = { item_ids: itemIds(cluster) };
    var answer = $("draft-answer").value.trim();
    if (answer) { payload.answer = answer; }
    $("draft-confirm").disabled = true;
    C.api("POST", "/api/v1/kb/inbox/draft", payload).then(function (body) {
      var id = KB.faqId(body);
      $("draft-dialog").close();
      removeCard(cluster);
      if (id !== null && id !== undefined) { window.location.assign("/console/kb?faq=" + encodeURIComponent(id)); }
      else { message("草稿已创建", "ok"); }
    }, function (error) {
      showError("draft-error", KB.errorText(error, "创建失败"));
      $("draft-confirm").disabled = false;
    });
  }

  // ---- 忽略 ----
  function dismiss(cluster, node) {
    node.disabled = true;
    C.api("POST", "/api/v1/kb/inbox/dismiss", { item_ids: itemIds(cluster) }).then(function () {
      removeCard(cluster);
      message("已忽略「" + (cluster.representative || "") + "」", "ok");
    }, function (error) {
      node.disabled = false;
      message(KB.errorText(error, "操作失败"), "error");
    });
  }

  function showError(id, text) {
    $(id).textContent = text;
    $(id).hidden = false;
  }

  KB.faqPicker($("similar-search"), $("similar-search-button"), $("similar-results"), function (faq) {
    $("similar-faq").value = String(faq.id);
    $("similar-target").textContent = "已选择：" + (faq.question || "") + "（#" + faq.id + "）";
  });
  $("similar-form").addEventListener("submit", confirmSimilar);
  $("similar-cancel").addEventListener("click", function () { $("similar-dialog").close(); });
  $("draft-form").addEventListener("submit", confirmDraft);
  $("draft-cancel").addEventListener("click", function () { $("draft-dialog").close(); });
  $("inbox-reload").addEventListener("click", function () { message(""); load(); });

  KB.start().then(function () {
    if (!KB.isAdmin()) { message("您可以查看未解决问题；处理（加相似问、建草稿、忽略）需要管理员权限", "warn"); }
    load();
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
