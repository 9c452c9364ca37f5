// GridDesk answer formatting, shared by the customer chat page and the admin console's preview:
// **bold**, line breaks and [text](https://…) links. Built from DOM elements only: no HTML passes
// through, links are http(s) only and open with rel=noopener.
(function () {
  "use strict";
  var INLINE = /\*\*([^*\n]+?)\*\*|\[([^\]\n]+)\]\(([^()\s]+)\)/g;

  function safeUrl(raw) {
    try {
      var url = new URL(raw);
      return (url.protocol === "http:" || url.protocol === "https:") && /^https?:\/\//i.test(raw) ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function appendInline(parent, text, allowBold) {
    var last = 0;
    var match;
    var pieces = [];
    INLINE.lastIndex = 0;
    while ((match = INLINE.exec(text)) !== null) {
      pieces.push({ start: match.index, end: INLINE.lastIndex, bold: match[1], label: match[2], href: match[3] });
    }
    pieces.forEach(function (piece) {
      if (piece.start > last) { parent.appendChild(document.createTextNode(text.slice(last, piece.start))); }
      if (piece.bold !== undefined && allowBold) {
        var strong = document.createElement("strong");
        appendInline(strong, piece.bold, false);
        parent.appendChild(strong);
      } else if (piece.label !== undefined && safeUrl(piece.href)) {
        var link = document.createElement("a");
        link.className = "answer-link";
        link.textContent = piece.label;
        link.href = safeUrl(piece.href);
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        parent.appendChild(link);
      } else {
        parent.appendChild(document.createTextNode(text.slice(piece.start, piece.end)));
      }
      last = piece.end;
    });
    if (last < text.length) { parent.appendChild(document.createTextNode(text.slice(last))); }
  }

  function render(target, text) {
    while (target.firstChild) { target.removeChild(target.firstChild); }
    String(text || "").split(/\r?\n/).forEach(function (line, index) {
      if (index > 0) { target.appendChild(document.createElement("br")); }
      appendInline(target, line, true);
    });
  }

  window.GridDeskFormat = { render: render, safeUrl: safeUrl };
})();
