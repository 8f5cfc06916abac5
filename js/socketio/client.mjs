// A Socket.IO client that says what it does: connect (long polling first), wait for the upgrade
// to a WebSocket, send one "chat" event and wait for its echo, answer one of the server's pings,
// then disconnect. The Rust test runs it through the Tap and records every connection.
//
//   node js/socketio/client.mjs http://127.0.0.1:3007

import { io } from "socket.io-client";

const url = process.argv[2] ?? "http://127.0.0.1:3007";
// `websocket` as a second argument skips long polling: the WebSocket is the first transport.
const transports = process.argv[3] === "websocket" ? ["websocket"] : ["polling", "websocket"];
const say = (text) => console.log(text);

// ANCHOR: client
const socket = io(url, { transports, reconnection: false }); // by default polling, then websocket
const engine = socket.io.engine; // the Engine.IO connection under the Socket.IO socket

// Chat once the WebSocket carries the session: after the upgrade, or at once without polling.
let chatted = false;
const chat = () => {
  if (chatted || !socket.connected || engine.transport.name !== "websocket") return;
  chatted = true;
  socket.emit("chat", "hello"); // an event name and its arguments: 42["chat","hello"]
};
socket.on("connect", () => {
  say(`connected over ${engine.transport.name}`);
  chat();
});
engine.on("upgrade", (transport) => {
  say(`upgraded to ${transport.name}`);
  chat();
});
socket.on("chat", (text) => {
  say(`chat echoed: ${JSON.stringify(text)}`);
  // Engine.IO's heartbeat: the server sends "2", the client answers "3". Wait for one.
  engine.once("ping", () => {
    say("ping answered with a pong");
    socket.disconnect();
  });
});
socket.on("disconnect", (reason) => {
  say(`disconnected: ${reason}`);
});
// ANCHOR_END: client
socket.on("connect_error", (error) => {
  say(`could not connect: ${error.message}`);
  process.exitCode = 1;
});
