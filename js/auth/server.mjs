// Authenticating a WebSocket when the browser cannot set headers. `new WebSocket(url)` sends no
// `Authorization` header and offers no way to add one (whatwg/html#3062), so a page's WebSocket
// proves who it is in one of three ways, each on its own path here:
//
//   /ws/cookie          the session cookie, which the browser adds by itself, and an Origin
//                       check, since the cookie comes along whichever page opened the socket
//   /ws/ticket?ticket=  a one-time ticket: the page fetches it over HTTP (POST /api/ticket,
//                       with its cookie), then puts it in the URL; single use, short-lived
//   /ws/first-message   no credentials in the handshake; the first message carries a token, and
//                       until it arrives the socket can do nothing but send it
//
//   node js/auth/server.mjs --port 3008

import { createServer, STATUS_CODES } from "node:http";
import { createHash, randomBytes } from "node:crypto";
import Koa from "koa";
import { WebSocketServer } from "ws";
import { refuseUpgrade } from "../lib/refuse.mjs";
import { closeName, listen, log, options } from "../lib/serve.mjs";
import { REALM, Sessions, userOf } from "../one-port/sessions.mjs";

const args = options(3008, {
  session: { type: "string", multiple: true },
  "ticket-ttl-ms": { type: "string", default: "10000" },
  "auth-timeout-ms": { type: "string", default: "5000" },
}, `
auth: three ways to authenticate a browser's WebSocket (see the comments at the top of the file)
  --port PORT             port to listen on, 0 for any free port (default 3008, or $PORT)
  --host HOST             address to listen on (default 127.0.0.1)
  --session T=USER        a signed-in session with token T (repeatable)
  --ticket-ttl-ms MS      how long a ticket stays valid (default 10000)
  --auth-timeout-ms MS    how long /ws/first-message waits for its token (default 5000)
`);
const sessions = Sessions.from(args.session);
const ticketTtl = Number(args["ticket-ttl-ms"]);
const authTimeout = Number(args["auth-timeout-ms"]);
const allowedOrigins = new Set();

// ANCHOR: tickets
/**
 * One-time tickets: SHA-256(ticket) → { user, expires }. Only the hash is kept, so a dump or a
 * debug print of the store holds nothing that opens a WebSocket. Each is taken out when used.
 */
const tickets = new Map();
const hash = (ticket) => createHash("sha256").update(ticket).digest("base64url");

function issueTicket(user) {
  const now = Date.now();
  for (const [key, { expires }] of tickets) if (expires <= now) tickets.delete(key); // forget the stale
  const ticket = randomBytes(32).toString("base64url"); // 256 random bits: not guessable
  tickets.set(hash(ticket), { user, expires: now + ticketTtl });
  return ticket;
}

/** The ticket's user, once: a used, unknown or expired ticket gives undefined. */
function takeTicket(ticket) {
  const key = hash(ticket);
  const entry = tickets.get(key);
  tickets.delete(key); // single use, whatever happens next
  if (entry === undefined || entry.expires <= Date.now()) return undefined;
  return entry.user;
}
// ANCHOR_END: tickets

// The HTTP side: koa, with one route that needs a session.
const app = new Koa();
app.use(async (ctx, next) => {
  await next();
  log("logger", `${ctx.method} ${ctx.path} → ${ctx.status}`);
});
app.use(async (ctx) => {
  if (ctx.method !== "POST" || ctx.path !== "/api/ticket") {
    ctx.status = 404;
    ctx.body = `nothing at ${ctx.method} ${ctx.path}\n`;
    return;
  }
  const { user, refusal } = userOf(sessions, ctx.headers);
  if (user === undefined) {
    ctx.status = 401;
    ctx.set("WWW-Authenticate", `Bearer realm="${REALM}"`);
    ctx.body = `${refusal}\n`;
    return;
  }
  // A page on another site cannot read this answer (no CORS headers), so it cannot get a ticket
  // with the visitor's cookie.
  ctx.set("Cache-Control", "no-store");
  ctx.body = { ticket: issueTicket(user), expires_in_ms: ticketTtl };
});
const server = createServer(app.callback());

const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

// ANCHOR: upgrade
server.on("upgrade", (request, socket, head) => {
  socket.on("error", () => {}); // a client that resets before the 101: nothing to do
  const url = new URL(request.url, "http://placeholder");
  // Log the path, never the query: a ticket in a URL ends up in every access log that logs URLs.
  const where = `${request.method} ${url.pathname}`;
  const refuse = (status, message, headers = {}) => {
    log("upgrade", `${where} → ${status} ${STATUS_CODES[status]}: ${message}`);
    refuseUpgrade(socket, status, message, headers);
  };
  const challenge = { "WWW-Authenticate": `Bearer realm="${REALM}"` };
  // Every scheme checks Origin: any page may try to open a WebSocket to any server.
  const origin = request.headers.origin;
  if (origin !== undefined && !allowedOrigins.has(origin)) {
    return refuse(403, `a page from ${origin} may not open a WebSocket here (RFC 6455 §10.2)`);
  }
  let user;
  switch (url.pathname) {
    case "/ws/cookie": {
      const found = userOf(sessions, request.headers);
      if (found.user === undefined) return refuse(401, found.refusal, challenge);
      user = found.user;
      break;
    }
    case "/ws/ticket": {
      user = takeTicket(url.searchParams.get("ticket") ?? "");
      if (user === undefined) {
        return refuse(401, "that ticket is unknown, used or expired: POST /api/ticket for a new one", challenge);
      }
      break;
    }
    case "/ws/first-message":
      user = undefined; // decided by the first message
      break;
    default:
      return refuse(404, `nothing at ${url.pathname}`);
  }
  wss.handleUpgrade(request, socket, head, (ws) => {
    log("upgrade", `${where} → 101${user === undefined ? ", who it is comes next" : ` for ${user}`}`);
    if (user === undefined) awaitToken(ws);
    else greetAndEcho(ws, user);
  });
});
// ANCHOR_END: upgrade

// ANCHOR: first_message
/**
 * The first message must be `{"token": "…"}` within `authTimeout`; anything else closes the
 * socket with 1008 (policy violation), which a reconnecting client must not retry.
 */
function awaitToken(ws) {
  const timer = setTimeout(() => refuseSocket(ws, `no token within ${authTimeout} ms`), authTimeout);
  ws.once("message", (data, isBinary) => {
    clearTimeout(timer);
    let token;
    try {
      token = isBinary ? undefined : JSON.parse(data.toString("utf8")).token;
    } catch {
      token = undefined;
    }
    const user = typeof token === "string" ? sessions.user(token) : undefined;
    if (user === undefined) return refuseSocket(ws, "the first message must be {\"token\": \"…\"} with a valid token");
    log("websocket", `the first message proved the socket is ${user}'s`);
    greetAndEcho(ws, user);
  });
  ws.on("error", () => {});
}

function refuseSocket(ws, reason) {
  log("websocket", `closing with 1008: ${reason}`);
  ws.close(1008, reason.slice(0, 123)); // a close reason has at most 123 bytes (RFC 6455 §5.5)
}
// ANCHOR_END: first_message

function greetAndEcho(ws, user) {
  ws.send(`hello, ${user}`);
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("error", () => {});
  ws.on("close", (code) => log("websocket", `${user}'s WebSocket is over: ${closeName(code)}`));
}

const port = await listen(server, args);
for (const host of ["127.0.0.1", "localhost", "[::1]"]) allowedOrigins.add(`http://${host}:${port}`);
