"""Resolved LLM settings and the one place that turns them into an ``LLMClient``.

Shared by the Dagster resource and the command line. Environment variables are read only when
``load_llm_settings`` is called (never at import time):

``TELEGRAM_INTEL_LLM_ENABLED``   1/true/0/false; unset → on when a key or base URL is set
``TELEGRAM_INTEL_LLM_BASE_URL``  e.g. http://127.0.0.1:11434/v1 (Ollama); unset → api.openai.com
``TELEGRAM_INTEL_LLM_API_KEY``   empty for local servers
``TELEGRAM_INTEL_LLM_MODEL``     default ``gpt-4o-mini``

``OPENAI_API_KEY`` is deliberately not picked up: a key in a shell must not start paid calls
on its own. Pass it explicitly (``api_key=dg.EnvVar("OPENAI_API_KEY")``) to use it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram_intel.llm.accounting import CallRecorder, NullRecorder, PriceTable
from telegram_intel.llm.client import LLMClient, public_endpoint
from telegram_intel.llm.errors import LLMDisabledError
from telegram_intel.llm.ratelimit import RateLimiter
from telegram_intel.llm.retry import RetryPolicy

DEFAULT_MODEL = "gpt-4o-mini"
OPENAI_BASE_URL = "https://api.openai.com/v1"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class LLMSettings:
    enabled: bool | None = None
    base_url: str | None = None
    api_key: str = field(default="", repr=False)
    model: str = DEFAULT_MODEL
    per_minute: int = 60
    per_hour: int = 1000
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_base_s: float = 1.0
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    response_format: str = "auto"
    temperature: float | None = None
    max_tokens: int | None = None
    # USD per 1k tokens: {model: [prompt, completion]}; unlisted models cost 0.
    prices: Mapping[str, Any] = field(default_factory=dict)
    record_calls: bool = True

    @property
    def is_enabled(self) -> bool:
        """On when explicitly enabled, else when a key or a server is configured.

        An explicit ``enabled=True`` with neither key nor base URL stays off: the call could
        only fail with 401 at OpenAI, and callers have an offline method.
        """
        configured = bool(self.api_key) or bool(self.base_url)
        if self.enabled is None:
            return configured
        return self.enabled and configured

    @property
    def endpoint(self) -> str:
        return public_endpoint(self.base_url or OPENAI_BASE_URL)

    def describe(self) -> dict[str, Any]:
        """Safe for logs and asset metadata (no key)."""
        return {
            "llm_enabled": self.is_enabled,
            "llm_model": self.model if self.is_enabled else None,
            "llm_endpoint": self.endpoint if self.is_enabled else None,
            "llm_per_minute": self.per_minute,
            "llm_per_hour": self.per_hour,
        }


def load_llm_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> LLMSettings:
    """Settings from ``overrides`` (values that are not None) over the environment."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if env.get("TELEGRAM_INTEL_LLM_ENABLED") is not None:
        values["enabled"] = _parse_bool(env["TELEGRAM_INTEL_LLM_ENABLED"])
    if env.get("TELEGRAM_INTEL_LLM_BASE_URL"):
        values["base_url"] = env["TELEGRAM_INTEL_LLM_BASE_URL"]
    if env.get("TELEGRAM_INTEL_LLM_API_KEY"):
        values["api_key"] = env["TELEGRAM_INTEL_LLM_API_KEY"]
    if env.get("TELEGRAM_INTEL_LLM_MODEL"):
        values["model"] = env["TELEGRAM_INTEL_LLM_MODEL"]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return LLMSettings(**values)


# One limiter per (endpoint, limits) in a process, so every client of a run (and the in-process
# executor's steps) share the budget instead of each getting the full per-minute allowance.
_LIMITERS: dict[tuple[str, int, int], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_rate_limiter(endpoint: str, per_minute: int, per_hour: int) -> RateLimiter:
    key = (endpoint, int(per_minute), int(per_hour))
    with _LIMITERS_LOCK:
        if key not in _LIMITERS:
            _LIMITERS[key] = RateLimiter.per_minute_hour(per_minute, per_hour)
        return _LIMITERS[key]


def build_client(
    settings: LLMSettings,
    recorder: CallRecorder | None = None,
    *,
    tags: Mapping[str, Any] | None = None,
    rate_limiter: RateLimiter | None = None,
) -> LLMClient:
    """An ``LLMClient`` for ``settings``; each call is handed to ``recorder`` (kept only when
    ``settings.record_calls``).

    Raises ``LLMDisabledError`` in offline mode, so callers write ``if settings.is_enabled``
    (or catch it) and use their offline method.
    """
    if not settings.is_enabled:
        raise LLMDisabledError("no LLM configured (no API key or base URL, or disabled): use the offline method")
    recorder = recorder if (recorder is not None and settings.record_calls) else NullRecorder()
    return LLMClient(
        model=settings.model,
        base_url=settings.base_url or OPENAI_BASE_URL,
        api_key=settings.api_key,
        timeout_s=settings.timeout_s,
        retry=RetryPolicy(
            max_attempts=settings.max_retries + 1,
            base_delay=settings.backoff_base_s,
            max_delay=settings.backoff_max_s,
            max_retry_after=settings.max_retry_after_s,
        ),
        rate_limiter=rate_limiter or shared_rate_limiter(settings.endpoint, settings.per_minute, settings.per_hour),
        prices=PriceTable(settings.prices),
        recorder=recorder,
        response_format=settings.response_format,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        tags=tags,
    )
