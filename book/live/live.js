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

  // The widget speaks the page's language: the Chinese edition's pages are <html lang="zh-CN">.
  // API names (readyState, bufferedAmount, send(), event names) and close codes stay as they are.
  var TEXT = {
    en: {
      needsServer: "This live demo needs the book served by `cargo run` (open http://127.0.0.1:3000/).",
      connect: "Connect",
      close: "Close (1000)",
      notConnected: "not connected",
      hello: "Hello, WebSocket!",
      message: "message",
      sendText: "Send text",
      sendBinary: "Send as binary",
      buffered: function (n) { return "bufferedAmount: " + n + " bytes queued, not yet sent"; },
      opening: function (url) { return "new WebSocket(\"" + url + "\"): the browser sends the upgrade request"; },
      opened: "open: the server answered 101 Switching Protocols",
      text: "text",
      binary: "binary",
      failed: "error: the connection failed (the close event below has the code)",
      closed: function (code, reason) {
        return "close: code " + code + (reason ? " reason " + JSON.stringify(reason) : "");
      },
      clean: " (clean: both close frames were exchanged)",
      noFrame: " (not clean: no close frame arrived)",
      unfinished: " (not clean: the close handshake did not finish)",
      sentClose: "→ close 1000 \"done\"",
      afterSend: function (n) { return " (bufferedAmount right after send(): " + n + ")"; },
      back: "pageshow: back from the back/forward cache; connecting again",
    },
    zh: {
      needsServer: "这个在线演示需要用 `cargo run` 打开本书（http://127.0.0.1:3000/）。",
      connect: "连接",
      close: "关闭（1000）",
      notConnected: "未连接",
      hello: "你好，WebSocket！",
      message: "消息",
      sendText: "发送文本",
      sendBinary: "以二进制发送",
      buffered: function (n) { return "bufferedAmount：" + n + " 字节已排队，尚未发出"; },
      opening: function (url) { return "new WebSocket(\"" + url + "\")：浏览器发出升级请求"; },
      opened: "open：服务器回应了 101 Switching Protocols",
      text: "文本",
      binary: "二进制",
      failed: "error：连接失败（关闭码见下面的 close 事件）",
      closed: function (code, reason) {
        return "close：关闭码 " + code + (reason ? "，原因 " + JSON.stringify(reason) : "");
      },
      clean: "（干净关闭：双方都交换了关闭帧）",
      noFrame: "（非干净关闭：没有收到关闭帧）",
      unfinished: "（非干净关闭：关闭握手没有完成）",
      sentClose: "→ 关闭 1000 \"done\"",
      afterSend: function (n) { return "（send() 刚返回时的 bufferedAmount：" + n + "）"; },
      back: "pageshow：页面从往返缓存（bfcache）回来了，重新连接",
    },
  };
  var T = TEXT[/^zh\b/i.test(document.documentElement.lang || "") ? "zh" : "en"];

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
      root.appendChild(el("p", { class: "duplex-note" }, T.needsServer));
      return;
    }
    var url = socketUrl(path);
    var ws = null;

    var bar = el("div", { class: "duplex-bar" });
    var connect = el("button", { type: "button", "data-action": "connect" }, T.connect);
    var close = el("button", { type: "button", "data-action": "close", disabled: "" }, T.close);
    var state = el("span", { class: "duplex-state", "data-role": "state" }, T.notConnected);
    bar.append(connect, close, el("code", {}, url), state);

    var form = el("form", { class: "duplex-bar" });
    var input = el("input", { type: "text", value: T.hello, "aria-label": T.message, "data-role": "message" });
    var sendText = el("button", { type: "submit", "data-action": "send-text", disabled: "" }, T.sendText);
    var sendBinary = el("button", { type: "button", "data-action": "send-binary", disabled: "" }, T.sendBinary);
    form.append(input, sendText, sendBinary);

    var info = el("div", { class: "duplex-info" });
    var buffered = el("span", { "data-role": "buffered" }, T.buffered(0));
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
      state.textContent = ws ? "readyState: " + STATES[ws.readyState] : T.notConnected;
      connect.disabled = !!ws && ws.readyState < WebSocket.CLOSING;
      close.disabled = sendText.disabled = sendBinary.disabled = !open;
      buffered.textContent = T.buffered(ws ? ws.bufferedAmount : 0);
    }

    function open() {
      ws = new WebSocket(url);
      // Binary messages arrive as ArrayBuffer rather than Blob, so they can be shown at once.
      ws.binaryType = "arraybuffer";
      line("event", T.opening(url));
      ws.onopen = function () { line("event", T.opened); show(); };
      ws.onmessage = function (event) {
        if (typeof event.data === "string") {
          line("in", "← " + T.text + " " + JSON.stringify(event.data));
        } else {
          line("in", "← " + T.binary + " " + hex(new Uint8Array(event.data)));
        }
        show();
      };
      ws.onerror = function () {
        // The browser hides the reason on purpose (a page must not learn why a connection to
        // another host failed); the close event that follows carries the code.
        line("error", T.failed);
      };
      ws.onclose = function (event) {
        line("event", T.closed(event.code, event.reason) +
          (event.wasClean ? T.clean : event.code === 1006 ? T.noFrame : T.unfinished));
        show();
      };
      show();
    }
    connect.addEventListener("click", open);

    close.addEventListener("click", function () {
      ws.close(1000, "done");
      line("out", T.sentClose);
      show();
    });

    // bufferedAmount right after send() includes the message just queued (WHATWG WebSockets
    // Standard, send()); it falls back once the browser has handed the bytes to the network.
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ws.send(input.value);
      line("out", "→ " + T.text + " " + JSON.stringify(input.value) + T.afterSend(ws.bufferedAmount));
      show();
    });

    sendBinary.addEventListener("click", function () {
      var bytes = new TextEncoder().encode(input.value);
      ws.send(bytes);
      line("out", "→ " + T.binary + " " + hex(bytes) + T.afterSend(ws.bufferedAmount));
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
        line("event", T.back);
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
