"""Pinned and archived chats in the web client, in Chromium.

Alice on two browser contexts (a laptop and a 375 px phone) pins one chat and
archives another from the first; the second follows live (`ChatPinnedUpdated`,
`ChatArchiveStatusChanged`, the server sends them to her devices only). A
new message from bob brings the archived chat back on both. Bob's list shows
none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.test_browser import WAIT, Person, _shot


def _group(person: Person, name: str, *members: str) -> None:
    p = person.page
    p.evaluate("location.hash = '#/'")
    p.locator("#new-chat").click()
    p.get_by_label("Group name").fill(name)
    p.get_by_label("Members").fill(", ".join(members))
    p.locator("#group-submit").click()
    person.expect("#chat-title").to_have_text(name, timeout=WAIT)


def _item(person: Person, title: str) -> Any:
    """The list item titled `title` (a message preview may name someone else's chat)."""
    p = person.page
    return p.locator("#conversation-list li").filter(
        has=p.locator(".conv-title").get_by_text(title, exact=True)
    )


def _main_titles(person: Person) -> list[str]:
    return list(person.page.locator("#conversation-list .conv-title").all_text_contents())


def test_pinned_and_archived_chats_follow_across_devices(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    bob = people().register(names("bob"))
    alice = people().register(names("alice"))
    group = names("Trip")
    alice.open_direct(bob.name)
    _group(alice, group, bob.name)  # newest: the group is first in the list
    phone = people(width=375, height=740).sign_in(alice.name)
    phone.expect(phone.conversation(group)).to_have_count(1, timeout=WAIT)
    phone.expect(_item(phone, bob.name)).to_have_count(1, timeout=WAIT)
    assert _main_titles(phone) == [group, bob.name]

    # Pin the direct chat from the laptop: it goes on top, with its mark, on both.
    alice.open_chat(bob.name)
    alice.expect("#pin-toggle").to_have_attribute("aria-pressed", "false")
    alice.page.locator("#pin-toggle").click()
    alice.expect("#pin-toggle").to_have_text("Unpin", timeout=WAIT)
    alice.expect("#pin-toggle").to_have_attribute("aria-pressed", "true")
    for dev in (alice, phone):
        dev.expect(_item(dev, bob.name).locator(".conv-pin")).to_be_visible(timeout=WAIT)
        dev.expect(dev.page.locator("#conversation-list .conv-title").first).to_have_text(bob.name)
    link = _item(phone, bob.name).locator("a")
    assert "pinned" in (link.get_attribute("aria-label") or "")

    # Archive the group, by keyboard: it leaves the list for the collapsed section.
    alice.open_chat(group)
    alice.page.locator("#archive-toggle").focus()
    alice.page.keyboard.press("Enter")
    alice.expect("#archive-toggle").to_have_text("Unarchive", timeout=WAIT)
    for dev in (alice, phone):
        dev.expect(dev.page.locator("#conversation-list").filter(has_text=group)).to_have_count(
            0, timeout=WAIT
        )
        dev.expect("#archived-toggle").to_be_visible()
        dev.expect("#archived-count").to_have_text("1")
        dev.expect("#archived-toggle").to_have_attribute("aria-expanded", "false")
        dev.expect("#archived-list").to_be_hidden()
    phone.page.locator("#archived-toggle").click()
    phone.expect("#archived-toggle").to_have_attribute("aria-expanded", "true")
    phone.expect(phone.page.locator("#archived-list li").filter(has_text=group)).to_have_count(1)
    assert phone.unlabelled_controls() == []
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(phone, "chats-pinned-archived-375")

    # The phone's chat header at 375 px: every action fits and is labelled.
    phone.page.locator("#archived-list li").filter(has_text=group).locator("a").click()
    phone.expect("#chat-title").to_have_text(group, timeout=WAIT)
    phone.expect("#archive-toggle").to_have_text("Unarchive")
    assert phone.unlabelled_controls() == []
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 375
    phone.page.keyboard.press("Escape")

    # Bob sees neither flag: his chats are in his list, nothing is archived or pinned.
    bob.page.evaluate("location.hash = '#/'")
    bob.expect(bob.conversation(group)).to_have_count(1, timeout=WAIT)
    bob.expect("#archived-toggle").to_be_hidden()
    bob.expect(bob.page.locator("#conversation-list .conv-pin:visible")).to_have_count(0)

    # A message from bob brings the group back on both of alice's devices.
    bob.open_chat(group)
    bob.send("who is driving?")
    for dev in (alice, phone):
        dev.expect(dev.page.locator("#conversation-list").filter(has_text=group)).to_have_count(
            1, timeout=WAIT
        )
        dev.expect("#archived-toggle").to_be_hidden(timeout=WAIT)
    alice.expect("#archive-toggle").to_have_text("Archive", timeout=WAIT)
    # The pinned chat stays on top of the newer one.
    phone.page.evaluate("location.hash = '#/'")
    phone.expect(phone.page.locator("#conversation-list .conv-title").first).to_have_text(bob.name)
    assert _main_titles(phone) == [bob.name, group]

    # A reload keeps both flags (from GET /v1/conversations).
    phone.page.reload()
    phone.expect(_item(phone, bob.name).locator(".conv-pin")).to_be_visible(timeout=WAIT)
    phone.expect("#archived-toggle").to_be_hidden()
    for person in (alice, phone, bob):
        person.check_clean()
