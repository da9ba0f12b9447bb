"""``LLMClient``: JSON answers from any OpenAI-compatible chat-completions server.

One call = render a prompt file, wait for the rate limiter, POST chat/completions, parse the
answer as JSON and validate it against a JSON schema; 429, 5xx, timeouts, connection errors,
malformed JSON and schema violations are retried with exponential backoff and jitter (a
server's Retry-After wins); every call (all its attempts) is accounted: tokens, cost, latency,
status, stored through a ``CallRecorder``.

The openai client's own retries are switched off so that attempts, waits and accounting are
this module's alone.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import openai

from telegram_intel.llm.accounting import (
    CallRecorder,
    LLMCallRecord,
    NullRecorder,
    PriceTable,
)
from telegram_intel.llm.errors import (
    LLMError,
    LLMRateLimitError,
    LLMRequestError,
    LLMResponseError,
    LLMUnavailableError,
)
from telegram_intel.llm.prompts import load_prompt
from telegram_intel.llm.ratelimit import RateLimiter
from telegram_intel.llm.retry import RetryPolicy, parse_retry_after
from telegram_intel.llm.schemas import (
    JSONContentError,
    SchemaViolation,
    check_schema,
    parse_json_object,
    validate,
)

log = logging.getLogger(__name__)

# Local servers (Ollama, llama.cpp, vLLM without --api-key) need no key, but the openai client
# refuses to start without one; this placeholder is what their docs suggest sending.
NO_KEY_PLACEHOLDER = "no-key"

RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "none")
# "auto" starts with the strictest mode and steps down when the server says it does not support it.
_FALLBACK = {"json_schema": "json_object", "json_object": "none"}
_FORMAT_REJECTED = re.compile(r"response_format|json_schema|json_object|structured output", re.I)
_KEYLIKE = re.compile(r"\b(sk-|key-|Bearer\s+)[A-Za-z0-9_\-*.]{4,}")


@dataclass(frozen=True)
class LLMResult:
    """A validated answer and what it cost."""

    data: dict[str, Any]
    model: str
    prompt_name: str
    prompt_version: str
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: Decimal
    latency_s: float
    response_format: str
    response_model: str | None = None
    call_id: int | None = None
    rate_limit_wait_s: float = 0.0

    @property
    def method(self) -> str:
        """What made the row, for derived tables' method/metadata columns."""
        return f"llm:{self.model}:{self.prompt_name}@{self.prompt_version}"


@dataclass
class _Attempts:
    """Running totals over the attempts of one call."""

    requests: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    rate_limit_wait: float = 0.0
    response_model: str | None = None
    response_text: str | None = None
    last_error: str | None = None
    last_kind: str | None = None
    last_retry_after: float | None = None
    formats: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=256)
