"""Backoff with jitter and Retry-After parsing."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` counts the first request. Delay before retry n (1-based) is
    ``min(max_delay, base_delay * 2**(n-1))`` with "equal jitter": half fixed, half random,
    so concurrent clients spread out but never retry instantly.

    A server's Retry-After is honoured as given (no jitter) up to ``max_retry_after``;
    a longer one fails the call with ``LLMRateLimitError`` so the run can be retried later
    instead of holding a worker asleep.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        capped = min(self.max_delay, self.base_delay * (2 ** max(0, retry_number - 1)))
        rand = (rng or random).random()
        return capped / 2 + rand * capped / 2


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date), or None."""
    if not headers:
        return None
    lowered = {str(k).lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
