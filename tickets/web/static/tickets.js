// /console/tickets: the tickets of my grids, filtered (kept in the page's URL, so links can name a view),
// most urgent first, a page at a time; each step's deadline counts down and turns red when overdue.
// Live: the console websocket's ticket news reloads the page shown (new tickets and state changes appear
// without a reload). API: GET /api/v1/console/tickets.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var T = window.GridDeskTickets;
  var el = C.el;
  var PAGE = 20;
  var API = "/api/v1/console/tickets";

  var $ = function (id) { return document.getElementById(id); };
  var view = { offset: 0, total: 0, items: [], changed: {} };
  var gridNames = {};

  function option(select, value, text) {
    var node = el("option", null, text);
    node.value = value;
    select.appendChild(node);
  }

  function fillChoices(grids) {
    grids.forEach(function (grid) {
      gridNames[grid.code] = grid.name || grid.code;
      option($("f-grid"), grid.code, grid.name || grid.code);
    });
    ["accepted", "analysing", "in_progress", "resolved", "closed"].forEach(function (state) {
      option($("f-state"), state, C.label(C.labels.ticketState, state));
    });
    Object.keys(C.labels.category).forEach(function (category) {
      option($("f-category"), category, C.labels.category[category]);
    });
    ["urgent", "high", "normal", "low"].forEach(function (priority) {
      option($("f-priority"), priority, C.label(C.labels.priority, priority));
    });
  }

  // the page's URL ⇄ the form
  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    var set = function (id, name, fallback) {
      var value = params.get(name);
      var select = $(id);
      if (value !== null && Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
        select.value = value;
      } else if (fallback !== undefined) {
        select.value = fallback;
      }
    };
    set("f-grid", "grid");
    set("f-state", "state", "open");
    set("f-category", "category");
    set("f-priority", "priority");
    $("f-overdue").checked = params.get("overdue") === "true";
    $("f-approval").checked = params.get("awaiting_approval") === "true";
    $("f-mine").checked = params.get("mine") === "true";
    $("f-q").value = params.get("q") || "";
    var page = Number(params.get("page") || "1");
    view.offset = page > 1 && page < 1e6 ? (Math.floor(page) - 1) * PAGE : 0;
  }

  function filters() {
    var query = {};
    if ($("f-grid").value) { query.grid = $("f-grid").value; }
    query.state = $("f-state").value || "open";
    if ($("f-category").value) { query.category = $("f-category").value; }
    if ($("f-priority").value) { query.priority = $("f-priority").value; }
    if ($("f-overdue").checked) { query.overdue = "true"; }
    if ($("f-approval").checked) { query.awaiting_approval = "true"; }
    if ($("f-mine").checked) { query.mine = "true"; }
    var q = $("f-q").value.trim();
    if (q) { query.q = q; }
    return query;
  }

  function writeUrl(query) {
    var params = new URLSearchParams(query);
    if (query.state === "open") { params.delete("state"); }
    if (view.offset) { params.set("page", String(view.offset / PAGE + 1)); }
    var search = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
  }

  function apiQuery(query) {
    var params = new URLSearchParams();
    Object.keys(query).forEach(function (key) {
      if (!(key === "state" && query.state === "all")) { params.set(key, query[key]); }
    });
    params.set("limit", String(PAGE));
    params.set("offset", String(view.offset));
    return params.toString();
  }

  function load() {
    var query = filters();
    writeUrl(query);
    return C.api("GET", API + "?" + apiQuery(query)).then(function (body) {
      T.syncClock(body.now);
      view.total = typeof body.total === "number" ? body.total : 0;
      view.items = Array.isArray(body.items) ? body.items : [];
      if (!view.items.length && view.offset > 0 && view.total > 0) {  // the page emptied under us
        view.offset = Math.max(0, Math.floor((view.total - 1) / PAGE) * PAGE);
        return load();
      }
      render();
    }, function (error) {
      C.toast(C.errorText(error, "工单列表加载失败"), "error");
    });
  }

  function cell(row, className, content, label) {
    var td = el("td", className);
    td.setAttribute("data-label", label);
    if (content instanceof Node) { td.appendChild(content); } else { td.textContent = content || ""; }
    row.appendChild(td);
    return td;
  }

  function render() {
    var body = $("tk-rows");
    C.clear(body);
    view.items.forEach(function (ticket) {
      var row = el("tr", "tk-row");
      row.setAttribute("data-number", String(ticket.number));
      if (ticket.late) { row.classList.add("is-late"); }
      if (view.changed[ticket.number]) { row.classList.add("is-changed"); }
      var link = el("a", "tk-row__number", ticket.number);
      link.href = T.ticketUrl(ticket.number);
      cell(row, null, link, "工单号");
      var state = el("span");
      state.appendChild(T.stateTag(ticket.state));
      if (ticket.needs_approval && !ticket.approved_by && T.isOpen(ticket.state)) {
        state.appendChild(document.createTextNode(" "));
        state.appendChild(el("span", "tag tag--warn", "待审批"));
      }
      cell(row, null, state, "状态");
      var due = el("span", "countdown");
      T.paintCountdown(due, ticket);
      cell(row, "tk-row__due", due, "期限");
      cell(row, null, C.label(C.labels.category, ticket.category), "类别");
      cell(row, null, T.priorityTag(ticket.priority), "优先级");
      cell(row, null, ticket.assignee ? ticket.assignee.name : "未指派", "负责人");
      cell(row, "muted", gridNames[ticket.grid] || ticket.grid, "网格");
      cell(row, "tk-row__description", ticket.description, "描述");
      row.addEventListener("click", function (event) {
        if (event.target.closest("a")) { return; }
        window.location.assign(link.href);
      });
      body.appendChild(row);
    });
    view.changed = {};
    $("tk-empty").hidden = view.items.length > 0;
    var pages = Math.max(1, Math.ceil(view.total / PAGE));
    var page = Math.floor(view.offset / PAGE) + 1;
    $("tk-page").textContent = "第 " + page + " / " + pages + " 页";
    $("tk-prev").disabled = view.offset === 0;
    $("tk-next").disabled = view.offset + PAGE >= view.total;
    $("tk-summary").textContent = "共 " + view.total + " 张工单 · 超时的在前，其余按本环节期限由近到远";
  }

  function tick() {
    var rows = $("tk-rows").querySelectorAll(".tk-row");
    rows.forEach(function (row, index) {
      var ticket = view.items[index];
      var due = row.querySelector(".countdown");
      if (ticket && due) {
        T.paintCountdown(due, ticket);
        row.classList.toggle("is-late", T.countdown(ticket).late);
      }
    });
  }

  $("tk-filters").addEventListener("submit", function (event) {
    event.preventDefault();
    view.offset = 0;
    load();
  });
  ["f-grid", "f-state", "f-category", "f-priority", "f-overdue", "f-approval", "f-mine"].forEach(function (id) {
    $(id).addEventListener("change", function () { view.offset = 0; load(); });
  });
  $("tk-prev").addEventListener("click", function () { view.offset = Math.max(0, view.offset - PAGE); load(); });
  $("tk-next").addEventListener("click", function () { view.offset += PAGE; load(); });

  var reloadSoon = T.debounce(load, 300);

  C.me().then(function (body) {
    fillChoices(Array.isArray(body.grids) ? body.grids : []);
    readUrl();
    load();
    window.setInterval(tick, 1000);
    T.live({
      changes: function (changes) {
        changes.forEach(function (change) { view.changed[change.number] = true; });
        reloadSoon();
      },
      resync: load
    });
  }, function (error) {
    if (error.status !== 401) { C.toast(C.errorText(error, "加载失败"), "error"); }
  });
})();
