"""`moderation/reports` and `moderation/reports/ack`: reporting a message or a
user (`core/moderation_reports.py`).

`SubmitReport` is answered on `moderation/reports/ack` by the spec's
`ReportSubmitted`, like a retry of it and like `SubmitReportAckRequest`
naming its `client_request_id`. `ReportStatusUpdate` on `moderation/reports`
is the server's, sent when an admin acts (REST), never a reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.core.moderation_reports import submitted
from hubbub.protocols.channels import additions as a
from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]

ACK = "moderation/reports/ack"


async def submit_report(ss: Session, m: a.SubmitReport, _p: dict[str, str]) -> Reply:
    r = await ss.node.moderation_reports.submit(
        ss.caller, m.report_type, m.target_id, m.reason, m.details, m.timestamp,
        m.client_request_id,
    )  # fmt: skip
    return Reply(ACK, "ReportSubmitted", submitted(r))


async def report_ack(ss: Session, m: s.SubmitReportAckRequest, _p: dict[str, str]) -> Reply:
    r = await ss.node.moderation_reports.acknowledge(ss.caller, m.client_request_id)
    return Reply(ACK, "ReportSubmitted", submitted(r))


HANDLERS: dict[tuple[str, str], Handler] = {
    ("moderation/reports", "SubmitReport"): submit_report,
    (ACK, "SubmitReportAckRequest"): report_ack,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
