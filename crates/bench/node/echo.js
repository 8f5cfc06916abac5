// The Node.js echo the measurements compare against: the `ws` library with its defaults.
//
// `just bench` installs `ws` into .bench-cache/node (git-ignored) and starts this script with
// NODE_PATH pointing there. Usage: node echo.js [PORT]   (0, the default, picks a free port).
// It prints one line, "node ws echo at ws://127.0.0.1:PORT/ws/echo", once it listens.
'use strict';

const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 0);
// Defaults throughout (maxPayload 100 MiB, no permessage-deflate on the server), as an app
// that writes `new WebSocketServer({ port })` gets them; only the path is set, to match the
// Rust servers' /ws/echo.
const server = new WebSocketServer({ host: '127.0.0.1', port, path: '/ws/echo' });

server.on('connection', (ws) => {
  // Every message straight back, as the same kind (text or binary).
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  // An unhandled 'error' event would end the process (FACTS.md); a dropped client is normal here.
  ws.on('error', () => {});
});

server.on('listening', () => {
  const { port } = server.address();
  console.log(`node ws echo at ws://127.0.0.1:${port}/ws/echo`);
});
