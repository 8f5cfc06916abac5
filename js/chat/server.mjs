// The chat room of the chapter "More than one server", in koa + ws, with Redis pub/sub between
// the servers: the same rooms (/ws/chat/NAME), the same first frame, and the same Redis channel
// (room:NAME) as the Rust server (crates/chat, --mode pubsub), so a Node server and a Rust server
// can share a room. The Rust chapter shows every byte of it; this is what the code looks like here.
//
//   node js/chat/server.mjs --port 3010 --name N --redis redis://127.0.0.1:6379
//
// Two Redis connections, as in Rust: a subscribed connection can do nothing but listen, so
// `duplicate()` gives the subscriber its own. node-redis subscribes again by itself after a
// reconnect; what was published in between is lost (pub/sub is at-most-once).

import { createServer } from "node:http";
import Koa from "koa";
import { createClient } from "redis";
import { WebSocketServer } from "ws";
import { refuseUpgrade } from "../lib/refuse.mjs";
import { closeName, listen, log, options } from "../lib/serve.mjs";

/** Largest message accepted: 64 KiB, as the Rust servers (ws's own default is 100 MiB). */
export const MAX_PAYLOAD = 64 * 1024;

/** A room name: letters, digits, `-`, `_`, `.`, at most 64 (as the Rust server). */
const ROOM = /^\/ws\/chat\/([A-Za-z0-9._-]{1,64})$/;

/**
 * Bytes a member may have waiting in its socket before it is cut with 1013 (ws has no per-client
 * queue of messages; `bufferedAmount` is what it holds for one). 256 messages of 4 KiB.
 */
export const MAX_BUFFERED = 1024 * 1024;

const args = options(3010, {
  name: { type: "string", default: "N" },
  redis: { type: "string", default: "redis://127.0.0.1:6379" },
}, `
chat: koa + ws, rooms at /ws/chat/NAME, shared with other servers through Redis pub/sub
  --port PORT       port to listen on, 0 for any free port (default 3010, or $PORT)
  --host HOST       address to listen on (default 127.0.0.1)
  --name NAME       this server's name, said in every welcome (default N)
  --redis URL       Redis (default redis://127.0.0.1:6379)
`);

// ANCHOR: redis
const publisher = createClient({ url: args.redis });
const subscriber = publisher.duplicate(); // a subscribed connection can only listen
for (const client of [publisher, subscriber]) {
  client.on("error", (error) => log("redis", error.message)); // unhandled, it would end the process
}
await publisher.connect();
await subscriber.connect();
// ANCHOR_END: redis

const app = new Koa();
app.use((ctx) => {
  ctx.status = 426;
  ctx.set("Upgrade", "websocket");
  ctx.body = "the chat is a WebSocket: ws://HOST:PORT/ws/chat/NAME\n";
});
const server = createServer(app.callback());
const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD });

/** The members of each room on this server: room name → Set of sockets. */
const rooms = new Map();

server.on("upgrade", (request, socket, head) => {
  const { pathname } = new URL(request.url, "http://placeholder");
  const room = ROOM.exec(pathname)?.[1];
  if (room === undefined) return refuseUpgrade(socket, 404, `nothing at ${pathname}; rooms are at /ws/chat/NAME`);
  wss.handleUpgrade(request, socket, head, (ws) => join(ws, room));
});

// ANCHOR: room
async function join(ws, room) {
  const channel = `room:${room}`;
  ws.on("error", (error) => log("websocket", error.message));
  ws.on("message", async (data, isBinary) => {
    if (isBinary) return;
    // Not to the members here: to Redis, which hands it to every server, this one included.
    await publisher.publish(channel, data.toString()).catch((error) => log("redis", `lost: ${error.message}`));
  });
  ws.on("close", (code) => {
    rooms.get(room)?.delete(ws);
    log("websocket", `a member of ${room} left: ${closeName(code)}`);
  });
  if (!rooms.has(room)) {
    rooms.set(room, new Set());
    // Every message on the channel, from any server (this one too), goes to this room's members.
    await subscriber.subscribe(channel, (message) => broadcast(room, message));
  }
  rooms.get(room).add(ws);
  ws.send(`joined ${room} on server ${args.name}`);
}

function broadcast(room, message) {
  for (const ws of rooms.get(room) ?? []) {
    if (ws.readyState !== ws.OPEN) continue;
    // A member that stops reading: its unsent bytes pile up in ws. Cut it, do not wait for it.
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.close(1013, "too slow");
      continue;
    }
    ws.send(message);
  }
}
// ANCHOR_END: room

process.on("SIGTERM", () => {
  // A deploy: every member gets 1012 (service restart) and comes back to another server.
  for (const ws of wss.clients) ws.close(1012, "restarting for a deploy");
  server.close(() => Promise.all([publisher.quit(), subscriber.quit()]).then(() => process.exit(0)));
});

await listen(server, args);
