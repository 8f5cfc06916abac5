// Live demos for the Duplex book. Plain JavaScript, no build step.
//
// A page asks for a demo with an empty element, for example
//   <div class="duplex-echo" data-path="/ws/echo"></div>
// and this script fills it in. The demos need the book to be served by `cargo run`, which
// answers WebSockets on the same port as the pages; opened from a file or another host, each
// demo says so instead of failing silently.
(function () {
  "use strict";

  // The WebSocket URL for a path on the server that served this page: ws:// next to http://,
  // wss:// next to https:// (a page loaded over https may not open a plain ws://).
  function socketUrl(path) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + path;
  }

  var STATES = ["CONNECTING (0)", "OPEN (1)", "CLOSING (2)", "CLOSED (3)"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join(" ");
  }

  function echoWidget(root) {
    var path = root.getAttribute("data-path") || "/ws/echo";
    if (location.protocol !== "http:" && location.protocol !== "https:") {
      root.appendChild(el("p", { class: "duplex-note" },
        "This live demo needs the book served by `cargo run` (open http://127.0.0.1:3000/)."));
      return;
    }
    var url = socketUrl(path);
    var ws = null;

    var bar = el("div", { class: "duplex-bar" });
    var connect = el("button", { type: "button", "data-action": "connect" }, "Connect");
    var close = el("button", { type: "button", "data-action": "close", disabled: "" }, "Close (1000)");
    var state = el("span", { class: "duplex-state", "data-role": "state" }, "not connected");
    bar.append(connect, close, el("code", {}, url), state);

    var form = el("form", { class: "duplex-bar" });
    var input = el("input", { type: "text", value: "Hello, WebSocket!", "aria-label": "message", "data-role": "message" });
    var sendText = el("button", { type: "submit", "data-action": "send-text", disabled: "" }, "Send text");
    var sendBinary = el("button", { type: "button", "data-action": "send-binary", disabled: "" }, "Send as binary");
    form.append(input, sendText, sendBinary);

    var info = el("div", { class: "duplex-info" });
    var buffered = el("span", { "data-role": "buffered" }, "bufferedAmount: 0");
    info.append(buffered);

    var log = el("ol", { class: "duplex-log", "data-role": "log" });
    root.append(bar, form, info, log);

    function line(kind, text) {
      var item = el("li", { class: "duplex-" + kind, "data-kind": kind }, text);
      log.appendChild(item);
      log.scrollTop = log.scrollHeight;
    }

    function show() {
      var open = ws && ws.readyState === WebSocket.OPEN;
      state.textContent = ws ? "readyState: " + STATES[ws.readyState] : "not connected";
      connect.disabled = !!ws && ws.readyState < WebSocket.CLOSING;
      close.disabled = sendText.disabled = sendBinary.disabled = !open;
      buffered.textContent = "bufferedAmount: " + (ws ? ws.bufferedAmount : 0) + " bytes queued, not yet sent";
    }

    function open() {
      ws = new WebSocket(url);
      // Binary messages arrive as ArrayBuffer rather than Blob, so they can be shown at once.
      ws.binaryType = "arraybuffer";
      line("event", "new WebSocket(\"" + url + "\"): the browser sends the upgrade request");
      ws.onopen = function () { line("event", "open: the server answered 101 Switching Protocols"); show(); };
      ws.onmessage = function (event) {
        if (typeof event.data === "string") {
          line("in", "← text " + JSON.stringify(event.data));
        } else {
          line("in", "← binary " + hex(new Uint8Array(event.data)));
        }
        show();
      };
      ws.onerror = function () {
        // The browser hides the reason on purpose (a page must not learn why a connection to
        // another host failed); the close event that follows carries the code.
        line("error", "error: the connection failed (the close event below has the code)");
      };
      ws.onclose = function (event) {
        line("event", "close: code " + event.code + (event.reason ? " reason " + JSON.stringify(event.reason) : "") +
          (event.wasClean ? " (clean: both close frames were exchanged)" :
            event.code === 1006 ? " (not clean: no close frame arrived)" : " (not clean: the close handshake did not finish)"));
        show();
      };
      show();
    }
    connect.addEventListener("click", open);

    close.addEventListener("click", function () {
      ws.close(1000, "done");
      line("out", "→ close 1000 \"done\"");
      show();
    });

    // bufferedAmount right after send() includes the message just queued (WHATWG WebSockets
    // Standard, send()); it falls back once the browser has handed the bytes to the network.
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ws.send(input.value);
      line("out", "→ text " + JSON.stringify(input.value) + " (bufferedAmount right after send(): " + ws.bufferedAmount + ")");
      show();
    });

    sendBinary.addEventListener("click", function () {
      var bytes = new TextEncoder().encode(input.value);
      ws.send(bytes);
      line("out", "→ binary " + hex(bytes) + " (bufferedAmount right after send(): " + ws.bufferedAmount + ")");
      show();
    });

    // Leaving or reloading the page unloads it, and the browser closes the socket with 1001
    // "going away" by itself; a page may not send 1001 (close() takes 1000 or 3000-4999). A page
    // that goes into the back/forward cache instead (`persisted`) does not keep its socket either:
    // the browser closes it on the way in, or keeps such a page out of the cache. This widget
    // closes it first, with 1000, and connects again when the page comes back from the cache.
    var reconnect = false;
    window.addEventListener("pagehide", function (event) {
      reconnect = event.persisted && !!ws && ws.readyState < WebSocket.CLOSING;
      if (reconnect) ws.close(1000, "page hidden");
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && reconnect) {
        reconnect = false;
        line("event", "pageshow: back from the back/forward cache; connecting again");
        open();
      }
    });
    show();
  }

  function start() {
    document.querySelectorAll(".duplex-echo").forEach(echoWidget);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
