"""``voice_insights``: DEFAULT and TONE (and any configured mode) analyses of each transcript, run concurrently."""


import os
from typing import Any

import dagster as dg
from pydantic import Field

from telegram_intel.db.llm_calls import usage_summary
from telegram_intel.defs.partitions import daily_message_partitions, partition_bounds
from telegram_intel.defs.resources import LLMResource, TelegramIntelResource
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.pipeline.voice_modes import (
    MODES_FILE_ENV,
    ModeRegistryError,
    load_registry,
)
from telegram_intel.pipeline import voice as store
from telegram_intel.pipeline.voice_analysis import (
    InsightRunner,
    InsightTask,
    RunStats,
    build_plans,
    mask_transcript,
)

METHOD_CHOICES = ("auto", "offline", "llm")


class VoiceInsightsConfig(dg.Config):
    method: str = Field(default="auto", description="auto | offline | llm. auto = llm when the `llm` resource is "
                                                    "enabled, else offline (modes without an offline method are "
                                                    "skipped). llm with no LLM configured fails the run.")
    modes: list[str] = Field(default=["DEFAULT", "TONE"], description="Modes to run (from the mode registry).")
    modes_file: str | None = Field(default=None, description="YAML/JSON file adding or overriding modes "
                                                             f"(default ${MODES_FILE_ENV}, if set).")
    mode_models: dict[str, str] = Field(default_factory=dict, description="Model per mode, e.g. "
                                        "{\"DEFAULT\": \"o3\", \"TONE\": \"gpt-4o\"}; 'default' = the llm resource's.")
    concurrency: int = Field(default=4, description="Transcripts analysed at once; each runs all its modes at once.")
    batch_size: int = Field(default=32, description="Transcripts per write transaction.")
    llm_max_consecutive_failures: int = Field(default=5, description="After this many failed LLM calls in a row, a "
                                              "mode stops calling the LLM for the rest of the run.")
    force: bool = Field(default=False, description="Recompute rows that are up to date.")


def _window_label(context: dg.AssetExecutionContext) -> str:
    if context.has_partition_key:
        return context.partition_key
    r = context.partition_key_range
    return f"{r.start}..{r.end}"


def _resolve_mode(method: str, llm: LLMResource) -> str:
    if method not in METHOD_CHOICES:
        raise dg.Failure(f"method must be one of {METHOD_CHOICES}, not {method!r}")
    if method == "auto":
        return "llm" if llm.is_enabled() else "offline"
    if method == "llm" and not llm.is_enabled():
        raise dg.Failure("method=llm but the llm resource has no API key or base URL "
                         "(set TELEGRAM_INTEL_LLM_BASE_URL / TELEGRAM_INTEL_LLM_API_KEY, or use method=offline)")
    return method


