"""Who blocks whom."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from hubbub.core.model import Block

__all__ = ["BlockStore"]


class BlockStore(Protocol):
    async def add_block(self, blocker_id: str, blocked_id: str, now: int) -> bool: ...
    async def remove_block(self, blocker_id: str, blocked_id: str) -> bool: ...
    async def list_blocks(self, blocker_id: str) -> list[Block]: ...
    async def block_relations(
        self, user_id: str, others: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        """Among `others`: (those `user_id` blocks, those who block `user_id`)."""
        ...
