"""``voice_insights``: DEFAULT and TONE (and any configured mode) analyses of each transcript, run concurrently."""


import os

import dagster as dg
from pydantic import Field

from telegram_intel.db.llm_calls import usage_summary
from telegram_intel.defs.metadata import materialize_result
from telegram_intel.defs.partitions import (
    DAILY_ENRICHMENT,
    daily_message_partitions,
    partition_bounds,
)
from telegram_intel.defs.resources import LLMResource, TelegramIntelResource
from telegram_intel.pipeline.voice_analysis import (
    analyse_window,
)
from telegram_intel.pipeline.voice_modes import (
    MODES_FILE_ENV,
    ModeRegistryError,
    load_registry,
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


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[dg.AssetDep("voice_transcripts")],
    group_name="voice",
    kinds={"postgres", "openai"},
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
    automation_condition=DAILY_ENRICHMENT,
    pool="llm",
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
    report = analyse_window(
        telegram.engine, lo, hi, modes, mode=mode, requested=config.method,
        settings=llm.settings() if mode == "llm" else None, tags=tags, llm_description=llm.describe(),
        llm_usage=lambda: usage_summary(telegram.engine, tags=tags), concurrency=config.concurrency,
        breaker_limit=config.llm_max_consecutive_failures, batch_size=config.batch_size, force=config.force,
        label=_window_label(context))
    return materialize_result(report)

