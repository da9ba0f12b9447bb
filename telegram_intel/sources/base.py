"""The one contract every Telegram source keeps.

A source turns something Telegram made (a Desktop export, an MTProto session) into ``lib.records``: chats and
users before the messages that reference them, messages keyed by ``(chat_id, message_id)`` with Telegram's marked
peer ids, so that an export and a live sync of the same message produce the same row. A source never writes: it
hands records to a ``RecordSink`` (the database writer, ``db.loader.TelegramWriter``), which stores each batch in
one transaction; an incremental source advances its cursors only after that commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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
