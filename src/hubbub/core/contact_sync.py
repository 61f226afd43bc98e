"""Spec 000 contact sync: which of my address book's people use this server.

A client sends up to `MAX_CONTACTS` entries per `StartContactSync`, each an
object `{"phone"?, "email"?, "label"?, "region"?}` with a phone number
and/or an e-mail address. Phone numbers are parsed with `phonenumbers` in
the entry's `region` (ISO 3166 alpha-2), else the server's
`--contact-sync-region`, else only in international form, and compared in
E.164, the form registration stores (`core/accounts.py`); e-mails are
compared lower-cased, as registration stores them. An entry whose phone and
e-mail are both unusable (unparseable, not a valid number, not an address)
counts in `failed`; a malformed entry (not an object, a wrong type, too long,
neither field) is a `validation_failed` naming it (`$.data.contacts[3].phone`).

Who can be found: active accounts other than the caller, never one who
blocks the caller (being blocked must not tell you the number is taken),
never one who opted out (`PUT /v1/contact-discovery`, hubbub's).
A match carries the user's id, username and display name and the indexes
and label of the caller's entries it matched, never what the user
registered: the caller learns no more than the number they already hold.

Enumeration: each user may look up `--contact-sync-per-hour` entries per
fixed hour, across the cluster (a counter of the `auth_throttle` table,
through the throttle port); a sync that would pass it is refused whole
with `rate_limited` and its `retry_after_ms`, and costs nothing.

`sync_id` is an idempotency key per user: a retry (from any device, on any
node) answers the first sync's frames again without matching or counting
anew, whatever contacts it carries. The last `KEEP_PER_USER` syncs are kept.
Answers are live-only, to the connection that asked: an address book is a
device's, and a device that missed them retries with the same `sync_id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import phonenumbers

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.ports.contact_sync import Candidate, ContactSyncStore, SyncRecord
from hubbub.core.ports.throttle import Counter, ThrottleStore
from hubbub.errors import NotFound, RateLimited, ValidationFailed

__all__ = ["CHUNK", "MAX_CONTACTS", "ContactSync", "SyncAnswer"]

MAX_CONTACTS = 1000
CHUNK = 100  # matches per ContactMatchFound frame
KEEP_PER_USER = 20
WINDOW_MS = 3600_000
MAX_ID = 128
MAX_PHONE = 64
MAX_EMAIL = 254
MAX_LABEL = 128
FIELDS = ("phone", "email", "label", "region")
# The registration's own check (`core/accounts.py`), so what it stored matches.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


@dataclass(frozen=True, slots=True)
class SyncAnswer:
    """The frames of one sync: the first status, the match chunks, the last status."""

    first: dict[str, Any]
    chunks: list[dict[str, Any]]
    last: dict[str, Any] | None


@dataclass(slots=True)
class _Entry:
    index: int
    label: str | None
    phone: str | None  # E.164
    email: str | None  # lower-cased


def _text(value: Any, most: int, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > most:
        raise ValidationFailed(f"must be a string of at most {most} characters", path=path)
    return value


def phone_e164(raw: str, region: str | None) -> str | None:
    """`raw` in E.164, or None if it is no valid number (in `region` if local)."""
    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    return str(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))


def _entry(i: int, raw: Any, default_region: str | None) -> _Entry | None:
    """The entry normalised; None when neither of its fields is usable."""
    at = f"$.data.contacts[{i}]"
    if not isinstance(raw, dict):
        raise ValidationFailed("must be an object", path=at)
    for key in raw:
        if key not in FIELDS:
            raise ValidationFailed("unknown field", path=f"{at}.{str(key)[:64]}")
    phone = _text(raw.get("phone"), MAX_PHONE, f"{at}.phone")
    email = _text(raw.get("email"), MAX_EMAIL, f"{at}.email")
    label = _text(raw.get("label"), MAX_LABEL, f"{at}.label")
    region = _text(raw.get("region"), 2, f"{at}.region")
    if region is not None and region.upper() not in _REGIONS:
        raise ValidationFailed("must be an ISO 3166 region code", path=f"{at}.region")
    if not phone and not email:
        raise ValidationFailed("needs a phone or an email", path=at)
    e164 = phone_e164(phone, (region or "").upper() or default_region) if phone else None
    mail = email.strip().lower() if email else None
    if mail is not None and not _EMAIL.match(mail):
        mail = None
    if e164 is None and mail is None:
        return None
    return _Entry(i, label, e164, mail)


def _matches(entries: list[_Entry], found: list[Candidate]) -> list[dict[str, Any]]:
    by_phone = {c.phone: c for c in found if c.phone}
    by_email = {c.email: c for c in found if c.email}
    out: dict[str, dict[str, Any]] = {}
    for e in entries:
        hits = ((by_phone.get(e.phone or ""), "phone"), (by_email.get(e.email or ""), "email"))
        for c, how in hits:
            if c is None:
                continue
            m = out.get(c.user_id)
            if m is None:
                out[c.user_id] = {
                    "user_id": c.user_id,
                    "username": c.username,
                    "display_name": c.display_name,
                    "index": e.index,
                    "label": e.label,
                    "matched_by": how,
                    "indexes": [e.index],
                }
            elif m["indexes"][-1] != e.index:
                m["indexes"].append(e.index)
    return list(out.values())


class ContactSync:
    def __init__(
        self,
        store: ContactSyncStore,
        quota: ThrottleStore,
        clock: Clock,
        *,
        default_region: str = "",
        per_hour: int = 5000,
    ) -> None:
        self.store = store
        self.quota = quota
        self.clock = clock
        self.default_region = default_region.upper() or None
        if self.default_region is not None and self.default_region not in _REGIONS:
            raise ValueError(f"--contact-sync-region {default_region!r} is no ISO 3166 region")
        self.per_hour = per_hour

    async def start(
        self, caller: Caller, sync_id: str, device_id: str | None, contacts: list[Any]
    ) -> SyncAnswer:
        """The frames answering `StartContactSync` (the first one's, on a retry)."""
        if not sync_id or len(sync_id) > MAX_ID:
            raise ValidationFailed(f"must be 1-{MAX_ID} characters", path="$.data.sync_id")
        _text(device_id, MAX_ID, "$.data.device_id")
        if (done := await self.store.find_sync(caller.user_id, sync_id)) is not None:
            return _answer(done)
        if len(contacts) > MAX_CONTACTS:
            raise ValidationFailed(f"at most {MAX_CONTACTS} contacts", path="$.data.contacts")
        entries = [_entry(i, raw, self.default_region) for i, raw in enumerate(contacts)]
        usable = [e for e in entries if e is not None]
        await self._spend(caller.user_id, len(contacts))
        phones = sorted({e.phone for e in usable if e.phone})
        emails = sorted({e.email for e in usable if e.email})
        found = await self.store.discoverable(caller.user_id, phones, emails)
        matches = _matches(usable, found)
        record = SyncRecord(
            sync_id=sync_id,
            device_id=caller.device_id,
            created_at=self.clock.now_ms(),
            processed=len(contacts),
            matched=len(matches),
            failed=len(contacts) - len(usable),
            matches=matches,
        )
        return _answer(await self.store.save_sync(caller.user_id, record, KEEP_PER_USER))

    async def acknowledge(self, caller: Caller, sync_id: str, received_count: int | None) -> None:
        """Record how many matches the client says it got; `not_found` for a
        sync it never ran (or one long forgotten)."""
        if not sync_id or len(sync_id) > MAX_ID:
            raise ValidationFailed(f"must be 1-{MAX_ID} characters", path="$.data.sync_id")
        count = 0 if received_count is None else received_count
        if not 0 <= count <= MAX_CONTACTS:
            raise ValidationFailed(f"must be 0-{MAX_CONTACTS}", path="$.data.received_count")
        if not await self.store.set_received(caller.user_id, sync_id, count):
            raise NotFound("contact sync not found")

    async def discoverability(self, caller: Caller) -> dict[str, Any]:
        """Whether contact sync finds the caller (hubbub's setting)."""
        found, at = await self.store.discoverability(caller.user_id)
        return {"discoverable": found, "updated_at": iso(at) if at is not None else None}

    async def set_discoverable(self, caller: Caller, discoverable: bool) -> dict[str, Any]:
        await self.store.set_discoverable(caller.user_id, discoverable, self.clock.now_ms())
        return await self.discoverability(caller)

    async def _spend(self, user_id: str, n: int) -> None:
        """Count `n` lookups against the user's hour, or refuse them all."""
        key, now, most = "cs:" + user_id, self.clock.now_ms(), self.per_hour

        def step(rows: dict[str, Counter]) -> tuple[dict[str, Counter | None], int]:
            c = rows.get(key)
            if c is None or now - c.next_at >= WINDOW_MS:
                c = Counter(0, now, 0, now)  # next_at: the window's start
            if c.count + n > most:
                return {}, max(1, c.next_at + WINDOW_MS - now)
            return {key: Counter(c.count + n, c.next_at, 0, now)}, 0

        wait = await self.quota.update_counters([key], step)
        if wait:
            raise RateLimited("too many contacts looked up, retry later", retry_after_ms=wait)


def _answer(r: SyncRecord) -> SyncAnswer:
    when = iso(r.created_at)
    counts = {"processed": r.processed, "matched": r.matched, "failed": r.failed}
    done = {"sync_id": r.sync_id, "status": "completed", **counts, "timestamp": when}
    done["error_code"] = None
    if not r.matches:
        return SyncAnswer(done, [], None)
    chunks = [
        {"sync_id": r.sync_id, "matches": r.matches[i : i + CHUNK], "timestamp": when}
        for i in range(0, len(r.matches), CHUNK)
    ]
    return SyncAnswer({**done, "status": "processing"}, chunks, done)
