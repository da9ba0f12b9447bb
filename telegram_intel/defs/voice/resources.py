"""``WhisperResource``: the faster-whisper model for a run, loaded once (lazily, on the first file)."""

from __future__ import annotations

import os
import threading
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from telegram_intel.defs.pipes import HeavyComputeConfig
from telegram_intel.ml.whisper import Transcriber, normalize_language

MODEL_ENV = "TELEGRAM_INTEL_WHISPER_MODEL"
DEVICE_ENV = "TELEGRAM_INTEL_WHISPER_DEVICE"
LANGUAGE_ENV = "TELEGRAM_INTEL_WHISPER_LANGUAGE"
DEFAULT_MODEL = "base"


class WhisperResource(dg.ConfigurableResource):
    """faster-whisper speech recognition. The model is loaded once per run, on the first file (a run with nothing
    to transcribe loads nothing). Offline by default: `base` (multilingual) and `tiny.en` ship in PyPI packages;
    any other faster-whisper name or a local CTranslate2 model directory works too. Fields left unset fall back to
    `TELEGRAM_INTEL_WHISPER_MODEL` / `_DEVICE` / `_LANGUAGE` read at run time."""

    model: str | None = Field(
        default=None, description="Packaged 'base' (multilingual, default) or 'tiny.en' (English), another "
                                  "faster-whisper name (small, large-v3, …) or a local model directory.")
    device: str | None = Field(default=None, description="auto | cpu | cuda (auto: cuda when a GPU is visible).")
    compute_type: str = Field(default="auto", description="auto = int8 on CPU, float16 on CUDA; or any "
                                                          "CTranslate2 type (int8_float16, float32, …).")
    cpu_threads: int = Field(default=0, description="CTranslate2 threads on CPU (0 = its default).")
    beam_size: int = Field(default=5, description="Beam size (1 = greedy, fastest).")
    batched: bool = Field(default=False, description="BatchedInferencePipeline: VAD-cut chunks decoded as a "
                                                     "batch (faster on long audio and on GPUs).")
    batch_size: int = Field(default=8, description="Chunks per batch in batched mode.")
    vad_filter: bool = Field(default=True, description="Skip non-speech with Silero VAD (no hallucinated text "
                                                       "on silence or music).")
    language: str | None = Field(default=None, description="ru | en | auto (detect) | any whisper language code.")
    chat_languages: dict[str, str] = Field(
        default_factory=dict, description="Forced language per chat: {\"<chat_id>\": \"ru\"}; wins over `language`.")
    models_dir: str | None = Field(default=None, description="Where assembled/downloaded models live "
                                                             "(default $TELEGRAM_INTEL_HOME/models).")
    allow_download: bool = Field(default=False, description="Let faster-whisper download a model that is neither "
                                                            "packaged nor cached (needs internet).")
    compute: HeavyComputeConfig = Field(default_factory=HeavyComputeConfig, description="Where whisper runs: in "
                                        "the step, a Pipes subprocess or a Kubernetes pod (defs/pipes.py).")

    _transcriber: Transcriber | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def model_name(self) -> str:
        return self.model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL

    def default_language(self) -> str | None:
        return normalize_language(self.language or os.environ.get(LANGUAGE_ENV) or "auto")

    def language_for(self, chat_id: int) -> tuple[str | None, str]:
        """(language or None for detection, where it came from: chat | config | auto) for a chat."""
        forced = self.chat_languages.get(str(chat_id))
        if forced and normalize_language(forced):
            return normalize_language(forced), "chat"
        default = self.default_language()
        return default, ("config" if default else "auto")

    def validate_config(self) -> None:
        """Fail early (before any file) on an unknown language code."""
        self.default_language()
        for chat, code in self.chat_languages.items():
            try:
                normalize_language(code)
            except ValueError as exc:
                raise ValueError(f"chat_languages[{chat}]: {exc}") from None

    def transcriber(self) -> Transcriber:
        """The run's model (loaded on the first call)."""
        with self._lock:
            if self._transcriber is None:
                self._transcriber = Transcriber(
                    self.model_name(),
                    device=self.device or os.environ.get(DEVICE_ENV) or "auto",
                    compute_type=self.compute_type,
                    cpu_threads=self.cpu_threads,
                    beam_size=self.beam_size,
                    batched=self.batched,
                    batch_size=self.batch_size,
                    vad_filter=self.vad_filter,
                    models_dir=self.models_dir,
                    allow_download=self.allow_download,
                )
            return self._transcriber

    @property
    def loaded(self) -> bool:
        return self._transcriber is not None

    def describe(self) -> dict[str, Any]:
        if self._transcriber is not None:
            return self._transcriber.describe()
        return {"model": self.model_name(), "device": self.device or os.environ.get(DEVICE_ENV) or "auto",
                "compute_type": self.compute_type, "beam_size": self.beam_size, "batched": self.batched}

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._transcriber = None  # frees the model's memory with the run
