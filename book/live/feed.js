// The request–response chapter's live widget: one feed received three ways, side by side.
//
//   <div class="duplex-feed" data-prefix="/feed"></div>
//
// Short polling asks `GET /feed/messages?since=N` every second; Server-Sent Events opens one
// `EventSource("/feed/events")`; WebSocket opens one `new WebSocket("ws://…/feed/ws")`.
//
// Every column counts the same things, so that they can be compared: the requests it made, the
// messages it received, and the bytes of those messages' text (UTF-8), whichever way they came.
// What each way costs around the text (JSON, `id:`/`data:` lines, chunk sizes, frame headers,
// and the HTTP heads, which JavaScript never sees) is not counted here: the Tap and the
// chapter's measured table show it. Polling also counts its answers with nothing new.
//
// Ids are positions in one instance of the feed (`Feed-Instance`): a restarted server starts
// again at 1. A column that sees another instance forgets its last id and starts again from 0.
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function bytes(text) { return new TextEncoder().encode(text).length; }

  // The widget speaks the page's language: the Chinese edition's pages are <html lang="zh-CN">.
  var TEXT = {
    en: {
      needsServer: "This live demo needs the book served by `cargo run` (open http://127.0.0.1:3000/).",
      start: "Start receiving",
      stop: "Stop",
      hello: "Hello, feed!",
      message: "message",
      publish: "Publish (POST)",
      short: "Short polling",
      sse: "Server-Sent Events",
      ws: "WebSocket",
      shortWhat: function (prefix) { return "GET " + prefix + "/messages?since=N every second"; },
      sseWhat: function (prefix) { return "one EventSource(\"" + prefix + "/events\")"; },
      wsWhat: function (prefix) { return "one new WebSocket(\"…" + prefix + "/ws\")"; },
      counters: function (s) {
        return "requests: " + s.requests + " · messages: " + s.messages + " · bytes of message text: " + s.textBytes +
          (s.empty === null ? "" : " · answers with nothing new: " + s.empty) + " · " + s.status;
      },
      restarted: function (instance) { return "the feed restarted (instance " + instance + "): ids count from 1 again"; },
      stopped: "stopped",
      polling: "polling",
      error: function (e) { return "error: " + e; },
      connecting: "connecting",
      open: "open",
      reconnecting: "reconnecting",
      closed: "closed",
      closedWith: function (code) { return "closed (" + code + ")"; },
    },
    zh: {
      needsServer: "这个在线演示需要用 `cargo run` 打开本书（http://127.0.0.1:3000/）。",
      start: "开始接收",
      stop: "停止",
      hello: "你好，消息流！",
      message: "消息",
      publish: "发布（POST）",
      short: "短轮询",
      sse: "服务器发送事件",
      ws: "WebSocket",
      shortWhat: function (prefix) { return "每秒一次 GET " + prefix + "/messages?since=N"; },
      sseWhat: function (prefix) { return "一个 EventSource(\"" + prefix + "/events\")"; },
      wsWhat: function (prefix) { return "一个 new WebSocket(\"…" + prefix + "/ws\")"; },
      counters: function (s) {
        return "请求：" + s.requests + " · 消息：" + s.messages + " · 消息文本字节数：" + s.textBytes +
          (s.empty === null ? "" : " · 没有新消息的回答：" + s.empty) + " · " + s.status;
      },
      restarted: function (instance) { return "消息流重启了（实例 " + instance + "）：id 重新从 1 开始计数"; },
      stopped: "已停止",
      polling: "轮询中",
      error: function (e) { return "出错：" + e; },
      connecting: "连接中",
      open: "已打开",
      reconnecting: "重新连接中",
      closed: "已关闭",
      closedWith: function (code) { return "已关闭（" + code + "）"; },
    },
  };
  var T = TEXT[/^zh\b/i.test(document.documentElement.lang || "") ? "zh" : "en"];

  // `mode` names the column for scripts and tests (data-mode), `title` is what the reader sees.
  function column(root, mode, title, what) {
    var box = el("div", { class: "duplex-feed-mode", "data-mode": mode });
    var counters = el("div", { class: "duplex-info" });
    var log = el("ol", { class: "duplex-log" });
    box.append(el("h4", {}, title), el("p", { class: "duplex-note" }, what), counters, log);
    root.appendChild(box);
    var state = { requests: 0, messages: 0, textBytes: 0, empty: null, last: 0, instance: null, status: T.stopped };
    function show() {
      counters.textContent = T.counters(state);
    }
    function line(cls, text) {
      log.appendChild(el("li", { class: cls }, text));
      log.scrollTop = log.scrollHeight;
    }
    function got(message) {
      // A message seen already (after a reconnection, say) is not counted twice.
      if (message.id <= state.last) return;
      state.last = message.id;
      state.messages += 1;
      state.textBytes += bytes(message.text);
      line("duplex-in", "#" + message.id + " " + message.text);
    }
    // The feed's instance, as the server stated it. True when it differs from the one seen
    // before: the server has restarted, its ids count from 1 again, and the last id this column
    // remembers means nothing there.
    function restarted(instance) {
      if (instance === null || instance === undefined || instance === state.instance) return false;
      var before = state.instance;
      state.instance = instance;
      if (before === null) return false;
      state.last = 0;
      line("duplex-note", T.restarted(instance));
      return true;
    }
    show();
    return { state: state, show: show, got: got, restarted: restarted };
  }

  function feedWidget(root) {
    var prefix = root.getAttribute("data-prefix") || "/feed";
    if (location.protocol !== "http:" && location.protocol !== "https:") {
      root.appendChild(el("p", { class: "duplex-note" }, T.needsServer));
      return;
    }
    var bar = el("div", { class: "duplex-bar" });
    var start = el("button", { type: "button", "data-action": "start" }, T.start);
    var stop = el("button", { type: "button", "data-action": "stop", disabled: "" }, T.stop);
    var input = el("input", { type: "text", value: T.hello, "aria-label": T.message, "data-role": "message" });
    var publish = el("button", { type: "button", "data-action": "publish" }, T.publish);
    bar.append(start, stop, input, publish);
    var grid = el("div", { class: "duplex-feed-grid" });
    root.append(bar, grid);

    var poll = column(grid, "Short polling", T.short, T.shortWhat(prefix));
    var sse = column(grid, "Server-Sent Events", T.sse, T.sseWhat(prefix));
    var ws = column(grid, "WebSocket", T.ws, T.wsWhat(prefix));

    var timer = null, source = null, socket = null;

    poll.state.empty = 0;

    function pollOnce() {
      poll.state.requests += 1;
      poll.show();
      fetch(prefix + "/messages?since=" + poll.state.last, { cache: "no-store" })
        .then(function (r) {
          var instance = r.headers.get("Feed-Instance");
          return r.json().then(function (messages) { return { instance: instance, messages: messages }; });
        })
        .then(function (answer) {
          poll.state.status = T.polling;
          if (poll.restarted(answer.instance)) {
            // This answer is what is newer than an id of the old instance: ask again from 0.
            poll.show();
            pollOnce();
            return;
          }
          if (answer.messages.length === 0) poll.state.empty += 1;
          answer.messages.forEach(poll.got);
          poll.show();
        })
        .catch(function (e) { poll.state.status = T.error(e); poll.show(); });
    }

    function openSse() {
      // On reconnection the browser sends Last-Event-ID by itself; the first request starts
      // from the beginning of the feed's history.
      var es = new EventSource(prefix + "/events?since=0");
      source = es;
      sse.state.requests += 1;
      sse.state.status = T.connecting;
      es.onopen = function () { sse.state.status = T.open; sse.show(); };
      // The stream's first event names the feed's instance (EventSource cannot read headers).
      es.addEventListener("instance", function (event) {
        if (sse.restarted(event.data)) {
          // The browser resumed with a Last-Event-ID of the old instance, so this stream starts
          // after it. A new EventSource sends no Last-Event-ID: it starts from 0.
          es.close();
          openSse();
        }
      });
      es.onmessage = function (event) {
        sse.got({ id: Number(event.lastEventId), text: event.data });
        sse.show();
      };
      es.onerror = function () {
        // EventSource reconnects by itself after `retry` ms; count each attempt.
        sse.state.status = es.readyState === EventSource.CONNECTING ? T.reconnecting : T.closed;
        if (es.readyState === EventSource.CONNECTING) sse.state.requests += 1;
        sse.show();
      };
      sse.show();
    }

    function openWs() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + prefix + "/ws?since=0");
      ws.state.requests += 1;
      ws.state.status = T.connecting;
      socket.onopen = function () { ws.state.status = T.open; ws.show(); };
      socket.onmessage = function (event) {
        ws.got(JSON.parse(event.data));
        ws.show();
      };
      socket.onclose = function (event) { ws.state.status = T.closedWith(event.code); ws.show(); };
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
      [poll, sse, ws].forEach(function (c) { c.state.status = T.stopped; c.show(); });
    });

    publish.addEventListener("click", function () {
      fetch(prefix + "/messages", { method: "POST", headers: { "Content-Type": "text/plain" }, body: input.value });
    });

    // Leaving the page unloads it: the browser ends the event stream and closes the WebSocket with
    // 1001 by itself (a page may not send 1001: close() takes 1000 or 3000-4999). A page that goes
    // into the back/forward cache instead (`persisted`) stops receiving, as the Stop button does,
    // and starts again when it comes back from the cache.
    var resume = false;
    window.addEventListener("pagehide", function (event) {
      resume = event.persisted && !stop.disabled;
      if (resume) stop.click();
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && resume) {
        resume = false;
        start.click();
      }
    });
  }

  function start() { document.querySelectorAll(".duplex-feed").forEach(feedWidget); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
