// /console/kb/hit-test: what the assistant would do with a question (GET /api/v1/kb/hit-test).
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var KB = window.GridDeskKb;
  var el = C.el;
  var $ = function (id) { return document.getElementById(id); };
  var DECISION_HINTS = {
    answer: "机器人会直接用第一个问答回答",
    suggest: "机器人会列出候选问答让客户选择",
    fallback: "机器人没有把握，会请客户换个说法或转人工"
  };

  function message(text, kind) {
    $("hit-message").textContent = text || "";
    $("hit-message").className = "kb-message" + (kind ? " kb-message--" + kind : "");
  }

  function run() {
    var q = $("hit-query").value.trim();
    if (!q) { message("请输入要测试的问题", "error"); $("hit-query").focus(); return; }
    var params = new URLSearchParams({ q: q });
    if ($("hit-grid").value) { params.set("grid", $("hit-grid").value); }
    message("");
    $("hit-run").disabled = true;
    C.api("GET", "/api/v1/kb/hit-test?" + params.toString()).then(render, function (error) {
      $("hit-result").hidden = true;
      message(KB.errorText(error, "测试失败"), "error");
    }).then(function () { $("hit-run").disabled = false; });
  }

  function render(body) {
    body = body || {};
    var decision = $("hit-decision");
    C.clear(decision);
    decision.dataset.decision = body.decision || "";
    decision.appendChild(el("span", "kb-decision__label", C.label(KB.labels.decision, body.decision) || "未知"));
    if (DECISION_HINTS[body.decision]) {
      decision.appendChild(el("span", "kb-hint muted", " · " + DECISION_HINTS[body.decision]));
    }
    var t = body.thresholds || {};
    var parts = [];
    if (t.answer !== undefined) { parts.push("直接回答 ≥ " + KB.number(t.answer, 2)); }
    if (t.margin !== undefined) { parts.push("且领先第二名 ≥ " + KB.number(t.margin, 2)); }
    if (t.suggest !== undefined) { parts.push("推荐候选 ≥ " + KB.number(t.suggest, 2)); }
    $("hit-thresholds").textContent = parts.length ? "阈值：" + parts.join("，") + "；更低则转人工兜底" : "";
    var rows = $("hit-rows");
    C.clear(rows);
    var hits = Array.isArray(body.hits) ? body.hits : [];
    hits.forEach(function (hit, index) {
      var id = hit.faq_id !== undefined ? hit.faq_id : hit.id;
      var row = el("tr", "hit-row");
      row.dataset.faqId = String(id);
      row.dataset.band = hit.band || "";
      row.appendChild(el("td", "kb-num", String(index + 1)));
      var cell = el("td");
      var link = el("a", null, "#" + id + " " + (hit.question || ""));
      link.href = "/console/kb?faq=" + encodeURIComponent(id);
      cell.appendChild(link);
      row.appendChild(cell);
      row.appendChild(el("td", "muted", hit.matched && hit.matched !== hit.question ? hit.matched : ""));
      row.appendChild(el("td", null, KB.gridName(hit.grid)));
      row.appendChild(el("td", "kb-num", KB.number(hit.score)));
      row.appendChild(el("td", "kb-num", KB.number(hit.dense)));
      row.appendChild(el("td", "kb-num", KB.number(hit.lexical)));
      row.appendChild(el("td", "kb-band", C.label(KB.labels.decision, hit.band)));
      rows.appendChild(row);
    });
    $("hit-empty").hidden = hits.length > 0;
    $("hit-result").hidden = false;
  }

  $("hit-form").addEventListener("submit", function (event) { event.preventDefault(); run(); });

  KB.start().then(function () {
    KB.fillGridSelect($("hit-grid"), { any: "无网格（只看全局问答）" });
    var params = new URLSearchParams(window.location.search);
    if (params.get("q")) { $("hit-query").value = params.get("q"); run(); }
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
