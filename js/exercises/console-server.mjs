// The server exercise 13 runs: a page that loads the learner's module (as /exercise.mjs, read
// afresh on every request, so an edit and a reload are enough) and two WebSocket endpoints.
//
//   node js/exercises/console-server.mjs --exercise crates/exercises/src/ex13_browser_console/stub.mjs
//   open http://127.0.0.1:3013/ and the browser's console: `exercise` is your module
//
// | path                | what                                                                |
// | ------------------- | ------------------------------------------------------------------- |
// | /                   | the page (js/exercises/console.html)                                |
// | /exercise.mjs       | the exercise file given with --exercise                             |
// | /ws/echo            | echoes every message                                                |
// | /ws/slow?pause=MS   | reads nothing for MS ms (the browser's buffer fills), then reads on |

import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { WebSocketServer } from "ws";
import { closeName, listen, log, options } from "../lib/serve.mjs";

const args = options(3013, { exercise: { type: "string" } }, `
console-server: exercise 13's page and WebSocket endpoints, at http://127.0.0.1:3013/
  --exercise FILE   the module to serve as /exercise.mjs (exercise 13's stub or solution)
  --port PORT       port to listen on, 0 for any free port (default 3013, or $PORT)
  --host HOST       address to listen on (default 127.0.0.1)
`);
if (args.exercise === undefined) {
  console.error("--exercise FILE is needed: the module the page loads");
  process.exit(2);
}
const exercise = resolve(args.exercise);
const page = new URL("./console.html", import.meta.url);

const server = createServer(async (request, response) => {
  const { pathname } = new URL(request.url, "http://placeholder");
  const file = pathname === "/" ? page : pathname === "/exercise.mjs" ? exercise : undefined;
  if (file === undefined) {
    response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
    return response.end(`nothing at ${pathname}\n`);
  }
  const type = pathname === "/" ? "text/html" : "text/javascript";
  response.writeHead(200, { "Content-Type": `${type}; charset=utf-8`, "Cache-Control": "no-store" });
  response.end(await readFile(file));
});

const wss = new WebSocketServer({ server, maxPayload: 16 * 1024 * 1024 });
let connections = 0;
wss.on("connection", (ws, request) => {
  const n = ++connections;
  const url = new URL(request.url, "http://placeholder");
  log("websocket", `${n} open ${url.pathname}`);
  ws.on("error", (error) => log("websocket", `${n} error: ${error.message}`));
  ws.on("close", (code, reason) => {
    log("websocket", `${n} closed: ${closeName(code)}, a reason of ${reason.length} bytes "${reason}"`);
  });
  if (url.pathname === "/ws/slow") {
    request.socket.pause(); // read nothing for a while: the sender's buffers fill up
    setTimeout(() => request.socket.resume(), Number(url.searchParams.get("pause") ?? "500"));
  }
  ws.on("message", (data, isBinary) => {
    if (url.pathname === "/ws/echo") ws.send(data, { binary: isBinary });
  });
});

await listen(server, args);
