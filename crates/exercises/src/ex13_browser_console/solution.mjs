// # Exercise 13: in the browser, readyState, bufferedAmount and close (a solution)

/** `ws.readyState`'s four values (WebSockets Standard). */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

const NAMES = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"];

/**
 * Sends `data` on `ws` as soon as it can: at once if the socket is OPEN, and when its `open`
 * event fires if it is still CONNECTING (no InvalidStateError). A socket that is CLOSING or
 * CLOSED can never send, and `ws.send()` would drop the data without a word: throw an Error
 * instead, whose message says the readyState, e.g. "cannot send: readyState 3 (CLOSED)".
 */
export function sendWhenOpen(ws, data) {
  if (ws.readyState === OPEN) {
    ws.send(data);
  } else if (ws.readyState === CONNECTING) {
    ws.addEventListener("open", () => ws.send(data), { once: true });
  } else {
    throw new Error(`cannot send: readyState ${ws.readyState} (${NAMES[ws.readyState]})`);
  }
}

/**
 * Resolves once `ws.bufferedAmount` is at or below `limit`: at once if it already is, and
 * otherwise after looking again every 10 ms (the API has no event for this).
 */
export async function drained(ws, limit) {
  while (ws.bufferedAmount > limit) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Closes `ws` with the application's own code 4000 ("leaving") and `reason`, cut to the 123
 * bytes a close reason may have in UTF-8, without cutting a character in half (an "é" is two
 * bytes: 100 of them become 61). `ws.close()` would throw a SyntaxError on a longer reason.
 */
export function leave(ws, reason) {
  const encoder = new TextEncoder();
  let cut = "";
  for (const character of reason) {
    // `for … of` walks whole characters (code points), never half of one.
    if (encoder.encode(cut + character).length > 123) break;
    cut += character;
  }
  ws.close(4000, cut);
}
