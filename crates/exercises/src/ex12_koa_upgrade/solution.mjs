// # Exercise 12: the koa upgrade check (a solution)
//
// The handler of js/one-port/upgrade-check.mjs, which the book shows on "The upgrade check":
// the path, then Origin, then the session, each refused with a whole HTTP response, and only
// then ws's handleUpgrade.

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
    // Until ws owns the socket, its errors (a client that resets) are ours: an 'error' event
    // with no listener would end the process.
    socket.on("error", () => {});
    const { pathname } = new URL(request.url, "http://placeholder");
    if (pathname !== WS_PATH) {
      return refuseUpgrade(socket, 404, `nothing at ${pathname}`);
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin)) {
      return refuseUpgrade(socket, 403, `a page from ${origin} may not open a WebSocket here`);
    }
    const { user, refusal } = userOf(sessions, request.headers);
    if (user === undefined) {
      return refuseUpgrade(socket, 401, refusal, { "WWW-Authenticate": `Bearer realm="${REALM}"` });
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      wss.emit("connection", ws, request, user);
    });
  };
}
