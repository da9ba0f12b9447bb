"""SQL of the voice assets: what is pending, upserts, opt-out purges."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from telegram_intel.db.voice_models import VoiceInsight, VoiceTranscript
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.report import Report
from telegram_intel.ml.whisper import ModelError, TranscriptionError

log = logging.getLogger(__name__)
ERROR_TEXT_LIMIT = 500

VOICE_MEDIA_TYPES = ("voice", "video_note", "audio")


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def purge_opted_out(conn: Connection) -> dict[str, int]:
    """Delete transcripts and insights of messages whose sender opted out (``is_ignored``), at any date."""
    counts = {}
    for table in ("voice_insights", "voice_transcripts"):
        counts[table] = conn.execute(sa.text(
            f"DELETE FROM {table} t USING telegram_messages m, telegram_users u "
            "WHERE m.chat_id = t.chat_id AND m.message_id = t.message_id AND u.user_id = m.sender_id AND u.is_ignored"
        )).rowcount
    return counts


def voice_messages_in_window(conn: Connection, lo: datetime, hi: datetime,
                             media_types: Sequence[str] = VOICE_MEDIA_TYPES) -> dict[str, int]:
    row = conn.execute(sa.text(
        "SELECT count(*) AS messages, count(f.chat_id) AS with_file FROM telegram_messages m "
        "LEFT JOIN telegram_files f ON f.chat_id = m.chat_id AND f.message_id = m.message_id AND f.kind = 'file' "
        "AND f.status = 'present' AND f.file_path IS NOT NULL "
        "WHERE m.date >= :lo AND m.date < :hi AND m.media_type = ANY(:types) AND m.deleted_at IS NULL"
    ), {"lo": lo, "hi": hi, "types": list(media_types)}).one()
    return {"messages": row.messages, "with_file": row.with_file}


def pending_files(conn: Connection, model: str, lo: datetime, hi: datetime, *,
                  media_types: Sequence[str] = VOICE_MEDIA_TYPES, retry_errors: bool = False) -> list[Any]:
    """Voice/video-note/audio messages dated in [lo, hi) with a stored file and no transcript by ``model`` yet
    (or one made from different file bytes; or a failed one when ``retry_errors``). Opted-out senders and
    deleted messages are skipped."""
    return conn.execute(sa.text(
        "SELECT m.chat_id, m.message_id, m.date, m.media_type, m.duration_seconds, f.file_path, f.sha256, "
        "f.file_size FROM telegram_messages m "
        "JOIN telegram_files f ON f.chat_id = m.chat_id AND f.message_id = m.message_id AND f.kind = 'file' "
        "AND f.status = 'present' AND f.file_path IS NOT NULL "
        "LEFT JOIN telegram_users u ON u.user_id = m.sender_id "
        "LEFT JOIN voice_transcripts vt ON vt.chat_id = m.chat_id AND vt.message_id = m.message_id "
        "AND vt.model = :model "
        "WHERE m.date >= :lo AND m.date < :hi AND m.media_type = ANY(:types) AND m.deleted_at IS NULL "
        "AND NOT coalesce(u.is_ignored, false) "
        "AND (vt.chat_id IS NULL OR vt.file_sha256 IS DISTINCT FROM f.sha256 OR (:retry AND vt.status = 'error')) "
        "ORDER BY m.date, m.chat_id, m.message_id"
    ), {"model": model, "lo": lo, "hi": hi, "types": list(media_types), "retry": retry_errors}).all()


def _upsert(conn: Connection, model: type, rows: list[dict[str, Any]], keys: Sequence[str]) -> int:
    if not rows:
        return 0
    stmt = insert(model.__table__).values(rows)
    columns = [c for c in rows[0] if c not in keys]
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={**{c: stmt.excluded[c] for c in columns}, "updated_at": sa.func.now()},
    )
    return conn.execute(stmt).rowcount


def upsert_transcripts(conn: Connection, rows: list[dict[str, Any]]) -> int:
    return _upsert(conn, VoiceTranscript, rows, ("chat_id", "message_id", "model"))


def upsert_insights(conn: Connection, rows: list[dict[str, Any]]) -> int:
    return _upsert(conn, VoiceInsight, rows, ("chat_id", "message_id", "mode"))


def transcripts_for_insights(conn: Connection, lo: datetime, hi: datetime) -> list[Any]:
    """The newest successful, non-empty transcript of each voice message dated in [lo, hi) (the same one
    ``clean_messages`` uses), with the insight rows it already has as ``existing`` {mode: {method, sha, status}}."""
    return conn.execute(sa.text(
        "WITH t AS (SELECT DISTINCT ON (vt.chat_id, vt.message_id) vt.chat_id, vt.message_id, vt.date, vt.model, "
        "vt.text, vt.language, vt.duration_s FROM voice_transcripts vt "
        "JOIN telegram_messages m ON m.chat_id = vt.chat_id AND m.message_id = vt.message_id "
        "LEFT JOIN telegram_users u ON u.user_id = m.sender_id "
        "WHERE vt.date >= :lo AND vt.date < :hi AND vt.status = 'ok' AND coalesce(vt.text, '') <> '' "
        "AND m.deleted_at IS NULL AND NOT coalesce(u.is_ignored, false) "
        "ORDER BY vt.chat_id, vt.message_id, vt.updated_at DESC, vt.model) "
        "SELECT t.*, (SELECT jsonb_object_agg(vi.mode, jsonb_build_object('method', vi.method, "
        "'sha', vi.transcript_sha256, 'status', vi.status)) FROM voice_insights vi "
        "WHERE vi.chat_id = t.chat_id AND vi.message_id = t.message_id) AS existing "
        "FROM t ORDER BY t.date, t.chat_id, t.message_id"
    ), {"lo": lo, "hi": hi}).all()


class VoiceModelUnusable(RuntimeError):
    """The whisper model cannot be loaded: nothing can be transcribed."""


def transcribe_window(engine: Engine, storage_dir: Path, lo: datetime, hi: datetime, whisper: Any, *,
                      media_types: Sequence[str] = VOICE_MEDIA_TYPES, retry_errors: bool = False,
                      write_batch: int = 16, log_every_s: float = 15.0, label: str = "") -> Report:
    """Transcribe the stored voice/audio files of ``[lo, hi)`` that have no transcript by the configured model yet
    (``whisper``: the model name, the transcriber, the per-chat language; the Dagster resource). A file that fails
    gets an error row and the rest goes on; opted-out users' rows are purged first."""
    model = whisper.model_name()
    with engine.begin() as conn:
        purged = purge_opted_out(conn)
        window = voice_messages_in_window(conn, lo, hi, media_types)
        pending = pending_files(conn, model, lo, hi, media_types=media_types,
                                      retry_errors=retry_errors)
    log.info("%s of %s stored voice/audio files in %s to transcribe with %s (%s without a stored file)",
             len(pending), window["with_file"], label, model, window["messages"] - window["with_file"])

    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    languages: Counter = Counter()
    error_kinds: Counter = Counter()
    errors: list[str] = []
    ok = no_speech = 0
    audio_s = processing_s = 0.0
    last_log = started

    def flush() -> None:
        if batch:
            with engine.begin() as conn:
                upsert_transcripts(conn, batch)
            batch.clear()

    for i, msg in enumerate(pending, start=1):
        language, language_origin = whisper.language_for(msg.chat_id)
        row: dict[str, Any] = {
            "chat_id": msg.chat_id, "message_id": msg.message_id, "model": model, "date": msg.date,
            "media_type": msg.media_type, "file_path": msg.file_path, "file_sha256": msg.sha256,
            "text": None, "language": None, "language_probability": None, "language_source": None,
            "segments": None, "duration_s": None, "processing_s": None, "device": None, "compute_type": None,
            "error_kind": None, "error": None,
        }
        try:
            transcriber = whisper.transcriber()
        except ModelError as exc:  # nothing can be transcribed: fail the run, keeping what was written
            flush()
            raise VoiceModelUnusable(f"whisper model {model!r} is not usable: {exc}") from exc
        if i == 1:
            log.info("whisper ready: %s", transcriber.describe())
        file_started = time.perf_counter()
        try:
            result = transcriber.transcribe(Path(storage_dir) / msg.file_path, language=language)
        except TranscriptionError as exc:
            row.update(status="error", error_kind=exc.kind, error=str(exc)[:ERROR_TEXT_LIMIT],
                       processing_s=round(time.perf_counter() - file_started, 4),
                       device=transcriber.device, compute_type=transcriber.compute_type)
        except Exception as exc:  # a library bug on one odd file must not stop the partition
            row.update(status="error", error_kind="internal",
                       error=f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT],
                       processing_s=round(time.perf_counter() - file_started, 4))
        else:
            source = result.language_source
            if source == "forced" and language_origin == "chat":
                source = "chat"
            row.update(status="ok", text=result.text, language=result.language,
                       language_probability=result.language_probability, language_source=source,
                       segments=[s.to_dict() for s in result.segments], duration_s=result.duration_s,
                       processing_s=result.processing_s, device=result.device, compute_type=result.compute_type)
        if row["status"] == "ok":
            ok += 1
            no_speech += not row["text"]
            languages[row["language"] or "none"] += 1
            audio_s += row["duration_s"] or 0.0
            processing_s += row["processing_s"] or 0.0
        else:
            error_kinds[row["error_kind"]] += 1
            if len(errors) < 20:
                errors.append(f"{msg.chat_id}/{msg.message_id} ({msg.file_path}): {row['error']}")
            log.warning("message %s/%s: %s", msg.chat_id, msg.message_id, row["error_kind"])
        batch.append(row)
        if len(batch) >= write_batch:
            flush()
        now = time.perf_counter()
        if now - last_log >= log_every_s or i == len(pending):
            rtf = processing_s / audio_s if audio_s else 0.0
            log.info("transcribed %s/%s files (%s ok, %s errors), %.0f s of audio, real-time factor %.3f, %.0f s elapsed",
                     i, len(pending), ok, sum(error_kinds.values()), audio_s, rtf, now - started)
            last_log = now
    flush()
    seconds = time.perf_counter() - started
    rtf = round(processing_s / audio_s, 4) if audio_s else None
    whisper_info = whisper.describe()
    metadata: dict[str, Any] = {
        "model": model,
        "model_loaded": whisper.loaded,
        **{f"whisper_{k}": v for k, v in whisper_info.items() if k != "model" and v is not None},
        "voice_messages_in_partition": window["messages"],
        "with_stored_file": window["with_file"],
        "processed": len(pending),
        "transcribed": ok,
        "no_speech": no_speech,
        "errors": sum(error_kinds.values()),
        "error_kinds": dict(error_kinds),
        "error_examples": errors,
        "audio_seconds": round(audio_s, 2),
        "processing_seconds": round(processing_s, 2),
        "real_time_factor": rtf if rtf is not None else 0.0,
        "seconds_per_60s_audio": round(60 * rtf, 2) if rtf is not None else 0.0,
        "languages": dict(languages.most_common()),
        "languages_chart": bar_chart_markdown(
            list(languages), list(languages.values()), title=f"Transcripts by language ({label})"),
        "opted_out_rows_purged": purged,
        "duration_s": round(seconds, 3),
        "window": f"[{lo.isoformat()}, {hi.isoformat()})",
        "finished_at": datetime.now(timezone.utc).isoformat(),
    }
    json_keys = ("error_kinds", "error_examples", "languages", "opted_out_rows_purged")
    return Report(values={k: v for k, v in metadata.items() if k not in json_keys and k != "languages_chart"},
                  json={k: metadata[k] for k in json_keys}, markdown={"languages_chart": metadata["languages_chart"]})
