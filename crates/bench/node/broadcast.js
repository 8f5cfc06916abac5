// The Node.js room the fan-out measurement compares against: `ws` with the broadcast loop from its
// README ("Server broadcast": every message to every open client, the sender included), nothing
// added.
//
// `just bench-fanout` installs `ws` into .bench-cache/node (git-ignored) and starts this script with
// NODE_PATH pointing there. Usage: node broadcast.js [PORT]   (0, the default, picks a free port).
// It prints one line, "node ws broadcast at ws://127.0.0.1:PORT/ws/chat/NAME", once it listens;
// every path is the one room, as the README's server has one.
'use strict';

const WebSocket = require('ws');
const { WebSocketServer } = WebSocket;

const port = Number(process.argv[2] || 0);
const wss = new WebSocketServer({ host: '127.0.0.1', port });

// From ws's README, "Server broadcast", as it stands in ws 8.
wss.on('connection', function connection(ws) {
  ws.on('error', console.error);

  ws.on('message', function message(data, isBinary) {
    wss.clients.forEach(function each(client) {
      if (client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    });
  });
});

wss.on('listening', () => {
  const { port } = wss.address();
  console.log(`node ws broadcast at ws://127.0.0.1:${port}/ws/chat/NAME`);
});
