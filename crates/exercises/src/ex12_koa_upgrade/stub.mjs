// # Exercise 12: the koa upgrade check
//
// Chapter: *Your own stack: koa and ws*. About 20 minutes.
//
// A koa app and ws share one http.Server. An upgrade request fires the server's 'upgrade' event
// instead of 'request', so koa's middleware never sees it: not the logger, not the session
// check. Whatever the middleware guarantees, the 'upgrade' handler has to check itself, before
// ws answers 101.
//
// This file is that handler. As you find it, it does what `new WebSocketServer({ server })`
// does for you: it lets every upgrade in. Make it check, in this order:
//
//   1. the path: only /ws/echo has a WebSocket (404 for any other);
//   2. Origin: a page whose origin is not in `allowedOrigins` gets 403, whatever cookie came
//      with it (Cross-Site WebSocket Hijacking). No Origin at all means a program, not a page:
//      let it go on to the next check;
//   3. the session: `userOf(sessions, request.headers)` gives `{ user }`, or `{ refusal }` with
//      the reason; no user gets 401, with the header `WWW-Authenticate: Bearer realm="one-port"`
//      (REALM is "one-port").
//
// Refuse with `refuseUpgrade(socket, status, message, headers)`: it writes a whole HTTP response
// on the raw socket and closes it. Only then hand the socket to ws, and pass the user along:
// `wss.emit("connection", ws, request, user)` (the server greets the user by name).
//
// This is the file you edit; run the tests with `just exercise 12`. They start it inside a koa
// + ws server (js/exercises/upgrade-server.mjs) and send it requests; they are in
// crates/exercises/tests/ex12_koa_upgrade.rs.

import { refuseUpgrade } from "../../../../js/lib/refuse.mjs";
import { REALM, userOf } from "../../../../js/one-port/sessions.mjs";

/** The one path with a WebSocket. */
export const WS_PATH = "/ws/echo";

/**
 * Returns the server's 'upgrade' listener: `server.on("upgrade", upgradeHandler({ … }))`.
 *
 * - `wss`: ws's WebSocketServer, made with `noServer: true`;
 * - `sessions`: the signed-in sessions, the same that koa's session middleware reads;
 * - `allowedOrigins`: a Set of the page origins allowed to connect (`http://127.0.0.1:3012`…).
 */
export function upgradeHandler({ wss, sessions, allowedOrigins }) {
  return (request, socket, head) => {
    // Exercise 12: check the path, Origin and the session first (see the top of the file).
    wss.handleUpgrade(request, socket, head, (ws) => {
      wss.emit("connection", ws, request);
    });
  };
}
