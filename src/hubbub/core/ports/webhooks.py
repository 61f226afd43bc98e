"""Where webhooks go: one HTTP POST per delivery (the relay is `core/webhooks.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Delivery", "WebhookTransport"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook: its id is the same on every attempt and after a restart."""

    id: str
    event: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class WebhookTransport(Protocol):
    async def post(self, delivery: Delivery) -> int:
        """Send it once; the receiver's HTTP status (raises if there was none)."""
        ...

    async def aclose(self) -> None: ...
