"""Spec 001, "Chat WebSocket API 1.0.0": the public room at `/` and `/chat`.

`frames.py` declares the seed's messages, `endpoint.py` serves a connection,
`translate.py` turns core events into the seed's frames, `files.py` serves
downloads of the files posted in the room. The rules are `core/rooms.py`.
"""
