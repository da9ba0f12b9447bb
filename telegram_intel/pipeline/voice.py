"""SQL of the voice assets: what is pending, upserts, opt-out purges."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from telegram_intel.db.voice_models import VoiceInsight, VoiceTranscript

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