def _needs_run(existing: dict[str, Any] | None, sha: str, target: str, force: bool) -> bool:
    if force or not existing:
        return True
    if existing.get("sha") != sha or existing.get("status") != "ok":
        return True
    if existing.get("method") == target:
        return False
    # offline never replaces an LLM answer of the same transcript
    return not (target.startswith("offline:") and str(existing.get("method", "")).startswith("llm:"))


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[dg.AssetDep("voice_transcripts")],
    group_name="voice",
    kinds={"postgres", "openai"},
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
)
def voice_insights(
    context: dg.AssetExecutionContext,
    config: VoiceInsightsConfig,
    telegram: TelegramIntelResource,
    llm: LLMResource,
) -> dg.MaterializeResult:
    """Analyses of each voice transcript: `voice_insights`, one row per (chat_id, message_id, mode), daily
    partitions by message date.

    Modes come from a registry (`telegram_intel/lib/voice_modes.py`; more by a YAML/JSON file): DEFAULT —
    summary, 3–5 key points, actions; TONE — hidden intent, dominant emotion, how best to answer. A transcript's
    modes run concurrently through the LLM layer, each with its own model and prompt, on the PII-masked
    transcript. Without an LLM (or when it fails) DEFAULT uses its offline extractive method (`method` says which
    made each row); TONE has none and is skipped. Only transcripts without an up-to-date row per mode."""
    lo, hi = partition_bounds(context)
    mode = _resolve_mode(config.method, llm)
    try:
        registry = load_registry(config.modes_file or os.environ.get(MODES_FILE_ENV) or None,
                                 models=config.mode_models)
        modes = registry.validate(config.modes)
    except ModeRegistryError as exc:
        raise dg.Failure(str(exc)) from exc
    tags = {"asset": "voice_insights", "run_id": context.run.run_id, "partition": _window_label(context)}
    settings = llm.settings() if mode == "llm" else None
    plans = build_plans(modes, settings, telegram.engine, tags)
    skipped = {p.mode.name: "no LLM configured and no offline method" for p in plans if p.method is None}
    active = [p for p in plans if p.method is not None]
    targets = {p.mode.name: p.method for p in active}
    context.log.info("modes: " + "; ".join(f"{p.mode.name} → {p.method}" for p in active) +
                     (f"; skipped: {', '.join(skipped)}" if skipped else ""))

    with telegram.engine.begin() as conn:
        purged = store.purge_opted_out(conn)
        rows = store.transcripts_for_insights(conn, lo, hi)
    tasks: list[InsightTask] = []
    up_to_date = 0
    for r in rows:
        sha = store.text_sha256(r.text)
        existing = r.existing or {}
        todo = tuple(name for name, target in targets.items()
                     if _needs_run(existing.get(name), sha, target, config.force))
        up_to_date += len(targets) - len(todo)
        if todo:
            tasks.append(InsightTask(chat_id=r.chat_id, message_id=r.message_id, date=r.date,
                                     transcript_model=r.model, transcript_sha256=sha, text=mask_transcript(r.text),
                                     language=r.language, duration_s=r.duration_s, modes=todo))
    context.log.info(f"{len(tasks)} of {len(rows)} transcripts in {_window_label(context)} to analyse "
                     f"({up_to_date} mode rows up to date)")

    def write(batch: list[dict[str, Any]]) -> None:
        with telegram.engine.begin() as conn:
            store.upsert_insights(conn, batch)

    def progress(stats: RunStats, total: int) -> None:
        context.log.info(f"analysed {stats.transcripts}/{total} transcripts ({stats.rows} rows, "
                         f"{sum(stats.fallbacks.values())} offline fallbacks) in {stats.seconds:.1f}s")

    runner = InsightRunner(active, concurrency=config.concurrency, breaker_limit=config.llm_max_consecutive_failures)
    try:
        stats = runner.run(tasks, write, batch_size=config.batch_size, progress=progress)
    finally:
        runner.close()

    methods = dict(stats.methods)
    metadata: dict[str, Any] = {
        "mode": mode,
        "method_requested": config.method,
        "modes": dg.MetadataValue.json({p.mode.name: p.describe() for p in active}),
        "modes_skipped": dg.MetadataValue.json(skipped),
        "transcripts_in_partition": len(rows),
        "transcripts_analysed": stats.transcripts,
        "rows_written": stats.rows,
        "rows_up_to_date": up_to_date,
        "methods_written": dg.MetadataValue.json(methods),
        "methods_chart": dg.MetadataValue.md(bar_chart_markdown(
            list(methods), list(methods.values()), title=f"voice_insights rows by method ({_window_label(context)})")),
        "status": dg.MetadataValue.json(dict(stats.status)),
        "errors": sum(n for key, n in stats.status.items() if key.endswith(":error")),
        "llm_fallbacks": dg.MetadataValue.json(dict(stats.fallbacks)),
        "peak_concurrent_llm_calls": stats.peak_concurrent_calls,
        "opted_out_rows_purged": dg.MetadataValue.json(purged),
        "duration_s": round(stats.seconds, 3),
        "window": f"[{lo.isoformat()}, {hi.isoformat()})",
        **{k: v for k, v in llm.describe().items() if v is not None},
    }
    if mode == "llm":
        metadata.update({
            "llm_answers": dg.MetadataValue.json(dict(stats.llm_ok)),
            "llm_failed": dg.MetadataValue.json(dict(stats.llm_failed)),
            "llm_failure_kinds": dg.MetadataValue.json(dict(stats.failure_kinds)),
            "llm_skipped_after_breaker": dg.MetadataValue.json(dict(stats.skipped_after_breaker)),
            **usage_summary(telegram.engine, tags=tags),
        })
    return dg.MaterializeResult(metadata=metadata)
