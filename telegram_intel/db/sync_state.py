"""Sync state in PostgreSQL: per-chat cursors, tombstones, the username → chat id cache.

Each function is its own short transaction; cursors are only written after the batch they
cover has committed (see ``TelethonSource``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from telegram_intel.lib.records import CHANNEL_ID_OFFSET


def get_cursor(engine: Engine, chat_id: int, account_id: int = 0) -> int:
    """The chat's high-water mark for one account (0: an account not known)."""
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT last_message_id FROM telegram_sync_cursors WHERE chat_id = :c AND account_id = :a"),
            {"c": chat_id, "a": account_id},
        ).scalar()
    return int(value or 0)


def set_cursor(engine: Engine, chat_id: int, last_message_id: int, account_id: int = 0) -> int:
    """Advance (never move back) the chat's high-water mark for one account; returns the stored value."""
    with engine.begin() as conn:
        return conn.execute(
            sa.text(
                "INSERT INTO telegram_sync_cursors AS c (chat_id, account_id, last_message_id, updated_at) "
                "VALUES (:c, :a, :m, now()) ON CONFLICT (chat_id, account_id) DO UPDATE SET "
                "last_message_id = GREATEST(c.last_message_id, EXCLUDED.last_message_id), updated_at = now() "
                "RETURNING last_message_id"
            ),
            {"c": chat_id, "a": account_id, "m": last_message_id},
        ).scalar_one()


def mark_scanned(engine: Engine, chat_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_chats SET last_scanned_at = now() WHERE chat_id = :c"), {"c": chat_id})


def mark_deleted(engine: Engine, message_ids: Iterable[int], *, chat_id: int | None = None,
                 non_channel_chats: Collection[int] = ()) -> int:
    """Tombstone deleted messages (rows stay; ``deleted_at`` is set once and never cleared).

    Telegram names the chat only for channel/supergroup deletions. Other deletions carry bare ids,
    which are unique per account across private chats and basic groups, so they are matched
    within ``non_channel_chats`` (the whitelisted ones).
    """
    ids = list(message_ids)
    if not ids:
        return 0
    with engine.begin() as conn:
        if chat_id is not None:
            result = conn.execute(
                sa.text("UPDATE telegram_messages SET deleted_at = now(), updated_at = now() "
                        "WHERE chat_id = :c AND message_id = ANY(:ids) AND deleted_at IS NULL"),
                {"c": chat_id, "ids": ids},
            )
        else:
            chats = [c for c in non_channel_chats if c > -CHANNEL_ID_OFFSET]
            if not chats:
                return 0
            result = conn.execute(
                sa.text("UPDATE telegram_messages SET deleted_at = now(), updated_at = now() "
                        "WHERE chat_id = ANY(:chats) AND message_id = ANY(:ids) AND deleted_at IS NULL"),
                {"chats": chats, "ids": ids},
            )
    return result.rowcount


def chat_ids_by_username(engine: Engine, usernames: Collection[str]) -> dict[str, int]:
    """Usernames resolved by an earlier run (stored on chats), so they are not resolved again."""
    if not usernames:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT lower(username), chat_id FROM telegram_chats WHERE lower(username) = ANY(:u)"),
            {"u": [u.lower() for u in usernames]},
        ).all()
    return {u: c for u, c in rows}


class DatabaseSyncStore:
    """Where a live source's records and cursors go: the batch writer (one ``write`` = one transaction; the
    writer's own batching never splits a Telegram batch) and ``telegram_sync_cursors``."""

    def __init__(self, engine: Engine, storage_dir: Path) -> None:
        from telegram_intel.db.loader import TelegramWriter

        self.engine = engine
        self.storage_dir = Path(storage_dir)
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        self._writer = TelegramWriter(engine, self.storage_dir, batch_size=1_000_000)

    def write(self, records):
        return self._writer.write(records)

    def get_cursor(self, chat_id: int, account_id: int = 0) -> int:
        return get_cursor(self.engine, chat_id, account_id)

    def set_cursor(self, chat_id: int, last_message_id: int, account_id: int = 0) -> int:
        return set_cursor(self.engine, chat_id, last_message_id, account_id)

    def mark_scanned(self, chat_id: int) -> None:
        mark_scanned(self.engine, chat_id)

    def mark_deleted(self, message_ids: Iterable[int], *, chat_id: int | None = None,
                     non_channel_chats: Collection[int] = ()) -> int:
        return mark_deleted(self.engine, message_ids, chat_id=chat_id, non_channel_chats=non_channel_chats)

    def chat_ids_by_username(self, usernames: Collection[str]) -> dict[str, int]:
        return chat_ids_by_username(self.engine, usernames)
