"""Typing indicators and messages edited or deleted elsewhere, in the browser.

Two people, two browser contexts: alice types in a group with bob, whose
chat header says so until she empties the composer or sends. Then alice
edits and deletes her message over Symbia REST (`/api`, her hubbub token as
the bearer; a /ws group is a Symbia conversation too): bob's page shows the
new text marked "edited" (live, and after a reconnect for an edit made
while he was offline), then the "deleted" placeholder, also after a reload.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import unquote

import httpx

from tests.support import DEFAULT_TIMEOUT
from tests.web.test_browser import WAIT, Person

DELETED = "This message was deleted"


def symbia(person: Person) -> httpx.Client:
    """A Symbia REST client carrying the token the person's web client holds."""
    session = json.loads(person.page.evaluate("localStorage.getItem('hubbub.session')"))
    return httpx.Client(
        base_url=f"{person.server.base_url}/api",
        timeout=DEFAULT_TIMEOUT,
        headers={"Authorization": f"Bearer {session['token']}"},
    )


def test_typing_then_edit_and_delete_from_elsewhere(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    alice = people().register(names("alice"))
    bob = people().register(names("bob"))
    group = names("Typists ")
    p = alice.page
    p.locator("#new-chat").click()
    p.get_by_label("Group name").fill(group)
    p.get_by_label("Members").fill(bob.name)
    p.locator("#group-submit").click()
    alice.expect("#chat-title").to_have_text(group, timeout=WAIT)
    bob.expect(bob.conversation(group)).to_have_count(1, timeout=WAIT)
    bob.open_chat(group)
    alice.send("hello bob")
    bob.expect(bob.message("hello bob")).to_have_count(1, timeout=WAIT)
    typing = bob.page.locator("#chat-typing")
    bob.expect(typing).to_have_attribute("aria-live", "polite")
    bob.expect(typing).to_have_text("")

    # Typing shows under bob's chat header; emptying the composer ends it.
    box = p.get_by_label("Message", exact=True)
    box.focus()
    p.keyboard.type("wai")
    bob.expect(typing).to_have_text(f"{alice.name} is typing…", timeout=WAIT)
    p.keyboard.press("ControlOrMeta+a")
    p.keyboard.press("Backspace")
    bob.expect(typing).to_have_text("", timeout=WAIT)
    # Again, and sending ends it.
    p.keyboard.type("original text")
    bob.expect(typing).to_have_text(f"{alice.name} is typing…", timeout=WAIT)
    assert bob.unlabelled_controls() == []
    p.keyboard.press("Enter")
    bob.expect(bob.message("original text")).to_have_count(1, timeout=WAIT)
    bob.expect(typing).to_have_text("", timeout=WAIT)
    alice.expect(alice.message("original text").locator(".ticks")).not_to_have_attribute(
        "data-status", "pending", timeout=WAIT
    )
    alice.expect("#chat-typing").to_have_text("")  # never one's own

    # The ids the Symbia REST calls name: the group's (in the address) and the message's.
    gid = unquote(p.evaluate("location.hash").removeprefix("#/c/"))
    mid = alice.message("original text").get_attribute("data-id")
    assert mid and not mid.startswith("local:")
    url = f"/conversations/{gid}/messages/{mid}"
    with symbia(alice) as rest:
        r = rest.patch(url, json={"content": "edited text"})
        assert r.status_code == 200, r.text
        edited = bob.message("edited text")
        bob.expect(edited).to_have_count(1, timeout=WAIT)
        bob.expect(edited.locator(".edited")).to_have_text("edited")
        bob.expect(bob.message("original text")).to_have_count(0)
        alice.expect(alice.message("edited text").locator(".edited")).to_have_count(1, timeout=WAIT)
        assert bob.unlabelled_controls() == []

        # An edit made while bob is offline comes with the resume.
        bob.context.set_offline(True)
        bob.expect("#status").to_have_attribute("data-state", "offline", timeout=WAIT)
        r = rest.patch(url, json={"content": "edited twice"})
        assert r.status_code == 200, r.text
        bob.context.set_offline(False)
        again = bob.message("edited twice")
        bob.expect(again).to_have_count(1, timeout=WAIT)
        bob.expect(again.locator(".edited")).to_have_count(1)

        r = rest.delete(url)
        assert r.status_code == 204, r.text
    gone = bob.page.locator(f'#messages li.msg[data-id="{mid}"]')
    bob.expect(gone).to_have_class("msg theirs deleted", timeout=WAIT)
    bob.expect(gone.locator(".text")).to_have_text(DELETED)
    bob.expect(gone.locator(".edited")).to_have_count(0)
    bob.expect(gone.locator(".react-open")).to_be_hidden()
    bob.expect(bob.message("edited twice")).to_have_count(0)
    alice.expect(alice.message(DELETED)).to_have_count(1, timeout=WAIT)
    # The conversation list says so too, with the sender's name.
    bob.page.evaluate("location.hash = '#/'")
    bob.expect(bob.conversation(group)).to_contain_text(f"{alice.name}: {DELETED}", timeout=WAIT)

    # After a reload (IndexedDB): still the placeholder, and no old text anywhere.
    bob.page.reload()
    bob.expect("#status").to_be_hidden(timeout=WAIT)
    bob.open_chat(group)
    bob.expect(bob.message(DELETED)).to_have_count(1, timeout=WAIT)
    bob.expect(bob.message("hello bob")).to_have_count(1)
    for old in ("original text", "edited text", "edited twice"):
        bob.expect(bob.message(old)).to_have_count(0)
    assert bob.unlabelled_controls() == []
    # alice's resume reads her send as a tombstone first: the placeholder stays.
    alice.page.reload()
    alice.expect("#status").to_be_hidden(timeout=WAIT)
    alice.open_chat(group)
    alice.expect(alice.message("hello bob")).to_have_count(1, timeout=WAIT)
    alice.expect(alice.message(DELETED)).to_have_count(1)

    # Deleted while alice is offline: her resume reads her own send as a
    # tombstone, then the deletion; she keeps a placeholder, not a gap.
    alice.send("second one")
    bob.expect(bob.message("second one")).to_have_count(1, timeout=WAIT)
    second = alice.message("second one").get_attribute("data-id")
    assert second and not second.startswith("local:")
    alice.context.set_offline(True)
    alice.expect("#status").to_have_attribute("data-state", "offline", timeout=WAIT)
    with symbia(alice) as rest:
        r = rest.delete(f"/conversations/{gid}/messages/{second}")
        assert r.status_code == 204, r.text
    bob.expect(bob.message(DELETED)).to_have_count(2, timeout=WAIT)
    alice.context.set_offline(False)
    alice.expect(alice.message(DELETED)).to_have_count(2, timeout=WAIT)
    alice.expect(alice.message("second one")).to_have_count(0)
    for person in (alice, bob):
        person.check_clean()
