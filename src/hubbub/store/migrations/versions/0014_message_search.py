"""Full-text search over plaintext messages (`store/sql/search.py`).

Each database uses its own engine, kept in step with `messages` by the
database itself, so every writer that changes a message's text (sends,
edits, deletes, expiry, MTChat's and Symbia's paths) is covered without
each one remembering to:

- SQLite: an FTS5 table `message_search` over the text of searchable
  messages and their conversation's id (so a search intersects the two in
  the index instead of reading every conversation's matches), filled and
  emptied by triggers on `messages`. Its rowids come
  from `message_search_rows` (an INTEGER PRIMARY KEY, so stable across
  VACUUM, unlike the implicit rowid of `messages`, whose key is a string).
- PostgreSQL: a GIN expression index on `to_tsvector('simple', content)`;
  the query repeats that expression so the planner uses it.

Searchable is plaintext (`kind = 'text'`), not a system notice, not deleted,
with text: end-to-end encrypted messages hold no text the server could read.
The upgrade indexes every existing message that qualifies.

Revision ID: 0014_message_search
Revises: 0013_moderation_reports
"""

from __future__ import annotations

from alembic import op

revision = "0014_message_search"
down_revision = "0013_moderation_reports"
branch_labels = None
depends_on = None

_SEARCHABLE = (
    "{r}.kind = 'text' AND {r}.content IS NOT NULL AND {r}.deleted_at IS NULL"
    " AND {r}.content_type <> 'system'"
)
_ROW_OF = "(SELECT s.rowid FROM message_search_rows s WHERE s.message_id = {r}.id)"

_SQLITE_UP = [
    "CREATE TABLE message_search_rows ("
    " rowid INTEGER PRIMARY KEY, message_id VARCHAR(36) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE message_search USING fts5("
    "content, conversation_id, tokenize = 'unicode61 remove_diacritics 0')",
    f"""CREATE TRIGGER message_search_insert AFTER INSERT ON messages
    WHEN {_SEARCHABLE.format(r="new")}
    BEGIN
      INSERT INTO message_search_rows (message_id) VALUES (new.id);
      INSERT INTO message_search (rowid, content, conversation_id)
        VALUES ({_ROW_OF.format(r="new")}, new.content, new.conversation_id);
    END""",
    f"""CREATE TRIGGER message_search_update
    AFTER UPDATE OF content, deleted_at, kind, content_type, conversation_id ON messages
    BEGIN
      DELETE FROM message_search WHERE rowid = {_ROW_OF.format(r="old")};
      DELETE FROM message_search_rows WHERE message_id = old.id;
      INSERT INTO message_search_rows (message_id)
        SELECT new.id WHERE {_SEARCHABLE.format(r="new")};
      INSERT INTO message_search (rowid, content, conversation_id)
        SELECT s.rowid, new.content, new.conversation_id
        FROM message_search_rows s WHERE s.message_id = new.id;
    END""",
    f"""CREATE TRIGGER message_search_delete AFTER DELETE ON messages
    BEGIN
      DELETE FROM message_search WHERE rowid = {_ROW_OF.format(r="old")};
      DELETE FROM message_search_rows WHERE message_id = old.id;
    END""",
    # Existing messages: indexed by the upgrade, as the triggers would have.
    f"INSERT INTO message_search_rows (message_id)"
    f" SELECT m.id FROM messages m WHERE {_SEARCHABLE.format(r='m')}",
    "INSERT INTO message_search (rowid, content, conversation_id)"
    " SELECT s.rowid, m.content, m.conversation_id"
    " FROM message_search_rows s JOIN messages m ON m.id = s.message_id",
]

_SQLITE_DOWN = [
    "DROP TRIGGER message_search_delete",
    "DROP TRIGGER message_search_update",
    "DROP TRIGGER message_search_insert",
    "DROP TABLE message_search",
    "DROP TABLE message_search_rows",
]

_PG_UP = ["CREATE INDEX ix_messages_search ON messages USING gin (to_tsvector('simple', content))"]
_PG_DOWN = ["DROP INDEX ix_messages_search"]


def _run(statements: list[str]) -> None:
    for sql in statements:
        op.execute(sql)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(_SQLITE_UP if sqlite else _PG_UP)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(_SQLITE_DOWN if sqlite else _PG_DOWN)
