"""Database side of user profiles (no Dagster): the per-user corpus, profile rows, overrides, opt-out purges.

The web UI and the assets share these functions. Writes are single transactions; the AI columns of a profile
and its ``manual_*`` columns are written by different functions, so an analysis can never touch a correction.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from telegram_intel.lib.profiles import CorpusMessage, ProfileGuess, normalize_label, select_corpus

AI_COLUMNS = ("status", "job_label", "sector", "confidence", "evidence_keywords", "evidence_message_ids",
              "alternatives", "method", "message_count", "corpus_last_message_at", "last_analyzed_at")

#: Tables keyed by user that this domain writes (all purged for opted-out users).
PROFILE_TABLES = ("telegram_user_ai_profiles", "user_message_corpus")


def table_exists(conn: Connection, name: str) -> bool:
    return bool(conn.execute(sa.text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar_one())


# ---------------------------------------------------------------------------------------------------------------
# Opt-out


def purge_ignored(conn: Connection) -> dict[str, int]:
    """Delete every profile and corpus row of users marked ``is_ignored`` (manual corrections too)."""
    out = {}
    out["telegram_user_ai_profiles"] = conn.execute(sa.text(
        "DELETE FROM telegram_user_ai_profiles p USING telegram_users u WHERE u.user_id = p.user_id AND u.is_ignored"
    )).rowcount
    out["user_message_corpus"] = conn.execute(sa.text(
        "DELETE FROM user_message_corpus c USING telegram_users u WHERE u.user_id = c.user_id AND u.is_ignored"
    )).rowcount
    return out


# ---------------------------------------------------------------------------------------------------------------
# Corpus


@dataclass
class CorpusStats:
    users: int = 0
    messages: int = 0
    inserted: int = 0
    deleted: int = 0
    candidates: int = 0
    rejected: Counter = field(default_factory=Counter)
    purged: dict[str, int] = field(default_factory=dict)
    as_of: datetime | None = None
    per_user: dict[int, int] = field(default_factory=dict)


def corpus_anchor(conn: Connection, anchor: str) -> datetime | None:
    """The end of the ``days_back`` window: now, or the newest message in the corpus (``latest_message``, the
    default: an export analysed months later still has its last 90 days)."""
    if anchor == "now":
        return datetime.now(timezone.utc)
    return conn.execute(sa.text("SELECT max(date) FROM clean_messages")).scalar_one()


def refresh_corpus(
    engine: Engine,
    *,
    limit: int = 100,
    days_back: int | None = 90,
    min_length: int = 20,
    anchor: str = "latest_message",
    include_owner: bool = False,
    candidate_factor: int = 4,
) -> CorpusStats:
    """Make ``user_message_corpus`` exactly the current selection for every user (one transaction).

    Candidates per user are the newest ``limit * candidate_factor`` ``clean_messages`` rows in the window (the
    filters drop some); opted-out users and channels are skipped, and rows of opted-out users are purged."""
    stats = CorpusStats()
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7244516607)"))
        stats.purged = purge_ignored(conn)
        stats.as_of = as_of = corpus_anchor(conn, anchor)
        if as_of is None:
            stats.deleted = conn.execute(sa.text("DELETE FROM user_message_corpus")).rowcount
            return stats
        lo = as_of - timedelta(days=days_back) if days_back else datetime(1970, 1, 1, tzinfo=timezone.utc)
        rows = conn.execute(sa.text(
            """
            SELECT sender_id, chat_id, message_id, date, text FROM (
                SELECT c.sender_id, c.chat_id, c.message_id, c.date, c.text,
                       row_number() OVER (PARTITION BY c.sender_id ORDER BY c.date DESC, c.chat_id, c.message_id) AS rn
                FROM clean_messages c JOIN telegram_users u ON u.user_id = c.sender_id
                WHERE NOT u.is_ignored AND (:owner OR NOT u.is_owner) AND c.date >= :lo AND c.date <= :hi
            ) x WHERE rn <= :cap
            """
        ), {"owner": include_owner, "lo": lo, "hi": as_of, "cap": max(1, limit * candidate_factor)}).all()
        by_user: dict[int, list[CorpusMessage]] = defaultdict(list)
        for uid, chat_id, message_id, date, text in rows:
            by_user[uid].append(CorpusMessage(chat_id, message_id, date, text))
        stats.candidates = len(rows)
        selected = []
        for uid, msgs in by_user.items():
            chosen = select_corpus(msgs, limit=limit, days_back=days_back, min_length=min_length, as_of=as_of,
                                   rejected=stats.rejected)
            stats.per_user[uid] = len(chosen)
            selected += [(uid, m.chat_id, m.message_id, m.date) for m in chosen]
        stats.users = sum(1 for n in stats.per_user.values() if n)
        stats.messages = len(selected)
        conn.execute(sa.text(
            "CREATE TEMP TABLE _corpus_new (user_id bigint, chat_id bigint, message_id bigint, date timestamptz)"
            " ON COMMIT DROP"))
        if selected:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy("COPY _corpus_new (user_id, chat_id, message_id, date) FROM STDIN") as cp:
                for row in selected:
                    cp.write_row(row)
        stats.deleted = conn.execute(sa.text(
            "DELETE FROM user_message_corpus c WHERE NOT EXISTS (SELECT 1 FROM _corpus_new n WHERE"
            " n.user_id = c.user_id AND n.chat_id = c.chat_id AND n.message_id = c.message_id)")).rowcount
        stats.inserted = conn.execute(sa.text(
            "INSERT INTO user_message_corpus (user_id, chat_id, message_id, date) SELECT user_id, chat_id,"
            " message_id, date FROM _corpus_new ON CONFLICT (user_id, chat_id, message_id) DO UPDATE SET"
            " date = EXCLUDED.date WHERE user_message_corpus.date IS DISTINCT FROM EXCLUDED.date")).rowcount
    return stats


def load_corpora(engine: Engine, user_ids: Iterable[int] | None = None) -> dict[int, list[CorpusMessage]]:
    """Each user's corpus (newest first) with the current clean text; opted-out users never come back."""
    ids = None if user_ids is None else list(user_ids)
    sql = (
        "SELECT k.user_id, k.chat_id, k.message_id, c.date, c.text FROM user_message_corpus k"
        " JOIN clean_messages c ON c.chat_id = k.chat_id AND c.message_id = k.message_id"
        " JOIN telegram_users u ON u.user_id = k.user_id AND NOT u.is_ignored"
        + ("" if ids is None else " WHERE k.user_id = ANY(:ids)")
        + " ORDER BY k.user_id, c.date DESC, k.chat_id, k.message_id"
    )
    out: dict[int, list[CorpusMessage]] = defaultdict(list)
    with engine.connect() as conn:
        for uid, chat_id, message_id, date, text in conn.execute(sa.text(sql), {"ids": ids or []}):
            out[uid].append(CorpusMessage(chat_id, message_id, date, text))
    return dict(out)


