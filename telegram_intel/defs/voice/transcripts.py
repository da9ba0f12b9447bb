"""``voice_transcripts``: faster-whisper over every stored voice message, video note and audio file."""



import dagster as dg
from pydantic import Field

from telegram_intel.defs.metadata import materialize_result
from telegram_intel.defs.partitions import (
    DAILY_ENRICHMENT,
    MESSAGES_DEP,
    daily_message_partitions,
    partition_bounds,
)
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.voice import pipes as voice_pipes
from telegram_intel.defs.voice.resources import WhisperResource
from telegram_intel.pipeline import voice as store


class VoiceTranscriptsConfig(dg.Config):
    media_types: list[str] = Field(default=list(store.VOICE_MEDIA_TYPES),
                                   description="telegram_messages.media_type values to transcribe.")
    retry_errors: bool = Field(default=False, description="Transcribe files that failed before again.")
    write_batch: int = Field(default=16, description="Transcripts per write transaction.")
    log_every_s: float = Field(default=15.0, description="Progress log interval (seconds).")


def _window_label(context: dg.AssetExecutionContext) -> str:
    if context.has_partition_key:
        return context.partition_key
    r = context.partition_key_range
    return f"{r.start}..{r.end}"


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[MESSAGES_DEP],
    group_name="voice",
    kinds={"postgres", "python"},
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
    automation_condition=DAILY_ENRICHMENT,
    pool="heavy_ml",
)
def voice_transcripts(
    context: dg.AssetExecutionContext,
    config: VoiceTranscriptsConfig,
    telegram: TelegramIntelResource,
    whisper: WhisperResource,
) -> dg.MaterializeResult:
    """Transcripts of voice messages, video notes and audio files: `voice_transcripts`, one row per (chat_id,
    message_id, model), daily partitions by message date (UTC).

    faster-whisper (model loaded once per run; packaged `base` multilingual by default, `tiny.en`, or any name or
    path), segments with timestamps, detected or forced language (per chat) with its probability. Only messages
    with a stored file and no transcript by the configured model yet. A file that cannot be decoded or
    transcribed gets a row with `status = 'error'` and the reason; the rest of the partition goes on. The
    transcript becomes the message's text in `clean_messages` (marked `is_transcript`)."""
    lo, hi = partition_bounds(context)
    try:
        whisper.validate_config()
    except ValueError as exc:
        raise dg.Failure(str(exc)) from exc
    storage_dir = telegram.settings().storage_dir
    runner = voice_pipes.whisper_for_window(context, whisper, telegram.engine, storage_dir, lo, hi,
                                            media_types=config.media_types, retry_errors=config.retry_errors)
    try:
        report = store.transcribe_window(
            telegram.engine, storage_dir, lo, hi, runner, media_types=config.media_types,
            retry_errors=config.retry_errors, write_batch=config.write_batch, log_every_s=config.log_every_s,
            label=_window_label(context))
    except store.VoiceModelUnusable as exc:
        raise dg.Failure(str(exc)) from exc
    return materialize_result(report)
