"""Layering rules that code review would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "hubbub"
FORBIDDEN_IN_CORE = {
    "fastapi", "starlette", "uvicorn", "sqlalchemy", "aiosqlite", "asyncpg", "nats",
    "websockets", "alembic",
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
            if node.module.startswith("hubbub."):
                names.add(node.module)
    return names


def test_core_imports_no_framework_driver_or_bus_client() -> None:
    offenders = {}
    for path in (SRC / "core").rglob("*.py"):
        bad = _imports(path) & FORBIDDEN_IN_CORE
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_core_does_not_import_adapters_or_store() -> None:
    offenders = {}
    for path in (SRC / "core").rglob("*.py"):
        bad = {
            n
            for n in _imports(path)
            if n.startswith(("hubbub.protocols", "hubbub.store", "hubbub.bus", "hubbub.rest"))
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_protocol_adapters_hold_no_sql() -> None:
    for path in (SRC / "protocols").rglob("*.py"):
        assert "sqlalchemy" not in _imports(path), path
