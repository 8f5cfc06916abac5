// The koa side of the one-port programs: the same routes and the same two middleware layers as
// the Rust server of the chapter (crates/one-port), so that their transcripts can be compared.
//
// | route                         | what                                                  |
// | ----------------------------- | ----------------------------------------------------- |
// | GET /                         | the home page: a sign-in form and a WebSocket client  |
// | POST /login                   | signs in (`name=…`), sets the session cookie, 303 → / |
// | POST /logout                  | signs out, 303 → /                                    |
// | GET /api/time                 | the time as JSON; needs a session (the middleware)    |
// | GET /ws/echo without Upgrade  | 426 Upgrade Required: this path speaks WebSocket      |

import { readFileSync } from "node:fs";
import Koa from "koa";
import { closeName, log } from "../lib/serve.mjs";
import { REALM, SESSION_COOKIE, tokenOf, userOf } from "./sessions.mjs";

/** The path the WebSocket answers on, as in the Rust servers. */
export const WS_PATH = "/ws/echo";

/** Longest request body read: a sign-in form is a few bytes. */
export const MAX_BODY = 1024;

/** Longest user name accepted at sign-in. */
export const MAX_NAME = 32;

const INDEX_HTML = readFileSync(new URL("./index.html", import.meta.url), "utf8");

/**
 * The koa application. `sessions` is shared with the 'upgrade' handler; `now()` gives the time in
 * seconds (a test fixes it so that `/api/time` answers the same on every run).
 */
export function createApp({ sessions, now = () => Math.floor(Date.now() / 1000) }) {
  const app = new Koa();
  // ANCHOR: middleware
  // The logger: one line per request, once the layers inside it have answered.
  app.use(async (ctx, next) => {
    await next();
    log("logger", `${ctx.method} ${ctx.path} → ${ctx.status}`);
  });
  // The session check: everything under /api/ needs a signed-in user.
  app.use(async (ctx, next) => {
    const { user, refusal } = userOf(sessions, ctx.headers);
    if (user === undefined && ctx.path.startsWith("/api/")) {
      log("auth", `${ctx.method} ${ctx.path} → 401, no valid session`);
      ctx.status = 401;
      ctx.set("WWW-Authenticate", `Bearer realm="${REALM}"`);
      ctx.type = "text/plain; charset=utf-8";
      ctx.body = `${refusal}\n`;
      return;
    }
    ctx.state.user = user;
    await next();
  });
  // ANCHOR_END: middleware
  app.use(async (ctx) => routes(ctx, sessions, now));
  return app;
}

async function routes(ctx, sessions, now) {
  const route = `${ctx.method} ${ctx.path}`;
  if (route === "GET /" || route === "HEAD /") {
    ctx.type = "text/html; charset=utf-8";
    ctx.body = INDEX_HTML;
  } else if (route === "POST /login") {
    const form = new URLSearchParams(await body(ctx));
    const name = (form.get("name") ?? "").trim();
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) {
      return text(ctx, 400, `sign in with a name of 1 to ${MAX_NAME} letters, digits, - or _ (form field \`name\`)`);
    }
    const token = sessions.create(name);
    // HttpOnly: page scripts cannot read it. SameSite=Strict: other *sites* do not get it (another
    // port on the same host is the same site, which is why the upgrade checks Origin too).
    ctx.set("Set-Cookie", `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`);
    ctx.set("Location", "/");
    text(ctx, 303, `signed in as ${name}`);
  } else if (route === "POST /logout") {
    const token = tokenOf(ctx.headers);
    if (token !== undefined) sessions.remove(token);
    ctx.set("Set-Cookie", `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    ctx.set("Location", "/");
    text(ctx, 303, "signed out");
  } else if (route === "GET /api/time") {
    ctx.type = "application/json";
    ctx.body = `${JSON.stringify({ user: ctx.state.user, unix_seconds: now() })}\n`;
  } else if (ctx.path === WS_PATH) {
    // Only a request *without* `Upgrade: websocket` gets here: the upgrade goes to the
    // 'upgrade' event instead. RFC 9110 §15.5.22: a 426 names the protocol to use, and whoever
    // sends `Upgrade` lists it in `Connection` (§7.8).
    ctx.set("Upgrade", "websocket");
    ctx.set("Sec-WebSocket-Version", "13");
    ctx.set("Connection", "Upgrade");
    text(
      ctx,
      426,
      "this is a WebSocket endpoint: send `Upgrade: websocket` and `Connection: Upgrade` (RFC 6455 §4.1), " +
        "for example with `new WebSocket(url)` in a browser",
    );
  } else {
    text(ctx, 404, `nothing at ${ctx.path}`);
  }
}

function text(ctx, status, message) {
  ctx.status = status;
  ctx.type = "text/plain; charset=utf-8";
  ctx.body = `${message}\n`;
}

/** The request body, at most MAX_BODY bytes (413 beyond). */
async function body(ctx) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_BODY) ctx.throw(413, `request bodies are limited to ${MAX_BODY} bytes here`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

// ANCHOR: echo
/**
 * What both programs do with an open WebSocket: greet the user, echo every message, and log how
 * it ended, in the words of the Rust server's journal.
 */
export function greetAndEcho(ws, user) {
  const whose = user === undefined ? "a visitor's" : `${user}'s`;
  ws.send(`hello, ${user ?? "whoever you are"}`);
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  // Without an 'error' listener, an error (a frame over maxPayload, an unmasked frame) would be
  // an uncaught exception and end the whole process. ws closes the connection itself (1009, 1002).
  let failure;
  ws.on("error", (error) => {
    failure = error.message;
  });
  ws.on("close", (code) => {
    const how =
      failure !== undefined
        ? `the server closed it: ${failure}`
        : code === 1006
          ? "it ended without a close handshake (1006)"
          : `the client closed it with ${closeName(code)}`;
    log("websocket", `${whose} WebSocket is over: ${how}`);
  });
}
// ANCHOR_END: echo
