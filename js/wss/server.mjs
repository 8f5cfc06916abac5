// wss:// in Node: the note's example, whole. An https server made with a certificate and its
// private key, and ws on that server: the WebSocket then travels inside TLS, and nothing between
// the browser and this process can read it or change it.
//
//   node js/wss/server.mjs --port 3443 --cert cert.pem --key key.pem
//
// The test makes a certificate for `localhost` (with rcgen, as the Rust chapter does), writes the
// two PEM files into a temporary folder, and gives their paths here. Its client trusts exactly
// that certificate. For your own machine, `mkcert localhost` makes a pair your browser trusts.

import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { WebSocketServer } from "ws";
import { closeName, listen, log, options } from "../lib/serve.mjs";

const args = options(3443, {
  cert: { type: "string" },
  key: { type: "string" },
}, `
wss: an echo at wss://HOST:PORT/ws/echo, on an https server
  --port PORT   port to listen on, 0 for any free port (default 3443, or $PORT)
  --host HOST   address to listen on (default 127.0.0.1)
  --cert FILE   the certificate, PEM (required)
  --key FILE    its private key, PEM (required)
`);
if (!args.cert || !args.key) {
  console.error("wss needs --cert FILE and --key FILE (PEM); see --help");
  process.exit(2);
}

// ANCHOR: wss
const server = createServer({
  cert: readFileSync(args.cert),
  key: readFileSync(args.key),
});
server.on("request", (request, response) => {
  response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
  response.end("https works; the WebSocket is at /ws/echo\n");
});
const wss = new WebSocketServer({ server, path: "/ws/echo" });

wss.on("connection", (ws, request) => {
  // The TLS socket underneath: which protocol and cipher the handshake chose.
  const tls = request.socket;
  log("websocket", `open over ${tls.getProtocol()}, ${tls.getCipher().name}`);
  ws.send("hello over wss");
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("error", (error) => log("websocket", error.message));
  ws.on("close", (code) => log("websocket", `closed: ${closeName(code)}`));
});
// ANCHOR_END: wss

await listen(server, args);
