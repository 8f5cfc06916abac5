// A heartbeat in ws: the server pings every connection at a fixed interval and drops the ones
// that stop answering. This is the pattern from ws's own README (`isAlive`, `ping()`, 'pong',
// `terminate()`), with the number of missed pongs made a setting instead of always one.
//
//   node js/heartbeat/server.mjs --port 3006 --interval 1000 --missed 2
//
// A pong is the peer's WebSocket library answering by itself (RFC 6455 §5.5.2): it proves that
// the connection and the peer's event loop are alive, not that its application is well. A
// connection that misses `--missed` pongs in a row is ended with `terminate()`: no close frame,
// since the peer is not there to answer one (the application sees 1006).

// ANCHOR: imports
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { closeName, listen, log, options } from "../lib/serve.mjs";
// ANCHOR_END: imports

const args = options(3006, {
  interval: { type: "string", default: "1000" },
  missed: { type: "string", default: "2" },
}, `
heartbeat: a ws echo at /ws/heartbeat that pings every connection and drops the silent ones
  --port PORT       port to listen on, 0 for any free port (default 3006, or $PORT)
  --host HOST       address to listen on (default 127.0.0.1)
  --interval MS     milliseconds between pings (default 1000)
  --missed N        unanswered pings in a row before the connection is dropped (default 2)
`);
const interval = Number(args.interval);
const maxMissed = Number(args.missed);

const server = createServer((request, response) => {
  response.writeHead(426, { Upgrade: "websocket", Connection: "Upgrade", "Content-Type": "text/plain" });
  response.end("this is a WebSocket endpoint: ws://HOST:PORT/ws/heartbeat\n");
});
// ANCHOR: heartbeat
const wss = new WebSocketServer({ server, path: "/ws/heartbeat" }); // `server`: your http.Server
let connections = 0;

wss.on("connection", (ws) => {
  ws.id = ++connections;
  ws.missed = 0; // pings sent since the last pong: the README's `isAlive`, counted
  ws.pings = 0;
  log("websocket", `connection ${ws.id} open`);
  ws.on("pong", (data) => {
    ws.missed = 0; // any pong will do: RFC 6455 §5.5.3 allows unsolicited ones
    log("heartbeat", `connection ${ws.id}: pong "${data}" received`);
  });
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("error", (error) => log("websocket", `connection ${ws.id}: ${error.message}`));
  ws.on("close", (code) => log("websocket", `connection ${ws.id} is over: ${closeName(code)}`));
});

// One timer for every connection, as in ws's README.
const timer = setInterval(() => {
  for (const ws of wss.clients) {
    if (ws.missed >= maxMissed) {
      log("heartbeat", `connection ${ws.id}: ${ws.missed} pings unanswered, terminate()`);
      ws.terminate(); // destroys the socket: no close frame to a peer that cannot answer it
      continue;
    }
    ws.missed += 1;
    ws.pings += 1;
    ws.ping(String(ws.pings)); // the payload lets a log match each pong to its ping
    log("heartbeat", `connection ${ws.id}: ping "${ws.pings}" sent`);
  }
}, interval);
wss.on("close", () => clearInterval(timer));
// ANCHOR_END: heartbeat

await listen(server, args);
