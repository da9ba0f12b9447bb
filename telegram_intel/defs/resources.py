"""The project's Dagster resources: storage (PostgreSQL + files) and the LLM layer.

LLMResource: ``LLMResource``: the Dagster face of the LLM layer, used by every LLM-backed asset.

Offline by default: with no API key and no base URL configured, ``is_enabled()`` is False and
assets use their offline method (and say so in each row's method column and in metadata).

Deployment examples::

    LLMResource(api_key=dg.EnvVar("OPENAI_API_KEY"), model="gpt-4o-mini",
                prices={"gpt-4o-mini": [0.00015, 0.0006]})
    LLMResource(base_url="http://127.0.0.1:11434/v1", model="qwen2.5:7b-instruct")  # Ollama, no key

Fields left unset fall back to ``TELEGRAM_INTEL_LLM_*`` variables read at run time
(``telegram_intel.llm.config``). ``dg.EnvVar`` works for the str fields and
``dg.EnvVar.int`` for the int ones; ``enabled`` is a bool, so flip it with
``TELEGRAM_INTEL_LLM_ENABLED`` rather than ``dg.EnvVar``.

In an asset::

    def message_summaries(context, telegram: TelegramIntelResource, llm: LLMResource):
        if llm.is_enabled():
            client = llm.get_client(telegram.engine, tags={"asset": "message_summaries",
                                                           "run_id": context.run.run_id})
            result = client.complete_json("message_summary", {...}, MESSAGE_SUMMARY_SCHEMA)
            ... result.data, result.method
        else:
            ... offline method
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr
from sqlalchemy.engine import Engine

from telegram_intel.config import Settings, load_settings
from telegram_intel.db.embedded import EmbeddedPostgres
from telegram_intel.db.engine import make_engine, upgrade
from telegram_intel.db.llm_calls import SqlCallRecorder
from telegram_intel.llm.client import LLMClient
from telegram_intel.llm.config import LLMSettings, build_client, load_llm_settings


class TelegramIntelResource(dg.ConfigurableResource):
    """PostgreSQL (+pgvector) and file storage for every asset.

    Each field may be given as ``dg.EnvVar(...)`` in a deployment; a field left unset
    falls back to the same environment variable read at run time
    (``TELEGRAM_INTEL_DATABASE_URL``, ``TELEGRAM_INTEL_HOME``, ``TELEGRAM_INTEL_STORAGE_DIR``),
    and with no database URL at all the embedded PostgreSQL under the home folder is used:
    started for the run if it is not running, stopped after the run if this run started it.
    """

    database_url: str | None = None
    home: str | None = None
    storage_dir: str | None = None

    _engine: Engine | None = PrivateAttr(default=None)
    _server: EmbeddedPostgres | None = PrivateAttr(default=None)

    def settings(self) -> Settings:
        import os

        env = dict(os.environ)
        for field, var in (
            ("database_url", "TELEGRAM_INTEL_DATABASE_URL"),
            ("home", "TELEGRAM_INTEL_HOME"),
            ("storage_dir", "TELEGRAM_INTEL_STORAGE_DIR"),
        ):
            value = getattr(self, field)
            if value:
                env[var] = value
        return load_settings(env)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        settings = self.settings()
        url = settings.database_url
        if not url:
            server = EmbeddedPostgres(settings.home / "pg")
            if server.start():
                self._server = server
            url = server.url
        self._engine = make_engine(url)
        upgrade(self._engine)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self._server is not None:
            self._server.stop()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("TelegramIntelResource used outside a run")
        return self._engine

    @contextlib.contextmanager
    def connect(self) -> Iterator:
        with self.engine.connect() as conn:
            yield conn


class LLMResource(dg.ConfigurableResource):
    """OpenAI-compatible chat-completions server (OpenAI, Ollama, vLLM, llama.cpp server) with
    JSON-schema-validated answers, retries, per-minute/per-hour rate limits and per-call token and
    cost accounting in the ``llm_calls`` table. Offline (no calls) unless a key or base URL is set."""

    enabled: bool | None = None
    base_url: str | None = None
    # Give it as dg.EnvVar(...) so the run config shows the variable's name, not the key.
    api_key: str | None = Field(default=None, repr=False)
    model: str | None = None
    per_minute: int = 60
    per_hour: int = 1000
    timeout_s: float = 60.0
    max_retries: int = 4
    response_format: str = "auto"
    temperature: float | None = None
    max_tokens: int | None = None
    # USD per 1,000 tokens as {model: [prompt, completion]}; models not listed cost 0 (local ones).
    prices: dict[str, list[float]] = {}
    record_calls: bool = True

    def settings(self) -> LLMSettings:
        return load_llm_settings(
            enabled=self.enabled,
            base_url=self.base_url or None,
            api_key=self.api_key or None,
            model=self.model or None,
            per_minute=self.per_minute,
            per_hour=self.per_hour,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            response_format=self.response_format,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            prices=dict(self.prices),
            record_calls=self.record_calls,
        )

    def is_enabled(self) -> bool:
        return self.settings().is_enabled

    def describe(self) -> dict[str, Any]:
        """Metadata for assets: whether the LLM is on, model and endpoint (never the key)."""
        return self.settings().describe()

    def get_client(self, engine: Engine | None = None, *, tags: dict[str, Any] | None = None) -> LLMClient:
        """A client recording its calls through ``engine``; ``LLMDisabledError`` in offline mode."""
        settings = self.settings()
        recorder = SqlCallRecorder(engine) if engine is not None else None
        return build_client(settings, recorder, tags=tags)
