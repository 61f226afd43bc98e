"""The operator commands on a database no server runs on: they create it
(migrations), and report mistakes as a message and a failing exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.operators_support import PW, own_database
from tests.support import ServerProcess, hubbub_cli


async def test_operator_commands_offline(tmp_path: Path) -> None:
    with own_database() as url:
        db = ServerProcess(tmp_path / "offline", database_url=url)  # never started
        db.data_dir.mkdir(parents=True)
        uid = (await hubbub_cli(db, "user", "create", "root", "--admin", "--password-stdin",
                                stdin=PW)).strip()  # fmt: skip
        await hubbub_cli(db, "user", "create", "helper", "--password-stdin", stdin=PW)
        assert (await hubbub_cli(db, "admin", "list")).split() == ["root", uid]
        await hubbub_cli(db, "admin", "grant", "helper")
        assert [
            line.split("\t")[0] for line in (await hubbub_cli(db, "admin", "list")).splitlines()
        ] == [
            "helper",
            "root",
        ]
        key = (await hubbub_cli(db, "api-key", "create", "helper", "--read-only")).strip()
        assert key.startswith("hbk_")
        token = (await hubbub_cli(db, "registration-token", "create", "--uses", "0")).strip()
        assert token.startswith("hbr_")
        with pytest.raises(AssertionError, match="not_found"):
            await hubbub_cli(db, "admin", "grant", "nobody")
        with pytest.raises(AssertionError, match="conflict"):
            await hubbub_cli(db, "user", "create", "root", "--password-stdin", stdin=PW)
        with pytest.raises(AssertionError, match="password must be"):
            await hubbub_cli(db, "user", "create", "shorty", "--password-stdin", stdin="short")
        with pytest.raises(AssertionError, match="use limit, an expiry"):
            await hubbub_cli(
                db, "registration-token", "create", "--uses", "0", "--expires-in-s", "0"
            )
