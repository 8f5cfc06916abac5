// The server the browser pages talk to: it serves the pages of this folder and a few WebSocket
// endpoints that behave in ways the pages need to show. It logs every WebSocket's opening and
// ending, so a test (or you) can see what the browser did.
//
//   node js/browser/server.mjs --port 3009
//   open http://127.0.0.1:3009/connecting.html, spa.html, bfcache.html, pacing.html, reconnect.html
//
// | path                          | what                                                          |
// | ----------------------------- | ------------------------------------------------------------- |
// | /ws/echo                      | echoes                                                        |
// | /ws/closer?run=R&codes=A,B,…  | the Nth connection of run R is closed with the Nth code (1006: |
// |                               | dropped, no close frame); "resume …" messages are logged      |
// | /ws/slow?pause=MS             | reads nothing for MS ms, then counts what arrived; "done"     |
// |                               | gets back "received N bytes"                                  |

import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { WebSocketServer } from "ws";
import { closeName, listen, log, options } from "../lib/serve.mjs";

const args = options(3009, {}, `
browser-server: the pages in js/browser and their WebSocket endpoints (see the top of the file)
  --port PORT   port to listen on, 0 for any free port (default 3009, or $PORT)
  --host HOST   address to listen on (default 127.0.0.1)
`);

const TYPES = { ".html": "text/html; charset=utf-8", ".mjs": "text/javascript; charset=utf-8" };
const folder = new URL(".", import.meta.url).pathname;

const server = createServer(async (request, response) => {
  const { pathname } = new URL(request.url, "http://placeholder");
  if (request.method === "POST" && (pathname === "/push" || pathname === "/ping")) return poke(pathname, response);
  const file = normalize(join(folder, pathname === "/" ? "index.html" : pathname));
  const type = TYPES[extname(file)];
  if (!file.startsWith(folder) || type === undefined) return notFound(response, pathname);
  try {
    const body = await readFile(file);
    // No `Cache-Control: no-store`: Chromium keeps such pages out of the back/forward cache.
    response.writeHead(200, { "Content-Type": type });
    response.end(body);
  } catch {
    notFound(response, pathname);
  }
});

/** POST /push sends "push" to every open socket, POST /ping pings them; answers how many. */
function poke(pathname, response) {
  let n = 0;
  for (const ws of wss.clients) {
    if (pathname === "/push") ws.send("push");
    else ws.ping("are you there");
    n += 1;
  }
  log("server", `${pathname.slice(1)} to ${n} sockets`);
  const body = `${n}\n`;
  response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": body.length });
  response.end(body);
}

function notFound(response, pathname) {
  response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
  response.end(`nothing at ${pathname}\n`);
}

const wss = new WebSocketServer({ server, maxPayload: 1024 * 1024 });
const runs = new Map(); // run id → connections so far
let connections = 0;

wss.on("connection", (ws, request) => {
  const n = ++connections;
  const url = new URL(request.url, "http://placeholder");
  log("websocket", `${n} open ${url.pathname}`);
  ws.on("error", (error) => log("websocket", `${n} error: ${error.message}`));
  ws.on("close", (code, reason) => log("websocket", `${n} closed: ${closeName(code)} "${reason}"`));
  ws.on("pong", (data) => log("websocket", `${n} pong "${data}"`));
  if (url.pathname === "/ws/echo") {
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  } else if (url.pathname === "/ws/closer") {
    closer(ws, n, url.searchParams);
  } else if (url.pathname === "/ws/slow") {
    slow(ws, request.socket, n, Number(url.searchParams.get("pause") ?? "500"));
  } else {
    ws.close(4404, `nothing at ${url.pathname}`);
  }
});

// ANCHOR: closer
/** Closes the run's Nth connection with its Nth code, after one message and any resume. */
function closer(ws, n, params) {
  const run = params.get("run") ?? "";
  const codes = (params.get("codes") ?? "1000").split(",").map(Number);
  const index = runs.get(run) ?? 0;
  runs.set(run, index + 1);
  const code = codes[Math.min(index, codes.length - 1)];
  ws.send(`hello ${index + 1}`);
  ws.on("message", (data) => {
    log("websocket", `${n} says ${JSON.stringify(data.toString())}`);
    if (!data.toString().startsWith("ready")) return;
    // The page is ready: end this connection the way the script says.
    if (code === 1006) ws.terminate(); // no close frame: the browser reports 1006
    else ws.close(code, `closed with ${code} on purpose`);
  });
}
// ANCHOR_END: closer

/** Reads nothing for `pause` ms, so the browser's buffer fills; then counts the bytes. */
function slow(ws, socket, n, pause) {
  let bytes = 0;
  socket.pause(); // stop reading from TCP: the sender's buffers fill up
  setTimeout(() => socket.resume(), pause);
  ws.on("message", (data, isBinary) => {
    if (!isBinary && data.toString() === "done") {
      log("websocket", `${n} received ${bytes} bytes`);
      ws.send(`received ${bytes} bytes`);
    } else {
      bytes += data.length;
    }
  });
}

await listen(server, args);
