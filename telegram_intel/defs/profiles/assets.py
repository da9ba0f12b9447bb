"""User profiles: the per-user message corpus and the job/sector guesses (work in ``pipeline/profiles.py``)."""

from typing import Literal

import dagster as dg
from pydantic import Field

from telegram_intel.defs.embeddings.resources import EmbedderResource
from telegram_intel.defs.metadata import as_json, bar_chart, prefixed, web_ui_url
from telegram_intel.defs.partitions import WHOLE_CORPUS_ENRICHMENT
from telegram_intel.defs.resources import LLMResource, TelegramIntelResource
from telegram_intel.lib.profiles import ANALYZED, INSUFFICIENT_DATA
from telegram_intel.pipeline import profiles as work

CLEAN_MESSAGES_DEP = dg.AssetDep("clean_messages", partition_mapping=dg.AllPartitionMapping())
EMBEDDINGS_DEP = dg.AssetDep("message_embeddings", partition_mapping=dg.AllPartitionMapping())


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
    force: bool = Field(
        default=False,
        description="Re-analyze users even without new messages or when already analyzed today "
                    "(still within the daily maximum; manual corrections are never touched).")
    web_url: str | None = Field(
        default=None, description="Base URL of the web UI for the metadata link (default $TELEGRAM_INTEL_WEB_URL "
                                  "or http://127.0.0.1:8765).")
    llm_max_failures: int = Field(default=3, ge=1, description="Consecutive LLM failures before falling back to "
                                                               "the offline method for the rest of the run.")


@dg.asset(
    deps=[CLEAN_MESSAGES_DEP],
    group_name="profiles",
    kinds={"postgres"},
    automation_condition=WHOLE_CORPUS_ENRICHMENT,
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
    run = work.build_user_corpus(telegram.engine, limit=config.limit, days_back=config.days_back or None,
                                 min_length=config.min_length, anchor=config.anchor,
                                 include_owner=config.include_owner)
    st = run.stats
    return dg.MaterializeResult(
        metadata={
            "users": st.users, "messages": st.messages, "candidates_read": st.candidates,
            "rows_inserted": st.inserted, "rows_deleted": st.deleted,
            "rejected": as_json(dict(st.rejected.most_common())),
            "opted_out_rows_purged": sum(st.purged.values()),
            "window_end": st.as_of.isoformat() if st.as_of else "no messages",
            "messages_per_user": bar_chart(run.size_histogram, "Users by corpus size (messages)"),
        },
        check_results=[dg.AssetCheckResult(check_name="user_message_corpus_no_opted_out_users",
                                           passed=run.leaked == 0, metadata={"rows_of_opted_out_users": run.leaked})],
    )


@dg.asset(
    deps=["user_message_corpus", "knowledge_graph", EMBEDDINGS_DEP],
    group_name="profiles",
    kinds={"postgres"},
    automation_condition=WHOLE_CORPUS_ENRICHMENT,
    pool="llm",
    check_specs=[dg.AssetCheckSpec(
        "user_profiles_no_opted_out_users", asset="user_profiles", blocking=True,
        description="No profile belongs to a user who opted out (is_ignored).")],
)
def user_profiles(
    context: dg.AssetExecutionContext,
    config: UserProfilesConfig,
    telegram: TelegramIntelResource,
    llm: LLMResource,
    embedder: EmbedderResource,
) -> dg.MaterializeResult:
    """Job/role and sector guesses per user (`telegram_user_ai_profiles`): `job_label`, `sector`, `confidence`
    0-100, evidence keywords and message ids, `method` (offline own-work evidence classifier over the `embedder` resource's vectors, reused
    from `message_embeddings`, or the LLM), the knowledge graph's expertise and interests. Fewer usable messages
    than the Settings' minimum → "insufficient data", no guess. Re-analysis only for users with new messages since
    their last analysis, at most once per UTC day per user and at most the Settings' daily maximum of analyses.
    Manual corrections (`manual_*`, made in the web UI) are never overwritten. Opted-out users lose their rows."""
    method = ("llm" if llm.is_enabled() else "offline") if config.method == "auto" else config.method
    if method == "llm" and not llm.is_enabled():
        raise dg.Failure("method=llm but the llm resource is not configured (no API key or base URL)")
    tags = {"asset": "user_profiles", "run_id": context.run.run_id}
    run = work.run_user_profiles(
        telegram.engine, method=method, embedder=embedder.get, force=config.force,
        llm_client=lambda: llm.get_client(telegram.engine, tags=tags), llm_max_failures=config.llm_max_failures)
    c = run.counts
    return dg.MaterializeResult(
        metadata={
            "analyzed_this_run": c[ANALYZED], "insufficient_data_this_run": c[INSUFFICIENT_DATA],
            "skipped_daily_max": c["skipped_daily_max"], "up_to_date": run.up_to_date, "method": method,
            "methods_this_run": as_json(prefixed(c, "method:")), "llm_failures": c["llm_failures"],
            "vectors_reused": c["vectors_reused"], "vectors_computed": c["vectors_computed"], **run.totals,
            "settings": as_json(run.settings), "graph_facets_updated": run.facets,
            "opted_out_rows_purged": run.purged,
            "sector_distribution": bar_chart(run.sectors, "Users by sector (AI guess, or the manual correction)"),
            "web_ui": web_ui_url("/people", config.web_url),
        },
        check_results=[dg.AssetCheckResult(check_name="user_profiles_no_opted_out_users", passed=run.leaked == 0,
                                           metadata={"rows_of_opted_out_users": run.leaked})],
    )
