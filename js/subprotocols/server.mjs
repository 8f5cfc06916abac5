// Subprotocols in ws: the server says which protocols it speaks, and picks one of the client's
// (`Sec-WebSocket-Protocol`, RFC 6455 §1.9, §4.2.2). It serves a page at / that opens
// `new WebSocket(url, protocols)` and shows `ws.protocol`, and an echo at /ws/echo.
//
//   node js/subprotocols/server.mjs --port 3010
//   open http://127.0.0.1:3010/?offer=chat.v2,chat.v1   (and ?offer=chat.v3)
//
// The same rule as the Rust servers: of the client's offers, in the client's order, the first
// this server speaks. An offer with none in common is refused with `400 Bad Request` in the
// 'upgrade' handler, before ws is involved. Two flags show what else a server can do:
//   --proceed     answer 101 without a subprotocol instead, which is what ws does by itself
//                 when `handleProtocols` returns false (and what the client then fails)
//   --misbehave   name `chat.v9` in every 101, offered or not: a broken server, to watch the
//                 client fail the connection (RFC 6455 §4.1)

import { readFileSync } from "node:fs";
import { STATUS_CODES, createServer } from "node:http";
import { WebSocketServer } from "ws";
import { refuseUpgrade } from "../lib/refuse.mjs";
import { closeName, listen, log, options } from "../lib/serve.mjs";

const args = options(3010, {
  protocol: { type: "string", multiple: true },
  proceed: { type: "boolean", default: false },
  misbehave: { type: "boolean", default: false },
}, `
subprotocols: a ws echo at /ws/echo that speaks chat.v1 and chat.v2, and a page at / that offers some
  --port PORT         port to listen on, 0 for any free port (default 3010, or $PORT)
  --host HOST         address to listen on (default 127.0.0.1)
  --protocol NAME     a subprotocol this server speaks (repeatable; default chat.v1 and chat.v2)
  --proceed           with nothing in common, answer 101 without a subprotocol (ws's own way)
  --misbehave         name chat.v9 in every 101, whatever the client offered (a broken server)
`);
const INDEX_HTML = readFileSync(new URL("./index.html", import.meta.url), "utf8");

// ANCHOR: handle_protocols
/** The subprotocols this server speaks. */
const SPOKEN = args.protocol ?? ["chat.v1", "chat.v2"];

/**
 * The server's pick: the first of the client's offers (in the client's order of preference)
 * that this server speaks, or `false` for none. ws calls it with the offers as a Set.
 */
function pickProtocol(offered) {
  for (const protocol of offered) if (SPOKEN.includes(protocol)) return protocol;
  return false;
}

const wss = new WebSocketServer({
  noServer: true,
  maxPayload: 64 * 1024,
  // Without this option, ws names the client's *first* offer in its 101, spoken here or not.
  handleProtocols: args.misbehave ? () => "chat.v9" : pickProtocol,
});
// ANCHOR_END: handle_protocols

const server = createServer((request, response) => {
  const body = request.url === "/" || request.url.startsWith("/?") ? INDEX_HTML : undefined;
  response.writeHead(body ? 200 : 404, { "Content-Type": body ? "text/html; charset=utf-8" : "text/plain" });
  response.end(body ?? "nothing here: the page is at / and the WebSocket at /ws/echo\n");
});

// ANCHOR: upgrade
server.on("upgrade", (request, socket, head) => {
  socket.on("error", () => {}); // a client that resets before the 101: nothing to do
  const { pathname } = new URL(request.url, "http://placeholder");
  const refuse = (status, message) => {
    log("upgrade", `${request.method} ${pathname} → ${status} ${STATUS_CODES[status]}: ${message}`);
    refuseUpgrade(socket, status, message);
  };
  if (pathname !== "/ws/echo") return refuse(404, `nothing at ${pathname}`);
  // `Sec-WebSocket-Protocol: chat.v2, chat.v1`; Node joins repeated fields with ", ".
  const offered = (request.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== "");
  if (offered.length > 0 && pickProtocol(offered) === false && !args.proceed && !args.misbehave) {
    return refuse(
      400,
      `no subprotocol in common: the client offered ${offered.join(", ")}, this server speaks ` +
        `${SPOKEN.join(", ")} (Sec-WebSocket-Protocol, RFC 6455 §4.2.2)`,
    );
  }
  wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
});

wss.on("connection", (ws, request) => {
  // `ws.protocol` is what the 101 named: "" for none.
  const offered = request.headers["sec-websocket-protocol"] ?? "";
  log("websocket", `open: the client offered "${offered}", ws.protocol is "${ws.protocol}"`);
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("error", (error) => log("websocket", `error: ${error.message}`));
  ws.on("close", (code) => log("websocket", `closed: ${closeName(code)}`));
});
// ANCHOR_END: upgrade

await listen(server, args);
