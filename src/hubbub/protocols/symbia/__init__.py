"""Spec 002, Symbia messaging: REST under `/api` (S1's part) and real time.

realtime.py        mounts /socket.io/ and /api/ws (app.Edge routes them)
socketio.py        python-socketio's AsyncServer, asgi mode
wsapi.py           /api/ws: {"event", "data"} frames
sockets.py         one connection: hub, rooms, queue, limits, client events
handshake.py       who is connecting (token, API key, cookies)
events.py          core frames -> Symbia events
socket_actions.py  message:send / edit / delete, control:send on the core
"""
