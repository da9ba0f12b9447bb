"""Read queries of the web UI. Text of users who opted out (``is_ignored``) never leaves this module: their
messages come back with ``text=None`` and ``hidden=True``, and nothing derived from them (AI summaries, voice
transcripts) either.

Each message carries ``summary_state``: ``shown`` (an AI summary worth reading), ``pending`` (a message the
enrichment will summarize but has not yet: the only case the UI says "not analyzed yet"), or None (nothing to show:
no text to summarize, the sender opted out, or a summary that only repeats a one-line message)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from telegram_intel.lib.cleaning import clean_message
from telegram_intel.lib.text_safety import summary_adds_nothing

EFFECTIVE_JOB = "COALESCE(CASE WHEN p.manual_override THEN p.manual_job_label END, p.job_label)"
EFFECTIVE_SECTOR = "COALESCE(CASE WHEN p.manual_override THEN p.manual_sector END, p.sector)"
_LINK_SQL = ("(m.text ~* '(https?://|www\\.|t\\.me/)' OR m.entities @> '[{\"type\": \"link\"}]'::jsonb"
             " OR m.entities @> '[{\"type\": \"text_link\"}]'::jsonb)")
MESSAGE_FILTERS = ("all", "media", "links")


# ---------------------------------------------------------------------------------------------------------------
# Telegram tab


def chats(engine: Engine) -> list[dict[str, Any]]:
    """Followed chats (``is_active``), most recently active first."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            """
            SELECT c.chat_id, c.type, COALESCE(c.title, c.username, c.chat_id::text) AS title, c.username,
                   s.messages, s.last_date
            FROM telegram_chats c
            LEFT JOIN LATERAL (SELECT count(*) AS messages, max(date) AS last_date FROM telegram_messages m
                               WHERE m.chat_id = c.chat_id AND m.kind = 'message') s ON true
            WHERE c.is_active
            ORDER BY s.last_date DESC NULLS LAST, title
            """)).mappings()]


def chat(engine: Engine, chat_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT chat_id, type, COALESCE(title, username, chat_id::text) AS title, username FROM telegram_chats"
            " WHERE chat_id = :c"), {"c": chat_id}).mappings().first()
    return dict(row) if row else None


def _message_row(r) -> dict[str, Any]:
    d = dict(r)
    hidden = bool(d.pop("ignored", False))
    d["hidden"] = hidden
    if hidden:
        d["text"] = None
        d["clean_text"] = None
        d["ai_summary"] = None
        d["ai_keywords"] = None
    return d


def _transcripts(conn: Connection, keys: list[tuple[int, int]]) -> dict[tuple[int, int], dict[str, Any]]:
    """The newest successful voice transcript of each message (whisper model rows: the latest one wins)."""
    if not keys:
        return {}
    rows = conn.execute(sa.text(
        """
        SELECT DISTINCT ON (t.chat_id, t.message_id) t.chat_id, t.message_id, t.text, t.language, t.model,
               t.duration_s
        FROM voice_transcripts t
        JOIN unnest(CAST(:cids AS bigint[]), CAST(:mids AS bigint[])) AS k(chat_id, message_id)
          ON k.chat_id = t.chat_id AND k.message_id = t.message_id
        WHERE t.status = 'ok'
        ORDER BY t.chat_id, t.message_id, t.updated_at DESC
        """), {"cids": [c for c, _ in keys], "mids": [m for _, m in keys]}).mappings()
    return {(r["chat_id"], r["message_id"]): dict(r) for r in rows}


def summary_state(d: dict[str, Any]) -> str | None:
    """``shown`` / ``pending`` / None for a message row (see the module docstring); hides a summary that only
    repeats its message."""
    if d.get("hidden"):
        return None
    transcript = (d.get("transcript") or {}).get("text") if d.get("transcript") else None
    if d.get("ai_summary"):
        sources = [d.get("text"), d.get("clean_text"), transcript]
        if any(summary_adds_nothing(t, d["ai_summary"]) for t in sources if t):
            return None
        return "shown"
    if d.get("cleaned"):
        return "pending"  # in the corpus, no summary row yet
    # not in the corpus: the cleaner has not run over it yet, or it has nothing to summarize (media only, emoji...)
    source = d.get("text") or transcript or ""
    kept = clean_message(source, kind=d.get("kind") or "message", has_media=bool(d.get("has_media")))
    return "pending" if kept.dropped_reason is None and kept.text else None


def _decorate(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = _transcripts(conn, [(d["chat_id"], d["message_id"]) for d in rows if not d["hidden"]])
    for d in rows:
        d["transcript"] = found.get((d["chat_id"], d["message_id"])) if not d["hidden"] else None
        d["summary_state"] = summary_state(d)
        if d["summary_state"] != "shown":
            d["ai_summary"], d["ai_keywords"] = None, None
    return rows


_MESSAGE_COLUMNS = """
    m.chat_id, m.message_id, m.kind, m.date, m.sender_id,
    COALESCE(u.display_name, m.sender_name, m.sender_id::text) AS sender, u.username,
    m.text, m.has_media, m.media_type, m.duration_seconds, m.ai_summary, m.ai_keywords,
    cm.text AS clean_text, (cm.message_id IS NOT NULL) AS cleaned,
    COALESCE(u.is_ignored, false) AS ignored
