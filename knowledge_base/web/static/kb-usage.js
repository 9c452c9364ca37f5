// /console/kb/usage: by default every FAQ's usage summed (GET /api/v1/kb/usage?days=N) and the most used FAQs;
// one FAQ's (GET /api/v1/kb/faqs/{id}/usage?days=N) after picking it (?faq=id). Days are the server's, in the
// service's time zone (Asia/Shanghai): "YYYY-MM-DD" strings, never turned into browser-local dates.
// The chart is SVG drawn with createElementNS (no library): one lane per series, so no series hides another.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var KB = window.GridDeskKb;
  var el = C.el;
  var SVG = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };
  var SERIES = [
    { key: "answered", label: "直接回答" },
    { key: "suggested", label: "作为候选推荐" },
    { key: "chosen", label: "被客户选中" },
    { key: "helpful", label: "有帮助" },
    { key: "unhelpful", label: "没帮助" }
  ];
  // lane: a title line, then the bars; the day labels under the last lane
  var LANE_TITLE = 18, LANE_BARS = 38, LANE_GAP = 12, AXIS = 26, SIDE = 6, LABEL_ROOM = 52;
  var current = null; // the FAQ shown (null: every FAQ)
  var lastSeries = [];

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, String(attrs[name])); });
    if (text !== undefined) { node.textContent = String(text); }
    return node;
  }

  function message(text, kind) {
    $("usage-message").textContent = text || "";
    $("usage-message").className = "kb-message" + (kind ? " kb-message--" + kind : "");
  }

  function dayLabel(day) {
    var parts = String(day || "").split("-");
    return parts.length === 3 ? Number(parts[1]) + "/" + Number(parts[2]) : String(day || "");
  }

  // Which days get a label: counted back from the last day (today is always labelled), far enough apart
  // that no two labels touch.
  function labelledDays(n, plotW) {
    var fit = Math.max(1, Math.floor(plotW / LABEL_ROOM));
    var every = Math.max(1, Math.ceil(n / fit));
    var out = {};
    for (var i = n - 1; i >= 0; i -= every) { out[i] = true; }
    return out;
  }

  function draw(series) {
    lastSeries = series;
    var chart = $("usage-chart");
    C.clear(chart);
    var n = series.length;
    if (!n) { return; }
    // drawn at the size it is shown, so the text stays readable on a phone
    var W = Math.max(280, Math.floor(chart.getBoundingClientRect().width) || 800);
    var laneH = LANE_TITLE + LANE_BARS + LANE_GAP;
    var H = SERIES.length * laneH + AXIS;
    chart.setAttribute("viewBox", "0 0 " + W + " " + H);
    chart.setAttribute("width", String(W));
    chart.setAttribute("height", String(H));
    chart.appendChild(svg("title", {}, "每日使用情况"));
    var plotW = W - 2 * SIDE;
    var step = plotW / n;
    var barW = Math.max(1, Math.min(18, step * 0.7));
    var x = function (i) { return SIDE + i * step + (step - barW) / 2; };

    SERIES.forEach(function (s, lane) {
      var top = lane * laneH;
      var max = 0, sum = 0;
      series.forEach(function (point) {
        var v = Number(point[s.key]) || 0;
        max = Math.max(max, v);
        sum += v;
      });
      var group = svg("g", { "class": "kb-lane kb-series--" + s.key, "data-series": s.key });
      group.appendChild(svg("text", { x: SIDE, y: top + 13, "class": "kb-lane__title" }, s.label));
      group.appendChild(svg("text", { x: W - SIDE, y: top + 13, "text-anchor": "end", "class": "kb-chart__label" },
        "共 " + sum + " 次" + (max ? "，单日最多 " + max + " 次" : "")));
      var base = top + LANE_TITLE + LANE_BARS;
      group.appendChild(svg("line", { x1: SIDE, x2: W - SIDE, y1: base, y2: base, "class": "kb-chart__axis" }));
      series.forEach(function (point, i) {
        var count = Number(point[s.key]) || 0;
        if (!count) { return; }
        var h = Math.max(2, count / max * LANE_BARS);
        var bar = svg("rect", {
          x: x(i).toFixed(1), y: (base - h).toFixed(1), width: barW.toFixed(1), height: h.toFixed(1),
          "class": "kb-chart__bar", "data-day": point.day, "data-count": count
        });
        bar.appendChild(svg("title", {}, dayLabel(point.day) + " " + s.label + "：" + count + " 次"));
        group.appendChild(bar);
      });
      chart.appendChild(group);
    });
    var labels = svg("g", { "class": "kb-chart__days" });
    var shown = labelledDays(n, plotW);
    series.forEach(function (point, i) {
      if (!shown[i]) { return; }
      var center = x(i) + barW / 2;
      var anchor = center < SIDE + 20 ? "start" : center > W - SIDE - 20 ? "end" : "middle";
      labels.appendChild(svg("text", { x: center.toFixed(1), y: H - 8, "text-anchor": anchor,
        "class": "kb-chart__label kb-chart__day", "data-day": point.day }, dayLabel(point.day)));
    });
    chart.appendChild(labels);
  }

  function count(parent, value, labelText, kind) {
    var box = el("div", "kb-count" + (kind ? " kb-count--" + kind : ""));
    box.appendChild(el("span", "kb-count__value", String(value)));
    box.appendChild(el("span", "kb-count__label", labelText));
    parent.appendChild(box);
  }

  function rateText(helpful, unhelpful) {
    var rated = helpful + unhelpful;
    return rated ? Math.round(helpful / rated * 100) + "%" : "—";
  }

  function totals(series) {
    var sum = { answered: 0, suggested: 0, chosen: 0, helpful: 0, unhelpful: 0 };
    series.forEach(function (point) {
      Object.keys(sum).forEach(function (key) { sum[key] += Number(point[key]) || 0; });
    });
    var box = $("usage-totals");
    C.clear(box);
    count(box, sum.answered, "直接回答");
    count(box, sum.suggested, "作为候选推荐");
    count(box, sum.chosen, "被客户选中");
    count(box, sum.helpful, "有帮助", "good");
    count(box, sum.unhelpful, "没帮助", sum.unhelpful ? "bad" : null);
    var rated = sum.helpful + sum.unhelpful;
    var rate = el("div", "kb-count");
    rate.id = "usage-rate";
    rate.appendChild(el("span", "kb-count__value", rateText(sum.helpful, sum.unhelpful)));
    rate.appendChild(el("span", "kb-count__label", "有帮助率" + (rated ? "（" + rated + " 次评价）" : "（暂无评价）")));
    box.appendChild(rate);
  }

  function setUrl(id) {
    var url = id === null ? "/console/kb/usage" : "/console/kb/usage?faq=" + encodeURIComponent(id);
    if (window.location.pathname + window.location.search !== url) { window.history.replaceState(null, "", url); }
  }

  function showSeries(series) {
    totals(series);
    draw(series);
    var used = series.some(function (p) { return SERIES.some(function (s) { return Number(p[s.key]) > 0; }); });
    message(used ? "" : "这段时间没有使用记录");
  }

  function failed(error) {
    C.clear($("usage-chart"));
    C.clear($("usage-totals"));
    message(KB.errorText(error, "统计加载失败"), "error");
  }

  function renderTop(top) {
    var body = $("usage-top");
    C.clear(body);
    top.forEach(function (faq, i) {
      var row = el("tr", "kb-row kb-top__row");
      row.dataset.faqId = String(faq.id);
      row.tabIndex = 0;
      row.appendChild(el("td", "kb-num", String(i + 1)));
      var question = el("td", "kb-row__question");
      question.appendChild(el("span", "kb-row__text", faq.question || ""));
      var meta = [faq.category, KB.gridName(faq.grid), "#" + faq.id].filter(Boolean).join(" · ");
      question.appendChild(el("span", "kb-row__meta muted", meta));
      row.appendChild(question);
      row.appendChild(el("td", "kb-num", String(faq.uses || 0)));
      var used = faq.usage || {};
      row.appendChild(el("td", "kb-num", rateText(Number(used.helpful) || 0, Number(used.unhelpful) || 0)));
      row.addEventListener("click", function () { showFaq(faq.id); });
      row.addEventListener("keydown", function (event) { if (event.key === "Enter") { showFaq(faq.id); } });
      body.appendChild(row);
    });
    $("usage-top-empty").hidden = top.length > 0;
  }

  // every FAQ summed (while no FAQ is picked) and the ranking, for the chosen time range
  function loadOverview() {
    var days = $("usage-days");
    $("usage-top-title").textContent = "最常用的问答（" + days.selectedOptions[0].textContent + "）";
    C.api("GET", "/api/v1/kb/usage?days=" + encodeURIComponent(days.value)).then(function (body) {
      if (current === null) { showSeries(KB.list(body, "series")); }
      renderTop(KB.list(body, "top"));
    }, failed);
  }

  function showAll() {
    current = null;
    setUrl(null);
    $("usage-faq").textContent = "全部问答";
    $("usage-all").hidden = true;
    message("");
    loadOverview();
  }

  function showFaq(id) {
    current = id;
    setUrl(id);
    $("usage-all").hidden = false;
    message("");
    var days = $("usage-days").value;
    C.api("GET", "/api/v1/kb/faqs/" + encodeURIComponent(id)).then(function (faq) {
      if (current !== id) { return; }
      var title = $("usage-faq");
      C.clear(title);
      var text = (faq && faq.question) || (faq && faq.draft && faq.draft.question) || "";
      var link = el("a", null, "#" + id + " " + text);
      link.href = "/console/kb?faq=" + encodeURIComponent(id);
      title.appendChild(link);
    }, function () { $("usage-faq").textContent = "#" + id; });
    C.api("GET", "/api/v1/kb/faqs/" + encodeURIComponent(id) + "/usage?days=" + encodeURIComponent(days))
      .then(function (body) {
        if (current !== id) { return; }
        showSeries(KB.list(body, "series"));
      }, failed);
    $("usage-panel").scrollIntoView({ block: "nearest" });
  }

  KB.faqPicker($("usage-search"), $("usage-search-button"), $("usage-results"), function (faq) {
    C.clear($("usage-results"));
    showFaq(faq.id);
  });
  $("usage-days").addEventListener("change", function () {
    if (current !== null) { showFaq(current); }
    loadOverview();
  });
  $("usage-all").addEventListener("click", function (event) { event.preventDefault(); showAll(); });
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { draw(lastSeries); }, 150);
  });

  KB.start().then(function () {
    var id = new URLSearchParams(window.location.search).get("faq");
    if (id && /^\d+$/.test(id)) { showFaq(Number(id)); }
    loadOverview();
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