def stored_vectors(engine: Engine, keys: Sequence[tuple[int, int]], model: str) -> dict[tuple[int, int], np.ndarray]:
    """Vectors ``message_embeddings`` already holds for these messages and model (re-used, not recomputed)."""
    if not keys:
        return {}
    with engine.connect() as conn:
        if not table_exists(conn, "message_embeddings"):
            return {}
        rows = conn.execute(sa.text(
            "SELECT e.chat_id, e.message_id, e.embedding::text FROM message_embeddings e"
            " JOIN unnest(CAST(:chats AS bigint[]), CAST(:msgs AS bigint[])) AS k(chat_id, message_id)"
            " ON e.chat_id = k.chat_id AND e.message_id = k.message_id WHERE e.model = :m"
        ), {"chats": [k[0] for k in keys], "msgs": [k[1] for k in keys], "m": model}).all()
    return {(c, m): np.asarray(json.loads(v), dtype=np.float32) for c, m, v in rows}


# ---------------------------------------------------------------------------------------------------------------
# Profiles


@dataclass(frozen=True)
class ProfileState:
    user_id: int
    status: str | None
    last_analyzed_at: datetime | None
    corpus_last_message_at: datetime | None
    manual_override: bool


def profile_states(engine: Engine) -> dict[int, ProfileState]:
    with engine.connect() as conn:
        return {r[0]: ProfileState(*r) for r in conn.execute(sa.text(
            "SELECT user_id, status, last_analyzed_at, corpus_last_message_at, manual_override"
            " FROM telegram_user_ai_profiles"))}


