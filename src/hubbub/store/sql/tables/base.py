"""The one metadata every table module registers with, and the column types they share."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData

__all__ = ["Ms", "Pos", "metadata"]

metadata = MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid alias).
Pos = BigInteger().with_variant(Integer(), "sqlite")
Ms = BigInteger
