// Bare Node `ws` broadcast room: the ceiling a hand-written server could reach.
// Every text message from one client goes to every other client, as is.
// No persistence, no auth, no validation. Prints "listening on <port>".
"use strict";
const { WebSocketServer, WebSocket } = require("ws");

const port = Number(process.argv[2] || 0);
const wss = new WebSocketServer({ port, host: "127.0.0.1", perMessageDeflate: false, backlog: 4096 });

wss.on("listening", () => {
  console.log(`listening on ${wss.address().port}`);
});

wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    for (const client of wss.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    }
  });
});
