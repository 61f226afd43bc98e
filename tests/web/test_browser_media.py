"""The web client's non-text messages, in Chromium: voice notes recorded with
MediaRecorder (Chromium's synthetic microphone) and played back through a
signed URL, stickers, forwards with a note, and @mentions with their badge.
Two browser contexts, one of them phone-sized; what the server stored is read
from its database."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.support import FAST_ARGON, ServerProcess
from tests.web.test_browser import WAIT, Person, _shot

SIGNED = re.compile(r"/v1/blobs/[^?]+\?.*sig=")


def _settled_settings(person: Person) -> None:
    """Settings fills in after it opens (the preview config, the admin link):
    a click aimed while its sections still move can land beside the link."""
    person.expect(person.page.get_by_role("checkbox", name="Show who sent it")).to_be_enabled(
        timeout=WAIT
    )
    person.expect(person.page.locator("#open-admin")).to_be_visible(timeout=WAIT)


def _rows(server: ServerProcess, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{server.data_dir / 'hubbub.db'}?mode=ro", uri=True) as db:
        return list(db.execute(sql, args))


def _eventually(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    """Wait for a condition on what the server stored (a request still in flight)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)  # a poll interval, not a timing assumption


def _group(person: Person, name: str, *members: str) -> None:
    p = person.page
    p.evaluate("location.hash = '#/'")
    p.locator("#new-chat").click()
    p.get_by_label("Group name").fill(name)
    p.get_by_label("Members").fill(", ".join(members))
    p.locator("#group-submit").click()
    person.expect("#chat-title").to_have_text(name, timeout=WAIT)


def test_voice_note_sticker_forward_and_mention(
    people: Callable[..., Person], web_server: ServerProcess, names: Callable[[str], str]
) -> None:
    alice = people().register(names("alice"))
    bob = people(width=375, height=740).register(names("bob"))
    carol = people().register(names("carol"))  # never a member: must see nothing
    crew, other = names("Crew "), names("Other ")
    _group(alice, other, bob.name)
    _group(alice, crew, bob.name)

    # A mention: Bob, on his list, gets the @ badge; opening the chat clears it
    # and acknowledges the mention on the server.
    alice.send(f"hello @{bob.name}, see this")
    bob.page.evaluate("location.hash = '#/'")
    badge = bob.conversation(crew).locator(".badge.mentioned")
    bob.expect(badge).to_be_visible(timeout=WAIT)
    bob.open_chat(crew)
    hello = bob.message("see this")
    bob.expect(hello.locator(".mention-me")).to_have_text(f"@{bob.name}", timeout=WAIT)
    bob.page.evaluate("location.hash = '#/'")
    bob.expect(badge).to_be_hidden(timeout=WAIT)
    (bob_id,) = _rows(web_server, "SELECT id FROM users WHERE username = ?", bob.name)[0]
    mentions = "SELECT acked_at FROM mentions WHERE user_id = ?"
    assert len(_rows(web_server, mentions, bob_id)) == 1
    _eventually(  # the badge goes at once; the acknowledgement is on its way
        lambda: _rows(web_server, mentions, bob_id)[0][0] is not None, "mention never acked"
    )
    bob.open_chat(crew)

    # A sticker from the picker: both see it drawn, labelled for screen readers.
    bob.page.locator("#composer-stickers").click()
    bob.page.get_by_role("button", name="Send sticker: Rocket").click()
    for who in (alice, bob):
        rocket = who.page.locator("#messages li.msg .sticker")
        who.expect(rocket).to_have_text("🚀", timeout=WAIT)
        who.expect(rocket).to_have_attribute("aria-label", "Sticker: Rocket")

    # A voice note from the synthetic microphone: recorded, sent, and played
    # by Bob from a signed URL that needs no header.
    rec = alice.page.locator("#composer-record")
    rec.click()
    alice.expect(rec).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    alice.expect("#record-status").to_have_text("Recording 0:01", timeout=WAIT)
    rec.click()
    alice.expect(rec).to_have_attribute("aria-pressed", "false", timeout=WAIT)
    for who in (alice, bob):
        who.expect(who.page.locator("#messages li.msg audio")).to_have_count(1, timeout=WAIT)
        who.expect(who.page.locator("#messages li.msg audio")).to_have_attribute(
            "src", SIGNED, timeout=WAIT
        )
    src = bob.page.locator("#messages li.msg audio").get_attribute("src")
    got = bob.page.evaluate(
        """async (u) => { const r = await fetch(u, {credentials: 'omit'});
             const b = new Uint8Array(await r.arrayBuffer());
             return [r.status, r.headers.get('content-type'), b.length,
                     Array.from(b.slice(0, 4))]; }""",
        src,
    )
    assert got[0] == 200 and got[1].startswith("audio/") and got[2] > 100
    stored = _rows(web_server, "SELECT kind FROM messages WHERE kind = 'voice'")
    assert stored == [("voice",)]
    # Carol, not a member, cannot use Bob's signed URL (it is bound to Bob) nor the path.
    refused = carol.page.evaluate(
        "async (u) => (await fetch(u.replace(/u=[^&]+/, 'u=x'), {credentials: 'omit'})).status", src
    )
    assert refused in (403, 404)

    # A forward with a note, into the other group: marked, with the note, for both.
    msg = bob.message("see this")
    msg.get_by_role("button", name="Forward this message").click()
    bob.expect("#forward-target").to_be_focused()
    bob.page.locator("#forward-target").select_option(label=other)
    bob.page.get_by_label("Note (optional)").fill("look at this")
    bob.page.locator("#forward-submit").click()
    bob.expect("#forward-form").to_be_hidden(timeout=WAIT)
    for who in (alice, bob):
        who.open_chat(other)
        copy = who.message("see this")
        who.expect(copy.locator(".forwarded")).to_have_text(
            "Forwarded · “look at this”", timeout=WAIT
        )
    _shot(bob, "chat-forward-375")

    # A reload rebuilds the group from the local store and the resume.
    bob.page.reload()
    bob.open_chat(crew)
    bob.expect(bob.page.locator("#messages li.msg .sticker")).to_have_text("🚀", timeout=WAIT)
    bob.expect(bob.page.locator("#messages li.msg audio")).to_have_count(1, timeout=WAIT)
    alice.open_chat(crew)
    _shot(alice, "chat-voice-sticker")
    carol.page.evaluate("location.hash = '#/'")
    carol.expect(carol.conversation(crew)).to_have_count(0)
    for person in (alice, bob):
        assert person.unlabelled_controls() == []
        assert person.low_contrast() == []
        person.check_clean()
    assert bob.page.evaluate("document.documentElement.scrollWidth") <= 375


