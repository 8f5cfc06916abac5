// The server exercise 12 runs: the koa app of js/one-port and ws on one port, with the 'upgrade'
// handler taken from the learner's file. Everything but that handler is the book's, so the tests
// check the handler alone.
//
//   node js/exercises/upgrade-server.mjs --exercise crates/exercises/src/ex12_koa_upgrade/stub.mjs
//   just exercise 12      (runs the tests, which start this server)

import { createServer } from "node:http";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { WebSocketServer } from "ws";
import { listen, options } from "../lib/serve.mjs";
import { createApp, greetAndEcho } from "../one-port/app.mjs";
import { Sessions } from "../one-port/sessions.mjs";

const args = options(3012, {
  exercise: { type: "string" },
  session: { type: "string", multiple: true },
  "allow-origin": { type: "string", multiple: true },
}, `
upgrade-server: koa + ws on one port, with the 'upgrade' handler of an exercise file
  --exercise FILE      the file that exports upgradeHandler (exercise 12's stub or solution)
  --port PORT          port to listen on, 0 for any free port (default 3012, or $PORT)
  --host HOST          address to listen on (default 127.0.0.1)
  --session T=USER     a signed-in session with token T (repeatable)
  --allow-origin URL   another page origin allowed to connect (repeatable); this server's own
                       origins are always allowed
`);
if (args.exercise === undefined) {
  console.error("--exercise FILE is needed: the file whose upgradeHandler to use");
  process.exit(2);
}
const { upgradeHandler } = await import(pathToFileURL(resolve(args.exercise)).href);

const sessions = Sessions.from(args.session);
const app = createApp({ sessions });
const server = createServer(app.callback());
const allowedOrigins = new Set(args["allow-origin"] ?? []);
const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
wss.on("connection", (ws, request, user) => greetAndEcho(ws, user));
server.on("upgrade", upgradeHandler({ wss, sessions, allowedOrigins }));

const port = await listen(server, args);
for (const host of ["127.0.0.1", "localhost", "[::1]"]) allowedOrigins.add(`http://${host}:${port}`);
