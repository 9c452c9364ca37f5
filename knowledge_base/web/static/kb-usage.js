// /console/kb/usage: one FAQ's daily usage (GET /api/v1/kb/faqs/{id}/usage?days=N) as an SVG line
// chart drawn with createElementNS (no library), plus totals and the 有帮助率.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var KB = window.GridDeskKb;
  var el = C.el;
  var SVG = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };
  var SERIES = [
    { key: "answered", label: "直接回答" },
    { key: "chosen", label: "被选中" },
    { key: "helpful", label: "有帮助" },
    { key: "unhelpful", label: "没帮助" }
  ];
  var W = 800, H = 320, LEFT = 44, RIGHT = 12, TOP = 34, BOTTOM = 36;
  var current = null;

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

  function niceMax(value) {
    if (value <= 4) { return 4; }
    var magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i += 1) {
      if (steps[i] * magnitude >= value) { return steps[i] * magnitude; }
    }
    return 10 * magnitude;
  }

  function dayLabel(day) {
    var parts = String(day || "").split("-");
    return parts.length === 3 ? Number(parts[1]) + "/" + Number(parts[2]) : String(day || "");
  }

  function draw(series) {
    var chart = $("usage-chart");
    C.clear(chart);
    chart.setAttribute("viewBox", "0 0 " + W + " " + H);
    chart.setAttribute("preserveAspectRatio", "xMidYMid meet");
    var n = series.length;
    var max = 0;
    series.forEach(function (point) {
      SERIES.forEach(function (s) { max = Math.max(max, Number(point[s.key]) || 0); });
    });
    var top = niceMax(max);
    var plotW = W - LEFT - RIGHT;
    var plotH = H - TOP - BOTTOM;
    var x = function (i) { return LEFT + (n <= 1 ? plotW / 2 : i * plotW / (n - 1)); };
    var y = function (v) { return TOP + plotH - (v / top) * plotH; };

    chart.appendChild(svg("title", {}, "每日使用情况"));
    // horizontal grid and y labels
    for (var t = 0; t <= 4; t += 1) {
      var value = top * t / 4;
      chart.appendChild(svg("line", { x1: LEFT, x2: W - RIGHT, y1: y(value), y2: y(value), "class": "kb-chart__grid" }));
      chart.appendChild(svg("text", { x: LEFT - 6, y: y(value) + 4, "text-anchor": "end", "class": "kb-chart__label" },
        Number.isInteger(value) ? value : value.toFixed(1)));
    }
    chart.appendChild(svg("line", { x1: LEFT, x2: LEFT, y1: TOP, y2: TOP + plotH, "class": "kb-chart__axis" }));
    chart.appendChild(svg("line", { x1: LEFT, x2: W - RIGHT, y1: TOP + plotH, y2: TOP + plotH, "class": "kb-chart__axis" }));
    chart.appendChild(svg("text", { x: 4, y: TOP - 12, "class": "kb-chart__label" }, "次数"));
    // x labels, about eight of them
    var every = Math.max(1, Math.ceil(n / 8));
    series.forEach(function (point, i) {
      if (i % every === 0 || i === n - 1) {
        chart.appendChild(svg("text", { x: x(i), y: H - BOTTOM + 16, "text-anchor": "middle", "class": "kb-chart__label" },
          dayLabel(point.day)));
      }
    });
    chart.appendChild(svg("text", { x: W - RIGHT, y: H - 4, "text-anchor": "end", "class": "kb-chart__label" }, "日期"));
    // one line per series, a dot per day with a tooltip
    SERIES.forEach(function (s) {
      var points = series.map(function (point, i) { return x(i).toFixed(1) + "," + y(Number(point[s.key]) || 0).toFixed(1); });
      if (n > 1) {
        chart.appendChild(svg("polyline", { points: points.join(" "), "class": "kb-chart__line kb-series--" + s.key,
          "data-series": s.key }));
      }
      var dots = svg("g", { "class": "kb-series--" + s.key });
      series.forEach(function (point, i) {
        var count = Number(point[s.key]) || 0;
        var dot = svg("circle", { cx: x(i), cy: y(count), r: n > 60 ? 1.5 : 3, "class": "kb-chart__dot kb-series--" + s.key });
        dot.appendChild(svg("title", {}, dayLabel(point.day) + " " + s.label + ":" + count));
        dots.appendChild(dot);
      });
      chart.appendChild(dots);
    });
    // legend
    var legendX = LEFT + 40;
    SERIES.forEach(function (s) {
      chart.appendChild(svg("rect", { x: legendX, y: 8, width: 14, height: 4, "class": "kb-series--" + s.key }));
      chart.appendChild(svg("text", { x: legendX + 18, y: 14, "class": "kb-legend__text" }, s.label));
      legendX += 100;
    });
  }

  function count(parent, value, labelText, kind) {
    var box = el("div", "kb-count" + (kind ? " kb-count--" + kind : ""));
    box.appendChild(el("span", "kb-count__value", String(value)));
    box.appendChild(el("span", "kb-count__label", labelText));
    parent.appendChild(box);
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
    rate.appendChild(el("span", "kb-count__value", rated ? Math.round(sum.helpful / rated * 100) + "%" : "—"));
    rate.appendChild(el("span", "kb-count__label", "有帮助率" + (rated ? "(" + rated + " 次评价)" : "(暂无评价)")));
    box.appendChild(rate);
  }

  function show(id) {
    current = id;
    var days = $("usage-days").value;
    $("usage-panel").hidden = false;
    message("");
    var url = "/console/kb/usage?faq=" + encodeURIComponent(id);
    if (window.location.pathname + window.location.search !== url) { window.history.replaceState(null, "", url); }
    C.api("GET", "/api/v1/kb/faqs/" + encodeURIComponent(id)).then(function (faq) {
      if (current !== id) { return; }
      var title = $("usage-faq");
      C.clear(title);
      var link = el("a", null, "#" + id + " " + ((faq && faq.question) || ((faq && faq.draft && faq.draft.question) || "")));
      link.href = "/console/kb?faq=" + encodeURIComponent(id);
      title.appendChild(link);
    }, function () { $("usage-faq").textContent = "#" + id; });
    C.api("GET", "/api/v1/kb/faqs/" + encodeURIComponent(id) + "/usage?days=" + encodeURIComponent(days))
      .then(function (body) {
        if (current !== id) { return; }
        var series = KB.list(body, "series");
        totals(series);
        draw(series);
        if (!series.length) { message("这段时间没有使用记录"); }
      }, function (error) {
        C.clear($("usage-chart"));
        C.clear($("usage-totals"));
        message(KB.errorText(error, "统计加载失败"), "error");
      });
  }

  KB.faqPicker($("usage-search"), $("usage-search-button"), $("usage-results"), function (faq) {
    C.clear($("usage-results"));
    show(faq.id);
  });
  $("usage-days").addEventListener("change", function () { if (current !== null) { show(current); } });

  KB.start().then(function () {
    var id = new URLSearchParams(window.location.search).get("faq");
    if (id && /^\d+$/.test(id)) { show(Number(id)); }
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
