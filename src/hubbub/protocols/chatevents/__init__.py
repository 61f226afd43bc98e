"""Spec 004, "Chat Events 0.1.0": chat events on the bus.

`chat.proto` is the schema (its generated `chat_pb2` is committed),
`codec.py` encodes an event as protobuf or JSON, `jetstream.py` publishes to
NATS JetStream, `inprocess.py` hands events to in-process subscribers when
there is no NATS. What is emitted, and when, is `core/chatevents.py`.
"""