"""
_MESSAGE_FROM = """
    telegram_messages m LEFT JOIN telegram_users u ON u.user_id = m.sender_id
    LEFT JOIN clean_messages cm ON cm.chat_id = m.chat_id AND cm.message_id = m.message_id
"""


def messages(engine: Engine, chat_id: int, *, kind: str = "all", limit: int = 200,
             around: int | None = None) -> list[dict[str, Any]]:
    """The chat's newest messages (service messages excluded) with the media/links filter, newest first; with
    ``around`` (a message id) the ``limit`` messages around that one instead (half older, half newer), so a search
    hit opens in its context."""
    where = ["m.chat_id = :c", "m.kind = 'message'", "m.deleted_at IS NULL"]
    if kind == "media":
        where.append("m.has_media")
    elif kind == "links":
        where.append(_LINK_SQL)
    params: dict[str, Any] = {"c": chat_id, "n": limit}
    with engine.connect() as conn:
        base = f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGE_FROM} WHERE {' AND '.join(where)}"
        if around is None:
            sql = f"{base} ORDER BY m.date DESC, m.message_id DESC LIMIT :n"
        else:
            anchor = conn.execute(sa.text("SELECT date FROM telegram_messages WHERE chat_id = :c AND message_id = :m"),
                                  {"c": chat_id, "m": around}).scalar()
            if anchor is None:
                return []
            params.update(ad=anchor, am=around, half=max(1, limit // 2))
            sql = (f"(({base} AND (m.date, m.message_id) > (:ad, :am) ORDER BY m.date, m.message_id LIMIT :half)"
                   f" UNION ALL ({base} AND (m.date, m.message_id) <= (:ad, :am)"
                   f" ORDER BY m.date DESC, m.message_id DESC LIMIT :half)) ORDER BY date DESC, message_id DESC")
        rows = [_message_row(r) for r in conn.execute(sa.text(sql), params).mappings()]
        return _decorate(conn, rows)


def message(engine: Engine, chat_id: int, message_id: int) -> dict[str, Any] | None:
    """One message with its files, voice transcript and AI summary/keywords (``telegram_messages.ai_*``, else the
    newest ``message_summaries`` row)."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            f"""
            SELECT {_MESSAGE_COLUMNS}, m.edit_date, m.reply_to_message_id, m.forwarded_from,
                   NULL::text AS summary_method
            FROM {_MESSAGE_FROM}
            WHERE m.chat_id = :c AND m.message_id = :m
            """), {"c": chat_id, "m": message_id}).mappings().first()
        if row is None:
            return None
        out = _message_row(row)
        if not out["hidden"] and not out["ai_summary"]:
            s = conn.execute(sa.text(
                "SELECT summary, keywords, method FROM message_summaries WHERE chat_id = :c AND message_id = :m"
                " ORDER BY updated_at DESC LIMIT 1"), {"c": chat_id, "m": message_id}).first()
            if s:
                out["ai_summary"], out["ai_keywords"], out["summary_method"] = s
        _decorate(conn, [out])
        out["files"] = [dict(f) for f in conn.execute(sa.text(
            "SELECT kind, status, file_type, file_name, file_size, mime_type FROM telegram_files"
            " WHERE chat_id = :c AND message_id = :m ORDER BY id"), {"c": chat_id, "m": message_id}).mappings()]
        if out["hidden"]:
            out["files"] = []
    return out


# ---------------------------------------------------------------------------------------------------------------
# People tab


@dataclass
class PeopleFilter:
    job: str | None = None
    sector: str | None = None
    min_confidence: int = 0
    q: str | None = None


def filter_options(engine: Engine) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(job labels, sectors) in use, with counts (manual corrections win over AI guesses)."""
    with engine.connect() as conn:
        def values(expr: str) -> list[tuple[str, int]]:
            return [(v, int(n)) for v, n in conn.execute(sa.text(
                f"SELECT {expr} AS v, count(*) FROM telegram_user_ai_profiles p JOIN telegram_users u"
                f" ON u.user_id = p.user_id AND NOT u.is_ignored WHERE {expr} IS NOT NULL GROUP BY 1 ORDER BY 1"))]

        return values(EFFECTIVE_JOB), values(EFFECTIVE_SECTOR)


