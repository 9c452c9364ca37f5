// The agent console's packet panel: what the bot handed over with the conversation (reason, intent,
// grid, profile, the customer's question, the colleagues' transfer notes, FAQ candidates, collected slots, draft ticket) and the handoff's events.
(function () {
  "use strict";
  var C = window.GridDeskConsole;
  var A = window.GridDeskAgentConsole;
  var el = C.el;
  var nodes = A.nodes;

  var SLOT_LABELS = {
    ticket_category: "工单类别", ticket_description: "问题描述", ticket_amount: "金额（元）", ticket_phone: "联系电话",
    ticket_name: "联系人", ticket_region: "所在区域", customer_tier: "客户类型", ticket_number: "工单号",
    category: "类别", description: "描述", contact_phone: "联系电话", contact_name: "联系人", region: "区域",
    amount: "金额（元）"
  };

  function valueText(value) {
    if (value === null || value === undefined || value === "") { return "—"; }
    if (typeof value === "object") { return JSON.stringify(value); }
    return String(value);
  }

  function fillFacts(list, data) {
    C.clear(list);
    var keys = data && typeof data === "object" ? Object.keys(data) : [];
    keys.forEach(function (key) {
      list.appendChild(el("dt", null, SLOT_LABELS[key] || key));
      var value = data[key];
      if (key === "category" || key === "ticket_category") { value = C.label(C.labels.category, value); }
      if (key === "customer_tier") { value = C.label(C.labels.tier, value); }
      list.appendChild(el("dd", null, valueText(value)));
    });
    if (!keys.length) { list.appendChild(el("dd", "muted", "无")); }
  }

  // the colleagues' transfer notes, newest first: the first thing the agent reads
  function renderNotes(packet) {
    var list = nodes["packet-notes"];
    C.clear(list);
    var notes = Array.isArray(packet.notes) ? packet.notes.slice().reverse() : [];
    notes.forEach(function (note) {
      if (!note || typeof note !== "object") { return; }
      var li = el("li", "packet-note");
      var by = note.by === "system" ? C.label(C.labels.actor, "system") : (note.by || "");
      var where = note.to_agent ? "转给 " + note.to_agent : (note.to_grid ? "转到网格" : "");
      li.appendChild(el("span", "packet-notes__who", [C.clock(note.at), by, where].filter(Boolean).join(" · ")));
      li.appendChild(el("span", "packet-notes__text", note.note ? String(note.note) : "（未填写转接说明）"));
      list.appendChild(li);
    });
    list.hidden = !list.firstChild;
  }

  function actorText(event) {
    if (event.actor_name) { return String(event.actor_name); }
    return C.label(C.labels.actor, event.actor);
  }

  function render(detail) {
    var packet = detail.packet || {};
    nodes["packet-empty"].hidden = true;
    nodes["packet-body"].hidden = false;
    renderNotes(packet);
    nodes["packet-question"].textContent = detail.question || valueText(packet.summary);
    nodes["packet-reason"].textContent = detail.reason_label || C.label(C.labels.reason, packet.reason || detail.reason) || "—";
    var intent = packet.intent;
    if (intent && intent.name) {
      var confidence = typeof intent.confidence === "number" ? "（把握 " + Math.round(intent.confidence * 100) + "%）" : "";
      nodes["packet-intent"].textContent = C.label(C.labels.intent, intent.name) + confidence;
    } else {
      nodes["packet-intent"].textContent = "—";
    }
    nodes["packet-grid"].textContent = detail.grid ? (detail.grid.name || detail.grid.code) : valueText(packet.grid);
    // the packet's profile is the verified customer's only (docs/handoff.md): the action server reads nothing else
    var verifiedProfile = packet.profile && typeof packet.profile === "object" ? packet.profile : {};
    nodes["packet-profile"].textContent = A.profileText(Object.assign({}, verifiedProfile, { verified: true }));
    nodes["packet-ticket"].textContent = valueText(packet.ticket_number);

    var faqs = nodes["packet-faqs"];
    C.clear(faqs);
    (Array.isArray(packet.faq_candidates) ? packet.faq_candidates : []).forEach(function (faq) {
      var li = el("li", "faq-candidate");
      li.appendChild(el("span", "faq-candidate__question", faq.question || ("FAQ #" + faq.faq_id)));
      li.appendChild(el("span", "score", typeof faq.score === "number" ? faq.score.toFixed(2) : ""));
      faqs.appendChild(li);
    });
    if (!faqs.firstChild) { faqs.appendChild(el("li", "muted", "无")); }
    fillFacts(nodes["packet-slots"], packet.slots);
    fillFacts(nodes["packet-draft"], packet.draft_ticket);

    var events = nodes["packet-events"];
    C.clear(events);
    (Array.isArray(detail.events) ? detail.events : []).forEach(function (event) {
      var li = el("li", "event");
      li.appendChild(el("time", "event__time", C.clock(event.created_at)));
      li.appendChild(el("span", "event__what", C.label(C.labels.owner, event.from) + " → " + C.label(C.labels.owner, event.to)));
      if (event.actor) { li.appendChild(el("span", "event__actor", actorText(event))); }
      // the bot's note is the handoff reason's code: shown by its label
      if (event.note) { li.appendChild(el("span", "event__note", C.label(C.labels.reason, event.note))); }
      events.appendChild(li);
    });
  }

  // no conversation open
  function clear() {
    nodes["packet-body"].hidden = true;
    nodes["packet-empty"].hidden = false;
  }

  A.packet = { render: render, clear: clear };
})();
