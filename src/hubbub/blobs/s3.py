"""Blobs as objects of an S3-compatible bucket, their metadata in the database.

    s3://<bucket>/<prefix><id>

Chosen client: aiobotocore, the asyncio port of botocore kept by aio-libs:
the same request signing, credential chain and retry logic as boto3, but
native to the event loop, so a download streams the object's body
chunk by chunk with no thread held per request (boto3 in a thread would
tie a worker thread to every open download). Credentials come from
botocore's standard chain (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
`AWS_SESSION_TOKEN`, `AWS_PROFILE`, instance or container roles); none is a
hubbub setting and none is ever logged.

As with files, the object is written before its metadata row commits and
the row deleted before the object, so a row always names an object; a crash
in between leaves at most an object no row names. Every node of a cluster
talks to the same bucket, so every node serves every blob (docs/blobs.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hubbub.core.blobs import check_blob_id
from hubbub.core.ports.blobs import CHUNK_BYTES, BlobGone, BlobMeta, BlobMetaStore

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

__all__ = ["S3Blobs", "S3Settings"]

_MISSING = {"NoSuchKey", "404", "NotFound", "InvalidRange"}
MAX_CONNECTIONS = 100


@dataclass(frozen=True, slots=True)
class S3Settings:
    bucket: str
    endpoint: str = ""  # empty: AWS itself, from the region
    region: str = "us-east-1"
    prefix: str = "blobs/"
    addressing_style: str = "auto"  # auto | path | virtual (MinIO and moto like path)

    def __post_init__(self) -> None:
        if not self.bucket:
            raise ValueError("--blob-backend s3 needs --s3-bucket")
        if self.addressing_style not in ("auto", "path", "virtual"):
            raise ValueError("--s3-addressing-style must be auto, path or virtual")
        if self.endpoint and not self.endpoint.startswith(("http://", "https://")):
            raise ValueError("--s3-endpoint must be an http:// or https:// URL")


def _code(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3Blobs:
    """`core.ports.BlobStore` over an S3 bucket (AWS, MinIO, Ceph, moto...)."""

    def __init__(self, settings: S3Settings, meta: BlobMetaStore) -> None:
        self.settings = settings
        self.meta = meta
        self._stack = contextlib.AsyncExitStack()
        self._client: S3Client | None = None

    async def start(self) -> None:
        """Open the client and check the bucket answers, so a wrong name or
        missing credentials stop the node at start-up, not at the first upload."""
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        s = self.settings
        config = AioConfig(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            # An open download holds one pooled connection while its client reads.
            max_pool_connections=MAX_CONNECTIONS,
            s3={"addressing_style": s.addressing_style},
        )
        client: S3Client = await self._stack.enter_async_context(
            get_session().create_client(
                "s3", region_name=s.region, endpoint_url=s.endpoint or None, config=config
            )
        )
        try:
            await client.head_bucket(Bucket=s.bucket)
        except Exception as exc:
            await self._stack.aclose()
            raise RuntimeError(
                f"S3 bucket {s.bucket!r} is not reachable ({_code(exc) or type(exc).__name__})"
            ) from None
        self._client = client

    async def close(self) -> None:
        self._client = None
        await self._stack.aclose()

    @property
    def client(self) -> S3Client:
        if self._client is None:
            raise RuntimeError("the S3 blob store is not started")
        return self._client

    def _key(self, blob_id: str) -> str:
        if not check_blob_id(blob_id):
            raise ValueError("not a blob id")
        return self.settings.prefix + blob_id

    async def put(self, meta: BlobMeta, data: bytes) -> None:
        await self.client.put_object(
            Bucket=self.settings.bucket,
            Key=self._key(meta.id),
            Body=data,
            ContentType=meta.mime,
            ContentLength=len(data),
        )
        await self.meta.put_meta(meta)

    async def stat(self, blob_id: str) -> BlobMeta | None:
        """The row alone: it is written after the object and deleted before
        it, so a row names an object (no HEAD round trip per download)."""
        return await self.meta.get_meta(blob_id) if check_blob_id(blob_id) else None

    async def read(self, blob_id: str, start: int, stop: int) -> AsyncIterator[bytes]:
        if not check_blob_id(blob_id) or stop <= start:
            raise BlobGone(blob_id)
        try:
            got = await self.client.get_object(
                Bucket=self.settings.bucket,
                Key=self._key(blob_id),
                Range=f"bytes={start}-{stop - 1}",
            )
        except Exception as exc:
            if _code(exc) in _MISSING:
                raise BlobGone(blob_id) from None
            raise
        async with got["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK_BYTES):
                yield chunk

    async def delete(self, blob_id: str) -> None:
        if not check_blob_id(blob_id):
            return
        await self.meta.delete_meta(blob_id)  # the row first: a row always names an object
        await self.client.delete_object(Bucket=self.settings.bucket, Key=self._key(blob_id))