def people(engine: Engine, f: PeopleFilter, *, limit: int = 500) -> list[dict[str, Any]]:
    where = ["NOT u.is_owner", "NOT COALESCE(u.is_bot, false)"]
    params: dict[str, Any] = {"n": limit}
    if f.job:
        where.append(f"{EFFECTIVE_JOB} = :job")
        params["job"] = f.job
    if f.sector:
        where.append(f"{EFFECTIVE_SECTOR} = :sector")
        params["sector"] = f.sector
    if f.min_confidence > 0:
        # a person's correction is certain: it passes any confidence threshold
        where.append("(p.manual_override OR p.confidence >= :minc)")
        params["minc"] = f.min_confidence
    if f.q:
        where.append("(COALESCE(u.display_name, '') ILIKE :q OR COALESCE(u.username, '') ILIKE :q"
                     " OR u.user_id::text = :qid)")
        params["q"] = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params["qid"] = f.q.strip()
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            f"""
            SELECT u.user_id, COALESCE(u.display_name, concat_ws(' ', u.first_name, u.last_name)) AS name,
                   u.username, u.is_ignored, p.status, p.job_label, p.sector, p.confidence, p.method, p.message_count,
                   COALESCE(p.manual_override, false) AS manual_override, p.manual_job_label, p.manual_sector,
                   {EFFECTIVE_JOB} AS job, {EFFECTIVE_SECTOR} AS eff_sector
            FROM telegram_users u LEFT JOIN telegram_user_ai_profiles p ON p.user_id = u.user_id
            WHERE {" AND ".join(where)}
            ORDER BY lower(COALESCE(u.display_name, u.username, u.user_id::text)), u.user_id
            LIMIT :n
            """), params).mappings()]


def opted_out(engine: Engine, user_ids: list[int]) -> set[int]:
    """Which of ``user_ids`` opted out (search hits of theirs are dropped, whatever the corpus still holds)."""
    ids = sorted({u for u in user_ids if u is not None})
    if not ids:
        return set()
    with engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE is_ignored AND user_id = ANY(:u)"),
                                {"u": ids}).scalars())


