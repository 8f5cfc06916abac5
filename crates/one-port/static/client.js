// The browser client of the chapter "One port, the browser, and wss://". Plain JavaScript, no
// build step; the server compiles this file in and serves it at /client.js.
//
// Every element the script touches has an id, and every log line a data-kind, so the real-browser
// test (tests/browser.rs) can drive the page and read it back.
(function () {
  "use strict";

  var STATES = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"];
  var $ = function (id) { return document.getElementById(id); };

  // ws:// next to http://, wss:// next to https://: a page loaded over https may not open a plain
  // ws:// connection (mixed content), so the scheme follows the page's.
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/echo";
  $("url").textContent = url;
  var ws = null;

  function log(kind, text) {
    var item = document.createElement("li");
    item.setAttribute("data-kind", kind);
    item.textContent = text;
    $("log").appendChild(item);
    $("log").scrollTop = $("log").scrollHeight;
  }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join(" ");
  }

  // readyState and bufferedAmount are properties the browser updates by itself; show them after
  // every event and every send.
  function show() {
    var state = ws ? ws.readyState : null;
    $("state").textContent = ws ? state + " " + STATES[state] : "no socket yet";
    $("state").setAttribute("data-ready-state", ws ? String(state) : "");
    var buffered = ws ? ws.bufferedAmount : 0;
    $("buffered").textContent = buffered + " bytes queued by send() and not yet handed to the network";
    $("buffered").setAttribute("data-buffered", String(buffered));
    var open = state === WebSocket.OPEN;
    $("connect").disabled = ws !== null && state !== WebSocket.CLOSED;
    $("disconnect").disabled = !open;
    $("send-text").disabled = !open;
    $("send-binary").disabled = !open;
  }

  // ANCHOR: open
  function connect() {
    ws = new WebSocket(url); // the browser sends the upgrade request, with Origin and cookies
    ws.binaryType = "arraybuffer"; // binary messages as ArrayBuffer, not Blob
    log("event", "new WebSocket(): readyState " + ws.readyState + " CONNECTING, upgrade request sent");
    ws.onopen = function () {
      log("event", "open: the server answered 101 Switching Protocols");
      show();
    };
    ws.onmessage = function (event) {
      if (typeof event.data === "string") {
        log("in", "text " + event.data);
      } else {
        log("in", "binary " + hex(new Uint8Array(event.data)));
      }
      show();
    };
    ws.onerror = function () {
      // On purpose, the event says nothing about why: a page must not learn what a refused
      // connection to another server looked like. The close event follows with the code.
      log("error", "error: the connection failed or was refused");
      show();
    };
    ws.onclose = function (event) {
      log("event", "close: code " + event.code + " reason " + JSON.stringify(event.reason) +
        " wasClean " + event.wasClean);
      $("close-code").textContent = String(event.code);
      $("close-reason").textContent = event.reason;
      $("was-clean").textContent = String(event.wasClean);
      show();
    };
    show();
  }
  // ANCHOR_END: open

  // ANCHOR: send
  function sendText() {
    var text = $("message").value;
    ws.send(text);
    log("out", "text " + text + " (bufferedAmount right after send(): " + ws.bufferedAmount + ")");
    show();
  }

  function sendBinary() {
    var bytes = new TextEncoder().encode($("message").value);
    ws.send(bytes);
    log("out", "binary " + hex(bytes) + " (bufferedAmount right after send(): " + ws.bufferedAmount + ")");
    show();
  }
  // ANCHOR_END: send

  $("connect").addEventListener("click", connect);
  $("disconnect").addEventListener("click", function () {
    // A page may close with 1000 or 3000-4999 only; 1001 "going away" is the browser's to send
    // when the page is left or reloaded, which it does by itself.
    ws.close(1000, "done");
    log("out", "close(1000, \"done\"): readyState " + ws.readyState + " CLOSING");
    show();
  });
  $("send-form").addEventListener("submit", function (event) {
    event.preventDefault();
    sendText();
  });
  $("send-binary").addEventListener("click", sendBinary);

  // ANCHOR: leave
  // Leaving or reloading the page unloads it, and the browser closes the socket with 1001 "going
  // away" by itself. A page that goes into the back/forward cache instead (`persisted`) does not
  // keep its socket either: the browser closes it as the page enters the cache, or keeps such a
  // page out of the cache. This page closes it first, with 1000 (close() may not send 1001), and
  // connects again when it comes back from the cache.
  var reconnect = false;
  window.addEventListener("pagehide", function (event) {
    reconnect = event.persisted && ws !== null && ws.readyState < WebSocket.CLOSING;
    if (reconnect) ws.close(1000, "page hidden");
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && reconnect) {
      reconnect = false;
      log("event", "pageshow: back from the back/forward cache; connecting again");
      connect();
    }
    show();
  });
  // ANCHOR_END: leave
  show();
})();