def test_group_event_with_rsvps_reminder_edit_conflict_and_cancel(
    people: Callable[..., Person], web_server: ServerProcess, names: Callable[[str], str]
) -> None:
    alice = people().register(names("alice"))
    bob = people(width=375, height=740).register(names("bob"))
    trip = names("Trip ")
    _group(alice, trip, bob.name)
    bob.expect(bob.conversation(trip)).to_have_count(1, timeout=WAIT)
    bob.open_chat(trip)

    # Alice plans it: the form opens focused on the title, which is required.
    p = alice.page
    p.locator("#new-event").click()
    alice.expect("#event-title").to_be_focused()
    p.locator("#event-submit").click()
    assert p.locator("#event-title").evaluate("(el) => el.validity.valueMissing")
    alice.expect("#event-form").to_be_visible()
    p.get_by_label("Title").fill("Hike to the lake")
    p.get_by_label("Place (optional)").fill("North trailhead")
    p.locator("#event-submit").click()
    alice.expect("#event-form").to_be_hidden(timeout=WAIT)
    a_card = p.locator("#messages li.event").filter(has_text="Hike to the lake")
    b_card = bob.page.locator("#messages li.event").filter(has_text="Hike to the lake")
    for card, who in ((a_card, alice), (b_card, bob)):
        who.expect(card).to_contain_text("North trailhead", timeout=WAIT)
    bob.expect(b_card.locator(".event-edit")).to_have_count(0)  # not his event

    # Bob answers; both see it. Then he sets a reminder 15 minutes before.
    b_card.get_by_role("button", name="Going: 0").click()
    bob.expect(b_card.get_by_role("button", name="Going: 1")).to_have_attribute(
        "aria-pressed", "true", timeout=WAIT
    )
    alice.expect(a_card.locator(".event-going")).to_have_text(f"Going: {bob.name}", timeout=WAIT)
    b_card.get_by_label("Remind me").select_option("900")  # it starts in an hour
    bob.expect(bob.page.locator("#toast")).to_have_text("Reminder set.", timeout=WAIT)
    (bob_id,) = _rows(web_server, "SELECT id FROM users WHERE username = ?", bob.name)[0]
    reminders = _rows(web_server, "SELECT count(*) FROM timers WHERE kind LIKE '%remind%'")
    assert reminders[0][0] >= 1

    # A stale edit, from Alice's second device whose form still holds version 1
    # while her first device saves version 2: refused, and the card shows v2.
    alice2 = people().sign_in(alice.name)
    alice2.open_chat(trip)
    a2_card = alice2.page.locator("#messages li.event").filter(has_text="Hike to the lake")
    a2_card.get_by_role("button", name="Edit event").click()
    alice2.expect("#event-title").to_be_focused()
    a_card.get_by_role("button", name="Edit event").click()
    p.get_by_label("Title").fill("Hike to the lake, early")
    p.locator("#event-submit").click()
    a_new = p.locator("#messages li.event").filter(has_text="Hike to the lake, early")
    alice.expect(a_new).to_have_count(1, timeout=WAIT)
    bob.expect(bob.page.locator("#messages li.event")).to_contain_text("early", timeout=WAIT)
    alice2.expect(alice2.page.locator("#messages li.event")).to_contain_text("early", timeout=WAIT)
    alice2.page.get_by_label("Title").fill("stale title")
    alice2.page.locator("#event-submit").click()
    alice2.expect("#event-error").to_contain_text("Someone changed this event first", timeout=WAIT)
    stored = _rows(web_server, "SELECT title, version FROM group_events")
    assert stored == [("Hike to the lake, early", 2)]

    _shot(alice, "chat-event")

    # Alice cancels it: both cards say so and offer no answers any more.
    a_new.get_by_role("button", name="Cancel event").click()
    for who in (alice, bob):
        card = who.page.locator("#messages li.event")
        who.expect(card.locator(".event-when")).to_have_text("Cancelled", timeout=WAIT)
        who.expect(card.locator(".event-rsvp-choice")).to_have_count(0)
    bob.page.reload()
    bob.open_chat(trip)
    bob.expect(bob.page.locator("#messages li.event .event-when")).to_have_text(
        "Cancelled", timeout=WAIT
    )
    for person in (alice, bob):
        assert person.unlabelled_controls() == []
        assert person.low_contrast() == []
        person.check_clean()
    assert bob.page.evaluate("document.documentElement.scrollWidth") <= 375
    assert bob_id


