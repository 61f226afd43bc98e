"""A real S3-speaking server for tests: moto's server mode in a subprocess.

`MotoServer` starts `python -m moto.server` on a free loopback port and
waits (on its start-up line, with a timeout) until it listens. The bucket is
created with aiobotocore, the client the S3 blob backend itself uses.
Credentials are fixed dummies in the standard env vars, which is how a
hubbub node is given real ones.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "hubbub-test",
    "AWS_SECRET_ACCESS_KEY": "hubbub-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class MotoServer:
    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint = ""

    def start(self, timeout: float = 30.0) -> MotoServer:
        """Port 0: the kernel picks a free port, which moto's start-up line
        names once it is listening (that line is the condition waited on)."""
        cmd = [sys.executable, "-u", "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert self.proc.stdout is not None
        seen: list[bytes] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            found = re.search(rb"Running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                self.endpoint = found.group(1).decode()
                # Keep draining its output to the log, so a full pipe never stalls it.
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.stop()
        raise RuntimeError(f"moto did not start: {b''.join(seen)[-2000:]!r}")

    def _drain(self) -> None:
        proc = self.proc
        if proc is None or proc.stdout is None:
            return
        with open(self.log_path, "ab") as log:
            for line in proc.stdout:
                log.write(line)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def env(self, bucket: str) -> dict[str, str]:
        """What a hubbub node needs to keep its blobs in `bucket` here."""
        return {
            **CREDENTIALS,
            "HUBBUB_BLOB_BACKEND": "s3",
            "HUBBUB_S3_ENDPOINT": self.endpoint,
            "HUBBUB_S3_BUCKET": bucket,
            "HUBBUB_S3_ADDRESSING_STYLE": "path",
        }

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[Any]:
        from aiobotocore.session import get_session

        session = get_session()
        async with session.create_client(
            "s3",
            region_name="us-east-1",
            endpoint_url=self.endpoint,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        ) as client:
            yield client

    async def create_bucket(self, bucket: str) -> None:
        async with self.client() as c:
            await c.create_bucket(Bucket=bucket)

    async def keys(self, bucket: str) -> dict[str, bytes]:
        """Every object of the bucket, by key."""
        out: dict[str, bytes] = {}
        async with self.client() as c:
            listed = await c.list_objects_v2(Bucket=bucket)
            for item in listed.get("Contents", []):
                got = await c.get_object(Bucket=bucket, Key=item["Key"])
                async with got["Body"] as body:
                    out[item["Key"]] = await body.read()
        return out


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server for the test session; each test makes its own bucket."""
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


def new_bucket() -> str:
    return "hubbub-" + secrets.token_hex(6)