def people_names(engine: Engine, *, limit: int = 1000) -> list[str]:
    """Names the search's person filter accepts (``@username`` or the display name), most recently seen first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            """
            SELECT u.username, u.display_name FROM telegram_users u
            WHERE NOT u.is_ignored AND NOT COALESCE(u.is_bot, false) AND NOT u.is_owner
            ORDER BY u.last_seen_at DESC NULLS LAST, u.user_id
            LIMIT :n
            """), {"n": limit}).all()
    out: list[str] = []
    for username, name in rows:
        for value in (name, "@" + username if username else None):
            if value and value not in out:
                out.append(value)
    return out


def person(engine: Engine, user_id: int, *, recent: int = 10) -> dict[str, Any] | None:
    """A user's details, groups, profile, evidence and recent messages (no text when they opted out)."""
    with engine.connect() as conn:
        u = conn.execute(sa.text(
            "SELECT user_id, display_name, first_name, last_name, username, language_code, bio, is_ignored,"
            " is_owner, first_seen_at, last_seen_at FROM telegram_users WHERE user_id = :u"),
            {"u": user_id}).mappings().first()
        if u is None:
            return None
        out: dict[str, Any] = {"user": dict(u)}
        out["groups"] = [dict(r) for r in conn.execute(sa.text(
            """
            SELECT c.chat_id, COALESCE(c.title, c.username, c.chat_id::text) AS title, c.type, count(*) AS messages,
                   max(m.date) AS last_date
            FROM telegram_messages m JOIN telegram_chats c ON c.chat_id = m.chat_id
            WHERE m.sender_id = :u GROUP BY c.chat_id ORDER BY count(*) DESC
            """), {"u": user_id}).mappings()]
        if u["is_ignored"]:
            out.update(profile=None, evidence=[], recent=[])
            return out
        p = conn.execute(sa.text("SELECT * FROM telegram_user_ai_profiles WHERE user_id = :u"),
                         {"u": user_id}).mappings().first()
        out["profile"] = dict(p) if p else None
        ids = (p["evidence_message_ids"] if p and p["evidence_message_ids"] else [])[:5]
        out["evidence"] = []
        for chat_id, message_id in ids:
            r = conn.execute(sa.text(
                "SELECT m.chat_id, m.message_id, m.date, m.text, COALESCE(c.title, c.chat_id::text) AS chat"
                " FROM telegram_messages m JOIN telegram_chats c ON c.chat_id = m.chat_id"
                " WHERE m.chat_id = :c AND m.message_id = :m AND m.sender_id = :u"),
                {"c": chat_id, "m": message_id, "u": user_id}).mappings().first()
            if r:
                out["evidence"].append(dict(r))
        out["recent"] = [dict(r) for r in conn.execute(sa.text(
            "SELECT m.chat_id, m.message_id, m.date, m.text, COALESCE(c.title, c.chat_id::text) AS chat"
            " FROM telegram_messages m JOIN telegram_chats c ON c.chat_id = m.chat_id"
            " WHERE m.sender_id = :u AND m.kind = 'message' AND m.deleted_at IS NULL AND (m.text <> '' OR EXISTS ("
            "   SELECT 1 FROM voice_transcripts t WHERE t.chat_id = m.chat_id AND t.message_id = m.message_id"
            "   AND t.status = 'ok' AND t.text <> ''))"
            " ORDER BY m.date DESC LIMIT :n"), {"u": user_id, "n": recent}).mappings()]
        found = _transcripts(conn, [(m["chat_id"], m["message_id"]) for m in out["evidence"] + out["recent"]])
        for m in out["evidence"] + out["recent"]:
            m["transcript"] = found.get((m["chat_id"], m["message_id"]))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Settings page: what the profile settings do right now


def profile_settings_status(engine: Engine, *, min_messages: int, daily_max: int,
                            now: datetime | None = None) -> dict[str, Any]:
    """Figures the Settings page shows beside the minimum and the daily maximum: analyses made today (UTC) and
    left, people not analyzed yet, people below the minimum (with and without a guess: a guess below a raised
    minimum turns into "insufficient data" on the next run), the last analysis."""
    now = now or datetime.now(timezone.utc)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            """
            WITH corpus AS (SELECT user_id, count(*) AS n FROM user_message_corpus GROUP BY user_id),
            people AS (
                SELECT u.user_id, p.status, p.last_analyzed_at, COALESCE(c.n, 0) AS corpus
                FROM telegram_users u LEFT JOIN telegram_user_ai_profiles p ON p.user_id = u.user_id
                LEFT JOIN corpus c ON c.user_id = u.user_id
                WHERE NOT u.is_ignored AND NOT u.is_owner AND NOT COALESCE(u.is_bot, false))
            SELECT count(*) FILTER (WHERE status = 'analyzed' AND last_analyzed_at >= :today),
                   count(*) FILTER (WHERE status IS NULL),
                   count(*) FILTER (WHERE corpus < :minm),
                   count(*) FILTER (WHERE corpus < :minm AND status = 'analyzed'),
                   count(*) FILTER (WHERE status = 'analyzed'),
                   count(*) FILTER (WHERE status = 'insufficient_data'),
                   max(last_analyzed_at), EXISTS (SELECT 1 FROM user_message_corpus)
            FROM people
            """), {"today": today, "minm": min_messages}).one()
    today_n, not_analyzed, below, below_guessed, analyzed, insufficient, last, counted = row
    return {"analyses_today": int(today_n), "daily_max": daily_max, "left_today": max(0, daily_max - int(today_n)),
            "not_analyzed": int(not_analyzed), "below_minimum": int(below), "below_minimum_with_guess":
            int(below_guessed), "analyzed": int(analyzed), "insufficient": int(insufficient),
            "min_messages": min_messages, "last_analysis": last, "corpus_built": bool(counted)}