def corpus_summary(engine: Engine, *, include_owner: bool = False) -> dict[int, tuple[int, datetime | None]]:
    """user_id -> (corpus messages, newest corpus message date) for every user a profile is kept for: not opted
    out, not a bot, not the owner (unless ``include_owner``); users with no usable message have (0, None)."""
    with engine.connect() as conn:
        return {uid: (int(n), last) for uid, n, last in conn.execute(sa.text(
            "SELECT u.user_id, count(c.user_id), max(c.date) FROM telegram_users u"
            " LEFT JOIN user_message_corpus c ON c.user_id = u.user_id"
            " WHERE NOT u.is_ignored AND NOT COALESCE(u.is_bot, false) AND (:owner OR NOT u.is_owner)"
            " GROUP BY u.user_id"), {"owner": include_owner})}


def analyses_on(engine: Engine, day_start: datetime) -> int:
    """Analyses (status analyzed) recorded since ``day_start`` (the daily maximum counts these)."""
    with engine.connect() as conn:
        return int(conn.execute(sa.text(
            "SELECT count(*) FROM telegram_user_ai_profiles WHERE status = 'analyzed' AND last_analyzed_at >= :d"
        ), {"d": day_start}).scalar_one())


_UPSERT_AI = f"""
INSERT INTO telegram_user_ai_profiles (user_id, {", ".join(AI_COLUMNS)}, updated_at)
SELECT :user_id, {", ".join(":" + c for c in AI_COLUMNS)}, now()
WHERE EXISTS (SELECT 1 FROM telegram_users u WHERE u.user_id = :user_id AND NOT u.is_ignored)
ON CONFLICT (user_id) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in AI_COLUMNS)}, updated_at = now()
"""


def write_guess(conn: Connection, user_id: int, guess: ProfileGuess, *, corpus_last: datetime | None,
                now: datetime) -> None:
    """Store an analysis in the AI columns only (``manual_*`` are not in this statement)."""
    conn.execute(sa.text(_UPSERT_AI).bindparams(
        sa.bindparam("evidence_keywords", type_=sa.JSON), sa.bindparam("evidence_message_ids", type_=sa.JSON),
        sa.bindparam("alternatives", type_=sa.JSON),
    ), {
        "user_id": user_id, "status": guess.status, "job_label": guess.job_label, "sector": guess.sector,
        "confidence": guess.confidence, "evidence_keywords": guess.evidence_keywords,
        "evidence_message_ids": guess.evidence_message_ids, "alternatives": guess.alternatives,
        "method": guess.method[:160], "message_count": guess.message_count,
        "corpus_last_message_at": corpus_last, "last_analyzed_at": now,
    })


def refresh_graph_facets(engine: Engine, *, expertise_top: int = 8, interests_top: int = 8) -> int:
    """Copy each profiled user's expertise and interests from the knowledge graph onto the profile.

    Expertise: the user's most distinctive subjects (``discusses`` weight, tf-idf-like) mentioned in at least two
    of their messages; interests: the next subjects by weight. Empty lists when the graph has not been built."""
    from telegram_intel.defs.graph.expertise import user_expertise

    with engine.connect() as conn:
        if not table_exists(conn, "graph_edges") or not table_exists(conn, "entities"):
            return 0
        users = conn.execute(sa.text(
            "SELECT p.user_id FROM telegram_user_ai_profiles p JOIN telegram_users u ON u.user_id = p.user_id"
            " WHERE NOT u.is_ignored")).scalars().all()
    updated = 0
    for uid in users:
        items = user_expertise(engine, uid, top=expertise_top + interests_top + 8)
        expertise = [i for i in items if i.messages >= 2][:expertise_top]
        taken = {i.entity_id for i in expertise}
        interests = [i for i in items if i.entity_id not in taken][:interests_top]

        def pack(xs):
            return [{"name": i.name, "kind": i.kind, "messages": int(i.messages), "weight": round(float(i.weight), 3)}
                    for i in xs]

        with engine.begin() as conn:
            n = conn.execute(sa.text(
                "UPDATE telegram_user_ai_profiles SET expertise = CAST(:e AS jsonb), interests = CAST(:i AS jsonb)"
                " WHERE user_id = :u AND (expertise IS DISTINCT FROM CAST(:e AS jsonb)"
                " OR interests IS DISTINCT FROM CAST(:i AS jsonb))"
            ), {"u": uid, "e": json.dumps(pack(expertise), ensure_ascii=False),
                "i": json.dumps(pack(interests), ensure_ascii=False)}).rowcount
            updated += n
    return updated


