"""Read queries of the web UI. Text of users who opted out (``is_ignored``) never leaves this module: their
messages come back with ``text=None`` and ``hidden=True``, and nothing derived from them (AI summaries) either."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

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
        d["ai_summary"] = None
        d["ai_keywords"] = None
    return d


def messages(engine: Engine, chat_id: int, *, kind: str = "all", limit: int = 200) -> list[dict[str, Any]]:
    """The chat's newest messages (service messages excluded) with the media/links filter."""
    where = ["m.chat_id = :c", "m.kind = 'message'", "m.deleted_at IS NULL"]
    if kind == "media":
        where.append("m.has_media")
    elif kind == "links":
        where.append(_LINK_SQL)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            f"""
            SELECT m.chat_id, m.message_id, m.date, m.sender_id,
                   COALESCE(u.display_name, m.sender_name, m.sender_id::text) AS sender,
                   m.text, m.has_media, m.media_type, m.ai_summary, m.ai_keywords,
                   COALESCE(u.is_ignored, false) AS ignored
            FROM telegram_messages m LEFT JOIN telegram_users u ON u.user_id = m.sender_id
            WHERE {" AND ".join(where)}
            ORDER BY m.date DESC, m.message_id DESC LIMIT :n
            """), {"c": chat_id, "n": limit}).mappings()
        return [_message_row(r) for r in rows]


def message(engine: Engine, chat_id: int, message_id: int) -> dict[str, Any] | None:
    """One message with its files and AI summary/keywords (``telegram_messages.ai_*``, else the newest
    ``message_summaries`` row)."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            """
            SELECT m.chat_id, m.message_id, m.date, m.edit_date, m.sender_id,
                   COALESCE(u.display_name, m.sender_name, m.sender_id::text) AS sender, u.username,
                   m.text, m.has_media, m.media_type, m.reply_to_message_id, m.forwarded_from,
                   m.ai_summary, m.ai_keywords, NULL::text AS summary_method,
                   COALESCE(u.is_ignored, false) AS ignored
            FROM telegram_messages m LEFT JOIN telegram_users u ON u.user_id = m.sender_id
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
                   u.username, u.is_ignored, p.status, p.job_label, p.sector, p.confidence, p.method,
                   COALESCE(p.manual_override, false) AS manual_override, p.manual_job_label, p.manual_sector,
                   {EFFECTIVE_JOB} AS job, {EFFECTIVE_SECTOR} AS eff_sector
            FROM telegram_users u LEFT JOIN telegram_user_ai_profiles p ON p.user_id = u.user_id
            WHERE {" AND ".join(where)}
            ORDER BY lower(COALESCE(u.display_name, u.username, u.user_id::text)), u.user_id
            LIMIT :n
            """), params).mappings()]


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
            " WHERE m.sender_id = :u AND m.kind = 'message' AND m.text <> '' AND m.deleted_at IS NULL"
            " ORDER BY m.date DESC LIMIT :n"), {"u": user_id, "n": recent}).mappings()]
    return out
