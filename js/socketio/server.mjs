// A Socket.IO server, to watch on the wire: Socket.IO is a protocol of its own on top of
// Engine.IO, which rides on HTTP long polling and then, if it can, on a WebSocket. A plain
// WebSocket client does not speak it (see the book's page "Socket.IO is not WebSocket").
//
//   node js/socketio/server.mjs --port 3007 --ping-interval 25000
//   node js/socketio/client.mjs http://127.0.0.1:3007

import { createServer } from "node:http";
import { Server } from "socket.io";
import { listen, log, options } from "../lib/serve.mjs";

const args = options(3007, {
  "ping-interval": { type: "string", default: "25000" },
  "ping-timeout": { type: "string", default: "20000" },
  "connect-after-upgrade": { type: "boolean", default: false },
}, `
socketio-server: a Socket.IO echo (event "chat") at /socket.io/
  --port PORT            port to listen on, 0 for any free port (default 3007, or $PORT)
  --host HOST            address to listen on (default 127.0.0.1)
  --ping-interval MS     Engine.IO's ping interval (default 25000, Socket.IO's own default)
  --ping-timeout MS      how long it waits for the pong (default 20000)
  --connect-after-upgrade
                         answer a client's CONNECT only once its transport is the WebSocket, so
                         that the recording comes out the same on every run (the tests use it)
`);

const server = createServer((request, response) => {
  response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
  response.end(`nothing at ${request.url}: Socket.IO answers under /socket.io/\n`);
});
// ANCHOR: server
const io = new Server(server, {
  pingInterval: Number(args["ping-interval"]),
  pingTimeout: Number(args["ping-timeout"]),
  serveClient: false, // no /socket.io/socket.io.js: the client comes from npm
});
let connections = 0;
if (args["connect-after-upgrade"]) {
  // Socket.IO middleware: runs before "connection". Without it, the CONNECT answer (`40{"sid"…}`)
  // goes on whichever transport is current when it is ready: the long poll, or the WebSocket if
  // the upgrade won the race.
  io.use((socket, next) => {
    if (socket.conn.transport.name === "websocket") return next();
    socket.conn.once("upgrade", () => next());
  });
}
io.on("connection", (socket) => {
  const n = ++connections;
  log("socket.io", `connection ${n} over ${socket.conn.transport.name}`);
  socket.conn.once("upgrade", (transport) => log("socket.io", `connection ${n} upgraded to ${transport.name}`));
  socket.on("chat", (text) => {
    log("socket.io", `connection ${n}: chat ${JSON.stringify(text)}`);
    socket.emit("chat", text); // an event name and its arguments: 42["chat","…"] on the wire
  });
  socket.on("disconnect", (reason) => log("socket.io", `connection ${n} is over: ${reason}`));
});
// ANCHOR_END: server

await listen(server, args);
