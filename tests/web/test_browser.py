"""The web client in a real browser: two people, two browser contexts, one server.

Each context is one device with its own storage (IndexedDB, keys). Playwright
waits on conditions (`expect(...)` polls until its timeout), never on sleeps.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import ServerProcess
from tests.web.conftest import PASSWORD

WAIT = 15_000  # ms, for expect()
SCREENSHOTS = Path("/tmp/hubbub-web")


# Contrast of each visible text node's colour against the first opaque
# background behind it (WCAG 2 relative luminance).
CONTRAST_JS = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || !el.checkVisibility() || el.closest('.visually-hidden'))
      continue;
    const s = getComputedStyle(el);
    const a = lum(rgb(s.color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (!(ratio >= need)) bad.push(`${ratio.toFixed(2)} ${el.className}: ${n.textContent}`);
  }
  return bad;
}"""


class Person:
    """One browser context (a device) used by one person."""

    def __init__(
        self,
        browser: Any,
        server: ServerProcess,
        *,
        width: int = 1100,
        height: int = 760,
        scheme: str = "light",
    ) -> None:
        self.server = server
        self.context = browser.new_context(
            base_url=server.base_url,
            viewport={"width": width, "height": height},
            color_scheme=scheme,
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.on(
            "console",
            lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None,
        )
        self.name = ""

    def expect(self, selector: str | Any) -> Any:
        from playwright.sync_api import expect

        return expect(self.page.locator(selector) if isinstance(selector, str) else selector)

    def register(self, username: str) -> Person:
        """By keyboard alone: the form's focus order is username, password, submit."""
        self.name = username
        p = self.page
        p.goto("/")
        p.get_by_role("button", name="Create account").first.click()
        p.get_by_label("Username").focus()
        p.keyboard.type(username)
        p.keyboard.press("Tab")
        self.expect(p.get_by_label("Password")).to_be_focused()
        p.keyboard.type(PASSWORD)
        p.keyboard.press("Enter")
        self.expect("#me-name").to_have_text(username, timeout=WAIT)
        self.expect("#status").to_be_hidden(timeout=WAIT)  # connected
        return self

    def sign_in(self, username: str) -> Person:
        self.name = username
        p = self.page
        p.goto("/")
        p.get_by_label("Username").fill(username)
        p.get_by_label("Password").fill(PASSWORD)
        p.locator("#auth-submit").click()
        self.expect("#me-name").to_have_text(username, timeout=WAIT)
        return self

    def open_direct(self, username: str) -> None:
        self.page.locator("#new-chat").click()
        self.page.get_by_label("Their username").fill(username)
        self.page.locator("#direct-submit").click()
        self.expect("#chat-title").to_have_text(username, timeout=WAIT)

    def open_chat(self, title: str) -> None:
        self.page.evaluate("location.hash = '#/'")
        self.conversation(title).locator("a").click()
        self.expect("#chat-title").to_have_text(title, timeout=WAIT)

    def conversation(self, title: str) -> Any:
        return self.page.locator("#conversation-list li").filter(has_text=title)

    def send(self, text: str, ttl: str = "") -> Any:
        if ttl:
            self.page.locator("#composer-ttl").select_option(ttl)
        box = self.page.get_by_label("Message", exact=True)
        box.fill(text)
        box.press("Enter")
        return self.message(text)

    def message(self, text: str) -> Any:
        return self.page.locator("#messages li.msg").filter(has_text=text)

    def ticks(self, text: str) -> Any:
        return self.message(text).locator(".ticks")

    def unlabelled_controls(self) -> list[str]:
        """Form controls on screen that have no accessible name."""
        return list(
            self.page.evaluate(
                """() => [...document.querySelectorAll('input, select, textarea, button')]
                .filter((el) => el.offsetParent !== null)
                .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                                && !(el.textContent || '').trim())
                .map((el) => el.outerHTML.slice(0, 80))"""
            )
        )

    def low_contrast(self) -> list[str]:
        """Visible text under WCAG AA contrast (4.5:1, 3:1 for large text)."""
        return list(self.page.evaluate(CONTRAST_JS))

    def check_clean(self) -> None:
        """Nothing came from another origin, and no script error or CSP refusal."""
        origin = self.server.base_url
        foreign = [u for u in self.requests if not u.startswith((origin, "data:", "blob:"))]
        assert foreign == []
        # Failed requests while offline are logged by the browser; anything else
        # (a script error, a CSP refusal, our own console.error) is a defect.
        network = ("Failed to load resource", "WebSocket connection to", "net::ERR_")
        assert [p for p in self.problems if not any(n in p for n in network)] == []

    def close(self) -> None:
        self.context.close()


def _db(server: ServerProcess) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{server.data_dir / 'hubbub.db'}?mode=ro", uri=True)


def _bytes_of_data_dir(server: ServerProcess) -> bytes:
    return b"".join(p.read_bytes() for p in server.data_dir.rglob("*") if p.is_file())


def test_direct_chat_is_live_encrypted_and_ticked(
    people: Callable[..., Person], web_server: ServerProcess, names: Callable[[str], str]
) -> None:
    alice = people().register(names("alice"))
    bob = people(width=375, height=740).register(names("bob"))  # a phone-sized screen

    alice.open_direct(bob.name)
    alice.expect("#chat-security").to_have_attribute("data-secure", "yes", timeout=WAIT)
    secret = "the eagle lands at nine"
    alice.send(secret)
    alice.expect(alice.ticks(secret)).to_have_attribute(
        "data-status", re.compile("sent|delivered"), timeout=WAIT
    )

    # Bob's list shows the new chat live, with one unread message; his client
    # confirms delivery without opening it.
    bob.expect(bob.conversation(alice.name).locator(".unread")).to_have_text("1", timeout=WAIT)
    bob.expect(bob.conversation(alice.name)).to_contain_text(secret)
    bob.expect(bob.page).to_have_title("(1) hubbub")
    alice.expect(alice.ticks(secret)).to_have_attribute("data-status", "delivered", timeout=WAIT)

    bob.open_chat(alice.name)
    bob.expect(bob.message(secret)).to_have_count(1, timeout=WAIT)
    bob.expect("#chat-security").to_have_attribute("data-secure", "yes")
    bob.page.get_by_text("Verify encryption keys").click()
    bob.expect("#chat-keys").to_contain_text(re.compile(r": p256-[0-9a-f]{24}\. You: p256-"))
    alice.expect(alice.ticks(secret)).to_have_attribute("data-status", "read", timeout=WAIT)
    bob.expect(bob.conversation(alice.name).locator(".unread")).to_be_hidden()
    bob.expect(bob.page).to_have_title(f"{alice.name} · hubbub")

    reply = "copy that, nine sharp"
    bob.send(reply)
    alice.expect(alice.message(reply)).to_have_count(1, timeout=WAIT)
    bob.expect(bob.ticks(reply)).to_have_attribute("data-status", "read", timeout=WAIT)

    # Self-destruct in an encrypted chat: the timer is inside the ciphertext and
    # both browsers delete the message when it runs out (checked at the end).
    burn = "burn after reading"
    alice.send(burn, ttl="10")
    bob.expect(bob.message(burn).locator(".countdown")).to_have_text(
        re.compile(r"^\d+s$"), timeout=WAIT
    )

    # The server holds ciphertext only: no byte of either text in its files
    # (database, WAL, logs), and the two messages are stored as e2e rows.
    data = _bytes_of_data_dir(web_server)
    for text in (secret, reply, burn):
        assert text.encode() not in data
    with _db(web_server) as db:
        rows = db.execute(
            "SELECT m.kind, content, ciphertext, algorithm FROM messages m JOIN users u"
            " ON u.id = m.sender_id WHERE u.username IN (?, ?)",
            (alice.name, bob.name),
        ).fetchall()
    assert len(rows) == 3
    assert all(
        r[0] == "e2e" and r[1] is None and r[2] and r[3] == "P256-HKDF-AES256GCM" for r in rows
    )

    # The phone-sized layout: one pane, nothing wider than the screen.
    SCREENSHOTS.mkdir(exist_ok=True)
    bob.page.screenshot(path=str(SCREENSHOTS / "chat-375.png"))
    assert bob.page.evaluate("document.documentElement.scrollWidth") <= 375
    assert bob.unlabelled_controls() == []
    assert bob.low_contrast() == []
    assert alice.low_contrast() == []
    bob.page.locator("a.back").click()
    bob.expect("#conversation-list").to_be_visible()
    assert bob.unlabelled_controls() == []
    assert bob.low_contrast() == []
    bob.page.screenshot(path=str(SCREENSHOTS / "list-375.png"))
    search = bob.page.get_by_label("Search chats and messages")
    search.fill("eagle")  # the text of a decrypted message, searched in the browser
    bob.expect("#conversation-list li").to_have_count(1)
    search.fill("no such words")
    bob.expect("#conversation-list li").to_have_count(0)
    bob.expect(bob.page.get_by_text("Nothing matches your search.")).to_be_visible()
    search.fill("")
    assert bob.page.evaluate("document.documentElement.scrollWidth") <= 375
    alice.page.screenshot(path=str(SCREENSHOTS / "chat-wide.png"))

    alice.expect(alice.message(burn)).to_have_count(0, timeout=30_000)
    # Keyboard: Escape leaves the chat for the list, focus on the chat just left.
    alice.page.keyboard.press("Escape")
    alice.expect(alice.conversation(bob.name).locator("a")).to_be_focused()
    alice.page.keyboard.press("Enter")
    alice.expect("#composer-input").to_be_focused()
    bob.open_chat(alice.name)
    bob.expect(bob.message(burn)).to_have_count(0, timeout=WAIT)
    bob.expect(bob.message(secret)).to_have_count(1)

    # The key id Bob verifies is the one Alice's own device shows.
    alice.page.locator("#open-settings").click()
    alice.expect("#key-info").to_have_attribute("data-published", "yes", timeout=WAIT)
    kid = re.search(r"p256-[0-9a-f]{24}", alice.page.locator("#key-info").inner_text())
    assert kid is not None
    bob.expect("#chat-keys").to_contain_text(f"{alice.name}: {kid.group(0)}")
    alice.check_clean()
    bob.check_clean()


def test_reconnect_resumes_without_duplicates_and_reads_offline(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    alice = people().register(names("alice"))
    bob = people(scheme="dark").register(names("bob"))
    alice.open_direct(bob.name)
    alice.send("before the tunnel")
    bob.open_chat(alice.name)
    bob.expect(bob.message("before the tunnel")).to_have_count(1, timeout=WAIT)

    bob.send("ok")
    alice.expect(alice.message("ok")).to_have_count(1, timeout=WAIT)
    assert bob.low_contrast() == []  # the dark scheme too
    SCREENSHOTS.mkdir(exist_ok=True)
    bob.page.screenshot(path=str(SCREENSHOTS / "chat-dark.png"))

    bob.context.set_offline(True)
    bob.expect("#status").to_have_attribute("data-state", "offline", timeout=WAIT)
    alice.expect("#chat-presence").to_have_text(re.compile("^last seen "), timeout=WAIT)
    missed = [f"while you were away {i}" for i in range(3)]
    for text in missed:
        alice.send(text)
    for text in missed:
        alice.expect(alice.ticks(text)).to_have_attribute("data-status", "sent", timeout=WAIT)

    bob.context.set_offline(False)
    alice.expect("#chat-presence").to_have_text("online", timeout=WAIT)
    for text in missed:
        bob.expect(bob.message(text)).to_have_count(1, timeout=WAIT)
    bob.expect("#messages li.msg").to_have_count(5)  # live ones were returned again by the resume
    for text in missed:
        alice.expect(alice.ticks(text)).to_have_attribute("data-status", "read", timeout=WAIT)

    # Reload: the history comes back from the local store and the resume, once.
    bob.page.reload()
    bob.expect("#messages li.msg").to_have_count(5, timeout=WAIT)
    bob.expect("#status").to_be_hidden(timeout=WAIT)

    # Offline: the app starts from the service worker's copy and shows what it has.
    bob.page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    bob.context.set_offline(True)
    bob.page.reload()
    bob.expect("#messages li.msg").to_have_count(5, timeout=WAIT)
    bob.expect(bob.message("before the tunnel")).to_have_count(1)
    bob.expect("#status").to_have_attribute("data-state", "offline", timeout=WAIT)
    bob.context.set_offline(False)
    bob.expect("#status").to_be_hidden(timeout=WAIT)
    bob.expect("#messages li.msg").to_have_count(5)

    # Written offline: it waits (pending) and goes out once, on reconnect.
    bob.context.set_offline(True)
    bob.expect("#status").to_have_attribute("data-state", "offline", timeout=WAIT)
    bob.send("sent from the tunnel")
    bob.expect(bob.ticks("sent from the tunnel")).to_have_attribute("data-status", "pending")
    bob.context.set_offline(False)
    bob.expect(bob.ticks("sent from the tunnel")).to_have_attribute(
        "data-status", "read", timeout=WAIT
    )
    alice.expect(alice.message("sent from the tunnel")).to_have_count(1, timeout=WAIT)
    alice.check_clean()
    bob.check_clean()


def test_group_with_self_destructing_message_and_leaving(
    people: Callable[..., Person], web_server: ServerProcess, names: Callable[[str], str]
) -> None:
    alice = people().register(names("alice"))
    bob = people().register(names("bob"))
    group = names("Team ")
    p = alice.page
    p.locator("#new-chat").click()
    p.get_by_label("Group name").fill(group)
    p.get_by_label("Members").fill(bob.name)
    p.locator("#group-submit").click()
    alice.expect("#chat-title").to_have_text(group, timeout=WAIT)
    alice.expect("#chat-security").to_have_attribute("data-secure", "no")

    bob.expect(bob.conversation(group)).to_have_count(1, timeout=WAIT)  # GroupCreated, live
    bob.open_chat(group)
    alice.send("hello team")
    bob.expect(bob.message("hello team")).to_contain_text(alice.name, timeout=WAIT)

    gone = "this will vanish"
    alice.send(gone, ttl="10")
    bob.expect(bob.message(gone).locator(".countdown")).to_have_text(
        re.compile(r"^\d+s$"), timeout=WAIT
    )
    alice.expect(alice.message(gone).locator(".countdown")).to_have_text(re.compile(r"^\d+s$"))
    SCREENSHOTS.mkdir(exist_ok=True)
    bob.page.screenshot(path=str(SCREENSHOTS / "group-countdown.png"))
    assert bob.low_contrast() == []
    bob.expect(bob.message(gone)).to_have_count(0, timeout=30_000)
    alice.expect(alice.message(gone)).to_have_count(0, timeout=WAIT)
    with _db(web_server) as db:
        row = db.execute(
            "SELECT content, deleted_at FROM messages WHERE content IS NULL"
            " AND kind = 'text' AND deleted_at IS NOT NULL"
        ).fetchall()
    assert row, "the server erased the self-destructed message"

    leave = bob.page.locator("#leave-group")
    leave.click()
    leave.click()
    bob.expect("#composer-input").to_be_disabled(timeout=WAIT)
    left = alice.page.locator("#messages li.system").filter(has_text=f"{bob.name} left")
    alice.expect(left).to_have_count(1, timeout=WAIT)
    alice.check_clean()
    bob.check_clean()


def test_settings_profile_block_and_devices(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    alice = people().register(names("alice"))
    bob = people().register(names("bob"))
    alice.open_direct(bob.name)
    alice.send("hello from the start")
    bob.open_chat(alice.name)

    # Profile text reaches the peer's chat header live.
    alice.page.locator("#open-settings").click()
    alice.page.get_by_label("About (shown to your contacts)").fill("on holiday")
    alice.page.locator("#info-save").click()
    bob.expect("#chat-info").to_have_text("on holiday", timeout=WAIT)

    # Blocking freezes the chat: the blocker cannot write, the other's sends fail.
    alice.open_chat(bob.name)
    alice.page.locator("#block-toggle").click()
    alice.expect("#composer-input").to_be_disabled(timeout=WAIT)
    bob.send("are you there?")
    bob.expect(bob.ticks("are you there?")).to_have_attribute("data-status", "failed", timeout=WAIT)
    alice.page.locator("#open-settings").click()
    alice.expect("#blocked-users").to_contain_text(bob.name, timeout=WAIT)
    alice.page.get_by_role("button", name=f"Unblock {bob.name}").click()
    alice.expect("#blocked-users").to_contain_text("You block no one", timeout=WAIT)

    # A second device of Alice's: it cannot read what was sent before it existed,
    # and reads everything after, from Bob and from Alice's first device.
    other = people().sign_in(alice.name)
    other.page.locator("#open-settings").click()
    other.expect("#key-info").to_have_attribute("data-published", "yes", timeout=WAIT)
    other.open_chat(bob.name)
    other.expect(other.message("hello from the start")).to_have_count(0)
    other.expect("#messages li.undecryptable").to_have_count(1, timeout=WAIT)
    bob.send("to both of your devices")
    other.expect(other.message("to both of your devices")).to_have_count(1, timeout=WAIT)
    alice.open_chat(bob.name)
    alice.expect(alice.message("to both of your devices")).to_have_count(1, timeout=WAIT)
    alice.send("from the first device")
    other.expect(other.message("from the first device")).to_have_count(1, timeout=WAIT)
    bob.expect(bob.message("from the first device")).to_have_count(1, timeout=WAIT)

    # Signed out from the first device.
    alice.page.evaluate("location.hash = '#/'")
    alice.page.locator("#open-settings").click()
    alice.expect("#devices li").to_have_count(2, timeout=WAIT)
    alice.page.locator("#devices button.revoke").click()
    other.expect("#auth-error").to_be_attached(timeout=WAIT)
    other.expect(other.page.get_by_role("status").filter(has_text="signed out")).to_be_visible(
        timeout=WAIT
    )
    alice.expect("#devices li").to_have_count(1, timeout=WAIT)

    alice.page.get_by_label("Current password").fill("wrong password")
    alice.page.get_by_label("New password").fill("a brand new secret")
    alice.page.locator("#pw-save").click()
    alice.expect("#pw-title ~ .form-error").to_have_text("The current password is wrong.")
    alice.page.get_by_label("Current password").fill(PASSWORD)
    alice.page.locator("#pw-save").click()
    alice.expect("#toast").to_contain_text("Password changed", timeout=WAIT)
    assert alice.unlabelled_controls() == []
    assert alice.low_contrast() == []
    SCREENSHOTS.mkdir(exist_ok=True)
    alice.page.screenshot(path=str(SCREENSHOTS / "settings.png"), full_page=True)

    alice.page.locator("#sign-out").click()
    alice.expect("#auth-submit").to_be_visible(timeout=WAIT)
    for person in (alice, bob, other):
        person.check_clean()


def test_server_restart_reconnects_with_backoff_and_resumes(
    browser: Any, tmp_path: Path, names: Callable[[str], str]
) -> None:
    """The server goes away for real (its process ends); both browsers retry by
    themselves and carry on where they were, with nothing lost or doubled."""
    # Sync pages of 2 changes: every resume here takes several SyncRequests.
    server = ServerProcess(tmp_path / "data", extra_env={"HUBBUB_SYNC_PAGE_SIZE": "2"}).start()
    alice = Person(browser, server).register(names("alice"))
    bob = Person(browser, server).register(names("bob"))
    try:
        alice.open_direct(bob.name)
        alice.send("first")
        bob.open_chat(alice.name)
        bob.expect(bob.message("first")).to_have_count(1, timeout=WAIT)

        server.stop()
        for person in (alice, bob):
            person.expect("#status").to_have_attribute("data-state", "offline", timeout=WAIT)
        alice.send("written while the server was down")
        alice.expect(alice.ticks("written while the server was down")).to_have_attribute(
            "data-status", "pending"
        )
        server.start()  # same port, same data

        for person in (alice, bob):
            person.expect("#status").to_be_hidden(timeout=30_000)
        bob.expect(bob.message("written while the server was down")).to_have_count(1, timeout=WAIT)
        bob.send("welcome back")
        alice.expect(alice.message("welcome back")).to_have_count(1, timeout=WAIT)
        for person in (alice, bob):
            person.expect("#messages li.msg").to_have_count(3)

        # A new device starts from nothing: the whole history comes in pages.
        fresh = Person(browser, server).sign_in(bob.name)
        fresh.open_chat(alice.name)
        fresh.expect("#messages li.msg").to_have_count(3, timeout=WAIT)
        fresh.expect("#messages li.undecryptable").to_have_count(3)  # sent before it existed
        fresh.close()
        alice.check_clean()
        bob.check_clean()
    finally:
        alice.close()
        bob.close()
        server.stop()


DOC_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _shot(person: Person, name: str) -> None:
    """A screenshot for the docs (README, docs/web-client.md): small PNGs, one viewport."""
    DOC_SHOTS.mkdir(parents=True, exist_ok=True)
    person.page.screenshot(path=str(DOC_SHOTS / f"{name}.png"))


def test_reactions_and_a_group_poll(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    alice = people(width=1100, height=720)
    alice.page.goto("/")
    alice.expect("#auth-submit").to_be_visible(timeout=WAIT)
    _shot(alice, "sign-in")
    alice.register(names("alice"))
    bob = people(width=375, height=740).register(names("bob"))  # a phone-sized screen

    alice.open_direct(bob.name)  # an encrypted direct chat, for the list's screenshot
    alice.send("see you at noon")
    group = names("Lunch ")
    p = alice.page
    p.locator("#new-chat").click()
    p.get_by_label("Group name").fill(group)
    p.get_by_label("Members").fill(bob.name)
    p.locator("#group-submit").click()
    alice.expect("#chat-title").to_have_text(group, timeout=WAIT)
    alice.send("pizza or sushi today?")
    bob.expect(bob.conversation(group)).to_have_count(1, timeout=WAIT)
    bob.open_chat(group)
    question = bob.message("pizza or sushi today?")
    bob.expect(question).to_have_count(1, timeout=WAIT)

    # Bob reacts by keyboard: the picker opens on the message, Escape closes it
    # (the chat stays open), a choice sends it; Alice sees it live.
    opener = question.get_by_role("button", name="Add a reaction")
    opener.focus()
    bob.page.keyboard.press("Enter")
    bob.expect(question.get_by_role("button", name="React with thumbs up")).to_be_focused()
    bob.page.keyboard.press("Escape")
    bob.expect(opener).to_be_focused()
    bob.expect("#chat-title").to_have_text(group)
    bob.page.keyboard.press("Enter")
    bob.page.keyboard.press("Enter")  # the first choice, thumbs up
    chip = ".reaction-chip[data-emoji='👍']"
    bob.expect(question.locator(chip)).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    alice_q = alice.message("pizza or sushi today?")
    alice.expect(alice_q.locator(chip)).to_have_text("👍1", timeout=WAIT)
    alice.expect(alice_q.locator(chip)).to_have_attribute("aria-pressed", "false")

    # Alice adds the same one (2, hers highlighted), then a heart on her own.
    alice_q.locator(chip).click()
    alice.expect(alice_q.locator(chip)).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    bob.expect(question.locator(chip)).to_have_text("👍2", timeout=WAIT)
    alice_q.get_by_role("button", name="Add a reaction").click()
    alice_q.get_by_role("button", name="React with heart").click()
    bob.expect(question.locator(".reaction-chip[data-emoji='❤️']")).to_have_text("❤️1", timeout=WAIT)
    bob.expect(question.locator(chip)).to_have_text("👍1")
    # Bob takes his back (sent as ""): his chip goes, Alice's heart stays.
    question.locator(chip).click()
    alice.expect(alice_q.locator(chip)).to_have_count(0, timeout=WAIT)
    alice.expect(alice_q.locator(".reaction-chip")).to_have_count(1)
    bob.expect(question.locator(".reaction-chip")).to_have_count(1, timeout=WAIT)
    bob_reacts = "me too"
    bob.send(bob_reacts)
    alice.expect(alice.message(bob_reacts)).to_have_count(1, timeout=WAIT)
    alice.message(bob_reacts).get_by_role("button", name="Add a reaction").click()
    alice.message(bob_reacts).get_by_role("button", name="React with party").click()
    bob.expect(bob.message(bob_reacts).locator(".reaction-chip")).to_have_text("🎉1", timeout=WAIT)

    # A poll: Alice creates it, both vote, both see the counts live, Alice closes it.
    p.locator("#new-poll").click()
    alice.expect("#poll-question").to_be_focused()
    p.get_by_label("Question").fill("Where do we eat?")
    p.get_by_label("Option 1").fill("Pizza place")
    p.get_by_label("Option 2").fill("Sushi bar")
    p.locator("#poll-add-option").click()
    p.get_by_label("Option 3").fill("Tacos")
    p.locator("#poll-submit").click()
    alice.expect("#poll-form").to_be_hidden(timeout=WAIT)
    a_poll = p.locator("#messages li.poll").filter(has_text="Where do we eat?")
    b_poll = bob.page.locator("#messages li.poll").filter(has_text="Where do we eat?")
    alice.expect(a_poll).to_have_count(1, timeout=WAIT)
    bob.expect(b_poll).to_have_count(1, timeout=WAIT)
    bob.expect(b_poll.locator(".poll-close")).to_have_count(0)  # not his poll
    bob.expect(b_poll.locator(".poll-body")).not_to_contain_text("null")

    def option(poll: Any, text: str) -> Any:
        return poll.locator(".poll-option").filter(has_text=text)

    option(b_poll, "Sushi bar").click()
    bob.expect(option(b_poll, "Sushi bar")).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    alice.expect(option(a_poll, "Sushi bar").locator(".poll-count")).to_have_text("1", timeout=WAIT)
    option(a_poll, "Pizza place").click()
    bob.expect(option(b_poll, "Pizza place").locator(".poll-count")).to_have_text("1", timeout=WAIT)
    option(b_poll, "Pizza place").click()  # Bob changes his vote (single select)
    for poll, who in ((a_poll, alice), (b_poll, bob)):
        who.expect(option(poll, "Pizza place").locator(".poll-count")).to_have_text(
            "2", timeout=WAIT
        )
        who.expect(option(poll, "Sushi bar").locator(".poll-count")).to_have_text("0")
        who.expect(poll.locator(".poll-state")).to_contain_text("2 votes")
    bob.expect(option(b_poll, "Pizza place")).to_have_attribute("aria-pressed", "true")
    bob.expect(option(b_poll, "Sushi bar")).to_have_attribute("aria-pressed", "false")
    alice.expect(option(a_poll, "Pizza place")).to_have_attribute("aria-pressed", "true")
    alice.expect(alice.conversation(group)).to_contain_text("Where do we eat?")
    _shot(alice, "chat-reactions-poll")
    _shot(bob, "chat-375")
    assert bob.page.evaluate("document.documentElement.scrollWidth") <= 375
    # The group's title stays readable beside its buttons on a phone.
    title = bob.page.locator(".chat-header h2").bounding_box()
    assert title is not None and title["width"] >= 120 and title["x"] + title["width"] <= 375
    for person in (alice, bob):
        assert person.unlabelled_controls() == []
        assert person.low_contrast() == []

    a_poll.locator(".poll-close").click()
    for poll, who in ((a_poll, alice), (b_poll, bob)):
        who.expect(poll.locator(".poll-state")).to_contain_text("Closed", timeout=WAIT)
        who.expect(option(poll, "Pizza place")).to_be_disabled()
        who.expect(option(poll, "Pizza place").locator(".poll-count")).to_have_text("2")
    alice.expect(a_poll.locator(".poll-close")).to_have_count(0)
    _shot(bob, "poll-closed-375")

    # A reload rebuilds it all from the local store and the resume, once.
    bob.page.reload()
    bob.expect(b_poll.locator(".poll-state")).to_contain_text("Closed", timeout=WAIT)
    bob.expect(option(b_poll, "Pizza place")).to_have_attribute("aria-pressed", "true")
    bob.expect(bob.message(bob_reacts).locator(".reaction-chip")).to_have_text("🎉1")
    bob.expect(question.locator(".reaction-chip")).to_have_text("❤️1")

    # Bob's multi-select poll: the form wants two options; he picks both.
    b = bob.page
    b.locator("#new-poll").click()
    b.get_by_label("Question").fill("Drinks?")
    b.get_by_label("Option 1").fill("Water")
    b.locator("#poll-submit").click()
    bob.expect("#poll-error").to_have_text("Give at least two options.")
    b.get_by_label("Option 2").fill("Juice")
    b.get_by_label("Allow several answers").check()
    b.get_by_label("Closes").select_option(label="In 1 day")  # the server's timer closes it
    b.locator("#poll-submit").click()
    drinks_b = b.locator("#messages li.poll").filter(has_text="Drinks?")
    drinks_a = p.locator("#messages li.poll").filter(has_text="Drinks?")
    bob.expect(drinks_b.locator(".poll-state")).to_contain_text("Choose any", timeout=WAIT)
    option(drinks_b, "Water").click()
    bob.expect(option(drinks_b, "Water")).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    option(drinks_b, "Juice").click()
    bob.expect(option(drinks_b, "Juice")).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    bob.expect(option(drinks_b, "Water")).to_have_attribute("aria-pressed", "true")
    for name in ("Water", "Juice"):
        alice.expect(option(drinks_a, name).locator(".poll-count")).to_have_text("1", timeout=WAIT)
    alice.expect(drinks_a.locator(".poll-state")).to_contain_text("2 votes")
    # Its closing time came with PollCreated: tomorrow, by weekday.
    alice.expect(drinks_a.locator(".poll-state")).to_contain_text("closes ")
    bob.expect(drinks_b.locator(".poll-state")).to_contain_text("closes ")

    p.evaluate("location.hash = '#/'")
    alice.expect("#conversation-list").to_be_visible()
    _shot(alice, "conversations")
    p.locator("#open-settings").click()
    alice.expect("#key-info").to_have_attribute("data-published", "yes", timeout=WAIT)
    _shot(alice, "settings")

    # An end-to-end encrypted message has a server id too: reacting to it works.
    bob.page.evaluate("location.hash = '#/'")
    bob.conversation("see you at noon").locator("a").click()  # (the group's preview names Alice)
    bob.expect("#chat-title").to_have_text(alice.name, timeout=WAIT)
    noon = bob.message("see you at noon")
    bob.expect(noon).to_have_count(1, timeout=WAIT)
    noon.get_by_role("button", name="Add a reaction").click()
    noon.get_by_role("button", name="React with laughing").click()
    p.evaluate("location.hash = '#/'")
    alice.conversation("see you at noon").locator("a").click()
    alice.expect("#chat-title").to_have_text(bob.name, timeout=WAIT)
    alice.expect(alice.message("see you at noon").locator(".reaction-chip")).to_have_text(
        "😂1", timeout=WAIT
    )
    alice.check_clean()
    bob.check_clean()
