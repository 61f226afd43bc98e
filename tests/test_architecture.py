"""Layering rules that code review would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "hubbub"
FORBIDDEN_IN_CORE = {
    "fastapi", "starlette", "uvicorn", "sqlalchemy", "aiosqlite", "asyncpg", "nats",
    "websockets", "alembic", "aiobotocore", "botocore",
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


# One room per area (docs/areas.md). A module past its limit is a nudge to
# split it by sub-area, not a law: raise a limit only with a reason written
# in docs/areas.md. The tables are a package (`store/sql/tables/`, one
# metadata for Alembic) whose modules have the store's limit too.
HANDLER_MODULE_MAX_LINES = 400
STORE_MODULE_MAX_LINES = 500
HANDLERS_DIR = SRC / "protocols" / "channels" / "handlers"
STORE_DIR = SRC / "store" / "sql"
HANDLER_SHARED = {"__init__", "base"}
STORE_SHARED = {"__init__", "area", "stores", "engine", "writer", "migrate", "tables", "events"}
STORE_SHARED |= {"appends"}  # the messages area's batched appends, split out for its size


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_handler_and_store_modules_stay_small() -> None:
    too_big = {
        str(p.relative_to(SRC)): _lines(p)
        for d, limit in (
            (HANDLERS_DIR, HANDLER_MODULE_MAX_LINES),
            (STORE_DIR, STORE_MODULE_MAX_LINES),
            (STORE_DIR / "tables", STORE_MODULE_MAX_LINES),
        )
        for p in d.glob("*.py")
        if _lines(p) > limit
    }
    assert too_big == {}, "split these by area (docs/areas.md)"


def test_each_handler_and_store_module_is_named_after_its_core_area() -> None:
    core_areas = {p.stem for p in (SRC / "core").glob("*.py")}
    strays = {
        str(p.relative_to(SRC))
        for d, shared in ((HANDLERS_DIR, HANDLER_SHARED), (STORE_DIR, STORE_SHARED))
        for p in d.glob("*.py")
        if p.stem not in shared and p.stem not in core_areas
    }
    assert strays == set(), "an area module needs a core/<area>.py of the same name"


def test_every_handler_comes_from_the_module_of_its_area() -> None:
    from hubbub.protocols.channels import handlers

    for area in handlers.AREAS:
        for key, handler in area.HANDLERS.items():
            assert handlers.HANDLERS[key] is handler
            assert handler.__module__ == area.__name__, (key, handler.__module__)
    assert len(handlers.HANDLERS) == sum(len(a.HANDLERS) for a in handlers.AREAS)
