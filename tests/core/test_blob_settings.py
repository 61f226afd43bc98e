"""`--blob-backend` and its S3 settings: the names a node accepts (the old
`--blob-store` spelling included), what `auto` picks, and the settings that
refuse to build a node rather than fail at the first upload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hubbub.blobs.filesystem import FsBlobs
from hubbub.blobs.s3 import S3Blobs
from hubbub.config import Settings
from hubbub.runtime import Node


def test_backend_names_and_auto() -> None:
    pg = "postgresql://postgres@127.0.0.1/x"
    assert Settings().resolved_blob_backend == "fs"
    assert Settings(database_url=pg).resolved_blob_backend == "db"
    for name, want in (("fs", "fs"), ("db", "db"), ("s3", "s3")):
        assert Settings(blob_backend=name, database_url=pg).resolved_blob_backend == want
    assert Settings(blob_store="database").resolved_blob_backend == "db"
    assert Settings(blob_store="filesystem", database_url=pg).resolved_blob_backend == "fs"
    assert Settings(blob_backend="fs", blob_store="database").resolved_blob_backend == "fs"
    with pytest.raises(ValueError, match="--blob-backend"):
        _ = Settings(blob_backend="tape").resolved_blob_backend


def test_a_node_builds_the_chosen_backend_or_refuses(tmp_path: Path) -> None:
    def node(**kw: Any) -> Node:
        return Node(Settings(data_dir=tmp_path, chat_events_relay=False, **kw))

    assert isinstance(node().blobs.store, FsBlobs)
    s3 = node(blob_backend="s3", s3_bucket="b", s3_endpoint="http://127.0.0.1:9")
    assert isinstance(s3.blobs.store, S3Blobs)
    for bad in (
        {"s3_bucket": ""},
        {"s3_bucket": "b", "s3_endpoint": "ftp://x"},
        {"s3_bucket": "b", "s3_addressing_style": "sideways"},
    ):
        with pytest.raises(ValueError, match="s3"):
            node(blob_backend="s3", **bad)
