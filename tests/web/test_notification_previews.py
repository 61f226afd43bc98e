"""The web client's "Notification previews" settings, in a real browser.

Alice opens Settings on two devices: both show the server's defaults; what
she changes on one (show the text, the longest text, a category) is applied
with `UpdateNotificationPreviewConfig` and shows on the other at once, from
the feed, and again after a reload.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.web.test_browser import SCREENSHOTS, WAIT, Person


def test_preview_settings_apply_and_follow_other_devices(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    alice = people().register(names("alice"))
    phone = people(width=375, height=740).sign_in(alice.name)
    for device in (alice, phone):
        device.page.locator("#open-settings").click()
    content = alice.page.get_by_role("group", name="What a preview shows")
    kinds = alice.page.get_by_role("group", name="Show previews for")
    alice.expect(content.get_by_label("Show the message text")).to_be_checked(timeout=WAIT)
    alice.expect(content.get_by_label("Show who sent it")).to_be_checked()
    alice.expect(alice.page.get_by_label("Longest text shown (characters)")).to_have_value("100")
    for label in ("Direct chats", "Groups", "Mentions of me", "Reactions", "Announcements"):
        alice.expect(kinds.get_by_label(label)).to_be_checked()

    content.get_by_label("Show the message text").uncheck()
    alice.expect("#toast").to_contain_text("Previews saved", timeout=WAIT)
    phone.expect(phone.page.get_by_label("Show the message text")).not_to_be_checked(timeout=WAIT)

    length = alice.page.get_by_label("Longest text shown (characters)")
    length.fill("40")
    length.press("Tab")  # applied on change
    phone.expect(phone.page.get_by_label("Longest text shown (characters)")).to_have_value(
        "40", timeout=WAIT
    )
    kinds.get_by_label("Groups").uncheck()
    phone.expect(phone.page.get_by_label("Groups")).not_to_be_checked(timeout=WAIT)
    phone.expect(phone.page.get_by_label("Direct chats")).to_be_checked()

    # From the phone back to the first device, with the keyboard (Space toggles).
    phone.page.get_by_label("Show who sent it").focus()
    phone.page.keyboard.press("Space")
    alice.expect(content.get_by_label("Show who sent it")).not_to_be_checked(timeout=WAIT)

    alice.page.reload()
    alice.page.locator("#open-settings").click()
    alice.expect(alice.page.get_by_label("Show who sent it")).not_to_be_checked(timeout=WAIT)
    alice.expect(alice.page.get_by_label("Show the message text")).not_to_be_checked()
    alice.expect(alice.page.get_by_label("Groups")).not_to_be_checked()
    alice.expect(alice.page.get_by_label("Longest text shown (characters)")).to_have_value("40")
    section = alice.page.locator("section.card", has=alice.page.locator("#previews-title"))
    section.screenshot(path=str(SCREENSHOTS / "notification-previews.png"))
    assert alice.unlabelled_controls() == []
    assert alice.low_contrast() == []
    alice.check_clean()
    phone.check_clean()
