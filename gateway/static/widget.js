// GridDesk chat widget: one tag on any site,
//   <script src="https://gateway.example.com/static/widget.js" data-title="在线客服"
//           data-customer-token="<HS256 JWT your server signed>" async></script>
// adds a round 客服 button (bottom right) that opens the gateway's chat page in an iframe.
// Who the customer is (README "Identity verification"): data-customer-token, or data-customer-id +
// data-customer-signature with the data-name / data-phone / data-region / data-tier that were signed;
// they travel in the frame URL's #fragment (never sent to a server) and on as the messages' metadata.
// Styles are set from JavaScript on elements inside a shadow root, so the host page's CSS and CSP
// (style-src) neither leak in nor block them. The only global is window.GridDeskWidget {open, close}.
(function () {
  "use strict";
  if (window.GridDeskWidget) { return; }

  var Z_INDEX = "2147483000";
  var MOBILE = "(max-width: 479px)";
  var script = document.currentScript || (function () {
    var all = document.querySelectorAll("script[src]");
    for (var i = all.length - 1; i >= 0; i -= 1) {
      if (/\/static\/widget\.js(\?|#|$)/.test(all[i].src)) { return all[i]; }
    }
    return null;
  })();
  if (!script) { return; }
  var origin = new URL(script.src, window.location.href).origin;
  var data = script.dataset || {};
  var title = (data.title || "在线客服").slice(0, 40);

  // data-* attribute (camelCased) → the chat page's parameter
  var CUSTOMER_FIELDS = {
    customerToken: "customer_token", customerId: "customer_id", customerSignature: "customer_signature",
    name: "name", phone: "phone", region: "region", tier: "tier"
  };

  function chatUrl() {
    var query = new URLSearchParams({ embed: "1" });
    query.set("title", title);
    var customer = new URLSearchParams();
    Object.keys(CUSTOMER_FIELDS).forEach(function (key) {
      if (data[key]) { customer.set(CUSTOMER_FIELDS[key], String(data[key])); }
    });
    var fragment = customer.toString();
    return origin + "/?" + query.toString() + (fragment ? "#" + fragment : "");
  }

  function styled(tag, styles) {
    var node = document.createElement(tag);
    Object.keys(styles).forEach(function (key) { node.style.setProperty(key, styles[key]); });
    return node;
  }

  function apply(node, styles) {
    Object.keys(styles).forEach(function (key) { node.style.setProperty(key, styles[key]); });
  }

  var FONT = '-apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  // a custom element name, so the host page's "div { … }" rules do not reach it
  var host = document.createElement("griddesk-widget");
  var hostStyles = { display: "block", position: "fixed", "z-index": Z_INDEX, right: "0", bottom: "0", width: "0", height: "0", margin: "0", padding: "0" };
  Object.keys(hostStyles).forEach(function (key) { host.style.setProperty(key, hostStyles[key], "important"); });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

  var launcher = styled("button", {
    position: "fixed", right: "20px", bottom: "20px", width: "56px", height: "56px", "border-radius": "50%",
    border: "0", margin: "0", padding: "0", background: "#1f6feb", color: "#fff", cursor: "pointer",
    font: "600 15px/1 " + FONT, "box-shadow": "0 4px 14px rgba(0,0,0,.25)", "z-index": Z_INDEX
  });
  launcher.type = "button";
  launcher.textContent = "客服";
  launcher.setAttribute("aria-label", title);
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("data-role", "launcher");

  var panel = styled("div", {
    position: "fixed", display: "none", "flex-direction": "column", overflow: "hidden", background: "#fff",
    "box-shadow": "0 8px 30px rgba(0,0,0,.25)", "z-index": Z_INDEX, font: "14px/1.5 " + FONT
  });
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  panel.setAttribute("data-role", "panel");

  var header = styled("div", {
    display: "flex", "align-items": "center", "justify-content": "space-between", padding: "8px 12px",
    background: "#1f6feb", color: "#fff", "flex-shrink": "0"
  });
  var heading = styled("span", { "font-weight": "600", "font-size": "15px" });
  heading.textContent = title;
  var closer = styled("button", {
    border: "0", background: "transparent", color: "#fff", "font-size": "22px", "line-height": "1",
    cursor: "pointer", padding: "0 4px", margin: "0"
  });
  closer.type = "button";
  closer.textContent = "×";
  closer.setAttribute("aria-label", "关闭");
  header.appendChild(heading);
  header.appendChild(closer);
  panel.appendChild(header);

  var frame = null;
  var isOpen = false;
  var media = window.matchMedia ? window.matchMedia(MOBILE) : null;

  function layout() {
    if (media && media.matches) {
      apply(panel, { top: "0", left: "0", right: "0", bottom: "0", width: "100%", height: "100%", "border-radius": "0" });
      launcher.style.setProperty("display", isOpen ? "none" : "block");
    } else {
      apply(panel, {
        top: "auto", left: "auto", right: "20px", bottom: "88px", width: "380px",
        height: "min(620px, calc(100vh - 110px))", "border-radius": "12px"
      });
      launcher.style.setProperty("display", "block");
    }
  }

  function open() {
    if (!frame) {
      frame = styled("iframe", { border: "0", width: "100%", flex: "1", display: "block", background: "#fff" });
      frame.title = title;
      frame.src = chatUrl();
      frame.setAttribute("allow", "clipboard-write");
      panel.appendChild(frame);
    }
    isOpen = true;
    panel.style.setProperty("display", "flex");
    launcher.setAttribute("aria-expanded", "true");
    launcher.textContent = "×";
    layout();
    if (frame) { frame.focus(); }
  }

  function close() {
    isOpen = false;
    panel.style.setProperty("display", "none");
    launcher.setAttribute("aria-expanded", "false");
    launcher.textContent = "客服";
    layout();
  }

  launcher.addEventListener("click", function () { if (isOpen) { close(); } else { open(); } });
  closer.addEventListener("click", function () { close(); launcher.focus(); });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape" && isOpen) { close(); } });
  if (media) {
    if (media.addEventListener) { media.addEventListener("change", layout); } else if (media.addListener) { media.addListener(layout); }
  }

  root.appendChild(panel);
  root.appendChild(launcher);
  layout();

  function mount() { (document.body || document.documentElement).appendChild(host); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }

  window.GridDeskWidget = { open: open, close: close };
})();
