// The same shape in Node: koa for pages, `ws` for WebSockets, one http.Server, one port.
// For comparison only: the tests parse this file (`node --check`) but do not run it, since it
// needs `npm install koa ws`.
import http from "node:http";
import Koa from "koa";
import { WebSocketServer } from "ws";

// ANCHOR: koa
const app = new Koa();
app.use(async (ctx, next) => { // the logger: runs for every *request* event
  await next();
  console.log(`logger ${ctx.method} ${ctx.path} → ${ctx.status}`);
});
app.use(async (ctx, next) => { // the session check
  if (ctx.path.startsWith("/api/") && !ctx.cookies.get("session")) ctx.throw(401);
  await next();
});
app.use((ctx) => { ctx.body = { unix_seconds: Math.floor(Date.now() / 1000) }; });

const server = http.createServer(app.callback()); // koa answers 'request' events
const wss = new WebSocketServer({ noServer: true });
server.on("upgrade", (request, socket, head) => { // upgrades arrive here instead: no koa at all
  wss.handleUpgrade(request, socket, head, (ws) => {
    ws.send("hello, whoever you are");
    ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
});
server.listen(3001);
// ANCHOR_END: koa
