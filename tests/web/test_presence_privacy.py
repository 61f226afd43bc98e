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
