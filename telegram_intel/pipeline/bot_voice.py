"""Voice insight for the bot (seed 004): audio bytes → faster-whisper transcript → the voice modes (DEFAULT, TONE
and custom ones from the registry of ``voice_modes.py``) run concurrently through ``voice_analysis`` → one result,
cached by audio SHA-256 for ``cache_hours`` and then deleted (no permanent copy of bot users' texts).

The registry is re-read when the modes file changes (hot reload); a file that no longer validates is refused
and the last good registry stays in use. ``set_model`` checks a mode's new model with a real call before it is
used and keeps the old one when that fails. Token use per mode comes from the ``llm_calls`` rows of the request.
No Dagster here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from telegram_intel.llm.config import LLMSettings
from telegram_intel.llm.errors import LLMError
from telegram_intel.llm.prompts import load_prompt
from telegram_intel.ml.whisper import Transcriber, TranscriptionError
from telegram_intel.pipeline import bot_state
from telegram_intel.pipeline.voice_analysis import InsightRunner, InsightTask, build_plans, mask_transcript
from telegram_intel.pipeline.voice_modes import ModeRegistry, ModeRegistryError, VoiceMode, load_registry

log = logging.getLogger(__name__)

PROBE_TRANSCRIPT = "Please send me the report by Friday, I need it for the meeting."


class VoiceFailed(Exception):
    """This audio cannot be turned into an insight; ``kind``: a short reason (from whisper's errors)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class ModeChangeRejected(ValueError):
    """/set_model refused: the mode or model is not usable; the previous model stays."""


@dataclass
class VoiceInsightResult:
    audio_sha256: str
    transcript: str
    language: str | None
    language_probability: float | None
    duration_s: float
    modes: dict[str, dict[str, Any]]  # name -> {status, method, model, result, error}
    tokens: dict[str, dict[str, int]] = field(default_factory=dict)  # mode -> {prompt, completion}
    transcribe_s: float = 0.0
    analyse_s: float = 0.0
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("cached")
        return data


class VoiceInsightService:
    def __init__(self, engine: Engine, *, whisper_model: str = "base", language: str = "auto",
                 modes: tuple[str, ...] = (), modes_file: str | None = None, llm: LLMSettings | None = None,
                 cache_hours: float = 24.0, transcriber: Transcriber | None = None,
                 models_dir: str | None = None) -> None:
        self.engine = engine
        self.whisper_model = whisper_model
        self.language = language
        self.mode_names = tuple(modes)
        self.modes_file = modes_file
        self.llm = llm if llm is not None and llm.is_enabled else None
        self.cache_hours = cache_hours
        self.models_dir = models_dir
        self._transcriber = transcriber
        self._lock = threading.Lock()
        self._registry: ModeRegistry | None = None
        self._registry_stamp: Any = None
        self.overrides: dict[str, str] = {}
        self.reload_error: str | None = None

    # -- models ---------------------------------------------------------------------------------------------

    def transcriber(self) -> Transcriber:
        with self._lock:
            if self._transcriber is None:
                self._transcriber = Transcriber(self.whisper_model, models_dir=self.models_dir)
            return self._transcriber

    def _file_stamp(self) -> Any:
        if not self.modes_file:
            return None
        try:
            st = Path(self.modes_file).expanduser().stat()
        except OSError:
            return "missing"
        return (st.st_mtime_ns, st.st_size)

    def _load(self, overrides: dict[str, str]) -> ModeRegistry:
        registry = load_registry(self.modes_file, models=overrides)
        registry.validate(self.mode_names or None)
        return registry

    def registry(self) -> ModeRegistry:
        """The current registry: reloaded when the modes file changed; the last good one when it no longer
        validates (the problem is kept in ``reload_error`` and logged)."""
        stamp = self._file_stamp()
        with self._lock:
            if self._registry is not None and stamp == self._registry_stamp:
                return self._registry
            try:
                registry = self._load(self.overrides)
            except ModeRegistryError as exc:
                if self._registry is None:
                    raise
                self.reload_error = str(exc)
                self._registry_stamp = stamp  # do not retry until the file changes again
                log.warning("voice modes file rejected, keeping the previous modes: %s", "; ".join(exc.problems))
                return self._registry
            if self._registry is not None:
                log.info("voice modes reloaded: %s", ", ".join(registry.names()))
            self._registry, self._registry_stamp, self.reload_error = registry, stamp, None
            return registry

    def modes(self) -> list[VoiceMode]:
        return self.registry().validate(self.mode_names or None)

    def describe_modes(self) -> list[dict[str, Any]]:
        default_model = self.llm.model if self.llm else None
        out = []
        for mode in self.modes():
            out.append({"name": mode.name, "description": mode.description,
                        "model": mode.resolved_model(default_model) if self.llm else None,
                        "method": "llm" if self.llm else (f"offline:{mode.offline}" if mode.offline else None),
                        "overridden": mode.name in self.overrides})
        return out

    def set_model(self, mode: str, model: str) -> str:
        """Use ``model`` for ``mode`` after checking it: the registry with the change must validate and one real
        call with the new model must return a valid answer. Returns the previous model."""
        mode, model = mode.strip().upper(), model.strip()
        if not model:
            raise ModeChangeRejected("give a model name")
        current = self.registry()
        if mode not in current:
            raise ModeChangeRejected(f"unknown mode {mode} (known: {', '.join(current.names())})")
        if self.llm is None:
            raise ModeChangeRejected("no LLM is configured, so a model cannot be checked or used")
        try:
            candidate = self._load({**self.overrides, mode: model})
        except ModeRegistryError as exc:
            raise ModeChangeRejected("; ".join(exc.problems)) from None
        plan = build_plans([candidate[mode]], self.llm, self.engine, {"source": "bot", "probe": mode})[0]
        try:
            plan.client.complete_json(plan.prompt_name, {"transcript": PROBE_TRANSCRIPT, "language": "en",
                                                         "duration_s": 4.0}, candidate[mode].schema, model=model,
                                      tags={"mode": mode})
        except LLMError as exc:
            raise ModeChangeRejected(f"model {model!r} failed the check ({type(exc).__name__}): kept "
                                     f"{current[mode].resolved_model(self.llm.model)!r}") from None
        finally:
            plan.client.close()
        previous = current[mode].resolved_model(self.llm.model)
        with self._lock:
            self.overrides[mode] = model
            self._registry, self._registry_stamp = candidate, self._file_stamp()
        return previous

    # -- one voice message ----------------------------------------------------------------------------------

    def variant(self, modes: list[VoiceMode]) -> str:
        """What a cached result depends on besides the audio."""
        parts = {"whisper": self.whisper_model, "language": self.language, "llm": bool(self.llm), "modes": [
            [m.name, m.resolved_model(self.llm.model) if self.llm else None, m.prompt,
             load_prompt(*m.prompt_location).version, m.offline] for m in modes]}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def analyse(self, data: bytes, *, user_id: int | None = None, suffix: str = ".ogg") -> VoiceInsightResult:
        """Transcribe and analyse ``data`` (any audio FFmpeg reads); ``VoiceFailed`` when it cannot be
        transcribed. A cached result of the same audio and settings is returned as is."""
        if not data:
            raise VoiceFailed("the audio file is empty", "empty_file")
        sha = hashlib.sha256(data).hexdigest()
        modes = self.modes()
        variant = self.variant(modes)
        cached = bot_state.cached_voice(self.engine, sha, variant)
        if cached is not None:
            result = VoiceInsightResult(**cached)
            result.cached = True
            return result
        transcriber = self.transcriber()
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="ti-bot-voice-") as tmp:
            path = Path(tmp) / f"audio{suffix if suffix.startswith('.') else '.ogg'}"
            path.write_bytes(data)
            try:
                transcript = transcriber.transcribe(path, language=self.language)
            except TranscriptionError as exc:
                raise VoiceFailed(str(exc), exc.kind) from None
        transcribe_s = time.perf_counter() - started
        result = VoiceInsightResult(audio_sha256=sha, transcript=transcript.text, language=transcript.language,
                                    language_probability=transcript.language_probability,
                                    duration_s=transcript.duration_s, modes={}, transcribe_s=round(transcribe_s, 3))
        if transcript.text.strip():
            started = time.perf_counter()
            result.modes, result.tokens = self._run_modes(modes, transcript)
            result.analyse_s = round(time.perf_counter() - started, 3)
        bot_state.cache_voice(self.engine, sha, variant, user_id, result.to_json(), self.cache_hours)
        return result

    def _run_modes(self, modes: list[VoiceMode], transcript: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        request = uuid.uuid4().hex
        plans = build_plans(modes, self.llm, self.engine, {"source": "bot", "request": request})
        out: dict[str, dict[str, Any]] = {}
        for plan in plans:
            if plan.method is None:
                out[plan.mode.name] = {"status": "unavailable", "method": None, "model": None, "result": None,
                                       "error": "no LLM configured and no offline method"}
        active = [p for p in plans if p.method is not None]
        rows: list[dict[str, Any]] = []
        task = InsightTask(chat_id=0, message_id=0, date=datetime.now(timezone.utc), transcript_model=self.whisper_model,
                           transcript_sha256=hashlib.sha256(transcript.text.encode()).hexdigest(),
                           text=mask_transcript(transcript.text), language=transcript.language,
                           duration_s=transcript.duration_s, modes=tuple(p.mode.name for p in active))
        runner = InsightRunner(active, concurrency=1, breaker_limit=1_000_000)
        try:
            runner.run([task], rows.extend)
        finally:
            runner.close()
        for row in rows:
            out[row["mode"]] = {"status": row["status"], "method": row["method"], "model": row["llm_model"],
                                "result": row["result"], "error": row["error"],
                                "started_at": row["started_at"].isoformat(),
                                "finished_at": row["finished_at"].isoformat()}
        return {m.name: out[m.name] for m in modes if m.name in out}, self._tokens(request)

    def _tokens(self, request: str) -> dict[str, dict[str, int]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT tags->>'mode' AS mode, sum(prompt_tokens) AS p, sum(completion_tokens) AS c FROM llm_calls "
                "WHERE tags @> CAST(:tags AS jsonb) GROUP BY 1"), {"tags": json.dumps({"request": request})}).all()
        return {r.mode: {"prompt": int(r.p or 0), "completion": int(r.c or 0)} for r in rows if r.mode}
