"""What one preview says, from the recipient's config (`core.notification_previews.build`)."""

from __future__ import annotations

from dataclasses import replace

from hubbub.core.notification_previews import DEFAULT, NEUTRAL_TITLE, PreviewSource, build

SRC = PreviewSource(
    message_id="m1",
    sender_id="u-bob",
    sender_name="Bob",
    conversation_kind="group",
    conversation_name="Team",
    content="hello @Alice, the report is ready",
    mentioned=frozenset({"alice"}),
    timestamp=None,
)


def test_categories_titles_and_priority() -> None:
    mention = build(DEFAULT, "alice", SRC, 0)
    assert mention is not None and mention["category"] == "mention"
    assert mention["priority"] == "high" and mention["title"] == "Team"
    group = build(DEFAULT, "carol", SRC, 0)
    assert group is not None and group["category"] == "group" and group["priority"] == "normal"
    direct = build(DEFAULT, "alice", replace(SRC, conversation_kind="direct"), 0)
    assert direct is not None and direct["category"] == "direct" and direct["title"] == "Bob"
    unnamed = build(DEFAULT, "carol", replace(SRC, conversation_name=None), 0)
    assert unnamed is not None and unnamed["title"] == "Bob"


def test_config_decides_what_is_shown() -> None:
    no_mentions = replace(DEFAULT, allowed_categories=("direct", "group"))
    assert build(no_mentions, "alice", SRC, 0) is None  # a mention is not also a group preview
    hidden = build(replace(DEFAULT, show_sender=False, show_body=False), "carol", SRC, 0)
    assert hidden is not None
    assert (hidden["title"], hidden["sender"], hidden["body"]) == (NEUTRAL_TITLE, None, None)
    short = build(replace(DEFAULT, max_body_length=5, version=7), "carol", SRC, 0)
    assert short is not None and short["body"] == "hello" and short["config_version"] == "7"
    sealed = build(DEFAULT, "carol", replace(SRC, content=None), 0)
    assert sealed is not None and sealed["body"] is None
    nothing = build(replace(DEFAULT, max_body_length=0), "carol", SRC, 0)
    assert nothing is not None and nothing["body"] is None
