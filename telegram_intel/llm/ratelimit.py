"""A thread-safe sliding-window rate limiter that blocks (never fails) until a request may go.

Each window is ``(limit, seconds)``; a request is admitted when every window has fewer than
``limit`` admissions in the last ``seconds``. The limit is per process: Dagster's multiprocess
executor gives each step its own limiter, so set per-step limits accordingly.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable


class RateLimiter:
    def __init__(
        self,
        windows: Iterable[tuple[int | None, float]],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # A limit of None or <= 0 means "no limit" for that window.
        self.windows = sorted((int(limit), float(seconds)) for limit, seconds in windows if limit and limit > 0)
        for _, seconds in self.windows:
            if seconds <= 0:
                raise ValueError("rate-limit windows must be longer than 0 seconds")
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._longest = max((s for _, s in self.windows), default=0.0)
        self._admitted: collections.deque[float] = collections.deque()

    @classmethod
    def per_minute_hour(
        cls,
        per_minute: int | None,
        per_hour: int | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RateLimiter:
        return cls([(per_minute, 60.0), (per_hour, 3600.0)], clock=clock, sleep=sleep)

    def _wait_needed(self, now: float) -> float:
        """Seconds until every window has room (0 when it has now). Called with the lock held."""
        while self._admitted and self._admitted[0] <= now - self._longest:
            self._admitted.popleft()
        wait = 0.0
        for limit, seconds in self.windows:
            start = now - seconds
            in_window = [t for t in self._admitted if t > start]
            if len(in_window) >= limit:
                # The window has room again when its (count - limit + 1)-th oldest admission ages out.
                release_at = in_window[len(in_window) - limit] + seconds
                wait = max(wait, release_at - now)
        return wait

    def try_acquire(self) -> float:
        """Admit now and return 0.0, or admit nothing and return how long to wait."""
        with self._lock:
            now = self._clock()
            wait = self._wait_needed(now)
            if wait <= 0:
                self._admitted.append(now)
                return 0.0
            return wait

    def acquire(self) -> float:
        """Block until a request may go; return the seconds spent waiting."""
        if not self.windows:
            return 0.0
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return waited
            # Sleep outside the lock so other threads can check (and be told to wait too).
            self._sleep(wait)
            waited += wait

    def __repr__(self) -> str:
        return f"RateLimiter(windows={self.windows!r})"
