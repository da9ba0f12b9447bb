"""Token and cost accounting: prices per model, and one record per LLM call handed to an injected recorder
(``CallRecorder``; the database one is ``telegram_intel.db.llm_calls.SqlCallRecorder``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1,000 tokens. Local servers (Ollama, vLLM, llama.cpp) cost 0."""

    prompt_per_1k: float = 0.0
    completion_per_1k: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        value = (
            Decimal(str(self.prompt_per_1k)) * prompt_tokens + Decimal(str(self.completion_per_1k)) * completion_tokens
        ) / 1000
        return value.quantize(Decimal("0.00000001"))


FREE = ModelPrice()


class PriceTable:
    """Prices per model name. Unknown models cost 0 (and are logged once), so a local model
    never needs an entry; give prices for paid models in the resource config.

    A name matches exactly, or by its longest configured prefix (``gpt-4o-mini`` covers
    ``gpt-4o-mini-2024-07-18``).
    """

    def __init__(self, prices: Mapping[str, ModelPrice | tuple[float, float] | list[float]] | None = None) -> None:
        self._prices: dict[str, ModelPrice] = {}
        for model, price in (prices or {}).items():
            if not isinstance(price, ModelPrice):
                prompt, completion = price
                price = ModelPrice(float(prompt), float(completion))
            self._prices[model] = price
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def price(self, model: str) -> ModelPrice:
        if model in self._prices:
            return self._prices[model]
        prefixes = [name for name in self._prices if model.startswith(name)]
        if prefixes:
            return self._prices[max(prefixes, key=len)]
        with self._lock:
            if model not in self._warned and self._prices:
                self._warned.add(model)
                log.info("no price configured for model %r; its calls are accounted at 0 USD", model)
        return FREE

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
        return self.price(model).cost(prompt_tokens, completion_tokens)


@dataclass
class LLMCallRecord:
    """What is recorded per call (the database recorder stores it in ``llm_calls``)."""

    model: str
    prompt_name: str
    status: str
    attempts: int
    latency_ms: int
    prompt_sha256: str
    prompt_chars: int
    endpoint: str | None = None
    response_model: str | None = None
    prompt_version: str | None = None
    error_kind: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    rate_limit_wait_ms: int = 0
    response_format: str | None = None
    response_sha256: str | None = None
    response_chars: int | None = None
    tags: dict[str, Any] | None = None
    created_at: datetime | None = None

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        if row["created_at"] is None:
            del row["created_at"]  # the database's now()
        return row


class CallRecorder(Protocol):
    def record(self, call: LLMCallRecord) -> int | None:
        """Store the call; return its id when the store has one."""


class NullRecorder:
    def record(self, call: LLMCallRecord) -> None:
        return None


@dataclass
class MemoryRecorder:
    """Keeps records in a list (offline runs, unit tests)."""

    calls: list[LLMCallRecord] = field(default_factory=list)

    def record(self, call: LLMCallRecord) -> int:
        self.calls.append(call)
        return len(self.calls)