# ---------------------------------------------------------------------------------------------------------------
# Manual corrections (web UI)


class OverrideError(ValueError):
    """Input a person must fix; the message says how."""


MAX_LABEL = 80
_FORBIDDEN = set("<>{}`\\")


def validate_label(value: Any, field_name: str, *, required: bool) -> str | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise OverrideError(f"{field_name}: expected text")
    raw = value.strip()
    if not raw:
        if required:
            raise OverrideError(f"{field_name} is required")
        return None
    if len(raw) > MAX_LABEL:
        raise OverrideError(f"{field_name} is too long ({len(raw)} characters; at most {MAX_LABEL})")
    if any(c in _FORBIDDEN for c in raw) or any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in raw):
        raise OverrideError(f"{field_name} may not contain HTML, markup or control characters (< > {{ }} ` \\)")
    low = raw.lower()
    if "javascript:" in low or "script" in low and ("(" in low or "=" in low):
        raise OverrideError(f"{field_name} looks like code, not a job title")
    return normalize_label(raw, max_len=MAX_LABEL)


def set_override(engine: Engine, user_id: int, job_label: Any, sector: Any) -> tuple[str, str | None]:
    """Save a person's correction (``manual_override = true``). ``OverrideError`` and no change on bad input,
    an unknown user or one who opted out."""
    job = validate_label(job_label, "Job", required=True)
    sec = validate_label(sector, "Sector", required=False)
    with engine.begin() as conn:
        row = conn.execute(sa.text("SELECT is_ignored FROM telegram_users WHERE user_id = :u"), {"u": user_id}).first()
        if row is None:
            raise OverrideError(f"unknown user id {user_id}")
        if row[0]:
            raise OverrideError("this user opted out: nothing about them is stored")
        conn.execute(sa.text(
            "INSERT INTO telegram_user_ai_profiles (user_id, manual_override, manual_job_label, manual_sector,"
            " manual_updated_at, updated_at) VALUES (:u, true, :j, :s, now(), now())"
            " ON CONFLICT (user_id) DO UPDATE SET manual_override = true, manual_job_label = EXCLUDED.manual_job_label,"
            " manual_sector = EXCLUDED.manual_sector, manual_updated_at = now(), updated_at = now()"
        ), {"u": user_id, "j": job, "s": sec.lower() if sec else None})
    return job, sec


def clear_override(engine: Engine, user_id: int) -> bool:
    with engine.begin() as conn:
        return conn.execute(sa.text(
            "UPDATE telegram_user_ai_profiles SET manual_override = false, manual_job_label = NULL,"
            " manual_sector = NULL, manual_updated_at = now(), updated_at = now() WHERE user_id = :u"
        ), {"u": user_id}).rowcount > 0


def effective_sector_counts(engine: Engine) -> list[tuple[str, int]]:
    """Sector -> users (manual correction wins over the AI guess), most common first."""
    with engine.connect() as conn:
        return [(s, int(n)) for s, n in conn.execute(sa.text(
            "SELECT COALESCE(CASE WHEN manual_override THEN manual_sector END, sector) AS s, count(*)"
            " FROM telegram_user_ai_profiles p JOIN telegram_users u ON u.user_id = p.user_id AND NOT u.is_ignored"
            " WHERE COALESCE(CASE WHEN manual_override THEN manual_sector END, sector) IS NOT NULL"
            " GROUP BY 1 ORDER BY 2 DESC, 1"))]
