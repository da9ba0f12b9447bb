from __future__ import annotations

import threading
import time

import pytest

from telegram_intel.llm import RateLimiter, RetryPolicy
from telegram_intel.llm.retry import parse_retry_after


def test_per_minute_and_per_hour_limits_block_with_a_fake_clock(clock):
    limiter = RateLimiter.per_minute_hour(2, 3, clock=clock, sleep=clock.sleep)
    admitted = []
    for _ in range(4):
        limiter.acquire()
        admitted.append(clock.now - 1000.0)
    # two at once, the third when the minute frees up, the fourth when the hour does
    assert admitted == [0.0, 0.0, pytest.approx(60.0), pytest.approx(3600.0)]
    assert sum(clock.sleeps) == pytest.approx(3600.0)


def test_try_acquire_reports_the_wait_without_admitting(clock):
    limiter = RateLimiter.per_minute_hour(1, None, clock=clock, sleep=clock.sleep)
    assert limiter.try_acquire() == 0.0
    clock.now += 15
    assert limiter.try_acquire() == pytest.approx(45.0)
    assert limiter.try_acquire() == pytest.approx(45.0)  # still one admission in the window
    clock.now += 45
    assert limiter.try_acquire() == 0.0


def test_no_limits_never_blocks(clock):
    limiter = RateLimiter.per_minute_hour(None, 0, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        assert limiter.acquire() == 0.0
    assert clock.sleeps == []


def test_threads_share_the_window():
    limiter = RateLimiter([(3, 0.25)])
    times: list[float] = []
    lock = threading.Lock()

    def worker():
        limiter.acquire()
        with lock:
            times.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    times.sort()
    assert len(times) == 9
    # never more than 3 admissions inside any 0.25 s window
    assert all(times[i + 3] - times[i] >= 0.25 - 0.01 for i in range(len(times) - 3))


def test_backoff_is_capped_and_jittered():
    import random

    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    rng = random.Random(1)
    delays = [policy.backoff(n, rng) for n in range(1, 8)]
    caps = [1, 2, 4, 8, 8, 8, 8]
    assert all(cap / 2 <= d <= cap for d, cap in zip(delays, caps))
    assert len({round(d, 6) for d in delays[3:]}) > 1  # jitter spreads equal caps


def test_parse_retry_after_forms():
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "Retry-After": "3"}) == 0.25
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412470.0) == pytest.approx(20.0)
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None
