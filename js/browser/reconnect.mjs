// Reconnecting a browser's WebSocket, politely: an ES module with no dependencies, for any page.
//
//   import { connect } from "./reconnect.mjs";
//   const socket = connect("wss://example.com/ws/feed", {
//     onOpen(ws, { reconnected }) { if (reconnected) ws.send(`resume ${lastSeen}`); },
//     onMessage(event) { lastSeen = handle(event.data); },
//   });
//   // later: socket.close();  // 1000, and no more reconnects
//
// Which endings to retry is decided by the close code (RFC 6455 §7.4.1, and IANA's registry):
//   retry    1001 going away (a server restarting, a tab elsewhere), 1006 the connection broke,
//            1011 the server failed, 1012 service restart, 1013 try again later
//   do not   1000 normal closure (someone meant it), 1008 policy violation (retrying will not
//            make a refused credential valid), 4000–4999 (the application's own: it said why)
//   and anything else (1002, 1003, 1007, 1009…) says the two sides disagree about the protocol
//   or the data: a retry would meet the same fate, so do not either.

// ANCHOR: retry
/** Close codes worth reconnecting after. */
export const RETRY_CODES = new Set([1001, 1006, 1011, 1012, 1013]);

/** Whether a connection that ended with `code` should be opened again. */
export function shouldRetry(code) {
  return RETRY_CODES.has(code);
}

/**
 * How long to wait before attempt number `attempt` (0 for the first retry): "full jitter", a
 * random time between 0 and an exponentially growing cap. The randomness spreads out the
 * clients that a server restart disconnected all at once, so they do not all come back in the
 * same millisecond; the cap keeps a long outage from growing the wait without end.
 */
export function backoff(attempt, { base = 500, cap = 30_000, random = Math.random } = {}) {
  return random() * Math.min(cap, base * 2 ** attempt);
}
// ANCHOR_END: retry

// ANCHOR: connect
/**
 * Opens a WebSocket to `url` and opens it again whenever it ends with a code worth retrying.
 * Options: `onOpen(ws, { attempt, reconnected })` (send a resume message here), `onMessage(event)`,
 * `onClose(event, { retry, delay })`, `onGiveUp(event)`, `protocols`, `base`, `cap`, `random`,
 * `stableAfter` (ms a connection must stay open before the attempts count from 0 again), and
 * `WebSocketImpl` (another WebSocket class, such as `ws`'s in Node).
 * Returns `{ socket(), close(code, reason) }`.
 */
export function connect(url, options = {}) {
  const {
    onOpen = () => {},
    onMessage = () => {},
    onClose = () => {},
    onGiveUp = () => {},
    protocols,
    stableAfter = 10_000,
    WebSocketImpl = globalThis.WebSocket,
  } = options;
  let ws;
  let attempt = 0; // retries since the last stable connection
  let opens = 0; // connections opened so far
  let stopped = false;
  let timer;

  function open() {
    ws = new WebSocketImpl(url, protocols);
    let openedAt;
    ws.addEventListener("open", () => {
      openedAt = Date.now();
      opens += 1;
      onOpen(ws, { attempt, reconnected: opens > 1 });
    });
    ws.addEventListener("message", (event) => onMessage(event));
    ws.addEventListener("close", (event) => {
      // A connection that lasted was a success: the next failure starts the count again. One
      // that a server accepts and closes at once (1013 under load) keeps the count growing.
      if (openedAt !== undefined && Date.now() - openedAt >= stableAfter) attempt = 0;
      const retry = !stopped && shouldRetry(event.code);
      const delay = retry ? backoff(attempt, options) : 0;
      onClose(event, { retry, delay });
      if (!retry) {
        if (!stopped) onGiveUp(event);
        return;
      }
      attempt += 1;
      timer = setTimeout(open, delay);
    });
  }

  open();
  return {
    socket: () => ws,
    close(code = 1000, reason = "") {
      stopped = true;
      clearTimeout(timer);
      ws.close(code, reason);
    },
  };
}
// ANCHOR_END: connect
