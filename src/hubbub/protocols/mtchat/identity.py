"""Who is calling an MTChat route: a JWT, a hubbub token, or (trusted) a bare id.

    Authorization: Bearer <jwt>   (REST)  | ?token=<jwt> (WebSocket)
        HS256 with --mtchat-jwt-secret, `exp` required; the host's user id is
        the claim --mtchat-jwt-claim (default `sub`, as MTChat), a string or a
        number (MTChat stringifies numbers)
    Authorization: Bearer <hubbub token>  a hubbub user, as on /v1 and /ws
    ?user_id=<id> alone                   only with --mtchat-trust-user-id

MTChat's SDK adds `?user_id=` to every request even when it sends a token:
then the token decides who the caller is and a `user_id` naming someone else
is refused (`forbidden`). A host user id becomes a hubbub account on first
use (`core/external_users.py`). `X-Scope-Config` (base64 JSON of three
levels) says which dialogs the user may see by scope; a malformed one is a
`validation_failed` naming the header.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

import jwt
import msgspec

from hubbub.core.context import Caller
from hubbub.core.ports.dialogs import ScopeRule
from hubbub.credentials import bearer_token
from hubbub.errors import Forbidden, Unauthorized, ValidationFailed
from hubbub.runtime import Node

__all__ = ["NAMESPACE", "MtUser", "admin_ok", "authenticate", "parse_scope"]

NAMESPACE = "mtchat"
MAX_SCOPE_HEADER = 16 * 1024
MAX_USER_ID = 255
_scope = msgspec.json.Decoder(ScopeRule)


@dataclass(frozen=True, slots=True)
class MtUser:
    """The caller: their hubbub account, and the id MTChat clients know them by."""

    user_id: str
    external_id: str
    token_hash: str = ""

    @property
    def caller(self) -> Caller:
        return Caller(self.user_id, "mtchat", None, self.token_hash)


def _user_claim(value: object) -> str | None:
    """MTChat reads the user id from a string or a number claim (numbers as text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > MAX_USER_ID:
        return None
    return value


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


async def authenticate(node: Node, token: str | None, user_id: str | None) -> MtUser:
    s = node.settings
    if token:
        if _looks_like_jwt(token):
            if not s.mtchat_jwt_secret:
                raise Unauthorized("JWT authentication is not configured")
            try:
                claims = jwt.decode(
                    token,
                    s.mtchat_jwt_secret,
                    algorithms=["HS256"],
                    options={"require": ["exp"], "verify_sub": False},
                )
            except jwt.ExpiredSignatureError:
                raise Unauthorized("token expired") from None
            except jwt.InvalidTokenError:
                raise Unauthorized("invalid token") from None
            sub = _user_claim(claims.get(s.mtchat_jwt_claim))
            if sub is None:
                raise Unauthorized("invalid token")
            uid = await node.external_users.resolve(NAMESPACE, sub)
            me = MtUser(uid, sub)
        else:
            info = await node.accounts.authenticate(token)
            ext = (await node.external_users.external_of(NAMESPACE, [info.user_id])).get(
                info.user_id, info.user_id
            )
            me = MtUser(info.user_id, ext, info.token_hash)
        if user_id is not None and user_id != me.external_id:
            raise Forbidden("user_id does not match the token")
        return me
    if user_id and s.mtchat_trust_user_id:
        uid = await node.external_users.resolve(NAMESPACE, user_id)
        return MtUser(uid, user_id)
    raise Unauthorized("missing token")


def admin_ok(node: Node, authorization: str | None) -> None:
    """The management API: `Authorization: Bearer <--mtchat-admin-token>`."""
    wanted = node.settings.mtchat_admin_token
    got = bearer_token(authorization) or ""
    if not wanted or not got or not hmac.compare_digest(got.encode(), wanted.encode()):
        raise Unauthorized("admin token required")


def parse_scope(header: str | None) -> ScopeRule | None:
    if header is None:
        return None
    if len(header) > MAX_SCOPE_HEADER:
        raise ValidationFailed("too long", path="$.headers.x-scope-config")
    # A query string turns base64's "+" into a space; either alphabet is accepted.
    text = header.strip().replace(" ", "+").replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        return _scope.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise ValidationFailed(
            "base64 JSON {scope_level0, scope_level1, scope_level2} expected",
            path="$.headers.x-scope-config",
        ) from None
