"""`/v1/auth/2fa/*`: two-factor sign-in (TOTP) of the caller, from a signed-in
session. Once on, `POST /v1/auth/login` needs `totp_code` (or a
`recovery_code`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from hubbub.core.context import Caller
from hubbub.rest.deps import client_ip, node_of, session_caller
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter(prefix="/v1/auth/2fa", tags=["two-factor"])
SessionCaller = Annotated[Caller, Depends(session_caller)]


class PasswordBody(BaseModel):
    password: str = Field(max_length=1024)


class CodeBody(BaseModel):
    code: str = Field(max_length=16, description="the 6-digit code the app shows now")


class EnrolmentOut(BaseModel):
    secret: str = Field(description="base32, for apps that cannot read the URI")
    otpauth_uri: str = Field(description="show as a QR code")


class RecoveryOut(BaseModel):
    recovery_codes: list[str] = Field(description="one-time codes, shown only now")


class StatusOut(BaseModel):
    totp_enabled: bool
    recovery_codes_left: int


@router.get("", response_model=StatusOut, responses=responses(401, 403))
async def status(request: Request, caller: SessionCaller) -> Any:
    on, left = await node_of(request).totp.status(caller)
    return StatusOut(totp_enabled=on, recovery_codes_left=left)


@router.post("/totp", response_model=EnrolmentOut, responses=responses(401, 403, 409, 422, 429))
async def enroll(body: PasswordBody, request: Request, caller: SessionCaller) -> Any:
    """Start enrolment (password required); confirm with the first code."""
    e = await node_of(request).totp.enroll(caller, body.password, client_ip(request))
    return EnrolmentOut(secret=e.secret, otpauth_uri=e.uri)


@router.post("/totp/confirm", response_model=RecoveryOut, responses=responses(401, 403, 404, 422))
async def confirm(body: CodeBody, request: Request, caller: SessionCaller) -> Any:
    """Turn two-factor on with the app's current code; returns the recovery codes."""
    return RecoveryOut(recovery_codes=await node_of(request).totp.confirm(caller, body.code))


@router.post("/totp/disable", status_code=204, responses=responses(401, 403, 404, 422, 429))
async def disable(body: PasswordBody, request: Request, caller: SessionCaller) -> Response:
    """Turn two-factor off (password required); its recovery codes are deleted."""
    await node_of(request).totp.disable(caller, body.password, client_ip(request))
    return Response(status_code=204)
