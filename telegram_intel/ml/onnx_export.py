"""ONNX export, int8 quantization and pooling for sentence-transformers models (no optimum, no Dagster).

The transformer of a loaded ``SentenceTransformer`` (its first module) is exported once with ``torch.onnx.export``
(the torch.export-based exporter, which needs ``onnxscript``; the TorchScript exporter is the fallback) to a graph
``(input_ids, attention_mask[, token_type_ids]) -> token_embeddings`` with dynamic batch and sequence axes.
``int8`` is ONNX Runtime's dynamic quantization of that graph: weights of MatMul/Gather int8 per output channel,
activations quantized on the fly. Pooling (the model's own ``Pooling`` module configuration) runs in numpy.

Files are named by a hash of the transformer's weights (:func:`weights_fingerprint`), so a changed model gets a new
export and stale files of the same folder are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "EXPORT_VERSION",
    "INT8_CONFIGS",
    "OnnxExportError",
    "export_dir",
    "export_transformer",
    "pool",
    "quantize_int8",
    "remove_stale",
    "weights_fingerprint",
]

#: Hashed into every file name: bump it when the export recipe changes, and old files are re-exported.
EXPORT_VERSION = 1
#: ``onnx_quantization`` choices. On x86 without VNNI, ONNX Runtime's u8s8 int8 kernels can saturate, so the
#: ``avx2``/``avx512`` recipes quantize weights to 7 bits (``reduce_range``); the others use full 8 bits.
INT8_CONFIGS = {"avx2": True, "avx512": True, "avx512_vnni": False, "arm64": False}
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxExportError(RuntimeError):
    """The export or the quantization failed (the message says which and why)."""


def weights_fingerprint(module, extra: str = "") -> str:
    """16 hex digits of a blake2b hash over the names, shapes, dtypes and bytes of ``module``'s state dict (and
    ``extra``, e.g. the graph's input names)."""
    import torch

    h = hashlib.blake2b(digest_size=8)
    h.update(f"export-v{EXPORT_VERSION}|{extra}".encode())
    for name, tensor in module.state_dict().items():
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}|{tuple(t.shape)}|{t.dtype}".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def export_dir(name_or_path: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where a model's ONNX files live: ``<model folder>/onnx`` for a writable local folder, else
    ``<cache>/<model name>`` with the cache ``cache_dir``, ``$TELEGRAM_INTEL_ONNX_CACHE`` or
    ``~/.cache/telegram_intel/onnx``."""
    folder = Path(name_or_path)
    if cache_dir is None and folder.is_dir() and os.access(folder, os.W_OK):
        return folder / "onnx"
    root = Path(cache_dir or os.environ.get("TELEGRAM_INTEL_ONNX_CACHE") or Path.home() / ".cache" / "telegram_intel"
                / "onnx")
    key = str(folder.resolve()) if folder.is_dir() else name_or_path
    return root / (re.sub(r"[^\w.\-]+", "_", key).strip("_")[-120:] or "model")


def _last_hidden_state(model):
    """The torch module that is exported: ``model``'s ``last_hidden_state``."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                kwargs["token_type_ids"] = token_type_ids
            return self.model(**kwargs, return_dict=True).last_hidden_state

    return LastHiddenState().eval()


def export_transformer(model, sample: Mapping[str, np.ndarray], path: Path) -> None:
    """Export ``model`` (a transformers model) to ``path`` with the inputs of ``sample`` (a padded batch of at least
    two rows), batch and sequence axes dynamic. Writes atomically: ``path`` exists only when complete."""
    import torch

    names = [n for n in MODEL_INPUTS if n in sample]
    kwargs = {n: torch.from_numpy(np.ascontiguousarray(sample[n], dtype=np.int64)) for n in names}
    wrapper = _last_hidden_state(model)
    large = sum(p.numel() * p.element_size() for p in model.parameters()) > 1_500_000_000  # protobuf limit 2 GB
    path.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
        out = Path(tmp) / path.name
        for dynamo in (True, False):
            try:
                with _quiet(), torch.no_grad():
                    if dynamo:
                        batch, seq = torch.export.Dim("batch", min=1), torch.export.Dim("sequence", min=1)
                        torch.onnx.export(
                            wrapper, (), str(out), kwargs=kwargs, input_names=names,
                            output_names=["token_embeddings"], dynamo=True, external_data=large, verbose=False,
                            dynamic_shapes={n: {0: batch, 1: seq} for n in names},
                        )
                    else:
                        axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "token_embeddings"]}
                        torch.onnx.export(
                            wrapper, tuple(kwargs[n] for n in names), str(out), input_names=names,
                            output_names=["token_embeddings"], dynamic_axes=axes, opset_version=17, dynamo=False,
                        )
                break
            except Exception as exc:  # noqa: BLE001 - reported below with the other exporter's error
                errors.append(f"{'torch.export' if dynamo else 'TorchScript'} exporter: {type(exc).__name__}: "
                              f"{str(exc)[:500]}")
                for f in Path(tmp).iterdir():
                    f.unlink()
        else:
            raise OnnxExportError("; ".join(errors))
        _move_into_place(Path(tmp), path)


