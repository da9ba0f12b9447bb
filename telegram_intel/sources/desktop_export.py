"""A Telegram Desktop export (``result.json``; single chat or full account, every format version) as a source."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram_intel.lib.export_parser import ChatFilter, detect_export_kind, iter_export
from telegram_intel.lib.records import Record, StoredMessages


@dataclass
class DesktopExportSource:
    """Streams the records of one export file; ``kind`` is ``desktop_export:single_chat`` or
    ``desktop_export:full_account`` once the file's first keys are read."""

    path: Path
    chat_filter: ChatFilter = None
    # The user's own account the export was made with, for exports that do not say (single-chat ones).
    account_id: int | None = None

    def __post_init__(self) -> None:
        self.path = Path(self.path).resolve()
        self.kind = "desktop_export"

    def detect(self) -> str:
        """Read the export's layout (``TelegramDataError`` if the file is not a Telegram export)."""
        self.kind = f"desktop_export:{detect_export_kind(self.path)}"
        return self.kind

    def describe(self) -> str:
        return str(self.path)

    def records(self, *, checkpoints: bool = False, resume: dict[str, Any] | None = None,
                stored: StoredMessages | None = None) -> Iterator[Record]:
        """``checkpoints``/``resume``: resume points among the records, reading on from one; ``stored``: unchanged
        messages are counted, not built (``iter_export``)."""
        return iter_export(self.path, chat_filter=self.chat_filter, account_id=self.account_id,
                           checkpoints=checkpoints, resume=resume, stored=stored)
