// koa and ws on one port, the way the note this book grew from does it: `app.listen()` returns
// Node's http.Server, and `new WebSocketServer({ server })` hangs ws on that server's 'upgrade'
// event. It works, and that is the trouble: every upgrade request is accepted, and koa's
// middleware (the logger, the session check) never sees one. Run it, then see upgrade-check.mjs
// for the same program done right.
//
//   node js/one-port/seed-shape.mjs --port 3005
//   curl -i http://127.0.0.1:3005/api/time          → 401 from koa's session check
//   websocat ws://127.0.0.1:3005/ws/echo            → "hello, whoever you are": no check at all

// ANCHOR: imports
import { WebSocketServer } from "ws";
import { log, options } from "../lib/serve.mjs";
import { WS_PATH, createApp, greetAndEcho } from "./app.mjs";
import { Sessions, userOf } from "./sessions.mjs";
// ANCHOR_END: imports

const args = options(3005, {
  session: { type: "string", multiple: true },
  now: { type: "string" },
}, `
seed-shape: koa + ws on one port, the seed's way (every upgrade accepted, no middleware)
  --port PORT        port to listen on, 0 for any free port (default 3005, or $PORT)
  --host HOST        address to listen on (default 127.0.0.1)
  --session T=USER   a signed-in session with token T (repeatable)
  --now SECONDS      a fixed time for /api/time (tests use it)
`);
const sessions = Sessions.from(args.session);
const now = args.now === undefined ? undefined : () => Number(args.now);
const app = createApp({ sessions, now });

// ANCHOR: seed
const server = app.listen(args.port, args.host, () => {
  log.raw(`listening on ${args.host}:${server.address().port}`);
});
const wss = new WebSocketServer({ server }); // ws listens to the server's 'upgrade' event
wss.on("connection", (ws, request) => {
  // The cookie is there to read, but nothing made anyone check it: koa's middleware never ran.
  const { user } = userOf(sessions, request.headers);
  const who = user ?? "a visitor without a session";
  log("upgrade", `GET ${request.url} → 101 for ${who}; no middleware saw this request`);
  greetAndEcho(ws, user);
});
// ANCHOR_END: seed

// `WS_PATH` is not passed to ws here, as in the seed: every path upgrades. `{ server, path }`
// would refuse other paths with a bare 400.
void WS_PATH;
