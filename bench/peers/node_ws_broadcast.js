// Bare Node `ws` broadcast rooms: the ceiling a hand-written server could reach.
// `ws://host:port/room/<id>` joins room <id>; every text message from one
// client goes, as is, to every other client in its room, and the sender gets
// the text frame "ack" (the load generator's flow control, like hubbub's
// ChatMessageAccepted). No persistence, no auth, no validation.
// Prints "listening on <port>".
"use strict";
const { WebSocketServer, WebSocket } = require("ws");

const port = Number(process.argv[2] || 0);
const wss = new WebSocketServer({ port, host: "127.0.0.1", perMessageDeflate: false, backlog: 4096 });
const rooms = new Map();

wss.on("listening", () => {
  console.log(`listening on ${wss.address().port}`);
});

wss.on("connection", (ws, req) => {
  const path = req.url || "/";
  const id = path.startsWith("/room/") ? path.slice("/room/".length) : path;
  let room = rooms.get(id);
  if (room === undefined) {
    room = new Set();
    rooms.set(id, room);
  }
  room.add(ws);
  ws.on("message", (data, isBinary) => {
    for (const client of room) {
      if (client !== ws && client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    }
    ws.send("ack");
  });
  ws.on("close", () => {
    room.delete(ws);
    if (room.size === 0 && rooms.get(id) === room) rooms.delete(id);
  });
});
