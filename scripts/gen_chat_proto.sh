#!/bin/sh
# Regenerates the Python classes of spec 004's chat.proto with the official
# protobuf compiler (grpcio-tools ships protoc). Commit the result;
# tests/protocols/test_chat_proto.py checks that it matches chat.proto.
set -eu
cd "$(dirname "$0")/.."
dir=src/hubbub/protocols/chatevents
"${PYTHON:-.venv/bin/python}" -m grpc_tools.protoc -I "$dir" \
    --python_out="$dir" --pyi_out="$dir" "$dir/chat.proto"
