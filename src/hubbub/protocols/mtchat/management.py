"""`/api/v1/management/...`: the host backend creates dialogs and adds people.

Every route needs `Authorization: Bearer <--mtchat-admin-token>`; with no
token configured the management API refuses everything (MTChat runs it open
for local development; hubbub does not). Participants are named by host
user ids and become hubbub accounts on first use.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from hubbub.core.ports.dialogs import Participant, ScopeRule
from hubbub.errors import NotFound
from hubbub.protocols.mtchat.deps import Body, data, no_nul
from hubbub.protocols.mtchat.identity import NAMESPACE, admin_ok
from hubbub.protocols.mtchat.views import Names, dialog_json, participant_json
from hubbub.rest.deps import node_of
from hubbub.rest.errors import responses

__all__ = ["router"]


def _admin(request: Request) -> None:
    admin_ok(node_of(request), request.headers.get("authorization"))


router = APIRouter(
    prefix="/api/v1/management",
    tags=["mtchat-management"],
    dependencies=[Depends(_admin), Depends(no_nul)],
)
_ERR = responses(401, 404, 400)


class ParticipantIn(Body):
    user_id: str = Field(min_length=1, max_length=128)
    display_name: str = Field(min_length=1, max_length=256)
    company: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=64)


class ScopeIn(Body):
    scope_level0: Annotated[list[Annotated[str, Field(max_length=256)]], Field(max_length=100)] = []
    scope_level1: Annotated[list[Annotated[str, Field(max_length=256)]], Field(max_length=100)] = []
    scope_level2: Annotated[list[Annotated[str, Field(max_length=256)]], Field(max_length=100)] = []


class CreateDialogBody(Body):
    object_id: str = Field(min_length=1, max_length=128)
    object_type: str = Field(min_length=1, max_length=128)
    title: str | None = Field(default=None, max_length=500)
    object_url: str | None = Field(default=None, max_length=2048)
    participants: list[ParticipantIn] = Field(default_factory=list, max_length=1000)
    access_scopes: list[ScopeIn] = Field(default_factory=list, max_length=50)
    meta: dict[str, Any] | None = None


class FindDialogBody(Body):
    object_id: str = Field(min_length=1, max_length=128)
    object_type: str = Field(min_length=1, max_length=128)
    access_scopes: list[ScopeIn] = Field(default_factory=list, max_length=50)


class ScopesBody(Body):
    access_scopes: list[ScopeIn] = Field(max_length=50)


def _rules(scopes: list[ScopeIn]) -> list[ScopeRule]:
    return [ScopeRule(s.scope_level0, s.scope_level1, s.scope_level2) for s in scopes]


async def _participant(request: Request, p: ParticipantIn, path: str) -> Participant:
    uid = await node_of(request).external_users.resolve(
        NAMESPACE, p.user_id, p.display_name, path=f"{path}.user_id"
    )
    return Participant(uid, p.display_name, p.company, p.email, p.phone)


@router.post("/dialogs", responses=_ERR)
async def create_dialog(request: Request, body: CreateDialogBody) -> dict[str, Any]:
    people = [
        await _participant(request, p, f"$.participants[{i}]")
        for i, p in enumerate(body.participants)
    ]
    scopes = _rules(body.access_scopes)
    created_by = body.participants[0].user_id if body.participants else None
    dialog = await node_of(request).dialogs.create(
        body.object_type,
        body.object_id,
        body.title,
        body.object_url,
        body.meta,
        people,
        scopes,
        created_by,
    )
    return data(dialog_json(dialog))


@router.post("/dialogs/search", responses=_ERR)
async def find_dialog(request: Request, body: FindDialogBody) -> dict[str, Any]:
    """Find-or-create's first half: `{"data": null}` when there is none."""
    found = await node_of(request).dialogs.find(
        body.object_type, body.object_id, _rules(body.access_scopes)
    )
    return data(dialog_json(found) if found is not None else None)


@router.put("/dialogs/{dialog_id}/access-scopes", responses=_ERR)
async def set_access_scopes(request: Request, dialog_id: str, body: ScopesBody) -> dict[str, Any]:
    """Replaces every rule: who may see and join the dialog from now on."""
    await node_of(request).dialogs.set_scopes(dialog_id, _rules(body.access_scopes))
    return {"success": True}


@router.get("/dialogs/{dialog_id}", responses=_ERR)
async def get_dialog(request: Request, dialog_id: str) -> dict[str, Any]:
    node = node_of(request)
    dialog = await node.dialogs.get(dialog_id)
    people = await node.stores.dialogs.participants(dialog_id)
    names = Names(node)
    await names.load(p.user_id for p in people)
    return data(
        dialog_json(dialog)
        | {
            "participants": [participant_json(dialog_id, p, names) for p in people],
            "access_scopes": [
                {
                    "scope_level0": s.scope_level0,
                    "scope_level1": s.scope_level1,
                    "scope_level2": s.scope_level2,
                }
                for s in dialog.access_scopes
            ],
        }
    )


@router.delete("/dialogs/{dialog_id}", status_code=204, responses=_ERR)
async def delete_dialog(request: Request, dialog_id: str) -> Response:
    await node_of(request).dialogs.delete(dialog_id)
    return Response(status_code=204)


@router.post("/dialogs/{dialog_id}/participants", status_code=201, responses=_ERR)
async def add_participant(request: Request, dialog_id: str, body: ParticipantIn) -> dict[str, Any]:
    node = node_of(request)
    await node.dialogs.get(dialog_id)
    p = await _participant(request, body, "$")
    added = await node.dialogs.add(dialog_id, p)
    return {"success": True, "added": added}


@router.delete("/dialogs/{dialog_id}/participants/{user_id}", status_code=204, responses=_ERR)
async def remove_participant(request: Request, dialog_id: str, user_id: str) -> Response:
    node = node_of(request)
    await node.dialogs.get(dialog_id)
    uid = await node.external_users.resolve(NAMESPACE, user_id)
    if not await node.dialogs.remove(dialog_id, uid):
        raise NotFound("participant not found")
    return Response(status_code=204)
