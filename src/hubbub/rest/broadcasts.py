"""`/v1/broadcasts` and `/v1/broadcast-channels`: publishing broadcasts.

Announcements (to everyone or a segment) are for server admins; a channel's
messages for its publishers (granted by an admin) and admins. Subscribing is
on `/ws` (`Subscribe` on `broadcast/{channel_id}`). A retry with the same
`client_request_id` (or `Idempotency-Key` header) returns the first result.
Rules in `core/broadcasts.py`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from hubbub.clock import iso
from hubbub.core.context import Caller
from hubbub.rest.deps import current_caller, node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter(tags=["broadcasts"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
IdemKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="the same as `client_request_id`"),
]


class AnnouncementBody(BaseModel):
    title: str = Field(max_length=4096, description="1-200 characters")
    content: str = Field(max_length=65536, description="1-10,000 characters")
    priority: str = Field(default="normal", description="low | normal | high | urgent (a label)")
    segment: str = Field(
        default="all",
        description="all | admins (active server admins) | a segment's name (its members)",
    )
    expires_at: str | None = Field(
        default=None, description="RFC 3339, in the future: not delivered nor synced after it"
    )
    client_request_id: str | None = Field(default=None, max_length=4096)


class ChannelMessageBody(BaseModel):
    title: str = Field(max_length=4096, description="1-200 characters")
    payload: dict[str, Any] = Field(default_factory=dict, description="at most 16 KiB of JSON")
    priority: str = Field(default="normal", description="low | normal | high | urgent (a label)")
    expires_at: str | None = None
    client_request_id: str | None = Field(default=None, max_length=4096)


class PublishedOut(BaseModel):
    message_id: str
    seq: int = Field(description="the broadcast's position in the event stream")
    timestamp: str


class ChannelBody(BaseModel):
    title: str = Field(max_length=4096, description="1-200 characters")


class ChannelOut(BaseModel):
    channel_id: str
    title: str
    created_by: str
    created_at: str
    subscribed: bool | None = Field(
        default=None, description="in the list: whether the caller is subscribed (on /ws)"
    )


@router.post(
    "/v1/broadcasts",
    status_code=201,
    response_model=PublishedOut,
    responses=responses(401, 403, 422),
)
async def announce(
    body: AnnouncementBody, request: Request, caller: AnyCaller, idem: IdemKey = None
) -> Any:
    """An announcement on `broadcast/messages`, to everyone or a segment."""
    return await node_of(request).broadcasts.announce(
        caller,
        title=body.title,
        content=body.content,
        priority=body.priority,
        segment=body.segment,
        expires_at=body.expires_at,
        client_request_id=body.client_request_id or idem,
    )


@router.get(
    "/v1/broadcast-channels", response_model=list[ChannelOut], responses=responses(401, 403)
)
async def list_channels(request: Request, caller: AnyCaller) -> Any:
    broadcasts = node_of(request).broadcasts
    mine = await broadcasts.subscribed(caller)
    return [
        ChannelOut(
            channel_id=c.id,
            title=c.title,
            created_by=c.created_by,
            created_at=iso(c.created_at),
            subscribed=c.id in mine,
        )
        for c in await broadcasts.list_channels(caller)
    ]


@router.put(
    "/v1/broadcast-channels/{channel_id}",
    response_model=ChannelOut,
    responses={201: {"model": ChannelOut}, **responses(401, 403, 422)},
)
async def put_channel(
    channel_id: str, body: ChannelBody, request: Request, response: Response, caller: AnyCaller
) -> Any:
    """Create (201) or retitle (200) a channel; server admins only."""
    created, c = await node_of(request).broadcasts.put_channel(caller, channel_id, body.title)
    response.status_code = 201 if created else 200
    return ChannelOut(
        channel_id=c.id, title=c.title, created_by=c.created_by, created_at=iso(c.created_at)
    )


@router.put(
    "/v1/broadcast-channels/{channel_id}/publishers/{user_id}",
    status_code=204,
    responses=responses(401, 403, 404),
)
async def grant_publisher(
    channel_id: str, user_id: str, request: Request, caller: AnyCaller
) -> Response:
    """Let `user_id` publish on the channel; server admins only."""
    await node_of(request).broadcasts.set_publisher(caller, channel_id, user_id, True)
    return Response(status_code=204)


@router.delete(
    "/v1/broadcast-channels/{channel_id}/publishers/{user_id}",
    status_code=204,
    responses=responses(401, 403, 404),
)
async def revoke_publisher(
    channel_id: str, user_id: str, request: Request, caller: AnyCaller
) -> Response:
    await node_of(request).broadcasts.set_publisher(caller, channel_id, user_id, False)
    return Response(status_code=204)


@router.post(
    "/v1/broadcast-channels/{channel_id}/messages",
    status_code=201,
    response_model=PublishedOut,
    responses=responses(401, 403, 404, 422),
)
async def publish(
    channel_id: str,
    body: ChannelMessageBody,
    request: Request,
    caller: AnyCaller,
    idem: IdemKey = None,
) -> Any:
    """A message on `broadcast/{channel_id}`: the channel's publishers and admins."""
    return await node_of(request).broadcasts.publish(
        caller,
        channel_id,
        title=body.title,
        payload=body.payload,
        priority=body.priority,
        expires_at=body.expires_at,
        client_request_id=body.client_request_id or idem,
    )


class SegmentOut(BaseModel):
    segment: str
    user_ids: list[str]


@router.get(
    "/v1/broadcast-segments/{segment}",
    response_model=SegmentOut,
    responses=responses(401, 403, 422),
)
async def get_segment(segment: str, request: Request, caller: AnyCaller) -> Any:
    """A segment's members (none: the segment is unknown); server admins only."""
    ids = await node_of(request).broadcasts.segment_members(caller, segment)
    return SegmentOut(segment=segment, user_ids=ids)


@router.put(
    "/v1/broadcast-segments/{segment}/members/{user_id}",
    status_code=204,
    responses=responses(401, 403, 404, 422),
)
async def add_segment_member(
    segment: str, user_id: str, request: Request, caller: AnyCaller
) -> Response:
    """Add a user to a segment (the first member makes it); server admins only."""
    await node_of(request).broadcasts.set_segment_member(caller, segment, user_id, True)
    return Response(status_code=204)


@router.delete(
    "/v1/broadcast-segments/{segment}/members/{user_id}",
    status_code=204,
    responses=responses(401, 403, 404, 422),
)
async def remove_segment_member(
    segment: str, user_id: str, request: Request, caller: AnyCaller
) -> Response:
    await node_of(request).broadcasts.set_segment_member(caller, segment, user_id, False)
    return Response(status_code=204)