def quantize_int8(src: Path, dst: Path, config: str = "avx2") -> None:
    """Dynamic int8 quantization of ``src`` into ``dst`` (weights int8 per channel; see :data:`INT8_CONFIGS`)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    large = any(f.name.startswith(src.name) and f != src for f in src.parent.iterdir())
    with tempfile.TemporaryDirectory(dir=dst.parent, prefix=".quantize-") as tmp:
        try:
            with _quiet():
                quantize_dynamic(src, Path(tmp) / dst.name, weight_type=QuantType.QInt8, per_channel=True,
                                 reduce_range=INT8_CONFIGS[config], use_external_data_format=large)
        except Exception as exc:  # noqa: BLE001
            raise OnnxExportError(f"int8 quantization: {type(exc).__name__}: {str(exc)[:500]}") from exc
        _move_into_place(Path(tmp), dst)


@contextlib.contextmanager
def _quiet():
    """Silence the exporters' and the quantizer's warnings and log lines (torchvision ops not registered, "consider
    pre-processing" ...): the result is checked by use, and failures raise."""
    loggers = [logging.getLogger(), logging.getLogger("torch.onnx")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


def _move_into_place(tmp: Path, path: Path) -> None:
    """Move the files written in ``tmp`` next to ``path``, the model file (``path``) last."""
    files = sorted(tmp.iterdir(), key=lambda f: f.name == path.name)
    for f in files:
        os.replace(f, path.parent / f.name)


def remove_stale(folder: Path, keep_prefix: str) -> None:
    """Remove this module's exports in ``folder`` whose names do not start with ``keep_prefix``."""
    for f in folder.glob("model-*.onnx*"):
        if not f.name.startswith(keep_prefix):
            with contextlib.suppress(OSError):  # best effort: a stale file left behind is only disk space
                f.unlink()


def pool(token_embeddings: np.ndarray, attention_mask: np.ndarray, modes: Sequence[str]) -> np.ndarray:
    """sentence-transformers' ``Pooling`` (padded inputs, no prompt exclusion) in numpy; modes are concatenated."""
    emb = np.asarray(token_embeddings, dtype=np.float32)
    mask = np.asarray(attention_mask)
    fmask = mask[..., None].astype(np.float32)
    batch, seq_len, _ = emb.shape
    rows = np.arange(batch)
    out = []
    for mode in modes:
        if mode == "cls":  # the first non-padding token (left padding aware)
            out.append(emb[rows, mask.argmax(axis=1)])
        elif mode == "max":
            out.append(np.where(fmask > 0, emb, -np.inf).max(axis=1))
        elif mode in ("mean", "mean_sqrt_len_tokens"):
            total = (emb * fmask).sum(axis=1)
            count = np.clip(fmask.sum(axis=1), 1e-9, None)
            out.append(total / (count if mode == "mean" else np.sqrt(count)))
        elif mode == "weightedmean":
            weights = np.arange(1, seq_len + 1, dtype=np.float32)[None, :, None] - mask.argmax(axis=1)[:, None, None]
            wmask = fmask * weights
            out.append((emb * wmask).sum(axis=1) / np.clip(wmask.sum(axis=1), 1e-9, None))
        elif mode == "lasttoken":
            flipped = mask[:, ::-1]
            idx = np.where(flipped.max(axis=1) == 0, seq_len - 1, flipped.argmax(axis=1))
            out.append((emb * fmask)[rows, seq_len - idx - 1])
        else:
            raise ValueError(f"unknown pooling mode {mode!r}")
    return np.concatenate(out, axis=-1).astype(np.float32)
