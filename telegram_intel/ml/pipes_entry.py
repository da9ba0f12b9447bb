"""The heavy steps as a program of their own, launched through Dagster Pipes: ``lora`` (peft LoRA training,
``ml/lora.py``) and ``whisper`` (a batch of audio files, ``ml/whisper.py``).

``python -m telegram_intel.ml.pipes_entry`` is what a ``PipesSubprocessClient`` runs on the same machine and what a
``PipesK8sClient`` pod runs from the project's (CUDA) image; the task and its inputs come as Pipes extras, results
go back as Pipes custom messages (one per transcribed file, and one ``result``), logs as Pipes log lines. Files
(datasets, base models, adapters, audio) are read and written under paths that both sides see: the storage folder,
on a shared volume in Kubernetes.

Standalone, without Dagster (a GPU box, a debugging session): ``python -m telegram_intel.ml.pipes_entry
extras.json`` runs the task described in the file and prints the messages as JSON lines.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

Emit = Callable[[dict[str, Any]], None]
Log = Callable[[str], None]


class TaskError(ValueError):
    """The extras do not describe a task this program can run."""


def _require(extras: dict[str, Any], *names: str) -> list[Any]:
    missing = [n for n in names if extras.get(n) in (None, "")]
    if missing:
        raise TaskError(f"task {extras.get('task')!r} needs extras {', '.join(missing)}")
    return [extras[n] for n in names]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def run_lora(extras: dict[str, Any], log: Log, emit: Emit) -> dict[str, Any]:
    """peft LoRA on ``dataset_dir/train.jsonl`` (validation on ``val.jsonl``) into ``out_dir``."""
    from telegram_intel.ml.lora import LoraParams, train_lora

    dataset_dir, out_dir, base_path = _require(extras, "dataset_dir", "out_dir", "base_path")
    known = {f.name for f in fields(LoraParams)}
    params = dict(extras.get("params") or {})
    unknown = sorted(set(params) - known)
    if unknown:
        raise TaskError(f"unknown LoRA parameters {unknown}")
    if "target_modules" in params:
        params["target_modules"] = tuple(params["target_modules"])
    if extras.get("torch_threads"):
        import torch

        torch.set_num_threads(int(extras["torch_threads"]))
    train = _read_jsonl(Path(dataset_dir) / "train.jsonl")
    if not train:
        raise TaskError(f"no training examples in {Path(dataset_dir) / 'train.jsonl'}")
    result = train_lora(base_path, train, Path(out_dir), LoraParams(**params),
                        val_records=_read_jsonl(Path(dataset_dir) / "val.jsonl"),
                        device=extras.get("device") or "cpu", merge=bool(extras.get("merge")), log=log)
    return {"adapter_dir": result.adapter_dir, "merged_dir": result.merged_dir, "steps": result.steps,
            "losses": result.losses, "eval_losses": [] if result.val_loss is None else [result.val_loss],
            "trainable_params": result.trainable_params, "total_params": result.total_params,
            "tokens": result.tokens, "tokens_per_second": round(result.tokens_per_second, 1),
            "train_runtime": round(result.seconds, 3), "examples": result.examples}


#: WhisperResource fields the batch passes on to the Transcriber.
TRANSCRIBER_OPTIONS = ("device", "compute_type", "cpu_threads", "beam_size", "batched", "batch_size", "vad_filter",
                       "models_dir", "allow_download")


def run_whisper(extras: dict[str, Any], log: Log, emit: Emit) -> dict[str, Any]:
    """Transcribe ``files`` (``[{"key", "path", "language"}]``); one ``transcript`` message per file, in order."""
    from telegram_intel.ml.whisper import Transcriber, TranscriptionError

    model, files = _require(extras, "model", "files")
    options = {k: v for k, v in (extras.get("options") or {}).items() if k in TRANSCRIBER_OPTIONS and v is not None}
    transcriber = Transcriber(model, **options)  # ModelError: nothing can be done, the step fails
    log(f"whisper {model} on {transcriber.device}/{transcriber.compute_type}: {len(files)} files")
    ok = errors = 0
    audio_s = 0.0
    started = time.perf_counter()
    for f in files:
        try:
            t = transcriber.transcribe(f["path"], language=f.get("language"))
        except TranscriptionError as exc:
            errors += 1
            emit({"type": "transcript", "key": f["key"], "ok": False, "kind": exc.kind, "error": str(exc)})
        else:
            ok += 1
            audio_s += t.duration_s
            emit({"type": "transcript", "key": f["key"], "ok": True, "transcript": t.to_dict()})
    return {"files": len(files), "transcribed": ok, "errors": errors, "audio_seconds": round(audio_s, 2),
            "seconds": round(time.perf_counter() - started, 3), "whisper": transcriber.describe()}


TASKS: dict[str, Callable[[dict[str, Any], Log, Emit], dict[str, Any]]] = {"lora": run_lora, "whisper": run_whisper}


def run_task(extras: dict[str, Any], log: Log, emit: Emit) -> dict[str, Any]:
    task = extras.get("task")
    if task not in TASKS:
        raise TaskError(f"unknown task {task!r}: one of {', '.join(TASKS)}")
    result = TASKS[task](extras, log, emit)
    emit({"type": "result", "task": task, **result})
    return result


def transcript_from_dict(data: dict[str, Any]):
    """The ``Transcript`` a ``transcript`` message carries."""
    from telegram_intel.ml.whisper import Segment, Transcript

    names = {f.name for f in fields(Transcript)}
    values = {k: v for k, v in data.items() if k in names}
    values["segments"] = [Segment(**s) for s in data.get("segments") or []]
    return Transcript(**values)


class ReplayTranscriber:
    """Answers ``transcribe(path)`` from a finished batch (the ``transcript`` messages by file key), so the code
    that writes transcript rows runs unchanged whether whisper ran here, in a subprocess or in a pod."""

    def __init__(self, messages: list[dict[str, Any]], result: dict[str, Any]) -> None:
        self._by_key = {m["key"]: m for m in messages if m.get("type") == "transcript"}
        info = result.get("whisper") or {}
        self.device = info.get("device")
        self.compute_type = info.get("compute_type")
        self._describe = info

    def describe(self) -> dict[str, Any]:
        return dict(self._describe)

    def transcribe(self, path: str | Path, *, language: str | None = None):
        from telegram_intel.ml.whisper import TranscriptionError

        message = self._by_key.get(str(path))
        if message is None:
            raise TranscriptionError(f"the batch returned nothing for {Path(path).name}", kind="not_in_batch")
        if not message["ok"]:
            raise TranscriptionError(message["error"], kind=message["kind"])
        return transcript_from_dict(message["transcript"])


def main(argv: list[str]) -> int:
    if argv:  # standalone: the extras in a JSON file, messages printed as JSON lines
        extras = json.loads(Path(argv[0]).read_text(encoding="utf-8"))

        def emit(message: dict[str, Any]) -> None:
            print(json.dumps(message, ensure_ascii=False), flush=True)

        try:
            run_task(extras, lambda m: print(m, file=sys.stderr, flush=True), emit)
        except TaskError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0

    from dagster_pipes import open_dagster_pipes

    with open_dagster_pipes() as pipes:
        run_task(dict(pipes.extras), pipes.log.info, pipes.report_custom_message)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