def _checked_schema(schema_json: str) -> None:
    check_schema(json.loads(schema_json))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def public_endpoint(base_url: str) -> str:
    """The base URL without credentials or query (safe to log and store)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


class LLMClient:
    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        prices: PriceTable | Mapping[str, Any] | None = None,
        recorder: CallRecorder | None = None,
        response_format: str = "auto",
        temperature: float | None = None,
        max_tokens: int | None = None,
        prompts_dir: str | Path | None = None,
        tags: Mapping[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if response_format not in RESPONSE_FORMATS:
            raise ValueError(f"response_format must be one of {RESPONSE_FORMATS}, not {response_format!r}")
        self.model = model
        self.timeout_s = float(timeout_s)
        self.retry = retry or RetryPolicy()
        self.rate_limiter = rate_limiter
        self.prices = prices if isinstance(prices, PriceTable) else PriceTable(prices)
        self.recorder: CallRecorder = recorder or NullRecorder()
        self.response_format = response_format
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.prompts_dir = prompts_dir
        self.tags = dict(tags or {})
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._api_key = api_key or ""
        self._format = "json_schema" if response_format == "auto" else response_format
        self._format_lock = threading.Lock()
        self._openai = openai.OpenAI(
            api_key=self._api_key or NO_KEY_PLACEHOLDER,
            # None → the openai client's default (api.openai.com), never OPENAI_BASE_URL implicitly.
            base_url=base_url or "https://api.openai.com/v1",
            timeout=self.timeout_s,
            max_retries=0,
        )
        self.endpoint = public_endpoint(str(self._openai.base_url))

    def __repr__(self) -> str:  # never the key
        return f"LLMClient(model={self.model!r}, endpoint={self.endpoint!r}, response_format={self.response_format!r})"

    def close(self) -> None:
        self._openai.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -------------------------------------------------------------------------

    def _scrub(self, text: str, limit: int = 500) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "***")
        text = _KEYLIKE.sub(lambda m: m.group(1) + "***", text)
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def _request_format(self, mode: str, prompt_name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        if mode == "json_schema":
            # strict=False: strict mode accepts only a subset of JSON Schema; we validate ourselves.
            return {"type": "json_schema", "json_schema": {"name": prompt_name, "schema": schema, "strict": False}}
        if mode == "json_object":
            return {"type": "json_object"}
        return None

    def _step_down_format(self, mode: str) -> bool:
        """Switch this client to the next weaker response_format (auto mode only)."""
        if self.response_format != "auto" or mode not in _FALLBACK:
            return False
        with self._format_lock:
            if self._format == mode:
                self._format = _FALLBACK[mode]
                log.info("server rejected response_format=%s; using %s from now on", mode, self._format)
        return True

    # -- the call ------------------------------------------------------------------------

    def complete_json(
        self,
        prompt_name: str,
        variables: Mapping[str, Any],
        schema: dict[str, Any],
        *,
        model: str | None = None,
        tags: Mapping[str, Any] | None = None,
        images: Sequence[str] = (),
    ) -> LLMResult:
        """Render ``prompts/<prompt_name>.md`` with ``variables``, ask ``model`` (the client's by
        default) and return the answer validated against ``schema``.

        ``images`` (URLs, usually ``data:`` URLs) are sent with the user message as ``image_url`` parts, the
        OpenAI vision format; the model must accept images. They count in the stored prompt hash and size.

        Raises ``PromptError`` (before any request), ``LLMRequestError`` (non-retryable 4xx),
        ``LLMRateLimitError``, ``LLMUnavailableError`` or ``LLMResponseError`` once attempts run out.
        Every outcome after rendering is recorded through the recorder.
        """
        model = model or self.model
        _checked_schema(json.dumps(schema, sort_keys=True))
        prompt = load_prompt(prompt_name, self.prompts_dir)
        messages: list[dict[str, Any]] = list(prompt.render(dict(variables)))
        if images:
            text = messages[-1]["content"]
            messages[-1] = {"role": "user", "content": [
                {"type": "text", "text": text}, *({"type": "image_url", "image_url": {"url": url}} for url in images)]}
        prompt_text = json.dumps(messages, ensure_ascii=False)
        state = _Attempts()
        started = self._clock()
        record = functools.partial(
            self._record, model=model, prompt_name=prompt_name, prompt_version=prompt.version,
            prompt_text=prompt_text, state=state, started=started, tags=tags,
        )  # fmt: skip
        try:
            data = self._attempt_loop(model, prompt_name, messages, schema, state)
        except LLMError as error:
            error.attempts = state.requests
            record(status="error", error_kind=state.last_kind or type(error).__name__, error=self._scrub(str(error)))
            raise
        except Exception as error:  # an unexpected bug or library error: still account for the spend
            record(status="error", error_kind="internal", error=self._scrub(f"{type(error).__name__}: {error}"))
            raise
        cost, call_id = record(status="ok")
        return LLMResult(
            data=data,
            model=model,
            prompt_name=prompt_name,
            prompt_version=prompt.version,
            attempts=state.requests,
            prompt_tokens=state.prompt_tokens,
            completion_tokens=state.completion_tokens,
            total_tokens=state.total_tokens,
            cost_usd=cost,
            latency_s=self._clock() - started,
            response_format=state.formats[-1],
            response_model=state.response_model,
            call_id=call_id,
            rate_limit_wait_s=state.rate_limit_wait,
        )

    def _record(
        self,
        *,
        model: str,
        prompt_name: str,
        prompt_version: str,
        prompt_text: str,
        state: _Attempts,
        started: float,
        tags: Mapping[str, Any] | None,
        status: str,
        error_kind: str | None = None,
        error: str | None = None,
    ) -> tuple[Decimal, int | None]:
        cost = self.prices.cost(model, state.prompt_tokens, state.completion_tokens)
        merged_tags = {**self.tags, **(tags or {})} or None
        call = LLMCallRecord(
            model=model,
            prompt_name=prompt_name,
            prompt_version=prompt_version,
            status=status,
            attempts=state.requests,
            latency_ms=int(round((self._clock() - started) * 1000)),
            prompt_sha256=_sha256(prompt_text),
            prompt_chars=len(prompt_text),
            endpoint=self.endpoint,
            response_model=state.response_model,
            error_kind=error_kind,
            error=error,
            prompt_tokens=state.prompt_tokens,
            completion_tokens=state.completion_tokens,
            total_tokens=state.total_tokens,
            cost_usd=cost,
            rate_limit_wait_ms=int(round(state.rate_limit_wait * 1000)),
            response_format=state.formats[-1] if state.formats else None,
            response_sha256=_sha256(state.response_text) if state.response_text is not None else None,
            response_chars=len(state.response_text) if state.response_text is not None else None,
            tags=merged_tags,
        )
        return cost, self.recorder.record(call)

    def _attempt_loop(
        self,
        model: str,
        prompt_name: str,
        messages: list[dict[str, Any]],
        schema: dict[str, Any],
        state: _Attempts,
    ) -> dict[str, Any]:
        policy = self.retry
        while True:
            if self.rate_limiter is not None:
                state.rate_limit_wait += self.rate_limiter.acquire()
            mode = self._format
            state.formats.append(mode)
            state.requests += 1
            retry_after: float | None = None
            kwargs: dict[str, Any] = {"model": model, "messages": messages}
            response_format = self._request_format(mode, prompt_name, schema)
            if response_format is not None:
                kwargs["response_format"] = response_format
            if self.temperature is not None:
                kwargs["temperature"] = self.temperature
            if self.max_tokens is not None:
                kwargs["max_tokens"] = self.max_tokens
            try:
                response = self._openai.chat.completions.create(**kwargs)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as error:
                if _FORMAT_REJECTED.search(str(error)) and self._step_down_format(mode):
                    # Not the model's fault and not a transient error: retry at once, no budget used.
                    continue
                state.last_kind = "request_error"
                raise LLMRequestError(
                    self._scrub(f"{prompt_name}: server refused the request: {error}"), status_code=error.status_code
                ) from None
            except openai.RateLimitError as error:
                retry_after = parse_retry_after(error.response.headers)
                kind, message = "rate_limited", f"HTTP 429: {error}"
                if retry_after is not None and retry_after > policy.max_retry_after:
                    state.last_kind = kind
                    raise LLMRateLimitError(
                        f"{prompt_name}: rate limited; server asks to retry after {retry_after:.0f}s "
                        f"(more than the {policy.max_retry_after:.0f}s this client waits)",
                        retry_after=retry_after,
                    ) from None
            except (json.JSONDecodeError, UnicodeDecodeError, openai.APIResponseValidationError) as error:
                # A 200 whose body is cut off or not a completion (a proxy or server that died mid-answer): a bad
                # answer like any other, retried, then LLMResponseError (callers fall back to their offline method).
                kind, message = "invalid_response", f"unreadable response body: {type(error).__name__}: {error}"
            except openai.APITimeoutError:
                kind, message = "unavailable", f"timed out after {self.timeout_s:g}s"
            except openai.APIConnectionError as error:
                kind, message = "unavailable", f"connection error: {error}"
            except openai.APIStatusError as error:
                if error.status_code >= 500 or error.status_code in (408, 409):
                    retry_after = parse_retry_after(error.response.headers)
                    kind, message = "unavailable", f"HTTP {error.status_code}: {error}"
                else:
                    state.last_kind = "request_error"
                    raise LLMRequestError(
                        self._scrub(f"{prompt_name}: server refused the request: {error}"), status_code=error.status_code
                    ) from None
            else:
                usage = getattr(response, "usage", None)
                if usage is not None:
                    state.prompt_tokens += int(usage.prompt_tokens or 0)
                    state.completion_tokens += int(usage.completion_tokens or 0)
                    state.total_tokens += int(usage.total_tokens or 0) or (
                        int(usage.prompt_tokens or 0) + int(usage.completion_tokens or 0)
                    )
                state.response_model = getattr(response, "model", None) or state.response_model
                try:
                    content = response.choices[0].message.content
                except (AttributeError, IndexError, TypeError):  # no choices, or a choice without a message
                    content = None
                state.response_text = content
                try:
                    data = parse_json_object(content)
                    validate(data, schema)
                    return data
                except (JSONContentError, SchemaViolation) as error:
                    kind, message = "invalid_response", str(error)

            state.failures += 1
            state.last_kind, state.last_error, state.last_retry_after = kind, self._scrub(message), retry_after
            if state.failures >= policy.max_attempts:
                raise self._exhausted(prompt_name, state)
            delay = min(retry_after, policy.max_retry_after) if retry_after is not None else policy.backoff(
                state.failures, self._rng
            )
            log.warning(
                "LLM call %s (model %s) attempt %d failed: %s; retrying in %.2fs",
                prompt_name, model, state.requests, state.last_error, delay,
            )  # fmt: skip
            self._sleep(delay)

    def _exhausted(self, prompt_name: str, state: _Attempts) -> LLMError:
        text = f"{prompt_name}: gave up after {state.requests} attempts; last error: {state.last_error}"
        if state.last_kind == "rate_limited":
            return LLMRateLimitError(text, retry_after=state.last_retry_after)
        if state.last_kind == "invalid_response":
            return LLMResponseError(text)
        return LLMUnavailableError(text)
