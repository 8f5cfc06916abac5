// Refusing a WebSocket upgrade properly, for every program that checks upgrades itself.

// ANCHOR: refuse
import { STATUS_CODES } from "node:http";

/**
 * Answers an upgrade request with an HTTP error on the raw socket: a whole HTTP/1.1 response
 * (a status line, a Content-Length, `Connection: close`, a body that says why), then the end.
 * `end()` sends the response and then FIN; once it has gone ('finish'), `destroy()` frees the
 * socket. A bare `socket.destroy()` would leave the client with no status at all, and RFC 6455
 * §4.2.2 asks for one.
 */
export function refuseUpgrade(socket, status, message, headers = {}) {
  const body = `${message}\n`;
  const fields = {
    ...headers,
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    Connection: "close",
  };
  const head = Object.entries(fields).map(([name, value]) => `${name}: ${value}\r\n`).join("");
  socket.once("finish", () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
}
// ANCHOR_END: refuse
