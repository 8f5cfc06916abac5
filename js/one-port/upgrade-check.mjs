// koa and ws on one port, done right: ws takes no part in the server (`noServer: true`), and our
// own 'upgrade' handler checks what koa's middleware would have checked, plus Origin, before it
// lets ws answer 101. A refusal is a whole HTTP response written on the raw socket.
//
//   node js/one-port/upgrade-check.mjs --port 3005
//   open http://127.0.0.1:3005/, sign in, connect: "hello, NAME"
//
// The checks, in order, each with its status:
//   a path with no WebSocket          404
//   a page from another origin        403  (RFC 6455 §10.2: Cross-Site WebSocket Hijacking)
//   no valid session                  401  with a WWW-Authenticate challenge (RFC 9110 §11.6.1)
//   a broken handshake                400, 405 or 426: ws's handleUpgrade checks these itself

// ANCHOR: imports
import { createServer, STATUS_CODES } from "node:http";
import { WebSocketServer } from "ws";
import { refuseUpgrade } from "../lib/refuse.mjs";
import { listen, log, options } from "../lib/serve.mjs";
import { WS_PATH, createApp, greetAndEcho } from "./app.mjs";
import { REALM, Sessions, userOf } from "./sessions.mjs";
// ANCHOR_END: imports

const args = options(3005, {
  session: { type: "string", multiple: true },
  now: { type: "string" },
  "allow-origin": { type: "string", multiple: true },
}, `
upgrade-check: koa + ws on one port, with the upgrade checked (Origin, then the session)
  --port PORT          port to listen on, 0 for any free port (default 3005, or $PORT)
  --host HOST          address to listen on (default 127.0.0.1)
  --session T=USER     a signed-in session with token T (repeatable)
  --now SECONDS        a fixed time for /api/time (tests use it)
  --allow-origin URL   another page origin allowed to connect (repeatable); this server's own
                       origins (http://127.0.0.1:PORT, http://localhost:PORT) always are
`);
// ANCHOR: server
/** Largest message accepted: 64 KiB, as the Rust servers (ws's own default is 100 MiB). */
export const MAX_PAYLOAD = 64 * 1024;

const sessions = Sessions.from(args.session); // signed-in users: token → name (POST /login adds)
const now = args.now === undefined ? undefined : () => Number(args.now); // tests fix the clock
const app = createApp({ sessions, now }); // koa, with its logger and session middleware
const server = createServer(app.callback()); // koa answers the 'request' events
const allowedOrigins = new Set(args["allow-origin"] ?? []); // and the server's own, once listening
// ANCHOR_END: server

// ANCHOR: upgrade
const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });

server.on("upgrade", (request, socket, head) => {
  // Until ws owns the socket, its errors (a client that resets) are ours to catch: an 'error'
  // event with no listener would end the process.
  socket.on("error", onSocketError);
  const { pathname } = new URL(request.url, "http://placeholder");
  const refuse = (status, message, headers) => {
    log("upgrade", `${request.method} ${pathname} → ${status} ${STATUS_CODES[status]}: ${message}`);
    refuseUpgrade(socket, status, message, headers);
  };
  if (pathname !== WS_PATH) return refuse(404, `nothing at ${pathname}`);
  // A browser always says which page opened the socket; a program sends no Origin.
  const origin = request.headers.origin;
  if (origin !== undefined && !allowedOrigins.has(origin)) {
    return refuse(
      403,
      `a page from ${origin} may not open a WebSocket here: its origin is not on this server's ` +
        "allow-list (Cross-Site WebSocket Hijacking, RFC 6455 §10.2)",
    );
  }
  // The same function koa's session middleware calls.
  const { user, refusal } = userOf(sessions, request.headers);
  if (user === undefined) return refuse(401, refusal, { "WWW-Authenticate": `Bearer realm="${REALM}"` });
  socket.off("error", onSocketError);
  // ws checks the handshake itself (method, Upgrade, key, version) and answers 101, or 400/426.
  wss.handleUpgrade(request, socket, head, (ws) => {
    log("upgrade", `${request.method} ${pathname} → 101 for ${user}; no middleware saw this request`);
    wss.emit("connection", ws, request, user);
  });
});

wss.on("connection", (ws, request, user) => greetAndEcho(ws, user));

function onSocketError(error) {
  log("upgrade", `the socket failed before the upgrade: ${error.message}`);
}
// ANCHOR_END: upgrade

const port = await listen(server, args);
// Pages served by this very server may connect, under every name a browser shows for loopback.
for (const host of ["127.0.0.1", "localhost", "[::1]"]) allowedOrigins.add(`http://${host}:${port}`);
