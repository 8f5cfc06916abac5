// The request–response chapter's live widget: one feed received three ways, side by side.
//
//   <div class="duplex-feed" data-prefix="/feed"></div>
//
// Short polling asks `GET /feed/messages?since=N` every second; Server-Sent Events opens one
// `EventSource("/feed/events")`; WebSocket opens one `new WebSocket("ws://…/feed/ws")`. Each
// column counts the requests it made and the bytes of data it received. (A page cannot see the
// HTTP heads its requests cost; the Tap can: see the chapter.)
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function bytes(text) { return new TextEncoder().encode(text).length; }

  function column(root, title, what) {
    var box = el("div", { class: "duplex-feed-mode", "data-mode": title });
    var counters = el("div", { class: "duplex-info" });
    var log = el("ol", { class: "duplex-log" });
    box.append(el("h4", {}, title), el("p", { class: "duplex-note" }, what), counters, log);
    root.appendChild(box);
    var state = { requests: 0, bytes: 0, messages: 0, last: 0, status: "stopped" };
    function show() {
      counters.textContent = "requests: " + state.requests + " · data bytes received: " + state.bytes +
        " · messages: " + state.messages + " · " + state.status;
    }
    function got(message) {
      if (message.id <= state.last) return;
      state.last = message.id;
      state.messages += 1;
      var item = el("li", { class: "duplex-in" }, "#" + message.id + " " + message.text);
      log.appendChild(item);
      log.scrollTop = log.scrollHeight;
    }
    show();
    return { state: state, show: show, got: got };
  }

  function feedWidget(root) {
    var prefix = root.getAttribute("data-prefix") || "/feed";
    if (location.protocol !== "http:" && location.protocol !== "https:") {
      root.appendChild(el("p", { class: "duplex-note" },
        "This live demo needs the book served by `cargo run` (open http://127.0.0.1:3000/)."));
      return;
    }
    var bar = el("div", { class: "duplex-bar" });
    var start = el("button", { type: "button", "data-action": "start" }, "Start receiving");
    var stop = el("button", { type: "button", "data-action": "stop", disabled: "" }, "Stop");
    var input = el("input", { type: "text", value: "Hello, feed!", "aria-label": "message", "data-role": "message" });
    var publish = el("button", { type: "button", "data-action": "publish" }, "Publish (POST)");
    bar.append(start, stop, input, publish);
    var grid = el("div", { class: "duplex-feed-grid" });
    root.append(bar, grid);

    var poll = column(grid, "Short polling", "GET " + prefix + "/messages?since=N every second");
    var sse = column(grid, "Server-Sent Events", "one EventSource(\"" + prefix + "/events\")");
    var ws = column(grid, "WebSocket", "one new WebSocket(\"…" + prefix + "/ws\")");

    var timer = null, source = null, socket = null;

    function pollOnce() {
      poll.state.requests += 1;
      poll.show();
      fetch(prefix + "/messages?since=" + poll.state.last, { cache: "no-store" })
        .then(function (r) { return r.text(); })
        .then(function (text) {
          poll.state.bytes += bytes(text);
          JSON.parse(text).forEach(poll.got);
          poll.state.status = "polling";
          poll.show();
        })
        .catch(function (e) { poll.state.status = "error: " + e; poll.show(); });
    }

    function openSse() {
      // On reconnection the browser sends Last-Event-ID by itself; the first request starts
      // from the beginning of the feed's history.
      source = new EventSource(prefix + "/events?since=0");
      sse.state.requests += 1;
      sse.state.status = "connecting";
      source.onopen = function () { sse.state.status = "open"; sse.show(); };
      source.onmessage = function (event) {
        sse.state.bytes += bytes(event.data);
        sse.got({ id: Number(event.lastEventId), text: event.data });
        sse.show();
      };
      source.onerror = function () {
        // EventSource reconnects by itself after `retry` ms; count each attempt.
        sse.state.status = source.readyState === EventSource.CONNECTING ? "reconnecting" : "closed";
        if (source.readyState === EventSource.CONNECTING) sse.state.requests += 1;
        sse.show();
      };
      sse.show();
    }

    function openWs() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + prefix + "/ws?since=0");
      ws.state.requests += 1;
      ws.state.status = "connecting";
      socket.onopen = function () { ws.state.status = "open"; ws.show(); };
      socket.onmessage = function (event) {
        ws.state.bytes += bytes(event.data);
        ws.got(JSON.parse(event.data));
        ws.show();
      };
      socket.onclose = function (event) { ws.state.status = "closed (" + event.code + ")"; ws.show(); };
      ws.show();
    }

    start.addEventListener("click", function () {
      start.disabled = true;
      stop.disabled = false;
      pollOnce();
      timer = setInterval(pollOnce, 1000);
      openSse();
      openWs();
    });

    stop.addEventListener("click", function () {
      start.disabled = false;
      stop.disabled = true;
      clearInterval(timer);
      if (source) source.close();
      if (socket) socket.close(1000, "stopped");
      [poll, sse, ws].forEach(function (c) { c.state.status = "stopped"; c.show(); });
    });

    publish.addEventListener("click", function () {
      fetch(prefix + "/messages", { method: "POST", headers: { "Content-Type": "text/plain" }, body: input.value });
    });

    window.addEventListener("pagehide", function () {
      if (source) source.close();
      if (socket) socket.close(1001, "page closed");
    });
  }

  function start() { document.querySelectorAll(".duplex-feed").forEach(feedWidget); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
