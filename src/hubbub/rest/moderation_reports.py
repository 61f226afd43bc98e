"""`/v1/admin/reports`: server admins review users' reports
(`core/moderation_reports.py`). Every route depends on `admin_caller`
(`core.admin.require_admin`), like the rest of `/v1/admin/`, and the service
checks the role again."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from hubbub.clock import iso
from hubbub.core.context import Caller
from hubbub.core.moderation_reports import MAX_NOTE
from hubbub.core.ports import Report
from hubbub.rest.deps import admin_caller, client_ip, node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter(prefix="/v1/admin/reports", tags=["admin"])
AdminCaller = Annotated[Caller, Depends(admin_caller)]
Status = Literal["open", "reviewing", "resolved", "dismissed"]


class ReportOut(BaseModel):
    report_id: str
    reporter_id: str
    report_type: str
    target_id: str
    reason: str
    details: str | None
    client_timestamp: str | None = Field(description="the reporter's clock: not trusted")
    received_at: str
    status: Status
    updated_at: str
    note: str | None
    handled_by: str | None
    target_user_id: str | None = Field(description="the reported user, or a message's sender")
    conversation_id: str | None
    message_kind: str | None
    content_type: str | None
    content: str | None = Field(
        description="a plaintext message's content when reported; null for end-to-end "
        "encrypted messages, which the server cannot read"
    )


class ReportPage(BaseModel):
    reports: list[ReportOut]
    next_after: str | None = Field(description="pass as `after` for the next page; null at the end")


class StatusBody(BaseModel):
    status: Literal["reviewing", "resolved", "dismissed"]
    note: str | None = Field(default=None, max_length=MAX_NOTE, description="for admins only")


def report_out(r: Report) -> ReportOut:
    return ReportOut(
        report_id=r.id,
        reporter_id=r.reporter_id,
        report_type=r.report_type,
        target_id=r.target_id,
        reason=r.reason,
        details=r.details,
        client_timestamp=r.client_timestamp,
        received_at=iso(r.received_at),
        status=r.status,  # type: ignore[arg-type]
        updated_at=iso(r.updated_at),
        note=r.note,
        handled_by=r.handled_by,
        target_user_id=r.target_user_id,
        conversation_id=r.conversation_id,
        message_kind=r.message_kind,
        content_type=r.content_type,
        content=r.content,
    )


@router.get("", response_model=ReportPage, responses=responses(401, 403, 422))
async def list_reports(
    request: Request,
    caller: AdminCaller,
    status: Status | None = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    """Reports, oldest first, of `status` if given; pages by `after`."""
    reports = await node_of(request).moderation_reports.list(caller, status, after, limit)
    nxt = reports[-1].id if len(reports) == limit else None
    return ReportPage(reports=[report_out(r) for r in reports], next_after=nxt)


@router.get("/{report_id}", response_model=ReportOut, responses=responses(401, 403, 404))
async def get_report(report_id: str, request: Request, caller: AdminCaller) -> Any:
    return report_out(await node_of(request).moderation_reports.get(caller, report_id))


@router.post("/{report_id}", response_model=ReportOut, responses=responses(401, 403, 404, 409, 422))
async def set_report_status(
    report_id: str, body: StatusBody, request: Request, caller: AdminCaller
) -> Any:
    """Move a report on (`open -> reviewing -> resolved | dismissed`; a verdict
    is final: 409). The reporter's devices get `ReportStatusUpdate`; the
    reported user is told nothing. Audited as `report.status`."""
    node = node_of(request)
    report = await node.moderation_reports.set_status(
        caller, report_id, body.status, body.note, client_ip(request)
    )
    return report_out(report)
