"""Ingest: a ``TelegramSource`` into the database through the batch writer, and what each run reports
(no Dagster here).

The export import and the live sync write the same tables through the same writer, so the Dagster ingest assets
(``telegram_chats``, ``telegram_users``, ``telegram_messages``) are materialized by either, and every enrichment
asset downstream orders after both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import xxhash
from sqlalchemy.engine import Engine

from telegram_intel.db.loader import BadRecordError, LoadStats, StoredMessageIndex, TelegramWriter, finish_resumed
from telegram_intel.db.models import ImportCheckpoint, ImportRun
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.records import TelegramDataError
from telegram_intel.lib.report import CheckOutcome, Report
from telegram_intel.sources.base import BatchSource
from telegram_intel.sources.desktop_export import DesktopExportSource

TELEGRAM_EPOCH = datetime(2013, 8, 1, tzinfo=timezone.utc)  # Telegram launched in August 2013


def ingest(
    engine: Engine,
    source: BatchSource,
    storage_dir: Path,
    *,
    batch_size: int = 10_000,
    on_batch: Callable[[LoadStats], None] | None = None,
    resume: bool = True,
) -> LoadStats:
    """Stream ``source`` into the database; one transaction per batch, the run logged in ``import_runs``.

    Raises ``TelegramDataError`` for bad input (a value the database cannot hold included), naming the source;
    batches committed before the bad spot stay, the batch in progress is dropped, and the run is logged as failed.
    Runs left ``running`` by a process that died (SIGKILL, power loss) are marked failed first.

    An export file whose last run did not finish (killed, failed) is read on from where every batch of that run
    had committed (``resume``; same file: size, mtime and content at both ends): the part before is not read
    again. Each message batch commits its checkpoint (``telegram_import_checkpoints``) with its rows; the run
    records where it started (``resumed_from``, ``resume_offset``).

    Messages of an export stored exactly as this import would write them (same JSON, same deriving code, seen by
    the same account, no media) are counted as unchanged before they are built (``StoredMessageIndex``).
    """
    exported = isinstance(source, DesktopExportSource)
    fingerprint = source_fingerprint(source.path) if exported else None
    # The run's advisory lock lives on a session of its own for as long as the run: a killed process's session
    # ends and takes the lock with it, which is how a later start tells a dead run from a live one.
    lock = engine.connect()
    try:
        with lock.begin():
            fail_stale_runs(lock)
            previous, position = (None, None)
            if fingerprint and resume:
                previous, position = resume_point(lock, source.describe(), fingerprint)
            run_id = lock.execute(
                sa.insert(ImportRun).values(
                    source=source.describe(), source_kind=source.kind, source_fingerprint=fingerprint,
                    resumed_from=previous, resume_offset=position["offset"] if position else 0,
                ).returning(ImportRun.id)
            ).scalar_one()
            if position:  # where this run starts: resuming it again before its first commit starts there too
                lock.execute(sa.insert(ImportCheckpoint).values(run_id=run_id, batch=-1, byte_offset=position["offset"],
                                                                position=position, messages=0))
            lock.execute(sa.text(f"SELECT pg_advisory_lock({_RUN_LOCK}, CAST(:id AS int4))"), {"id": run_id})
    except BaseException:
        _release(lock)
        raise
    writer = TelegramWriter(engine, storage_dir, batch_size=batch_size, on_batch=on_batch,
                            run_id=run_id if exported else None)
    stats = LoadStats()
    stored = StoredMessageIndex(engine) if exported else None
    try:
        if exported:
            source.detect()
            with engine.begin() as conn:
                conn.execute(sa.update(ImportRun).where(ImportRun.id == run_id).values(source_kind=source.kind))
            records = source.records(checkpoints=True, resume=position, stored=stored)
        else:
            records = source.records()
        stats = writer.write(records)
        if position:
            finish_resumed(engine)
            stats.resumed_from_run, stats.resume_offset = previous, position["offset"]
            stats.messages_before_resume = position["before"]
    except BadRecordError as exc:
        error = TelegramDataError(source.describe(), exc.where, exc.problem)
        _finish(engine, lock, run_id, "failed", stats, str(error))
        raise error from exc
    except BaseException as exc:
        _finish(engine, lock, run_id, "failed", stats, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if stored is not None:
            stored.close()
    _finish(engine, lock, run_id, "success", stats, None)
    return stats


_RUN_LOCK = 0x54490001  # advisory-lock namespace of import runs (the second key is the run id)
_INTERRUPTED = "interrupted: the importing process ended without finishing (killed, or its database connection was lost)"


def source_fingerprint(path: Path) -> str:
    """Size, mtime and a hash of the first and last 64 KiB of an export file: a file changed in any way that
    matters (re-exported, edited, truncated) gets another fingerprint, and its import starts from the beginning."""
    st = path.stat()
    with open(path, "rb") as f:
        h = xxhash.xxh3_64(f.read(1 << 16))
        if st.st_size > 1 << 16:
            f.seek(max(1 << 16, st.st_size - (1 << 16)))
            h.update(f.read(1 << 16))
    return f"{st.st_size}:{st.st_mtime_ns}:{h.hexdigest()}"


def resume_point(conn: sa.Connection, source: str, fingerprint: str) -> tuple[int | None, dict[str, Any] | None]:
    """(run id, parser position) to resume an import of ``source`` from, or (None, None).

    Only the source's latest run counts, and only when it failed (an interrupted run is marked failed by
    ``fail_stale_runs`` first) on the same file. Its message batches committed in any order (two writers): the
    position is the latest one below which every batch of the run committed.
    """
    last = conn.execute(sa.select(ImportRun.id, ImportRun.status, ImportRun.source_fingerprint)
                        .where(ImportRun.source == source).order_by(ImportRun.id.desc()).limit(1)).first()
    if last is None or last.status != "failed" or last.source_fingerprint != fingerprint:
        return None, None
    rows = conn.execute(sa.select(ImportCheckpoint.batch, ImportCheckpoint.position)
                        .where(ImportCheckpoint.run_id == last.id).order_by(ImportCheckpoint.batch)).all()
    position, expect = None, (rows[0].batch if rows and rows[0].batch == -1 else 0)
    for batch, at in rows:
        if batch != expect:
            break
        position, expect = at or position, expect + 1
    return (last.id, position) if position else (None, None)


def fail_stale_runs(conn: sa.Connection) -> list[int]:
    """Mark failed the ``running`` runs whose process is gone (nobody holds their lock); returns their ids."""
    stale = []
    for run_id in conn.execute(sa.select(ImportRun.id).where(ImportRun.status == "running")).scalars().all():
        key = {"id": run_id}
        if conn.execute(sa.text(f"SELECT pg_try_advisory_lock({_RUN_LOCK}, CAST(:id AS int4))"), key).scalar_one():
            conn.execute(sa.text(f"SELECT pg_advisory_unlock({_RUN_LOCK}, CAST(:id AS int4))"), key)
            stale.append(run_id)
    if stale:
        conn.execute(sa.update(ImportRun).where(ImportRun.id.in_(stale), ImportRun.status == "running")
                     .values(status="failed", finished_at=sa.func.now(), error=_INTERRUPTED))
    return stale


def import_export(
    engine: Engine,
    path: str | Path,
    storage_dir: Path,
    *,
    batch_size: int = 10_000,
    on_batch: Callable[[LoadStats], None] | None = None,
    resume: bool = True,
) -> LoadStats:
    """Import one Telegram Desktop export file (see ``ingest``)."""
    return ingest(engine, DesktopExportSource(Path(path)), storage_dir, batch_size=batch_size, on_batch=on_batch,
                  resume=resume)


def _finish(engine: Engine, lock: sa.Connection, run_id: int, status: str, stats: LoadStats,
            error: str | None) -> None:
    try:
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
                    # storable whatever the error quoted (NULs, lone surrogates)
                    error=error.encode("utf-8", "backslashreplace").decode().replace("\x00", "") if error else None,
                )
            )
            if status == "success":  # nothing to resume: the checkpoints have served
                conn.execute(sa.delete(ImportCheckpoint).where(ImportCheckpoint.run_id == run_id))
    except sa.exc.DBAPIError:
        if status == "success":
            raise
        # The database is gone (the likely cause of the failure being logged): the run stays `running` until the
        # next start marks it failed; the caller sees the original error, not this one.
    finally:
        _release(lock)


def _release(lock: sa.Connection) -> None:
    # Ending the session releases the run's lock, whatever state the session is in (no pooled session keeps it).
    lock.invalidate()
    lock.close()


# -- reports ------------------------------------------------------------------------------------------------------

def message_date_range(engine: Engine) -> tuple[datetime | None, datetime | None]:
    """The first and last message dates stored."""
    with engine.connect() as conn:
        first, last = conn.execute(sa.text("SELECT min(date), max(date) FROM telegram_messages")).one()
    return first, last


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("telegram_chats", "telegram_users", "telegram_messages")}


def export_reports(engine: Engine, stats: LoadStats, path: Path) -> dict[str, Report]:
    """Per ingest table, what importing ``path`` did, with the checks that can fail: the export's messages are
    all stored, their dates lie inside the export's range (and within Telegram's lifetime), and replies point at
    stored messages."""
    totals = table_counts(engine)
    per_day = []
    if stats.min_date:
        with engine.connect() as conn:
            per_day = conn.execute(sa.text(
                "SELECT date_trunc('day', date)::date AS day, count(*) FROM telegram_messages "
                "WHERE date BETWEEN :lo AND :hi GROUP BY 1 ORDER BY 1"), {"lo": stats.min_date, "hi": stats.max_date},
            ).all()
    common = {"export_file": str(path)}
    messages = Report(
        values={**common, "messages_in_export": stats.messages_seen, "rows_new": stats.messages_new,
                "rows_updated": stats.messages_updated, "rows_unchanged": stats.messages_unchanged,
                "edits_recorded": stats.edits_recorded,
                "resumed_from_run": stats.resumed_from_run or "", "resume_offset": stats.resume_offset,
                "files_stored": stats.files_stored, "messages_total": totals["telegram_messages"],
                "first_message_at": stats.min_date.isoformat() if stats.min_date else "",
                "last_message_at": stats.max_date.isoformat() if stats.max_date else "",
                "messages_per_second": round(stats.messages_per_second),
                "chat_fk_check": "per_batch" if stats.fk_checked_per_batch else "per_row"},
        markdown={"messages_per_day": bar_chart_markdown([str(d) for d, _ in per_day], [n for _, n in per_day],
                                                         title=f"Messages per day in {path.name}")},
        checks=message_checks(engine, sorted(stats.chats), stats.messages_seen, stats.min_date, stats.max_date),
    )
    return {
        "telegram_chats": Report(values={**common, "chats_in_export": len(stats.chats),
                                         "chats_total": totals["telegram_chats"]}),
        "telegram_users": Report(values={**common, "users_in_export": stats.users_seen,
                                         "users_total": totals["telegram_users"]}),
        "telegram_messages": messages,
    }


def message_checks(engine: Engine, chats: list[int], messages_seen: int, first_date: datetime | None,
                   last_date: datetime | None) -> dict[str, CheckOutcome]:
    """Invariants of what an ingest run stored (checks that can fail, unlike key uniqueness, which the database
    enforces):

    - ``telegram_messages_match_source``: every message the source yielded is stored (the written chats hold at
      least as many messages as were seen, counting tombstones);
    - ``telegram_messages_dates_in_range``: the messages of the chats written are dated within Telegram's lifetime
      (not before Aug 2013, not after tomorrow) and the source's own first/last dates are among them;
    - ``telegram_messages_replies_resolve``: replies within a chat point at messages stored for that chat; replies to
      messages outside the export are normal (exports start somewhere), so this warns above 50 %.
    """
    with engine.connect() as conn:
        stored, outside, first, last = conn.execute(sa.text(
            "SELECT count(*), count(*) FILTER (WHERE date < :epoch OR date > now() + interval '1 day'),"
            " min(date), max(date) FROM telegram_messages WHERE chat_id = ANY(:chats)"),
            {"chats": chats, "epoch": TELEGRAM_EPOCH}).one()
        replies, dangling = conn.execute(sa.text(
            "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM telegram_messages p"
            " WHERE p.chat_id = m.chat_id AND p.message_id = m.reply_to_message_id))"
            " FROM telegram_messages m WHERE m.chat_id = ANY(:chats) AND m.reply_to_message_id IS NOT NULL"
            " AND m.reply_to_peer_id IS NULL"), {"chats": chats}).one()
    return {
        "telegram_messages_match_source": CheckOutcome(
            stored >= messages_seen, {"messages_seen": messages_seen, "stored_in_its_chats": stored}),
        "telegram_messages_dates_in_range": CheckOutcome(
            outside == 0 and (first_date is None or (first is not None and first <= first_date and last >= last_date)),
            {"outside_telegram_lifetime": outside, "source_first": str(first_date), "stored_first": str(first),
             "source_last": str(last_date), "stored_last": str(last)}),
        "telegram_messages_replies_resolve": CheckOutcome(
            replies == 0 or dangling <= replies / 2, {"replies": replies, "to_messages_not_stored": dangling},
            warn_only=True),
    }


def _chat_table(results: list) -> str:
    lines = ["| chat | title | new | updated | files | cursor |", "|---|---|---:|---:|---:|---|"]
    for r in results:
        title = (r.title or "").replace("|", "/")
        lines.append(f"| {r.chat_id} | {title} | {r.messages_new} | {r.messages_updated} | {r.files_downloaded} "
                     f"| {r.cursor_before} → {r.cursor_after} |")
    return "\n".join(lines)


def sync_reports(engine: Engine, results: list) -> dict[str, Report]:
    """Per ingest table, what one live sync did (``ChatSyncResult`` per chat), with the message checks."""
    totals = table_counts(engine)
    per_chat = {
        str(r.chat_id): {"title": r.title, "new_messages": r.messages_new, "updated_messages": r.messages_updated,
                         "files_downloaded": r.files_downloaded, "cursor_before": r.cursor_before,
                         "cursor": r.cursor_after, "participants": r.participants}
        for r in results
    }
    new = sum(r.messages_new for r in results)
    messages = Report(
        values={"source": "telethon", "chats": len(results), "new_messages": new,
                "updated_messages": sum(r.messages_updated for r in results),
                "files_downloaded": sum(r.files_downloaded for r in results),
                "messages_total": totals["telegram_messages"]},
        json={"per_chat": per_chat}, markdown={"per_chat_table": _chat_table(results)},
        checks=message_checks(engine, [r.chat_id for r in results], new, None, None))
    return {
        "telegram_chats": Report(values={"source": "telethon", "chats_synced": len(results),
                                         "chats_total": totals["telegram_chats"]}),
        "telegram_users": Report(values={"source": "telethon", "users_total": totals["telegram_users"],
                                         "participants": sum(r.participants or 0 for r in results)}),
        "telegram_messages": messages,
    }
