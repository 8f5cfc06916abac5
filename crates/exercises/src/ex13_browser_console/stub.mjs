// # Exercise 13: in the browser, readyState, bufferedAmount and close
//
// Chapter: *Your own stack: koa and ws*. About 20 minutes.
//
// The browser's WebSocket has three surprises that every page runs into. `send()` throws while
// the socket is still CONNECTING, and silently drops the data once it is CLOSING or CLOSED.
// `send()` never waits: it queues, and `bufferedAmount` counts what is queued and not yet sent.
// And `close(code, reason)` takes only 1000 or 3000–4999, and a reason of at most 123 bytes in
// UTF-8, or it throws. Write the three helpers a page needs for them.
//
// This is the file you edit: replace each `throw new Error("exercise 13: …")` with your code,
// then run `just exercise 13`. The tests load this file in headless Chromium and run it against
// a small server; they are in crates/exercises/tests/ex13_browser_console.rs. To try it by hand:
//   node js/exercises/console-server.mjs --exercise crates/exercises/src/ex13_browser_console/stub.mjs
// then open http://127.0.0.1:3013/ and the developer console, where this module is `exercise`.

/** `ws.readyState`'s four values (WebSockets Standard). */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

/**
 * Sends `data` on `ws` as soon as it can: at once if the socket is OPEN, and when its `open`
 * event fires if it is still CONNECTING (no InvalidStateError). A socket that is CLOSING or
 * CLOSED can never send, and `ws.send()` would drop the data without a word: throw an Error
 * instead, whose message says the readyState, e.g. "cannot send: readyState 3 (CLOSED)".
 */
export function sendWhenOpen(ws, data) {
  throw new Error("exercise 13: send now, send on open, or throw, by ws.readyState");
}

/**
 * Resolves once `ws.bufferedAmount` is at or below `limit`: at once if it already is, and
 * otherwise after looking again every 10 ms (the API has no event for this).
 */
export function drained(ws, limit) {
  throw new Error("exercise 13: a Promise that resolves when bufferedAmount <= limit");
}

/**
 * Closes `ws` with the application's own code 4000 ("leaving") and `reason`, cut to the 123
 * bytes a close reason may have in UTF-8, without cutting a character in half (an "é" is two
 * bytes: 100 of them become 61). `ws.close()` would throw a SyntaxError on a longer reason.
 */
export function leave(ws, reason) {
  throw new Error("exercise 13: close with 4000 and the reason, cut to 123 bytes of UTF-8");
}
