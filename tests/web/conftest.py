"""Fixtures for the browser tests: Debian's Chromium driven by Playwright.

Playwright's own browser builds are never downloaded (`playwright install`
cannot work here); the tests launch `/usr/bin/chromium`, which `.ci/run`
installs when it is missing. Without it the tests skip, and fail when
HUBBUB_REQUIRE_SERVICES=1 (CI), like the PostgreSQL and NATS suites.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import ServerProcess

CHROMIUM = os.environ.get("HUBBUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # A synthetic microphone (a beep), granted without a prompt: voice notes are recorded.
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
]  # fmt: skip
REQUIRE = os.environ.get("HUBBUB_REQUIRE_SERVICES") == "1"
PASSWORD = "correct horse battery"


def _unavailable(why: str) -> None:
    if REQUIRE:
        pytest.fail(f"browser tests required but {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
    finally:
        pw.stop()


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[ServerProcess]:
    """A server of its own, always on SQLite, so a test can read its database file."""
    data = tmp_path_factory.mktemp("web")
    proc = ServerProcess(data, database_url=f"sqlite:///{data / 'hubbub.db'}").start()
    yield proc
    proc.stop()


@pytest.fixture
def names() -> Callable[[str], str]:
    tag = secrets.token_hex(3)
    return lambda who: f"{who}{tag}"


@pytest.fixture
def people(browser: Any, web_server: ServerProcess) -> Iterator[Callable[..., Any]]:
    """Browser users (`tests.web.test_browser.Person`), each its own context,
    closed after the test: one fixture for every browser test module."""
    from tests.web.test_browser import Person

    made: list[Person] = []

    def make(**kw: Any) -> Person:
        made.append(Person(browser, web_server, **kw))
        return made[-1]

    yield make
    for person in made:
        person.close()