def _grant_admin(server: ServerProcess, username: str) -> None:
    """`hubbub admin grant`, as the operator would run it beside the server."""
    cmd = [
        sys.executable,
        "-m",
        "hubbub",
        "admin",
        "grant",
        username,
        "--data-dir",
        str(server.data_dir),
    ]
    if server.database_url:
        cmd += ["--database-url", server.database_url]
    subprocess.run(
        cmd, check=True, capture_output=True, timeout=60, env={**os.environ, **FAST_ARGON}
    )


def test_announcements_channels_and_administration(
    people: Callable[..., Person], web_server: ServerProcess, names: Callable[[str], str]
) -> None:
    boss = people().register(names("boss"))
    _grant_admin(web_server, boss.name)
    bob = people(width=375, height=740).register(names("bob"))
    bp, ap = bob.page, boss.page

    # Not an admin: no publishing forms, and the admin page says no.
    bp.locator("#open-announcements").click()
    bob.expect("#announcements-title").to_be_focused(timeout=WAIT)
    bob.expect(bp.locator("#broadcast-channels")).to_contain_text("No channels yet", timeout=WAIT)
    bob.expect(bp.locator("#announce-submit")).to_have_count(0)
    bp.evaluate("location.hash = '#/admin'")
    bob.expect("#admin-users").to_have_text("Only server admins can see this.", timeout=WAIT)
    bp.evaluate("location.hash = '#/'")

    # The admin makes a channel and announces something to everyone.
    ap.locator("#open-announcements").click()
    cid = names("news-")
    ap.get_by_label("Channel id (lower case, digits, - _)").fill(cid)
    ap.locator("#channel-title").fill("News")
    ap.locator("#channel-submit").click()
    boss.expect(ap.locator("#broadcast-channels")).to_contain_text("News", timeout=WAIT)
    ap.locator("#announce-title").fill("Maintenance tonight")
    ap.locator("#announce-content").fill("The server restarts at 22:00.")
    ap.locator("#announce-priority").select_option("high")
    ap.locator("#announce-submit").click()
    boss.expect(ap.locator("#announcements")).to_contain_text("Maintenance tonight", timeout=WAIT)

    # Bob sees the count on his list, live; opening the page acknowledges it.
    bob.expect("#announcements-count").to_have_text("1", timeout=WAIT)
    bp.locator("#open-announcements").click()
    item = bp.locator("#announcements li").filter(has_text="Maintenance tonight")
    bob.expect(item).to_contain_text("The server restarts at 22:00.", timeout=WAIT)
    bob.expect(item.locator(".priority")).to_have_text("high")
    (bob_id,) = _rows(web_server, "SELECT id FROM users WHERE username = ?", bob.name)[0]

    def acked() -> int:
        return int(
            _rows(web_server, "SELECT count(*) FROM broadcast_acks WHERE user_id = ?", bob_id)[0][0]
        )

    bob.expect(bp.locator("#broadcast-channels")).to_contain_text("News", timeout=WAIT)
    sub = bp.get_by_role("button", name="Subscribe to News")
    sub.click()
    bob.expect(bp.get_by_role("button", name="Unsubscribe from News")).to_have_attribute(
        "aria-pressed", "true", timeout=WAIT
    )
    _eventually(lambda: acked() == 1, "announcement never acknowledged")

    # A post to the channel reaches him on the page, live.
    boss.expect(ap.locator("#post-channel")).to_have_count(1, timeout=WAIT)
    ap.locator("#post-title").fill("Release 2.0")
    ap.locator("#post-text").fill("out now")
    ap.locator("#post-submit").click()
    post = bp.locator("#announcements li").filter(has_text="Release 2.0")
    bob.expect(post).to_contain_text("out now", timeout=WAIT)
    bob.expect(post).to_contain_text("#News")
    _shot(bob, "announcements-375")
    bp.evaluate("location.hash = '#/'")
    bob.expect("#announcements-count").to_be_hidden()

    # Administration: an invitation, and Bob deactivated (signed out at once)
    # then reactivated; the audit log shows both.
    ap.locator("#open-settings").click()
    _settled_settings(boss)
    ap.locator("#open-admin").click()
    boss.expect("#admin-title").to_be_focused(timeout=WAIT)
    ap.locator("#admin-invite-create").click()
    boss.expect("#admin-new-token").to_contain_text("New token (shown once):", timeout=WAIT)
    ap.get_by_label("Username, email or id starts with").fill(bob.name)
    ap.locator("#admin-user-search").click()
    row = ap.locator("#admin-users li").filter(has_text=bob.name)
    boss.expect(row).to_have_count(1, timeout=WAIT)
    row.get_by_role("button", name=f"Deactivate {bob.name}").click()
    boss.expect(row).to_contain_text("deactivated", timeout=WAIT)
    bob.expect("#auth-submit").to_be_visible(timeout=WAIT)  # his session was ended
    row.get_by_role("button", name=f"Reactivate {bob.name}").click()
    boss.expect(row).not_to_contain_text("deactivated", timeout=WAIT)
    bob.sign_in(bob.name)
    ap.evaluate("location.hash = '#/settings'")
    _settled_settings(boss)
    ap.locator("#open-admin").click()
    boss.expect(ap.locator("#admin-audit")).to_contain_text("deactivate", timeout=WAIT)
    _shot(boss, "admin")
    for person in (boss, bob):
        assert person.unlabelled_controls() == []
        assert person.low_contrast() == []
    assert bp.evaluate("document.documentElement.scrollWidth") <= 375
    boss.check_clean()
