"""Prometheus metrics of the bot (seed 004's list: processing time histogram, tokens per mode, errors, active
users), each ``BotMetrics`` on its own registry so several bots (tests) never share counters."""

from __future__ import annotations

import threading
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

ACTIVE_WINDOW_S = 15 * 60
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60, 120)


class BotMetrics:
    def __init__(self, active_window_s: float = ACTIVE_WINDOW_S) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.processing = Histogram(
            "telegram_intel_bot_processing_seconds", "Time to answer one request, by feature and step.",
            ["feature", "step"], registry=self.registry, buckets=_BUCKETS)
        self.updates = Counter("telegram_intel_bot_updates", "Updates handled, by type and outcome.",
                               ["update_type", "outcome"], registry=self.registry)
        self.tokens = Counter("telegram_intel_bot_tokens", "LLM tokens used, by mode (voice modes, PERSONA) and kind.",
                              ["mode", "kind"], registry=self.registry)
        self.errors = Counter("telegram_intel_bot_errors", "Failures, by feature and kind.", ["feature", "kind"],
                              registry=self.registry)
        self.rate_limited = Counter("telegram_intel_bot_rate_limited", "Messages dropped by the per-user rate limit.",
                                    registry=self.registry)
        self.feedback = Counter("telegram_intel_bot_persona_feedback", "Persona reply ratings and corrections.",
                                ["kind"], registry=self.registry)
        self.cache = Counter("telegram_intel_bot_voice_cache", "Voice insight cache lookups.", ["result"],
                             registry=self.registry)
        self.active = Gauge("telegram_intel_bot_active_users",
                            f"Distinct users seen in the last {int(active_window_s // 60)} minutes.",
                            registry=self.registry)
        self.active.set_function(self.active_users)
        self._seen: dict[int, float] = {}
        self._window = active_window_s
        self._lock = threading.Lock()

    def seen(self, user_id: int) -> None:
        with self._lock:
            self._seen[user_id] = time.monotonic()

    def active_users(self) -> int:
        cutoff = time.monotonic() - self._window
        with self._lock:
            for uid in [u for u, t in self._seen.items() if t < cutoff]:
                del self._seen[uid]
            return len(self._seen)

    def add_tokens(self, mode: str, prompt: int, completion: int) -> None:
        if prompt:
            self.tokens.labels(mode, "prompt").inc(prompt)
        if completion:
            self.tokens.labels(mode, "completion").inc(completion)

    def render(self) -> bytes:
        return generate_latest(self.registry)
