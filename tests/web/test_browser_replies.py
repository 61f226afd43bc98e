"""Replies in the browser: the Reply action, the reply bar, the quote in the thread.

Two people, two browser contexts, one server: bob asks in a group, alice
answers with "Reply to bob" (the bar shows the quoted message; Escape
cancels it without leaving the chat), and bob's phone-sized screen shows the
quote above her text live and again after a reload; the quote takes him to
the original message. The same in their encrypted direct chat, where the
quote comes from each browser's own decrypted copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.web.test_browser import WAIT, Person, _shot


def original_of(person: Person, reply: Any) -> Any:
    """The message a reply's quote points at (by its id, not its text: the
    reply holds the same words in its quote)."""
    target = reply.locator(".quote").get_attribute("data-target")
    assert target
    return person.page.locator(f'#messages li[data-key="{target}"]')


def reply_to(person: Person, sender: str, question: str, answer: str) -> None:
    """Reply by keyboard: the Reply button, Escape once (cancels), again, type, Enter."""
    p = person.page
    asked = person.message(question)
    button = asked.get_by_role("button", name=f"Reply to {sender}")
    button.click()
    bar = p.locator("#reply-bar")
    person.expect(bar).to_be_visible()
    person.expect(bar).to_contain_text(question)
    person.expect(bar).to_contain_text(sender)
    person.expect("#composer-input").to_be_focused()
    assert person.unlabelled_controls() == []
    assert person.low_contrast() == []
    p.keyboard.press("Escape")
    person.expect(bar).to_be_hidden()
    person.expect("#chat-title").to_be_visible()  # still in the chat
    person.expect("#composer-input").to_be_focused()
    button.focus()
    p.keyboard.press("Enter")
    person.expect(bar).to_be_visible()
    p.keyboard.type(answer)
    p.keyboard.press("Enter")
    person.expect(bar).to_be_hidden()


def test_reply_in_a_group_and_an_encrypted_chat(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    alice = people(width=1100, height=720).register(names("alice"))
    bob = people(width=375, height=740).register(names("bob"))  # a phone-sized screen
    group = names("Trip ")
    p = alice.page
    p.locator("#new-chat").click()
    p.get_by_label("Group name").fill(group)
    p.get_by_label("Members").fill(bob.name)
    p.locator("#group-submit").click()
    alice.expect("#chat-title").to_have_text(group, timeout=WAIT)
    bob.expect(bob.conversation(group)).to_have_count(1, timeout=WAIT)
    bob.open_chat(group)
    bob.send("where do we meet?")
    alice.expect(alice.message("where do we meet?")).to_have_count(1, timeout=WAIT)

    reply_to(alice, bob.name, "where do we meet?", "at the station")
    mine = alice.message("at the station")
    alice.expect(mine.locator(".quote")).to_contain_text("where do we meet?", timeout=WAIT)
    ticks = mine.locator(".ticks")
    alice.expect(ticks).to_have_attribute(
        "data-status", re.compile("sent|delivered|read"), timeout=WAIT
    )

    # bob: the quote above alice's text, live; it leads to his own message.
    theirs = bob.message("at the station")
    quote = theirs.locator(".quote")
    bob.expect(quote).to_contain_text("where do we meet?", timeout=WAIT)
    bob.expect(quote).to_contain_text("You")
    bob.expect(theirs.locator(".text")).to_have_text("at the station")
    original = original_of(bob, theirs)
    bob.expect(original.locator(".text")).to_have_text("where do we meet?")
    quote.focus()
    bob.page.keyboard.press("Enter")
    bob.expect(original).to_be_focused()
    assert bob.unlabelled_controls() == []
    assert bob.low_contrast() == []
    assert bob.page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(bob, "chat-reply-375")

    # ... and after a reload, from what the browser kept and the server resent.
    bob.page.reload()
    bob.expect("#status").to_be_hidden(timeout=WAIT)
    bob.open_chat(group)
    again = bob.message("at the station")
    bob.expect(again.locator(".quote")).to_contain_text("where do we meet?", timeout=WAIT)
    assert bob.page.evaluate("document.documentElement.scrollWidth") <= 375

    # An encrypted direct chat: the link travels beside the ciphertext.
    bob.page.evaluate("location.hash = '#/'")  # one pane at 375 px: the list first
    bob.open_direct(alice.name)
    bob.expect("#chat-security").to_have_attribute("data-secure", "yes", timeout=WAIT)
    bob.send("bring snacks?")
    alice.expect(alice.conversation("bring snacks?")).to_have_count(1, timeout=WAIT)
    alice.page.evaluate("location.hash = '#/'")
    alice.conversation("bring snacks?").locator("a").click()
    alice.expect("#chat-title").to_have_text(bob.name, timeout=WAIT)
    alice.expect("#chat-security").to_have_attribute("data-secure", "yes", timeout=WAIT)
    reply_to(alice, bob.name, "bring snacks?", "crisps, sure")
    secret = bob.message("crisps, sure")
    bob.expect(secret.locator(".quote")).to_contain_text("bring snacks?", timeout=WAIT)
    for person in (alice, bob):
        person.check_clean()
