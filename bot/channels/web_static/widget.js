/* socialbot widget: <script src="https://BOT/widget.js" data-region="sundsvall" defer></script>
   Options (data-*): region (sundsvall | vastervik), lang (any language of the content: sv, en, ar, fa, so,
   ti, uk, sv-x-easy; default: the page's own), label (the launcher's text),
   position (right | left). The chat lives in a shadow root, so the page's styles and ours never mix. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.SocialbotChat || document.getElementById("socialbot-widget")) { return; }
  var base = new URL(script.src, document.baseURI).origin;
  var region = script.getAttribute("data-region") || "";
  var lang = window.SocialbotChat.pick(script.getAttribute("data-lang") || document.documentElement.lang);
  var t = window.SocialbotChat.ui(lang);

  function mount() {
    var host = document.createElement("div");
    host.id = "socialbot-widget";
    document.body.appendChild(host);
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var css = document.createElement("link");
    css.rel = "stylesheet"; css.href = base + "/static/chat.css";
    root.appendChild(css);
    var wrap = document.createElement("div");
    if (script.getAttribute("data-position") === "left") { wrap.className = "sb-left"; }
    root.appendChild(wrap);

    var launcher = document.createElement("button");
    launcher.type = "button"; launcher.className = "sb-launcher";
    launcher.textContent = script.getAttribute("data-label") || t.launcher;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "sb-panel");
    var panel = document.createElement("div");
    panel.id = "sb-panel"; panel.className = "sb-panel"; panel.hidden = true;
    panel.setAttribute("role", "dialog"); panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", "sb-title"); panel.setAttribute("lang", lang);
    panel.setAttribute("dir", window.SocialbotChat.direction(lang));
    var head = document.createElement("div");
    head.className = "sb-head";
    var title = document.createElement("h2");
    title.id = "sb-title"; title.textContent = t.title;
    var close = document.createElement("button");
    close.type = "button"; close.className = "sb-close"; close.textContent = t.close;
    head.appendChild(title); head.appendChild(close);
    panel.appendChild(head);
    wrap.appendChild(panel); wrap.appendChild(launcher);

    var chat = null;
    function open() {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      if (!chat) {
        chat = window.SocialbotChat.create({ root: panel, api: base, region: region, lang: lang,
          onLang: function (l) {
            var u = window.SocialbotChat.ui(l);
            panel.setAttribute("lang", l); panel.setAttribute("dir", window.SocialbotChat.direction(l));
            title.textContent = u.title; close.textContent = u.close;
          } });
        chat.start();
      }
      chat.focus();
    }
    function shut() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }
    launcher.addEventListener("click", function () { if (panel.hidden) { open(); } else { shut(); } });
    close.addEventListener("click", shut);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); shut(); }
    });
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
