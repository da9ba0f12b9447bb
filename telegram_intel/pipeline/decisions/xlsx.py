"""The embedded spreadsheet: rows appended to a local ``.xlsx`` (openpyxl), one sheet ``orders`` with a header row.

A row carries the unit's idempotency key in its ``ref`` column; before appending, the sheet is searched for it, so a
row written by an attempt that crashed before its outcome was stored is found instead of written twice. Writers of
one file are serialized with an exclusive lock on ``<file>.lock`` (the bot and the Dagster retry job may write at
once); the workbook is written to a temporary file and moved into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from telegram_intel.pipeline.decisions.actions import ActionError

SHEET = "orders"


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def append_row(path: Path, columns: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    path = Path(path)
    ref = values[list(columns).index("ref")] if "ref" in columns else None
    with _locked(path):
        try:
            if path.exists():
                book = load_workbook(path)
            else:
                book = Workbook()
                book.active.title = SHEET
                book.active.append(list(columns))
        except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
            raise ActionError(f"xlsx: cannot open {path}: {type(error).__name__}: {error}") from None
        sheet = book[SHEET] if SHEET in book.sheetnames else book.create_sheet(SHEET)
        header = [c.value for c in sheet[1]] if sheet.max_row >= 1 else []
        if not any(header):
            sheet.append(list(columns))
            header = list(columns)
        if header != list(columns):
            raise ActionError(f"xlsx: {path} sheet {SHEET!r} has columns {header}, expected {list(columns)}")
        if ref is not None:
            ref_col = header.index("ref") + 1
            for row in range(2, sheet.max_row + 1):
                if sheet.cell(row=row, column=ref_col).value == ref:
                    return {"backend": "xlsx", "path": str(path), "row": row, "reused": True}
        sheet.append(list(values))
        row = sheet.max_row
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".orders-", suffix=".xlsx")
        os.close(fd)
        try:
            book.save(tmp)
            os.replace(tmp, path)
        except OSError as error:
            raise ActionError(f"xlsx: cannot write {path}: {error.strerror}") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return {"backend": "xlsx", "path": str(path), "row": row, "reused": False}
