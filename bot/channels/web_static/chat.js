/* socialbot web chat: the page and the widget share this code. No framework, no build step.
   Accessibility (WCAG 2.1 AA): the message list is role="log" and only new messages are added to it, so a
   screen reader announces each new message once; buttons are real <button>s named by their visible text;
   every message carries its own lang (and dir for right-to-left languages); nothing times out silently. */
(function (global) {
  "use strict";
  if (global.SocialbotChat) { return; }

  // The chat's own words in every language of the content: web_static/labels.yaml, put in by the server.
  var UI = {} /*LABELS*/;
  var RTL = { ar: 1, fa: 1, he: 1, ur: 1, ps: 1, ckb: 1 };
  var STORE_KEY = "socialbot.conversation";

  function pick(lang) {  // a language with labels: the tag itself, its base language ("sv-SE" -> sv), or Swedish
    lang = lang || "";
    if (UI[lang]) { return lang; }
    return UI[lang.split("-")[0].toLowerCase()] ? lang.split("-")[0].toLowerCase() : "sv";
  }
  function ui(lang) { return UI[pick(lang)] || UI.sv || {}; }
  function direction(lang) { return RTL[(lang || "").split("-")[0]] ? "rtl" : "ltr"; }
  function el(doc, tag, attrs, text) {
    var node = doc.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function storage(kind) {
    try { var s = global[kind]; s.setItem("socialbot.test", "1"); s.removeItem("socialbot.test"); return s; }
    catch (e) { return null; }  // private mode or blocked storage: the chat works, a reload starts afresh
  }

  /* options: root (element), api (base URL), region, lang, onClose (widget), heading (element level) */
  function create(options) {
    var doc = options.root.ownerDocument || document;
    var api = (options.api || "").replace(/\/$/, "") + "/api/messages";
    var lang = pick(options.lang || doc.documentElement.lang);
    var local = storage("localStorage"), session = storage("sessionStorage");
    var conversation = local ? local.getItem(STORE_KEY) : null;
    var pending = false, lastPayload = null;

    var chat = el(doc, "section", { "class": "sb-chat", "aria-label": ui(lang).title });
    var log = el(doc, "div", { "class": "sb-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
                                "aria-label": ui(lang).log, tabindex: "0" });
    var status = el(doc, "p", { "class": "sb-status", "aria-live": "polite" });
    var quick = el(doc, "div", { "class": "sb-quick" });
    var form = el(doc, "form", { "class": "sb-form" });
    var inputId = "sb-input-" + Math.random().toString(36).slice(2);
    var label = el(doc, "label", { "for": inputId });
    var input = el(doc, "input", { id: inputId, "class": "sb-input", type: "text", autocomplete: "off",
                                   enterkeyhint: "send" });
    var send = el(doc, "button", { type: "submit", "class": "sb-send" });
    form.appendChild(label); form.appendChild(input); form.appendChild(send);
    var quickButtons = [["menu", { button: "menu" }], ["person", { button: "menu:person" }],
                        ["privacy", { text: "/privacy" }]].map(function (q) {
      var b = el(doc, "button", { type: "button", "data-quick": q[0] });
      b.addEventListener("click", function () { post(q[1], b.textContent); });
      quick.appendChild(b);
      return b;
    });
    chat.appendChild(log); chat.appendChild(status); chat.appendChild(form); chat.appendChild(quick);
    options.root.appendChild(chat);

    function relabel() {
      var t = ui(lang);
      chat.setAttribute("lang", lang);
      chat.setAttribute("dir", direction(lang));
      chat.setAttribute("aria-label", t.title);
      log.setAttribute("aria-label", t.log);
      label.textContent = t.input;
      input.setAttribute("placeholder", t.input);
      send.textContent = t.send;
      quickButtons.forEach(function (b) { b.textContent = t[b.getAttribute("data-quick")]; });
      if (options.onLang) { options.onLang(lang); }
    }
    relabel();

    function remember() {
      if (!session) { return; }
      try { session.setItem(STORE_KEY + ".log", log.innerHTML); } catch (e) { /* full: keep going */ }
    }
    function add(node) { log.appendChild(node); log.scrollTop = log.scrollHeight; remember(); }

    function showUser(text) {
      var m = el(doc, "div", { "class": "sb-msg sb-msg-user", lang: lang, dir: "auto" });
      m.appendChild(el(doc, "span", { "class": "sb-sr" }, ui(lang).you + " "));
      m.appendChild(doc.createTextNode(text));
      add(m);
    }
    function showReply(reply, replyLang, dir) {
      var m = el(doc, "div", { "class": "sb-msg sb-msg-bot", lang: replyLang, dir: dir });
      m.appendChild(el(doc, "p", { "class": "sb-text" }, reply.text));
      if (reply.file) {
        var a = el(doc, "a", { "class": "sb-file", href: reply.file.url, download: reply.file.name }, ui(replyLang).file + " (" + reply.file.name + ")");
        m.appendChild(a);
      }
      if (reply.buttons && reply.buttons.length) {
        var group = el(doc, "div", { "class": "sb-buttons", role: "group" });
        reply.buttons.forEach(function (b) {
          var button = el(doc, "button", { type: "button", "class": "sb-choice", "data-button": b.data }, b.label);
          button.addEventListener("click", function () { post({ button: b.data }, b.label); });
          group.appendChild(button);
        });
        m.appendChild(group);
      }
      add(m);
      return m;
    }
    function showError(text, retry) {
      var m = el(doc, "div", { "class": "sb-msg sb-msg-error", lang: lang, role: "alert" }, text);
      if (retry) {
        var b = el(doc, "button", { type: "button", "class": "sb-choice" }, ui(lang).retry);
        b.addEventListener("click", function () { m.parentNode && m.parentNode.removeChild(m); post(retry.payload, null); });
        var wrap = el(doc, "div", { "class": "sb-buttons" });
        wrap.appendChild(b); m.appendChild(wrap);
      }
      add(m);
    }

    function post(payload, echo) {
      if (pending) { return; }
      if (echo) { showUser(echo); }
      var body = { conversation: conversation };
      Object.keys(payload).forEach(function (k) { body[k] = payload[k]; });
      if (!conversation) {
        if (options.region) { body.region = options.region; }
        if (options.lang) { body.lang = options.lang; }
        if (body.button) { delete body.button; body.text = "/start"; }
      }
      pending = true; lastPayload = payload;
      log.setAttribute("aria-busy", "true");
      status.textContent = ui(lang).busy;
      fetch(api, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
                   credentials: "omit", mode: "cors" })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (data) { return [response, data]; });
        })
        .then(function (result) {
          var response = result[0], data = result[1];
          pending = false; log.removeAttribute("aria-busy"); status.textContent = "";
          if (response.status === 404 && conversation) {  // forgotten (deleted or expired): start afresh
            setConversation(null);
            return post(payload, null);
          }
          if (response.status === 429) {
            var s = parseInt(response.headers.get("Retry-After") || "5", 10);
            return showError(ui(lang).wait.replace("{s}", s), { payload: payload });
          }
          if (!response.ok) { return showError((data && data.error) || ui(lang).failed, null); }
          setConversation(data.conversation);
          if (data.lang && data.lang !== lang) { lang = data.lang; relabel(); }
          (data.replies || []).forEach(function (r) {
            showReply(r, r.lang || data.lang || lang,
                      r.dir || data.dir || direction(data.lang));
          });
          if (options.onReply) { options.onReply(); }
        })
        .catch(function () {
          pending = false; log.removeAttribute("aria-busy"); status.textContent = "";
          showError(ui(lang).failed, { payload: payload });
        });
    }
    function setConversation(id) {
      conversation = id || null;
      if (!local) { return; }
      if (conversation) { local.setItem(STORE_KEY, conversation); }
      else { local.removeItem(STORE_KEY); if (session) { session.removeItem(STORE_KEY + ".log"); } }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text || pending) { return; }
      input.value = "";
      post({ text: text }, text);
    });

    var started = false;
    function start() {
      if (started) { return; }
      started = true;
      var saved = session && conversation ? session.getItem(STORE_KEY + ".log") : null;
      if (saved) {  // a reload: the same conversation, as it was on the screen
        log.innerHTML = saved;
        Array.prototype.forEach.call(log.querySelectorAll("button[data-button]"), function (b) {
          b.addEventListener("click", function () { post({ button: b.getAttribute("data-button") }, b.textContent); });
        });
        log.scrollTop = log.scrollHeight;
      } else if (conversation) {
        post({ button: "menu" }, null);
      } else {
        post({ text: "/start" }, null);
      }
    }
    return { element: chat, input: input, start: start, focus: function () { input.focus(); }, lang: function () { return lang; } };
  }

  global.SocialbotChat = { create: create, ui: ui, pick: pick, direction: direction };

  // The chat page: fill <main id="socialbot-page"> and start.
  function boot() {
    var main = document.getElementById("socialbot-page");
    if (!main) { return; }
    var chat = create({ root: main, api: "", region: main.getAttribute("data-region") || "",
                        lang: main.getAttribute("data-lang") || "",
                        onLang: function (l) {
                          var t = ui(l);
                          document.documentElement.lang = l;
                          document.documentElement.dir = direction(l);
                          document.title = t.page_title;
                          var heading = document.querySelector(".sb-page-title");
                          if (heading && heading.getAttribute("lang") !== l) {
                            heading.textContent = t.page_title; heading.setAttribute("lang", l);
                          }
                        } });
    chat.start();
    chat.focus();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", boot); } else { boot(); }
})(window);
