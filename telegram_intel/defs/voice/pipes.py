"""``voice_transcripts`` with whisper outside the step's process: the partition's pending files go as one batch to
``ml/pipes_entry.py`` (task ``whisper``) through Dagster Pipes — a subprocess or a Kubernetes pod on a GPU node
(``whisper.compute``, see ``defs/pipes.py``) — and the transcripts it sends back are written by the same code as
in-process ones (``pipeline/voice.py``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg

from telegram_intel.defs.pipes import ComputeConfigError
from telegram_intel.defs.voice.resources import DEVICE_ENV, WhisperResource
from telegram_intel.ml.pipes_entry import ReplayTranscriber
from telegram_intel.pipeline import voice as store


class BatchWhisper:
    """What ``transcribe_window`` asks of the whisper resource, answered from a finished Pipes batch."""

    def __init__(self, resource: WhisperResource, transcriber: ReplayTranscriber, where: str) -> None:
        self._resource, self._transcriber, self.where = resource, transcriber, where

    def model_name(self) -> str:
        return self._resource.model_name()

    def language_for(self, chat_id: int) -> tuple[str | None, str]:
        return self._resource.language_for(chat_id)

    def transcriber(self) -> ReplayTranscriber:
        return self._transcriber

    @property
    def loaded(self) -> bool:
        return True

    def describe(self) -> dict[str, Any]:
        return {**self._transcriber.describe(), "launched": self.where}


def whisper_for_window(context: dg.AssetExecutionContext, whisper: WhisperResource, engine, storage_dir: Path,
                       lo, hi, *, media_types, retry_errors: bool) -> WhisperResource | BatchWhisper:
    """The resource itself when whisper runs in this process; else the transcripts of the window's pending files,
    computed through Pipes."""
    try:
        mode = whisper.compute.resolved_mode()
    except ComputeConfigError as exc:
        raise dg.Failure(str(exc)) from exc
    if mode == "in_process":
        return whisper
    with engine.connect() as conn:
        pending = store.pending_files(conn, whisper.model_name(), lo, hi, media_types=media_types,
                                      retry_errors=retry_errors)
    files = [{"key": str(Path(storage_dir) / m.file_path), "path": str(Path(storage_dir) / m.file_path),
              "language": whisper.language_for(m.chat_id)[0]} for m in pending]
    options = {"device": whisper.compute.setting("device") or whisper.device or os.environ.get(DEVICE_ENV) or "auto",
               "compute_type": whisper.compute_type, "cpu_threads": whisper.cpu_threads,
               "beam_size": whisper.beam_size, "batched": whisper.batched, "batch_size": whisper.batch_size,
               "vad_filter": whisper.vad_filter, "models_dir": whisper.models_dir,
               "allow_download": whisper.allow_download}
    if not files:
        return whisper  # nothing to transcribe: no pod, no model load
    try:
        outcome = whisper.compute.launch(
            context, {"task": "whisper", "model": whisper.model_name(), "files": files, "options": options},
            storage_dir=storage_dir)
    except ComputeConfigError as exc:
        raise dg.Failure(str(exc)) from exc
    context.log.info(f"whisper batch through Pipes ({outcome.where}): {outcome.result['transcribed']} of "
                     f"{outcome.result['files']} files transcribed in {outcome.result['seconds']} s")
    return BatchWhisper(whisper, ReplayTranscriber(outcome.messages, outcome.result), outcome.where)
