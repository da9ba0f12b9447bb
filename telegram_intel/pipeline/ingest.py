"""Import Telegram Desktop exports into the database (no Dagster here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from telegram_intel.db.loader import LoadStats, TelegramWriter
from telegram_intel.db.models import ImportRun
from telegram_intel.lib.export_parser import detect_export_kind, iter_export


def import_export(
    engine: Engine,
    path: str | Path,
    storage_dir: Path,
    *,
    batch_size: int = 10_000,
    on_batch: Callable[[LoadStats], None] | None = None,
) -> LoadStats:
    """Stream one export into the database; one transaction per batch.

    Raises ``TelegramDataError`` for bad input; batches committed before the bad
    spot stay, the batch in progress is dropped, and the run is logged as failed.
    """
    path = Path(path).resolve()
    with engine.begin() as conn:
        run_id = conn.execute(
            sa.insert(ImportRun).values(source=str(path), source_kind="desktop_export").returning(ImportRun.id)
        ).scalar_one()
    writer = TelegramWriter(engine, storage_dir, batch_size=batch_size, on_batch=on_batch)
    stats = LoadStats()
    try:
        kind = detect_export_kind(path)
        with engine.begin() as conn:
            conn.execute(sa.update(ImportRun).where(ImportRun.id == run_id).values(source_kind=f"desktop_export:{kind}"))
        stats = writer.write(iter_export(path))
    except BaseException as exc:
        _finish(engine, run_id, "failed", stats, f"{type(exc).__name__}: {exc}")
        raise
    _finish(engine, run_id, "success", stats, None)
    return stats


def _finish(engine: Engine, run_id: int, status: str, stats: LoadStats, error: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(ImportRun)
            .where(ImportRun.id == run_id)
            .values(
                status=status,
                finished_at=sa.func.now(),
                messages_seen=stats.messages_seen,
                messages_new=stats.messages_new,
                messages_updated=stats.messages_updated,
                error=error,
            )
        )
