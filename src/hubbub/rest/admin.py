"""`/v1/admin/*`: server admins manage accounts, registration tokens and read
the audit log. Every route depends on `admin_caller`, i.e. on
`core.admin.require_admin`: a non-admin, a deactivated admin and a revoked
token are all refused (403, 403, 401) before anything is read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from hubbub.clock import iso, parse_iso
from hubbub.core.context import Caller
from hubbub.core.model import AccountKind, User
from hubbub.core.ports.audit import AuditEntry, AuditQuery
from hubbub.core.ports.registration import Invite
from hubbub.errors import ValidationFailed
from hubbub.rest.deps import admin_caller, client_ip, node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter(prefix="/v1/admin", tags=["admin"])
AdminCaller = Annotated[Caller, Depends(admin_caller)]
ERRS = (401, 403, 404, 422)


class AdminUserOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    email: str | None
    phone: str | None
    is_admin: bool
    is_agent: bool = Field(description="kind is agent (kept for clients written before `kind`)")
    kind: AccountKind = Field(
        description="user (a person) | agent | service | bot: Symbia's sender_type"
    )
    created_at: str
    deactivated_at: str | None
    deletion_requested_at: str | None


class UserPage(BaseModel):
    users: list[AdminUserOut]
    next_after: str | None = Field(description="pass as `after` for the next page; null at the end")


class NewUserBody(BaseModel):
    username: str = Field(max_length=64, description="3-32 of letters, digits, '_', '.', '-'")
    password: str | None = Field(
        default=None,
        max_length=1024,
        description="8-1024 characters; may be left out for an agent, service or bot, "
        "which then signs in only with API keys",
    )
    display_name: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=254)
    kind: AccountKind | None = Field(
        default=None, description="user (the default) | agent | service | bot"
    )
    agent: bool = Field(
        default=False, description="the same as kind agent (kept for older clients)"
    )

    def account_kind(self) -> AccountKind:
        """`kind`, or `agent` for `agent: true`; the two may not disagree."""
        if self.agent and self.kind not in (None, "agent"):
            raise ValidationFailed("agent: true contradicts kind", path="$.kind")
        return self.kind or ("agent" if self.agent else "user")


class PasswordResetBody(BaseModel):
    new_password: str = Field(max_length=1024)


class InviteBody(BaseModel):
    uses_allowed: int | None = Field(
        default=1, description="how many registrations it allows; null = unlimited until expiry"
    )
    expires_in_s: int | None = Field(
        default=7 * 24 * 3600, description="lifetime in seconds; null = never expires"
    )


class InviteOut(BaseModel):
    token_id: str
    created_by: str | None
    created_at: str
    expires_at: str | None
    uses_allowed: int | None
    uses: int
    revoked_at: str | None


class NewInviteOut(InviteOut):
    token: str = Field(description="shown once: only its hash is stored")


class AuditOut(BaseModel):
    id: str
    at: str
    action: str
    actor_id: str | None
    target_id: str | None
    address: str | None
    detail: dict[str, str | int | bool | None]


class AuditPage(BaseModel):
    entries: list[AuditOut]
    next_before: str | None = Field(description="pass as `before` for the next (older) page")


def _iso(ms: int | None) -> str | None:
    return iso(ms) if ms is not None else None


def admin_user_out(u: User) -> AdminUserOut:
    return AdminUserOut(
        user_id=u.id,
        username=u.username,
        display_name=u.display_name,
        email=u.email,
        phone=u.phone,
        is_admin=u.is_admin,
        is_agent=u.is_agent,
        kind=u.kind,
        created_at=iso(u.created_at),
        deactivated_at=_iso(u.deactivated_at),
        deletion_requested_at=_iso(u.deletion_requested_at),
    )


def invite_out(i: Invite) -> dict[str, Any]:
    return {
        "token_id": i.id,
        "created_by": i.created_by,
        "created_at": iso(i.created_at),
        "expires_at": _iso(i.expires_at),
        "uses_allowed": i.uses_allowed,
        "uses": i.uses,
        "revoked_at": _iso(i.revoked_at),
    }


def audit_out(e: AuditEntry) -> AuditOut:
    return AuditOut(
        id=e.id,
        at=iso(e.at),
        action=e.action,
        actor_id=e.actor_id,
        target_id=e.target_id,
        address=e.address,
        detail=e.detail,
    )


@router.get("/users", response_model=UserPage, responses=responses(401, 403, 422))
async def list_users(
    request: Request,
    caller: AdminCaller,
    q: Annotated[str | None, Query(max_length=254)] = None,
    admins_only: bool = False,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """Users by username; `q` matches the start of a username, email or id."""
    users = await node_of(request).admin.list_users(
        caller, prefix=q, admins_only=admins_only, after=after, limit=limit
    )
    nxt = users[-1].username if len(users) == limit else None
    return UserPage(users=[admin_user_out(u) for u in users], next_after=nxt)


@router.post(
    "/users", status_code=201, response_model=AdminUserOut, responses=responses(401, 403, 409, 422)
)
async def create_user(body: NewUserBody, request: Request, caller: AdminCaller) -> Any:
    """Create an account, as `hubbub user create` does: no registration token
    is spent and no session is opened. 409 when the username (or email) is
    taken."""
    user = await node_of(request).admin.create_user(
        caller,
        body.username,
        body.password,
        display_name=body.display_name,
        email=body.email,
        kind=body.account_kind(),
        address=client_ip(request),
    )
    return admin_user_out(user)


@router.get("/users/{user_id}", response_model=AdminUserOut, responses=responses(*ERRS))
async def get_user(user_id: str, request: Request, caller: AdminCaller) -> Any:
    return admin_user_out(await node_of(request).admin.get_user(caller, user_id))


@router.post("/users/{user_id}/deactivate", response_model=AdminUserOut, responses=responses(*ERRS))
async def deactivate(user_id: str, request: Request, caller: AdminCaller) -> Any:
    """Sign the account out everywhere (its tokens and API keys are revoked
    and its connections close with 4401 on every node) and refuse sign-in."""
    node = node_of(request)
    return admin_user_out(await node.admin.deactivate(caller, user_id, client_ip(request)))


@router.post("/users/{user_id}/reactivate", response_model=AdminUserOut, responses=responses(*ERRS))
async def reactivate(user_id: str, request: Request, caller: AdminCaller) -> Any:
    """Allow signing in again (403 once its data deletion was requested)."""
    node = node_of(request)
    return admin_user_out(await node.admin.reactivate(caller, user_id, client_ip(request)))


@router.post("/users/{user_id}/password", status_code=204, responses=responses(*ERRS))
async def reset_password(
    user_id: str, body: PasswordResetBody, request: Request, caller: AdminCaller
) -> Response:
    """Set a new password; every session of the account ends."""
    node = node_of(request)
    await node.admin.reset_password(caller, user_id, body.new_password, client_ip(request))
    return Response(status_code=204)


@router.put("/users/{user_id}/admin", response_model=AdminUserOut, responses=responses(*ERRS))
async def grant_admin(user_id: str, request: Request, caller: AdminCaller) -> Any:
    node = node_of(request)
    return admin_user_out(await node.admin.set_admin(caller, user_id, True, client_ip(request)))


@router.delete("/users/{user_id}/admin", response_model=AdminUserOut, responses=responses(*ERRS))
async def revoke_admin(user_id: str, request: Request, caller: AdminCaller) -> Any:
    node = node_of(request)
    return admin_user_out(await node.admin.set_admin(caller, user_id, False, client_ip(request)))


@router.post(
    "/registration-tokens",
    status_code=201,
    response_model=NewInviteOut,
    responses=responses(401, 403, 422),
)
async def create_registration_token(body: InviteBody, request: Request, caller: AdminCaller) -> Any:
    """A registration token for `--registration token`: shown once."""
    node = node_of(request)
    made = await node.admin.create_invite(
        caller,
        uses_allowed=body.uses_allowed,
        expires_in_ms=body.expires_in_s * 1000 if body.expires_in_s is not None else None,
        address=client_ip(request),
    )
    return NewInviteOut(token=made.token, **invite_out(made.invite))


@router.get("/registration-tokens", response_model=list[InviteOut], responses=responses(401, 403))
async def list_registration_tokens(request: Request, caller: AdminCaller) -> Any:
    return [invite_out(i) for i in await node_of(request).admin.list_invites(caller)]


@router.delete("/registration-tokens/{token_id}", status_code=204, responses=responses(*ERRS))
async def revoke_registration_token(
    token_id: str, request: Request, caller: AdminCaller
) -> Response:
    await node_of(request).admin.revoke_invite(caller, token_id, client_ip(request))
    return Response(status_code=204)


def _time(raw: str | None, path: str) -> int | None:
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise ValidationFailed("not an ISO 8601 time", path=path) from None


def _cursor(raw: str | None) -> tuple[int, str] | None:
    if raw is None:
        return None
    at, _, eid = raw.partition("_")
    if not at.isdigit() or not eid or len(raw) > 96:
        raise ValidationFailed("not a cursor from next_before", path="$.query.before")
    return int(at), eid


@router.get("/audit", response_model=AuditPage, responses=responses(401, 403, 422))
async def read_audit(
    request: Request,
    caller: AdminCaller,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: Annotated[str | None, Query(max_length=64)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO 8601, inclusive")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO 8601, exclusive")] = None,
    before: Annotated[str | None, Query(max_length=96)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """The audit log, newest first, filtered; never holds a secret."""
    query = AuditQuery(
        limit=limit,
        before=_cursor(before),
        action=action,
        actor_id=actor_id,
        target_id=target_id,
        since=_time(since, "$.query.since"),
        until=_time(until, "$.query.until"),
    )
    entries = await node_of(request).admin.read_audit(caller, query)
    nxt = f"{entries[-1].at}_{entries[-1].id}" if len(entries) == limit else None
    return AuditPage(entries=[audit_out(e) for e in entries], next_before=nxt)
