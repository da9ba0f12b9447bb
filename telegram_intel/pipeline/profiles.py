"""The work of user profiles (no Dagster): the per-user corpus, the analysis run (offline or LLM method), profile
rows, overrides, opt-out purges.

The web UI and the assets share these functions. Writes are single transactions; the AI columns of a profile
and its ``manual_*`` columns are written by different functions, so an analysis can never touch a correction.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from telegram_intel.db.app_settings import changed_at, get_settings
from telegram_intel.db.vectors import stored_vectors
from telegram_intel.lib.evidence_profiles import EvidenceProfiler
from telegram_intel.lib.profession_taxonomy import SECTORS
from telegram_intel.lib.profiles import (
    ANALYZED,
    INSUFFICIENT_DATA,
    CorpusMessage,
    OfflineProfiler,
    ProfileGuess,
    _evidence_ids,
    embed_cached,
    insufficient,
    normalize_label,
    select_corpus,
)
from telegram_intel.lib.text_safety import describe_characters, invisible_characters
from telegram_intel.llm.schemas import USER_JOB_PROFILE_SCHEMA

log = logging.getLogger(__name__)

AI_COLUMNS = ("status", "job_label", "sector", "confidence", "evidence_keywords", "evidence_message_ids",
              "alternatives", "method", "message_count", "corpus_last_message_at", "last_analyzed_at")

#: Tables keyed by user that this domain writes (all purged for opted-out users).
PROFILE_TABLES = ("telegram_user_ai_profiles", "user_message_corpus")


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
    from telegram_intel.pipeline.expertise import user_expertise

    with engine.connect() as conn:
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
    if any(c in _FORBIDDEN for c in raw):
        raise OverrideError(f"{field_name} may not contain HTML, markup or control characters (< > {{ }} ` \\)")
    hidden = invisible_characters(raw)
    if hidden:  # control, text-direction (U+202E ...) and other invisible characters: what is stored is not what shows
        raise OverrideError(f"{field_name} may not contain invisible or text-direction characters "
                            f"({describe_characters(hidden)})")
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


def profile_with_llm(
    client,
    messages: Sequence[CorpusMessage],
    *,
    min_messages: int = 5,
    max_messages: int = 60,
    max_chars: int = 8_000,
) -> ProfileGuess:
    """Seed 002 §4.2: the messages go to the ``user_job_profile`` prompt, the JSON answer is validated against
    ``USER_JOB_PROFILE_SCHEMA`` by the client. ``"unknown"`` answers become an analyzed profile without a label.
    Requires an API key or a local OpenAI-compatible server (the client's configuration)."""
    n = len(messages)
    if n < max(1, min_messages):
        return insufficient("llm", n)
    texts, used = [], 0
    for m in messages[:max_messages]:
        t = " ".join(m.text.split())
        if used + len(t) > max_chars and texts:
            break
        texts.append(t)
        used += len(t)
    result = client.complete_json(
        "user_job_profile",
        {"messages": json.dumps(texts, ensure_ascii=False), "message_count": len(texts),
         "sectors": ", ".join(sorted(SECTORS))},
        USER_JOB_PROFILE_SCHEMA,
    )
    data = result.data
    job = normalize_label(data.get("job_label"))
    sector = normalize_label(data.get("sector"))
    job = None if job and job.lower() == "unknown" else job
    sector = None if sector and sector.lower() == "unknown" else sector
    if sector:
        sector = sector.lower()
    keywords = [normalize_label(k, max_len=80) for k in data.get("evidence_keywords", [])]
    keywords = [k for k in keywords if k][:10]
    return ProfileGuess(
        status=ANALYZED, method=result.method, message_count=n, job_label=job, sector=sector,
        confidence=int(data.get("confidence", 0)) if job or sector else 0,
        evidence_keywords=keywords, evidence_message_ids=_evidence_ids(messages, keywords),
    )


# ---------------------------------------------------------------------------------------------------------------
# Evaluation


# -- the work of the user_message_corpus and user_profiles assets ------------------------------------------------

CORPUS_SIZE_BUCKETS = (("0", 0, 0), ("1-4", 1, 4), ("5-19", 5, 19), ("20-49", 20, 49), ("50-99", 50, 99),
                       ("100+", 100, 10**9))


def opted_out_rows(engine: Engine, table: str) -> int:
    """Rows of ``table`` (``user_message_corpus`` or ``telegram_user_ai_profiles``) that belong to opted-out users."""
    assert table in ("user_message_corpus", "telegram_user_ai_profiles")
    with engine.connect() as conn:
        return conn.execute(sa.text(
            f"SELECT count(*) FROM {table} c JOIN telegram_users u ON u.user_id = c.user_id AND u.is_ignored"
        )).scalar_one()


@dataclass
class CorpusRun:
    stats: Any
    leaked: int
    size_histogram: list[tuple[str, int]]


def build_user_corpus(engine: Engine, *, limit: int, days_back: int | None, min_length: int, anchor: str,
                      include_owner: bool) -> CorpusRun:
    """Refresh ``user_message_corpus``; its statistics, the opted-out rows left (0 unless something leaks) and
    users per corpus size."""
    stats = refresh_corpus(engine, limit=limit, days_back=days_back, min_length=min_length, anchor=anchor,
                           include_owner=include_owner)
    sizes = list(stats.per_user.values())
    hist = [(label, sum(1 for n in sizes if lo <= n <= hi)) for label, lo, hi in CORPUS_SIZE_BUCKETS]
    return CorpusRun(stats, opted_out_rows(engine, "user_message_corpus"), hist)


#: The Settings-page values ``run_user_profiles`` reads; a change of either re-runs ``user_profiles``.
PROFILE_SETTINGS = ("profile_min_messages", "profile_daily_max")


def profile_settings_changed_at(engine: Engine) -> datetime | None:
    """When the minimum or the daily maximum was last changed on the Settings page (None: never)."""
    return changed_at(engine, PROFILE_SETTINGS)


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def plan_analyses(
    summary: dict[int, tuple[int, datetime | None]],
    states: dict[int, ProfileState],
    *,
    now: datetime,
    min_messages: int,
    force: bool = False,
) -> list[int]:
    """Users to analyze now, in priority order: never analyzed, then those whose verdict may change (new
    messages since the last analysis, enough messages now after "insufficient data", or fewer than a raised
    minimum after a guess), oldest analysis first. Nobody is analyzed twice on one UTC day unless ``force``; an
    "insufficient data" verdict costs nothing and is made whenever it applies."""
    today = day_start(now)
    due: list[tuple[tuple, int]] = []
    for uid, (n, last_msg) in summary.items():
        st = states.get(uid)
        if st is None or st.status is None:
            due.append(((0, 0.0), uid))
            continue
        if st.status == ANALYZED and n < min_messages:
            # the Settings' minimum was raised above this user's corpus: the guess gives way to "insufficient data"
            due.append(((1, 0.0), uid))
            continue
        # once a day: an analysis costs (an LLM call); an "insufficient data" verdict is free to revisit
        if (not force and st.status == ANALYZED and st.last_analyzed_at is not None
                and st.last_analyzed_at >= today):
            continue
        newer = last_msg is not None and (st.corpus_last_message_at is None or last_msg > st.corpus_last_message_at)
        now_enough = st.status == INSUFFICIENT_DATA and n >= min_messages
        if force or newer or now_enough:
            age = st.last_analyzed_at.timestamp() if st.last_analyzed_at else 0.0
            due.append(((1, age), uid))
    return [uid for _, uid in sorted(due)]


@dataclass
class ProfilesRun:
    """What one ``user_profiles`` run did (the asset turns it into metadata)."""

    method: str
    counts: Counter
    up_to_date: int
    purged: int
    facets: int
    totals: dict[str, int]
    leaked: int
    settings: dict[str, int]
    sectors: list[tuple[str, int]]


def _offline_guesses(engine: Engine, profiler: EvidenceProfiler, corpora: dict[int, list[CorpusMessage]],
                     users: list[int], min_messages: int, counts: Counter) -> dict[int, ProfileGuess]:
    """The offline method, reusing the vectors ``message_embeddings`` stored for the same model."""
    keys = [m.key for uid in users for m in corpora.get(uid, [])]
    vectors = stored_vectors(engine, keys, profiler.embedder.name)
    counts["vectors_reused"] = len(vectors)
    missing = [m.text for uid in users for m in corpora.get(uid, []) if m.key not in vectors]
    counts["vectors_computed"] = len(set(missing))
    if missing:
        embed_cached(profiler.embedder, missing)
    guesses = {}
    for uid in users:
        msgs = corpora.get(uid, [])
        vecs = None
        if msgs:
            it = iter(embed_cached(profiler.embedder, [m.text for m in msgs if m.key not in vectors]))
            vecs = np.stack([vectors[m.key] if m.key in vectors else next(it) for m in msgs])
        guesses[uid] = profiler.profile(msgs, min_messages=min_messages, vectors=vecs)
    return guesses


def _llm_guesses(client: Any, profiler: Callable[[], EvidenceProfiler], corpora: dict[int, list[CorpusMessage]],
                 users: list[int], min_messages: int, max_failures: int, counts: Counter) -> dict[int, ProfileGuess]:
    """The LLM method; after ``max_failures`` consecutive failures the rest of the run uses the offline one."""
    guesses, failures = {}, 0
    for uid in users:
        msgs = corpora.get(uid, [])
        if failures < max_failures:
            try:
                guesses[uid] = profile_with_llm(client, msgs, min_messages=min_messages)
                failures = 0
                continue
            except Exception as exc:  # noqa: BLE001 - any LLM failure falls back to the offline method
                failures += 1
                counts["llm_failures"] += 1
                log.warning("LLM profile of user %s failed (%s); using the offline method", uid, type(exc).__name__)
        guesses[uid] = profiler().profile(msgs, min_messages=min_messages)
    return guesses


def run_user_profiles(engine: Engine, *, method: str, embedder: Callable[[], Any], llm_client: Callable[[], Any],
                      force: bool = False, llm_max_failures: int = 3,
                      now: datetime | None = None) -> ProfilesRun:
    """Analyze the users that are due (see ``plan_analyses``) within the daily maximum, write their guesses (manual
    corrections untouched), refresh the knowledge-graph facets and purge opted-out users' rows.

    ``method`` is ``offline`` or ``llm``; ``embedder`` and ``llm_client`` are called only when needed."""
    settings = get_settings(engine)
    min_messages, daily_max = int(settings["profile_min_messages"]), int(settings["profile_daily_max"])
    now = now or datetime.now(timezone.utc)
    with engine.begin() as conn:
        purged = purge_ignored(conn)
    summary, states = corpus_summary(engine), profile_states(engine)
    queue = plan_analyses(summary, states, now=now, min_messages=min_messages, force=force)
    budget = max(0, daily_max - analyses_on(engine, day_start(now)))

    counts: Counter = Counter()
    to_analyze, thin = [], []
    for uid in queue:
        if summary[uid][0] < min_messages:
            thin.append(uid)  # "insufficient data" costs nothing and does not count against the daily maximum
        elif len(to_analyze) < budget:
            to_analyze.append(uid)
        else:
            counts["skipped_daily_max"] += 1
    corpora = load_corpora(engine, to_analyze + thin)
    guesses = {uid: insufficient(f"rule:min_messages={min_messages}", summary[uid][0]) for uid in thin}
    profiler: list[EvidenceProfiler] = []

    def offline() -> EvidenceProfiler:
        if not profiler:
            profiler.append(EvidenceProfiler(embedder()))
        return profiler[0]

    if to_analyze and method == "llm":
        guesses |= _llm_guesses(llm_client(), offline, corpora, to_analyze, min_messages, llm_max_failures, counts)
    elif to_analyze:
        guesses |= _offline_guesses(engine, offline(), corpora, to_analyze, min_messages, counts)

    with engine.begin() as conn:
        for uid, guess in guesses.items():
            write_guess(conn, uid, guess, corpus_last=summary[uid][1], now=now)
            counts[guess.status] += 1
            counts["method:" + guess.method.split("@")[0]] += 1
    facets = refresh_graph_facets(engine)
    return ProfilesRun(
        method=method, counts=counts, up_to_date=len(summary) - len(queue), purged=sum(purged.values()),
        facets=facets, totals=profile_totals(engine), leaked=opted_out_rows(engine, "telegram_user_ai_profiles"),
        settings={"min_messages": min_messages, "daily_max": daily_max,
                  "analyses_left_today": max(0, budget - len(to_analyze))},
        sectors=effective_sector_counts(engine))


def profile_totals(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            """
            SELECT count(*), count(*) FILTER (WHERE p.status = 'analyzed'),
                   count(*) FILTER (WHERE p.status = 'insufficient_data'), count(*) FILTER (WHERE p.manual_override),
                   (SELECT count(*) FROM telegram_users u2 WHERE NOT u2.is_ignored AND NOT u2.is_owner
                      AND NOT EXISTS (SELECT 1 FROM telegram_user_ai_profiles p2 WHERE p2.user_id = u2.user_id))
            FROM telegram_user_ai_profiles p
            """)).one()
    keys = ("profiles_total", "profiles_analyzed", "profiles_insufficient_data", "manual_overrides",
            "users_not_analyzed_yet")
    return {k: int(v) for k, v in zip(keys, row)}
