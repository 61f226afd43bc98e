"""What one contact entry normalises to, and how a sync's answer is cut into frames."""

from __future__ import annotations

import pytest

from hubbub.core.contact_sync import CHUNK, _answer, _entry, phone_e164
from hubbub.core.ports.contact_sync import SyncRecord
from hubbub.errors import ValidationFailed


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+49 30 1234567", None, "+49301234567"),
        ("030 1234567", "DE", "+49301234567"),
        ("0049 (30) 123-4567", "DE", "+49301234567"),
        ("030 1234567", None, None),  # local, no region: unusable
        ("12", "DE", None),
        ("not a number", "DE", None),
    ],
)
def test_phones_in_every_format_become_e164(raw: str, region: str | None, e164: str | None) -> None:
    assert phone_e164(raw, region) == e164


def test_an_entry_uses_its_region_before_the_servers() -> None:
    e = _entry(0, {"phone": "01 23 45 67 89", "region": "fr"}, "DE")
    assert e is not None and e.phone == "+33123456789"
    mail = _entry(1, {"email": " Ann@Example.ORG ", "label": "Ann"}, None)
    assert mail is not None and (mail.email, mail.label, mail.phone) == (
        "ann@example.org",
        "Ann",
        None,
    )
    assert _entry(2, {"phone": "x", "email": "nope"}, "DE") is None  # counts as failed
    with pytest.raises(ValidationFailed) as err:
        _entry(7, {"phone": "+49301234567", "region": "ZZ"}, None)
    assert err.value.path == "$.data.contacts[7].region"


def test_an_answer_is_one_status_or_chunks_between_two() -> None:
    none = _answer(SyncRecord("s", "d", 0, 3, 0, 1, []))
    assert none.first["status"] == "completed" and not none.chunks and none.last is None
    many = [{"user_id": str(i)} for i in range(CHUNK * 2 + 1)]
    some = _answer(SyncRecord("s", "d", 0, 300, len(many), 0, many))
    assert some.first["status"] == "processing" and some.last is not None
    assert some.last["status"] == "completed" and some.last["matched"] == len(many)
    assert [len(c["matches"]) for c in some.chunks] == [CHUNK, CHUNK, 1]
