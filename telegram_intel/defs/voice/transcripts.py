"""``voice_transcripts``: faster-whisper over every stored voice message, video note and audio file."""


import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from telegram_intel.defs.partitions import (
    MESSAGES_DEP,
    daily_message_partitions,
    partition_bounds,
)
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.voice.resources import WhisperResource
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.ml.whisper import ModelError, TranscriptionError
from telegram_intel.pipeline import voice as store

ERROR_TEXT_LIMIT = 500


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
    model = whisper.model_name()
    storage_dir = telegram.settings().storage_dir
    with telegram.engine.begin() as conn:
        purged = store.purge_opted_out(conn)
        window = store.voice_messages_in_window(conn, lo, hi, config.media_types)
        pending = store.pending_files(conn, model, lo, hi, media_types=config.media_types,
                                      retry_errors=config.retry_errors)
    context.log.info(f"{len(pending)} of {window['with_file']} stored voice/audio files in "
                     f"{_window_label(context)} to transcribe with {model} "
                     f"({window['messages'] - window['with_file']} without a stored file)")

    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    languages: Counter = Counter()
    error_kinds: Counter = Counter()
    errors: list[str] = []
    ok = no_speech = 0
    audio_s = processing_s = 0.0
    last_log = started

    def flush() -> None:
        if batch:
            with telegram.engine.begin() as conn:
                store.upsert_transcripts(conn, batch)
            batch.clear()

    for i, msg in enumerate(pending, start=1):
        language, language_origin = whisper.language_for(msg.chat_id)
        row: dict[str, Any] = {
            "chat_id": msg.chat_id, "message_id": msg.message_id, "model": model, "date": msg.date,
            "media_type": msg.media_type, "file_path": msg.file_path, "file_sha256": msg.sha256,
            "text": None, "language": None, "language_probability": None, "language_source": None,
            "segments": None, "duration_s": None, "processing_s": None, "device": None, "compute_type": None,
            "error_kind": None, "error": None,
        }
        try:
            transcriber = whisper.transcriber()
        except ModelError as exc:  # nothing can be transcribed: fail the run, keeping what was written
            flush()
            raise dg.Failure(f"whisper model {model!r} is not usable: {exc}") from exc
        if i == 1:
            context.log.info(f"whisper ready: {transcriber.describe()}")
        file_started = time.perf_counter()
        try:
            result = transcriber.transcribe(Path(storage_dir) / msg.file_path, language=language)
        except TranscriptionError as exc:
            row.update(status="error", error_kind=exc.kind, error=str(exc)[:ERROR_TEXT_LIMIT],
                       processing_s=round(time.perf_counter() - file_started, 4),
                       device=transcriber.device, compute_type=transcriber.compute_type)
        except Exception as exc:  # a library bug on one odd file must not stop the partition
            row.update(status="error", error_kind="internal",
                       error=f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT],
                       processing_s=round(time.perf_counter() - file_started, 4))
        else:
            source = result.language_source
            if source == "forced" and language_origin == "chat":
                source = "chat"
            row.update(status="ok", text=result.text, language=result.language,
                       language_probability=result.language_probability, language_source=source,
                       segments=[s.to_dict() for s in result.segments], duration_s=result.duration_s,
                       processing_s=result.processing_s, device=result.device, compute_type=result.compute_type)
        if row["status"] == "ok":
            ok += 1
            no_speech += not row["text"]
            languages[row["language"] or "none"] += 1
            audio_s += row["duration_s"] or 0.0
            processing_s += row["processing_s"] or 0.0
        else:
            error_kinds[row["error_kind"]] += 1
            if len(errors) < 20:
                errors.append(f"{msg.chat_id}/{msg.message_id} ({msg.file_path}): {row['error']}")
            context.log.warning(f"message {msg.chat_id}/{msg.message_id}: {row['error_kind']}: {row['error']}")
        batch.append(row)
        if len(batch) >= config.write_batch:
            flush()
        now = time.perf_counter()
        if now - last_log >= config.log_every_s or i == len(pending):
            rtf = processing_s / audio_s if audio_s else 0.0
            context.log.info(f"transcribed {i}/{len(pending)} files ({ok} ok, {sum(error_kinds.values())} errors), "
                             f"{audio_s:.0f} s of audio, real-time factor {rtf:.3f}, {now - started:.0f} s elapsed")
            last_log = now
    flush()
    seconds = time.perf_counter() - started
    rtf = round(processing_s / audio_s, 4) if audio_s else None
    whisper_info = whisper.describe()
    metadata: dict[str, Any] = {
        "model": model,
        "model_loaded": whisper.loaded,
        **{f"whisper_{k}": v for k, v in whisper_info.items() if k != "model" and v is not None},
        "voice_messages_in_partition": window["messages"],
        "with_stored_file": window["with_file"],
        "processed": len(pending),
        "transcribed": ok,
        "no_speech": no_speech,
        "errors": sum(error_kinds.values()),
        "error_kinds": dg.MetadataValue.json(dict(error_kinds)),
        "error_examples": dg.MetadataValue.json(errors),
        "audio_seconds": round(audio_s, 2),
        "processing_seconds": round(processing_s, 2),
        "real_time_factor": rtf if rtf is not None else 0.0,
        "seconds_per_60s_audio": round(60 * rtf, 2) if rtf is not None else 0.0,
        "languages": dg.MetadataValue.json(dict(languages.most_common())),
        "languages_chart": dg.MetadataValue.md(bar_chart_markdown(
            list(languages), list(languages.values()), title=f"Transcripts by language ({_window_label(context)})")),
        "opted_out_rows_purged": dg.MetadataValue.json(purged),
        "duration_s": round(seconds, 3),
        "window": f"[{lo.isoformat()}, {hi.isoformat()})",
        "finished_at": datetime.now(timezone.utc).isoformat(),
    }
    return dg.MaterializeResult(metadata=metadata)
