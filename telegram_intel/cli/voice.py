"""`telegram-intel transcribe FILE`: one audio/video file through faster-whisper (no database needed)."""

from __future__ import annotations

import json
from pathlib import Path

import click


def register(main: click.Group) -> None:
    """Add the ``transcribe`` command to the ``telegram-intel`` group."""

    @main.command("transcribe")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--model", default=None,
                  help="Packaged 'base' (multilingual; the default) or 'tiny.en' (English), another faster-whisper "
                       "name, or a local model directory. Default: $TELEGRAM_INTEL_WHISPER_MODEL or base.")
    @click.option("--language", default="auto", show_default=True,
                  help="ru | en | auto (detect) | any whisper language code.")
    @click.option("--device", default="auto", show_default=True, help="auto | cpu | cuda.")
    @click.option("--compute-type", default="auto", show_default=True, help="auto = int8 on CPU, float16 on CUDA.")
    @click.option("--beam-size", default=5, show_default=True, type=click.IntRange(1, 20))
    @click.option("--batched", is_flag=True, help="Use the batched pipeline (VAD chunks decoded as a batch).")
    @click.option("--allow-download", is_flag=True, help="Let faster-whisper download a model that is not local.")
    @click.option("--json", "as_json", is_flag=True, help="Print the transcript, segments and timings as JSON.")
    def transcribe_cmd(file: Path, model: str | None, language: str, device: str, compute_type: str,
                       beam_size: int, batched: bool, allow_download: bool, as_json: bool) -> None:
        """Transcribe one voice message, video note or audio file (anything FFmpeg reads).

        Prints the text (or JSON with segments and timestamps), then the language and speed on stderr. Exits 1
        with the reason when the file cannot be decoded or the model cannot be loaded.
        """
        import os

        from telegram_intel.ml.whisper import (
            Transcriber,
            TranscriptionError,
            normalize_language,
        )

        try:
            normalize_language(language)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--language") from None
        model = model or os.environ.get("TELEGRAM_INTEL_WHISPER_MODEL") or "base"
        try:
            transcriber = Transcriber(model, device=device, compute_type=compute_type, beam_size=beam_size,
                                      batched=batched, allow_download=allow_download)
            result = transcriber.transcribe(file, language=language)
        except TranscriptionError as exc:
            raise click.ClickException(f"{exc.kind}: {exc}") from None
        if as_json:
            data = result.to_dict()
            data["model_load_s"] = round(transcriber.load_seconds, 3)
            data["file"] = str(file)
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return
        click.echo(result.text)
        rtf = result.real_time_factor
        prob = "" if result.language_probability is None else f", p={result.language_probability:.2f}"
        click.echo(f"[{result.language or '?'} ({result.language_source}{prob}); {result.duration_s:.1f} s of audio "
                   f"in {result.processing_s:.2f} s (RTF {rtf:.3f}); model {model} on {result.device}/"
                   f"{result.compute_type}, loaded in {transcriber.load_seconds:.1f} s]" if rtf is not None else
                   f"[{result.language or '?'}; model {model}]", err=True)
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
