"""The web client's "Who can see my online status" setting, in a real browser.

Alice and Bob share a direct chat; Bob's chat header shows Alice's presence.
When Alice picks Nobody, Bob's header stops showing her online or her last
seen, at once; when she picks Everyone again, it shows her online again.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.web.test_browser import WAIT, Person


def test_nobody_hides_online_status_and_last_seen_live(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    alice = people().register(names("alice"))
    bob = people(width=375, height=740).register(names("bob"))
    alice.open_direct(bob.name)
    alice.send("hello")
    bob.open_chat(alice.name)
    # Presence flows between people who share a chat when they connect: Alice
    # reconnects, Bob sees her come online.
    alice.page.reload()
    alice.expect("#me-name").to_have_text(alice.name, timeout=WAIT)
    bob.expect("#chat-presence").to_have_text("online", timeout=WAIT)

    alice.page.locator("#open-settings").click()
    group = alice.page.get_by_role("group", name="Who can see my online status")
    alice.expect(group).to_be_visible(timeout=WAIT)
    alice.expect(group.get_by_label("Everyone")).to_be_checked()  # the default
    group.get_by_label("Nobody").check()
    alice.expect("#toast").to_contain_text("Privacy saved", timeout=WAIT)
    # Bob's view: neither online nor a last seen, without reloading.
    bob.expect("#chat-presence").to_have_text("", timeout=WAIT)

    # Keyboard: arrow keys move within the group and apply the choice.
    group.get_by_label("Nobody").focus()
    alice.page.keyboard.press("ArrowUp")
    alice.expect(group.get_by_label("My contacts")).to_be_checked()
    bob.expect("#chat-presence").to_have_text("online", timeout=WAIT)  # bob is a contact
    group.get_by_label("Nobody").check()
    bob.expect("#chat-presence").to_have_text("", timeout=WAIT)

    # The choice is remembered on reload, and Bob's fresh load shows nothing either.
    alice.page.reload()
    alice.page.locator("#open-settings").click()
    alice.expect(alice.page.get_by_label("Nobody")).to_be_checked(timeout=WAIT)
    bob.page.reload()
    bob.open_chat(alice.name)
    bob.expect("#chat-presence").to_have_text("", timeout=WAIT)
    assert alice.unlabelled_controls() == []
    assert alice.low_contrast() == []

    alice.page.get_by_label("Everyone").check()
    bob.expect("#chat-presence").to_have_text("online", timeout=WAIT)
    alice.check_clean()
    bob.check_clean()


def test_only_these_people_from_one_device_shows_on_the_other(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    """ "Only these people" (the spec's `custom` rule): Alice ticks Carol among
    the people she shares a chat with; Bob stops seeing her online, Carol
    still does. Alice's other device shows the same choice, ticked, with
    Carol listed (live, and from the feed after a reload)."""
    alice = people().register(names("alice"))
    bob = people().register(names("bob"))
    carol = people().register(names("carol"))
    for person in (bob, carol):
        alice.open_direct(person.name)
        alice.send(f"hello {person.name}")
        person.open_chat(alice.name)
    alice.page.reload()
    alice.expect("#me-name").to_have_text(alice.name, timeout=WAIT)
    for person in (bob, carol):
        person.expect("#chat-presence").to_have_text("online", timeout=WAIT)
    # (her phone signs in once she is online: presence flows on her first connection)
    alice2 = people(width=375, height=740).sign_in(alice.name)

    p = alice.page
    p.locator("#open-settings").click()
    group = p.get_by_role("group", name="Who can see my online status")
    alice.expect(group.get_by_label("Everyone")).to_be_checked(timeout=WAIT)
    alice.expect("#presence-custom-list").to_be_hidden()
    # Keyboard: ArrowUp from Everyone wraps round to the last choice, Only these
    # people (no one ticked yet).
    group.get_by_label("Everyone").focus()
    p.keyboard.press("ArrowUp")
    alice.expect(group.get_by_label("Only these people")).to_be_checked()
    picker = p.get_by_role("group", name="People who can see my online status")
    alice.expect(picker).to_be_visible(timeout=WAIT)
    alice.expect("#presence-allowed-summary").to_contain_text("No one can see it yet")
    for person in (bob, carol):
        person.expect("#chat-presence").to_have_text("", timeout=WAIT)
    alice.expect(picker.get_by_label(bob.name)).not_to_be_checked()
    picker.get_by_label(carol.name).focus()
    p.keyboard.press("Space")
    alice.expect("#toast").to_contain_text(f"{carol.name} can see your online status", timeout=WAIT)
    alice.expect("#presence-allowed-summary").to_have_text(f"Can see it: {carol.name}.")
    alice.expect(picker.get_by_label(carol.name)).to_be_checked()
    alice.expect(picker.get_by_label(carol.name)).to_be_focused()  # kept across the re-render
    carol.expect("#chat-presence").to_have_text("online", timeout=WAIT)
    bob.expect("#chat-presence").to_have_text("", timeout=WAIT)
    assert alice.unlabelled_controls() == []
    assert alice.low_contrast() == []

    # Her phone, open on Settings: the same choice, live, with Carol listed.
    alice2.page.locator("#open-settings").click()
    phone = alice2.page.get_by_role("group", name="Who can see my online status")
    alice2.expect(phone.get_by_label("Only these people")).to_be_checked(timeout=WAIT)
    alice2.expect("#presence-allowed-summary").to_have_text(
        f"Can see it: {carol.name}.", timeout=WAIT
    )
    chosen = alice2.page.get_by_role("group", name="People who can see my online status")
    alice2.expect(chosen.get_by_label(carol.name)).to_be_checked()
    alice2.expect(chosen.get_by_label(bob.name)).not_to_be_checked()
    assert alice2.page.evaluate("document.documentElement.scrollWidth") <= 375
    # The phone adds Bob; the laptop follows live; after a reload both are still ticked.
    chosen.get_by_label(bob.name).check()
    bob.expect("#chat-presence").to_have_text("online", timeout=WAIT)
    alice.expect(picker.get_by_label(bob.name)).to_be_checked(timeout=WAIT)
    alice2.page.reload()  # still on Settings (#/settings)
    alice2.expect(alice2.page.get_by_label("Only these people")).to_be_checked(timeout=WAIT)
    for person in (bob, carol):
        alice2.expect(chosen.get_by_label(person.name)).to_be_checked(timeout=WAIT)
    # Unticking Carol hides Alice from her again; Everyone shows her to both and hides the list.
    picker.get_by_label(carol.name).uncheck()
    carol.expect("#chat-presence").to_have_text("", timeout=WAIT)
    bob.expect("#chat-presence").to_have_text("online")
    group.get_by_label("Everyone").check()
    carol.expect("#chat-presence").to_have_text("online", timeout=WAIT)
    alice.expect("#presence-custom-list").to_be_hidden(timeout=WAIT)
    alice2.expect("#presence-custom-list").to_be_hidden(timeout=WAIT)
    for person in (alice, alice2, bob, carol):
        person.check_clean()
