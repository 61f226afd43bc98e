"""A group's members in the browser: added by username, removed, each seeing it.

Three people, three browser contexts (devices), one server: alice makes a
group with bob, adds carol from the members panel by keyboard; carol's
browser shows the group and its new messages; alice removes bob, whose
browser says so and gets no message after (also after a reload).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.test_browser import WAIT, Person, _shot


def system_line(person: Person, text: str) -> Any:
    return person.page.locator("#messages li.system").filter(has_text=text)


def test_add_and_remove_group_members(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    alice = people(width=1100, height=720).register(names("alice"))
    bob = people().register(names("bob"))
    carol = people(width=375, height=740).register(names("carol"))  # a phone-sized screen
    group = names("Crew ")
    p = alice.page
    p.locator("#new-chat").click()
    p.get_by_label("Group name").fill(group)
    p.get_by_label("Members").fill(bob.name)
    p.locator("#group-submit").click()
    alice.expect("#chat-title").to_have_text(group, timeout=WAIT)
    bob.expect(bob.conversation(group)).to_have_count(1, timeout=WAIT)
    bob.open_chat(group)
    alice.send("before carol")
    bob.expect(bob.message("before carol")).to_have_count(1, timeout=WAIT)
    carol.expect(carol.conversation(group)).to_have_count(0)

    # The members panel, by keyboard: open it, type a username, Enter.
    summary = p.locator("#members-summary")
    alice.expect(summary).to_have_text("Members (2)")
    summary.focus()
    p.keyboard.press("Enter")
    field = p.get_by_label("Add member by username")
    alice.expect(field).to_be_visible()
    field.focus()
    p.keyboard.type(carol.name)
    p.keyboard.press("Enter")
    alice.expect(summary).to_have_text("Members (3)", timeout=WAIT)
    alice.expect(p.locator("#member-list li").filter(has_text=carol.name)).to_have_count(
        1, timeout=WAIT
    )
    alice.expect(field).to_have_value("")
    alice.expect(system_line(alice, f"You added {carol.name}")).to_have_count(1, timeout=WAIT)
    assert alice.unlabelled_controls() == []
    assert alice.low_contrast() == []
    _shot(alice, "chat-members")

    # carol: the group appears live, with what is written from now on
    carol.expect(carol.conversation(group)).to_have_count(1, timeout=WAIT)
    carol.open_chat(group)
    carol.expect(system_line(carol, f"{alice.name} added you")).to_have_count(1, timeout=WAIT)
    alice.send("welcome carol")
    carol.expect(carol.message("welcome carol")).to_contain_text(alice.name, timeout=WAIT)
    bob.expect(bob.message("welcome carol")).to_have_count(1, timeout=WAIT)
    carol.page.locator("#members-summary").click()
    carol.expect(carol.page.locator("#member-list li")).to_have_count(3, timeout=WAIT)
    assert carol.page.evaluate("document.documentElement.scrollWidth") <= 375
    assert carol.low_contrast() == []
    # a member who is no admin sees the list, not the controls
    bob.page.locator("#members-summary").click()
    bob.expect(bob.page.locator("#member-list li")).to_have_count(3, timeout=WAIT)
    bob.expect("#add-member-form").to_be_hidden()
    bob.expect(bob.page.locator("#member-list button")).to_have_count(0)

    # alice removes bob: he is told at once, the others see it
    p.get_by_role("button", name=f"Remove {bob.name} from the group").click()
    alice.expect(summary).to_have_text("Members (2)", timeout=WAIT)
    bob.expect("#chat-presence").to_have_text("You were removed from this group", timeout=WAIT)
    bob.expect("#composer-input").to_be_disabled()
    bob.expect("#chat-members").to_be_hidden()
    for person, who in ((alice, "You"), (carol, alice.name)):
        removed = system_line(person, f"{who} removed {bob.name}")
        person.expect(removed).to_have_count(1, timeout=WAIT)
    bob.expect(system_line(bob, f"{alice.name} removed you")).to_have_count(1)
    alice.send("after bob")
    carol.expect(carol.message("after bob")).to_have_count(1, timeout=WAIT)
    # A marker to bob after it: once he has that, the group's message would be in too.
    alice.open_direct(bob.name)
    alice.send("marker for bob")
    marker = bob.conversation("marker for bob")  # the direct chat's last message
    bob.expect(marker).to_have_count(1, timeout=WAIT)
    bob.open_chat(group)
    bob.expect(bob.message("welcome carol")).to_have_count(1)
    bob.expect(bob.message("after bob")).to_have_count(0)
    bob.page.reload()
    bob.expect("#status").to_be_hidden(timeout=WAIT)
    bob.open_chat(group)
    bob.expect("#composer-note").to_have_text("You were removed from this group.", timeout=WAIT)
    bob.expect(bob.message("after bob")).to_have_count(0)
    for person in (alice, bob, carol):
        person.check_clean()


def test_owner_makes_a_member_admin_and_back(
    people: Callable[..., Person], names: Callable[[str], str]
) -> None:
    """The owner's "Make admin" / "Make member", by keyboard; every member's
    browser (bob's two devices too) shows the new role from the event, and
    the new admin gets the add-member form (then loses it again)."""
    alice = people(width=1100, height=720).register(names("alice"))
    bob = people().register(names("bob"))
    bob2 = people(width=375, height=740).sign_in(bob.name)  # bob's phone
    carol = people().register(names("carol"))
    group = names("Roles ")
    p = alice.page
    p.locator("#new-chat").click()
    p.get_by_label("Group name").fill(group)
    p.get_by_label("Members").fill(f"{bob.name}, {carol.name}")
    p.locator("#group-submit").click()
    alice.expect("#chat-title").to_have_text(group, timeout=WAIT)
    for person in (bob, bob2, carol):
        person.expect(person.conversation(group)).to_have_count(1, timeout=WAIT)
        person.open_chat(group)
        person.page.locator("#members-summary").click()
        person.expect(person.page.locator("#member-list li")).to_have_count(3, timeout=WAIT)
    bob.expect("#add-member-form").to_be_hidden()
    carol.expect(carol.page.locator("#member-list button")).to_have_count(0)

    def row(person: Person, who: str) -> Any:
        shown = "You" if person.name == who else who  # one's own row says "You"
        return person.page.locator("#member-list li").filter(has_text=shown)

    p.locator("#members-summary").click()
    make_admin = p.get_by_role("button", name=f"Make {bob.name} an admin")
    alice.expect(make_admin).to_be_visible(timeout=WAIT)
    alice.expect(p.get_by_role("button", name=f"Make {carol.name} an admin")).to_be_visible()
    make_admin.focus()
    p.keyboard.press("Enter")
    alice.expect("#toast").to_contain_text(f"{bob.name} is now an admin", timeout=WAIT)
    back = p.get_by_role("button", name=f"Make {bob.name} a member")
    alice.expect(back).to_be_focused(timeout=WAIT)  # the focus stays on the row's button
    for person in (alice, bob, bob2, carol):
        person.expect(row(person, bob.name).locator(".member-role")).to_have_text(
            "admin", timeout=WAIT
        )
    alice.expect(system_line(alice, f"You made {bob.name} an admin")).to_have_count(1)
    carol.expect(system_line(carol, f"{alice.name} made {bob.name} an admin")).to_have_count(
        1, timeout=WAIT
    )
    bob2.expect(system_line(bob2, f"{alice.name} made you an admin")).to_have_count(1, timeout=WAIT)
    # the new admin: the add form and Remove for carol, but no role buttons
    bob.expect("#add-member-form").to_be_visible(timeout=WAIT)
    remove_carol = bob.page.get_by_role("button", name=f"Remove {carol.name} from the group")
    bob.expect(remove_carol).to_be_visible()
    bob.expect(bob.page.locator("#member-list button.member-role-change")).to_have_count(0)
    assert alice.unlabelled_controls() == []
    assert alice.low_contrast() == []
    assert bob2.page.evaluate("document.documentElement.scrollWidth") <= 375

    # and back: everyone follows again, also after a reload
    back.click()
    for person in (alice, bob, bob2, carol):
        person.expect(row(person, bob.name).locator(".member-role")).to_have_text("", timeout=WAIT)
    bob.expect("#add-member-form").to_be_hidden(timeout=WAIT)
    carol.page.reload()
    carol.expect("#status").to_be_hidden(timeout=WAIT)
    carol.open_chat(group)
    carol.expect(system_line(carol, f"{alice.name} made {bob.name} a member")).to_have_count(
        1, timeout=WAIT
    )
    carol.page.locator("#members-summary").click()
    carol.expect(row(carol, bob.name).locator(".member-role")).to_have_text("", timeout=WAIT)
    for person in (alice, bob, bob2, carol):
        person.check_clean()
