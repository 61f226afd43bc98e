"""The contract of the stores spec 002 brought (conversation and message
details, runs, edit versions, tenants, capabilities), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from hubbub.core.frames import event
from hubbub.core.model import MessageRecord, NewEvent
from hubbub.core.ports.conversation_details import ConversationRow, Scoping
from hubbub.core.ports.message_details import DetailRow, RunState
from hubbub.core.ports.tenants import Org
from hubbub.errors import Conflict
from hubbub.ids import new_id
from hubbub.store.sql.stores import SqlStores
from tests.store.test_store_contract import make_user, now_ms, record, store, text_event

__all__ = ["store"]


async def _conv(store: SqlStores, owner: str, *others: str, org: str | None = None) -> str:
    cid, now = new_id(), now_ms()
    row = ConversationRow(cid, "group", "g", None, owner, now, now, "{}", Scoping(org_id=org))
    ev = event("c", cid, "chat/groups", "GroupCreated", {"group_id": cid})
    members = [(owner, "owner"), *((o, "member") for o in others)]
    await store.conversation_details.create(row, members, ev)
    return cid


def _run(cid: str, run: str, owner: str, state: str = "active") -> RunState:
    now = now_ms()
    return RunState(cid, run, state, owner, "normal", True, None, None, None, None, now, now)


async def test_details_append_with_runs_is_atomic_and_idempotent(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid = await _conv(store, a, b)
    run = new_id()
    rec = record(cid, a, client_id="k1")
    det = DetailRow("text/markdown", "agent", run_id=run, priority="high", metadata='{"x":1}')
    fields = {"content": "hi", "content_type": "text/markdown"}
    got = await store.message_details.append_detailed(
        rec, fields, text_event(cid, rec.id, "hi"), det, run, lambda r: _run(cid, run, a)
    )
    assert not isinstance(got, Exception) and got[1] is not None
    view = await store.message_details.view(rec.id)
    assert view is not None and view.details is not None
    assert view.details.content_type == "text/markdown" and view.pos == got[1].pos
    state = await store.message_details.run(cid, run)
    assert state is not None and state.last_message_id == rec.id
    # a retry with the same key: the first record, nothing written, no transition run
    retry = replace(rec, id=new_id())
    called: list[object] = []
    again = await store.message_details.append_detailed(
        retry, fields, text_event(cid, retry.id, "hi"), det, run, lambda r: called.append(r)
    )
    assert not isinstance(again, Exception) and again[0].id == rec.id and again[1] is None
    assert called == []
    # a refusal writes nothing
    no = record(cid, a)
    refusal = Conflict("run is paused", code="run_paused")
    out = await store.message_details.append_detailed(
        no, fields, text_event(cid, no.id, "x"), det, run, lambda r: refusal
    )
    assert out is refusal and await store.message_details.view(no.id) is None
    # racing transitions against one run: each sees the other's result
    seen: list[str] = []

    def pause(r: RunState | None) -> RunState | Exception | None:
        assert r is not None
        seen.append(r.state)
        if r.state == "paused":
            return Conflict("already", code="run_not_active")
        return replace(r, state="paused")

    results = await asyncio.gather(
        *[
            store.message_details.append_detailed(
                (m := record(cid, a)), fields, text_event(cid, m.id, "p"), det, run, pause
            )
            for _ in range(4)
        ]
    )
    assert sum(not isinstance(x, Exception) for x in results) == 1
    assert [r.state for r in await store.message_details.runs(cid)] == ["paused"]
    page = await store.message_details.page(cid, 10, None, None)
    assert page[0].id == rec.id and len(page) == 2


async def test_conversation_details_membership_and_delete(store: SqlStores) -> None:
    a, b, c = await make_user(store), await make_user(store), await make_user(store)
    cid = await _conv(store, a, b, org="acme")
    row = await store.conversation_details.get(cid)
    assert row is not None and row.scoping.org_id == "acme" and row.type == "group"
    assert [r.id for r in await store.conversation_details.list_for(b, "acme")] == [cid]
    assert await store.conversation_details.list_for(b, "other") == []
    ev = event("c", cid, "group/membership", "ConversationMemberJoined", {"user_id": c})
    assert await store.conversation_details.add_member(cid, c, "admin", ev) is not None
    assert await store.conversation_details.add_member(cid, c, "admin", ev) is None
    roles = {p.user_id: p.role for p in await store.conversation_details.participants(cid)}
    assert roles == {a: "owner", b: "member", c: "admin"}
    assert await store.conversation_details.update(cid, "n", "d", '{"k":1}', now_ms())
    row = await store.conversation_details.get(cid)
    assert row is not None and (row.name, row.description, row.metadata) == ("n", "d", '{"k":1}')
    left = event("c", cid, "group/membership", "ConversationMemberLeft", {"user_id": c})
    assert await store.conversation_details.remove_member(cid, c, left) is not None
    assert await store.conversation_details.remove_member(cid, c, left) is None
    rows, total = await store.conversation_details.admin_list(["acme"], "group", 10, 0)
    assert cid in [r.id for r in rows] and total >= 1
    stats = await store.conversation_details.stats(["acme"], 0)
    assert stats["uniqueParticipants"] == 2
    gone = event("c", cid, "group/membership", "ConversationDeleted", {"conversation_id": cid})
    results = await asyncio.gather(
        *[store.conversation_details.delete(cid, gone) for _ in range(3)]
    )
    assert sum(r is not None for r in results) == 1
    assert await store.conversation_details.get(cid) is None
    assert await store.conversation_details.participants(cid) == []


async def test_set_role_changes_an_active_non_owner_once(store: SqlStores) -> None:
    """The role and its event commit together; the same role, the owner, a
    non-member and a removed member change nothing and append nothing."""
    a, b, c = await make_user(store), await make_user(store), await make_user(store)
    cid = await _conv(store, a, b, c)
    ev = event("c", cid, "group/membership", "ConversationMemberRoleChanged", {"user_id": b})
    head = await store.events.max_pos()
    before, stored = await store.conversation_details.set_role(cid, b, "admin", ev)
    assert before == "member" and stored is not None and stored.pos > head
    head = await store.events.max_pos()
    racing = await asyncio.gather(
        *[store.conversation_details.set_role(cid, c, "admin", ev) for _ in range(3)]
    )
    assert sorted(r[0] for r in racing) == ["admin", "admin", "member"]
    assert sum(r[1] is not None for r in racing) == 1
    assert await store.events.max_pos() > head
    head = await store.events.max_pos()
    assert await store.conversation_details.set_role(cid, b, "admin", ev) == ("admin", None)
    assert await store.conversation_details.set_role(cid, a, "member", ev) == ("owner", None)
    stranger = await make_user(store)
    assert await store.conversation_details.set_role(cid, stranger, "admin", ev) == (None, None)
    assert await store.events.max_pos() == head
    left = event("c", cid, "group/membership", "ConversationMemberLeft", {"user_id": c})
    assert await store.conversation_details.remove_member(cid, c, left) is not None
    head = await store.events.max_pos()
    assert await store.conversation_details.set_role(cid, c, "member", ev) == (None, None)
    assert await store.events.max_pos() == head
    roles = {p.user_id: p.role for p in await store.conversation_details.participants(cid)}
    assert roles == {a: "owner", b: "admin"}


async def test_edit_versions_kept_and_dropped_with_the_message(store: SqlStores) -> None:
    a = await make_user(store)
    cid = await _conv(store, a)
    rec = record(cid, a)
    await store.messages.append_message(
        rec, {"content": "v1", "content_type": "text"}, text_event(cid, rec.id, "v1")
    )
    ev = event("c", cid, "chat/messages", "ChatMessageEdited", {"content": "x"}, rec.id)
    for text in ("v2", "v3"):
        assert await store.edits.edit_message(rec.id, text, now_ms(), ev) is not None
    versions = await store.edits.versions(rec.id)
    assert [v.content for v in versions] == ["v1", "v2"]
    assert versions[0].valid_from == rec.created_at
    assert versions[0].replaced_at == versions[1].valid_from
    gone = event("c", cid, "chat/messages", "ChatMessageDeleted", {"message_id": rec.id})
    assert await store.edits.delete_message(rec.id, now_ms(), gone) is not None
    assert await store.edits.versions(rec.id) == []


async def test_tenants_and_capabilities(store: SqlStores) -> None:
    a = await make_user(store)
    oid = "org-" + new_id()[-8:]
    assert await store.tenants.create_org(Org(oid, "Acme", now_ms()))
    assert not await store.tenants.create_org(Org(oid, "Again", now_ms()))
    await store.tenants.put_member(oid, a, "member", now_ms())
    await store.tenants.put_member(oid, a, "admin", now_ms())
    assert await store.tenants.orgs_of(a) == {oid: "admin"}
    assert [m[0] for m in await store.tenants.members(oid)] == [a]
    assert await store.tenants.remove_member(oid, a)
    assert not await store.tenants.remove_member(oid, a)
    await store.capabilities.grant(a, "messaging.route", None, now_ms())
    await store.capabilities.grant(a, "messaging.route", None, now_ms())
    assert await store.capabilities.of(a) == ["messaging.route"]
    assert await store.capabilities.revoke(a, "messaging.route")
    assert await store.capabilities.of(a) == []


async def test_a_client_id_is_claimed_in_the_unit(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid = await _conv(store, a, b)
    det = DetailRow("text/plain", "user")
    fields: dict[str, object] = {"content": "hi", "content_type": "text"}
    key = new_id()

    def claim(sender: str) -> tuple[MessageRecord, tuple[MessageRecord, NewEvent]]:
        rec = replace(record(cid, sender, client_id=key), id=key)
        alt = record(cid, sender, client_id=key)
        return rec, (alt, text_event(cid, alt.id, "hi"))

    rec, instead = claim(a)
    first = await store.message_details.append_detailed(
        rec,
        fields,
        text_event(cid, key, "hi"),
        det,
        None,
        None,
        instead=instead,
    )
    assert not isinstance(first, Exception) and first[0].id == key and first[1] is not None
    # the sender's retry: the first message, nothing written
    rec, instead = claim(a)
    again = await store.message_details.append_detailed(
        rec,
        fields,
        text_event(cid, key, "hi"),
        det,
        None,
        None,
        instead=instead,
    )
    assert not isinstance(again, Exception) and again[0].id == key and again[1] is None
    # anyone else: a conflict, nothing written
    rec, instead = claim(b)
    taken = await store.message_details.append_detailed(
        rec,
        fields,
        text_event(cid, key, "hi"),
        det,
        None,
        None,
        instead=instead,
    )
    assert isinstance(taken, Conflict) and taken.path == "$.id"
    assert len(await store.message_details.page(cid, 10, None, None)) == 1


async def test_send_context_is_one_read_of_every_fact(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    oid = new_id()
    assert await store.tenants.create_org(Org(oid, "Acme", now_ms()))
    await store.tenants.put_member(oid, a, "member", now_ms())
    cid = await _conv(store, a, b, org=oid)
    m = record(cid, a)
    got = await store.message_details.append_detailed(
        m, {"content": "x"}, text_event(cid, m.id, "x"), DetailRow("text/plain", "user"), None, None
    )
    assert not isinstance(got, Exception)
    mine = await store.message_details.send_context(cid, a, m.id)
    assert mine is not None and mine.scoping.org_id == oid and mine.in_org and mine.reply_ok
    theirs = await store.message_details.send_context(cid, b, new_id())
    assert theirs is not None and not theirs.in_org and not theirs.reply_ok
    assert await store.message_details.send_context(new_id(), a, None) is None


async def test_a_batch_of_sends_claims_ids_in_order(store: SqlStores) -> None:
    """Sends submitted together (one commit batch, one `BatchKind` call) behave
    as if they ran one after the other: of two senders racing for one client
    id one wins and the other gets a conflict; a sender's duplicate answers
    its first; every new message has its details."""
    a, b = await make_user(store), await make_user(store)
    cid = await _conv(store, a, b)
    det = DetailRow("text/plain", "user")
    fields: dict[str, object] = {"content": "hi", "content_type": "text"}
    key, plain = new_id(), [record(cid, a) for _ in range(5)]

    def keyed(sender: str) -> tuple[MessageRecord, tuple[MessageRecord, NewEvent]]:
        alt = record(cid, sender, client_id=key)
        return replace(alt, id=key), (alt, text_event(cid, alt.id, "hi"))

    sends = [(m, None) for m in plain] + [keyed(a), keyed(a), keyed(b)]
    results = await asyncio.gather(
        *[
            store.message_details.append_detailed(
                rec, fields, text_event(cid, rec.id, "hi"), det, None, None, instead=instead
            )
            for rec, instead in sends
        ]
    )
    assert all(not isinstance(r, Exception) and r[1] is not None for r in results[:5])
    first, dup, other = results[5:]
    assert not isinstance(first, Exception) and first[0].id == key and first[1] is not None
    assert not isinstance(dup, Exception) and dup[0].id == key and dup[1] is None
    assert isinstance(other, Conflict)
    page = await store.message_details.page(cid, 20, None, None)
    assert len(page) == 6 and all(v.details is not None for v in page)
