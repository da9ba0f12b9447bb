"""The one contract every Telegram source keeps.

A source turns something Telegram made (a Desktop export, an MTProto session) into ``lib.records``: chats and
users before the messages that reference them, messages keyed by ``(chat_id, message_id)`` with Telegram's marked
peer ids, so that an export and a live sync of the same message produce the same row. A source never writes: it
hands records to a ``RecordSink`` (the database writer, ``db.loader.TelegramWriter``), which stores each batch in
one transaction; an incremental source (``SyncStore``) advances its cursors only after that commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from telegram_intel.lib.records import Record


@runtime_checkable
class RecordSink(Protocol):
    def write(self, records: Iterable[Record]) -> Any:
        """Store ``records`` (one transaction per batch); return the write's statistics."""


@runtime_checkable
class TelegramSource(Protocol):
    """What ``pipeline.ingest`` needs of a source: its kind (stored with the import run) and a description."""

    kind: str

    def describe(self) -> str:
        """Where the records come from, for logs and metadata (no secrets, no message text)."""


@runtime_checkable
class BatchSource(TelegramSource, Protocol):
    """A source read once from start to end (a Desktop export)."""

    def records(self) -> Iterator[Record]:
        """Every record, streamed; ``TelegramDataError`` names the input and the place of bad data."""


@runtime_checkable
class SyncStore(RecordSink, Protocol):
    """What an incremental source needs besides a sink: per-chat (and per-account) high-water marks (advanced only
    after the batch below them is committed), tombstones for deletions, and usernames resolved by earlier runs.
    ``db.sync_state.DatabaseSyncStore`` is the database one."""

    storage_dir: Path

    def get_cursor(self, chat_id: int, account_id: int = 0) -> int: ...

    def set_cursor(self, chat_id: int, last_message_id: int, account_id: int = 0) -> int: ...

    def mark_scanned(self, chat_id: int) -> None: ...

    def mark_deleted(self, message_ids: Iterable[int], *, chat_id: int | None = None,
                     non_channel_chats: Collection[int] = ()) -> int: ...

    def chat_ids_by_username(self, usernames: Collection[str]) -> dict[str, int]: ...
