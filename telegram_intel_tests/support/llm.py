from __future__ import annotations

import random

import pytest

from telegram_intel.llm import LLMClient, MemoryRecorder, RetryPolicy
from telegram_intel_tests.support.fake_openai import FakeOpenAIServer

API_KEY = "sk-test-SECRET-4f1c9a77e2"


class FakeClock:
    """A clock whose sleep advances time instantly and remembers each sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def server():
    srv = FakeOpenAIServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_client(server, clock):
    """An LLMClient pointed at the fake server; sleeps go to ``clock.sleeps`` (no real waiting)."""
    clients = []

    def make(**overrides) -> LLMClient:
        options = dict(
            model="test-model",
            base_url=server.url,
            api_key=API_KEY,
            timeout_s=5.0,
            retry=RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=4.0, max_retry_after=30.0),
            recorder=MemoryRecorder(),
            sleep=clock.sleep,
            clock=clock,
            rng=random.Random(7),
        )
        options.update(overrides)
        client = LLMClient(**options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
