"""LLMClient against a real local HTTP server speaking the chat-completions API."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from telegram_intel.db.llm_calls import LLMCall, SqlCallRecorder, usage_summary
from telegram_intel.llm import (
    INTENT_SCHEMA,
    MESSAGE_SUMMARY_SCHEMA,
    LLMRateLimitError,
    LLMRequestError,
    LLMResponseError,
    LLMUnavailableError,
    MemoryRecorder,
    RateLimiter,
    RetryPolicy,
)
from telegram_intel.llm.prompts import PromptError
from telegram_intel_tests.support.fake_openai import Reply, completion, cut_off, error, hang, ok
from telegram_intel_tests.support.llm import API_KEY

SUMMARY = {"summary": "Asks where to buy a used 3ds Max licence.", "keywords": ["3ds max", "licence", "used"]}
INTENT = {
    "label": "question",
    "confidences": {"question": 0.8, "statement": 0.05, "command": 0.05, "discussion": 0.04, "greeting": 0.03, "feedback": 0.03},
}
MESSAGE = "Где купить б/у лицензию 3ds Max? MARKER-7731"
VARS = {"message": MESSAGE, "reply_context": ""}


def summarize(client, **kwargs):
    return client.complete_json("message_summary", VARS, MESSAGE_SUMMARY_SCHEMA, **kwargs)


def test_normal_answer_is_parsed_validated_and_accounted(server, make_client, clock):
    server.push(ok(SUMMARY, prompt_tokens=1200, completion_tokens=300, model="test-model-2024"))
    recorder = MemoryRecorder()
    client = make_client(recorder=recorder, prices={"test-model": (0.5, 1.5)})

    result = summarize(client, tags={"asset": "message_summaries"})

    assert result.data == SUMMARY
    assert (result.attempts, result.prompt_tokens, result.completion_tokens, result.total_tokens) == (1, 1200, 300, 1500)
    # 1.2k * 0.5 + 0.3k * 1.5 USD
    assert result.cost_usd == Decimal("1.05")
    assert result.response_model == "test-model-2024"
    assert result.response_format == "json_schema"
    assert result.method.startswith("llm:test-model:message_summary@")
    assert clock.sleeps == []

    (request,) = server.requests
    body = request["body"]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert body["model"] == "test-model"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == MESSAGE_SUMMARY_SCHEMA
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert MESSAGE in body["messages"][1]["content"]

    (call,) = recorder.calls
    assert (call.status, call.attempts, call.prompt_tokens, call.completion_tokens) == ("ok", 1, 1200, 300)
    assert call.cost_usd == Decimal("1.05") and call.tags == {"asset": "message_summaries"}
    assert call.endpoint == server.url and call.response_chars > 0


def test_per_call_model_override(server, make_client):
    server.push(ok(INTENT))
    result = make_client().complete_json("intent", VARS, INTENT_SCHEMA, model="other-model")
    assert result.model == "other-model" and server.requests[0]["body"]["model"] == "other-model"


def test_429_with_retry_after_is_honoured(server, make_client, clock):
    server.push(error(429, "slow down", {"Retry-After": "2"}), error(429, "slow down", {"retry-after-ms": "1500"}), ok(SUMMARY))
    result = summarize(make_client())
    assert result.attempts == 3 and len(server.requests) == 3
    assert clock.sleeps == [2.0, 1.5]  # exactly what the server asked, no jitter


def test_backoff_without_retry_after_grows_with_jitter(server, make_client, clock):
    server.push(error(429), error(500), error(503), ok(SUMMARY))
    result = summarize(make_client(retry=RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0)))
    assert result.attempts == 4
    first, second, third = clock.sleeps
    # equal jitter: delay n lies in [cap/2, cap] with cap = 0.5 * 2**(n-1)
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0 and 1.0 <= third <= 2.0


def test_retry_after_longer_than_allowed_fails_at_once(server, make_client, clock):
    server.push(error(429, "quota", {"Retry-After": "600"}))
    with pytest.raises(LLMRateLimitError) as raised:
        summarize(make_client())
    assert raised.value.retry_after == 600 and raised.value.attempts == 1
    assert len(server.requests) == 1 and clock.sleeps == []


def test_persistent_429_gives_rate_limit_error(server, make_client, clock):
    server.push(*[error(429, "busy", {"Retry-After": "1"})] * 3)
    with pytest.raises(LLMRateLimitError):
        summarize(make_client())
    assert len(server.requests) == 3 and clock.sleeps == [1.0, 1.0]


def test_500_until_attempts_run_out(server, make_client, clock, engine):
    server.push(*[error(500, "boom")] * 5)
    client = make_client(recorder=SqlCallRecorder(engine))
    with pytest.raises(LLMUnavailableError) as raised:
        summarize(client)
    assert raised.value.attempts == 3
    assert len(server.requests) == 3 and len(clock.sleeps) == 2

    with engine.connect() as conn:
        row = conn.execute(sa.select(LLMCall.__table__)).one()
    assert (row.status, row.error_kind, row.attempts, row.prompt_tokens) == ("error", "unavailable", 3, 0)
    assert "HTTP 500" in row.error


def test_non_retryable_400_fails_without_retry(server, make_client, clock):
    server.default = error(400, "model does not exist")
    with pytest.raises(LLMRequestError) as raised:
        summarize(make_client(response_format="json_object"))
    assert raised.value.status_code == 400 and len(server.requests) == 1 and clock.sleeps == []


def test_hanging_server_times_out_then_retries(server, make_client, clock):
    server.push(hang(5.0, SUMMARY), ok(SUMMARY))
    started = time.monotonic()
    result = summarize(make_client(timeout_s=0.3))
    assert time.monotonic() - started < 3.0
    assert result.attempts == 2 and len(clock.sleeps) == 1 and result.data == SUMMARY


def test_connection_refused_is_retried_then_unavailable(make_client, clock):
    import socket

    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(LLMUnavailableError, match="connection error"):
        summarize(client)
    assert len(clock.sleeps) == 2


def test_malformed_json_is_retried_and_tokens_of_every_attempt_counted(server, make_client, clock):
    server.push(
        ok(raw='{"summary": "cut off', prompt_tokens=100, completion_tokens=10),
        ok(raw="```json\n" + '{"summary": "ok", "keywords": ["a", "b", "c"]}' + "\n```", prompt_tokens=100, completion_tokens=20),
    )
    result = summarize(make_client(prices={"test-model": [1.0, 2.0]}))
    assert result.data == {"summary": "ok", "keywords": ["a", "b", "c"]}
    assert (result.attempts, result.prompt_tokens, result.completion_tokens) == (2, 200, 30)
    assert result.cost_usd == Decimal("0.26")  # 0.2k * 1 + 0.03k * 2
    assert len(clock.sleeps) == 1


def test_think_block_and_prose_around_json_are_tolerated(server, make_client):
    server.push(ok(raw='<think>It asks a question.</think>\nHere you go: {"summary": "s", "keywords": ["a", "b", "c"]} Done.'))
    assert summarize(make_client()).data["summary"] == "s"


def test_schema_violation_is_retried_then_reported_without_echoing_output(server, make_client, clock, engine):
    bad = {"summary": "SECRET-OUTPUT-TEXT", "keywords": ["only-one"]}
    server.default = ok(bad, prompt_tokens=50, completion_tokens=5)
    client = make_client(recorder=SqlCallRecorder(engine))
    with pytest.raises(LLMResponseError) as raised:
        summarize(client)
    message = str(raised.value)
    assert "keywords: fails minItems=3" in message
    assert "SECRET-OUTPUT-TEXT" not in message and "only-one" not in message
    assert len(server.requests) == 3 and len(clock.sleeps) == 2
    with engine.connect() as conn:
        row = conn.execute(sa.select(LLMCall.__table__)).one()
    assert (row.status, row.error_kind, row.attempts, row.prompt_tokens, row.completion_tokens) == (
        "error", "invalid_response", 3, 150, 15,
    )  # fmt: skip


def test_auto_response_format_steps_down_when_server_rejects_it(server, make_client, clock):
    def picky(body: dict) -> Reply:
        kind = (body.get("response_format") or {}).get("type")
        if kind == "json_schema":
            return Reply(400, {"error": {"message": "response_format 'json_schema' is not supported"}})
        return Reply(200, completion('{"summary": "s", "keywords": ["a", "b", "c"]}'))

    server.default = picky
    client = make_client()
    first = summarize(client)
    second = summarize(client)
    assert (first.attempts, first.response_format) == (2, "json_object")
    assert (second.attempts, second.response_format) == (1, "json_object")
    assert [(r["body"].get("response_format") or {}).get("type") for r in server.requests] == [
        "json_schema", "json_object", "json_object",
    ]  # fmt: skip
    assert clock.sleeps == []


def test_response_format_none_sends_none(server, make_client):
    server.push(ok(SUMMARY))
    summarize(make_client(response_format="none", temperature=0.0, max_tokens=200))
    body = server.requests[0]["body"]
    assert "response_format" not in body and body["temperature"] == 0.0 and body["max_tokens"] == 200


def test_missing_variable_fails_before_any_request(server, make_client):
    with pytest.raises(PromptError, match="reply_context"):
        make_client().complete_json("message_summary", {"message": "x"}, MESSAGE_SUMMARY_SCHEMA)
    assert server.requests == []


def test_rate_limiter_blocks_the_client(server, make_client, clock):
    server.default = ok(SUMMARY)
    limiter = RateLimiter.per_minute_hour(1, 100, clock=clock, sleep=clock.sleep)
    client = make_client(rate_limiter=limiter)
    first = summarize(client)
    second = summarize(client)
    assert first.rate_limit_wait_s == 0 and second.rate_limit_wait_s == pytest.approx(60.0)
    assert clock.sleeps == [pytest.approx(60.0)]


def test_calls_are_stored_in_postgres_without_prompt_text(server, make_client, engine):
    server.push(ok(SUMMARY, prompt_tokens=1000, completion_tokens=100), error(500), ok(INTENT, prompt_tokens=10, completion_tokens=1))
    client = make_client(recorder=SqlCallRecorder(engine), prices={"test-model": [0.15, 0.6]}, tags={"run_id": "r1"})
    first = summarize(client)
    second = client.complete_json("intent", VARS, INTENT_SCHEMA, tags={"asset": "intent_labels"})
    assert first.call_id is not None and second.call_id == first.call_id + 1

    with engine.connect() as conn:
        rows = conn.execute(sa.select(LLMCall.__table__).order_by(LLMCall.id)).all()
        dumped = conn.execute(sa.text("SELECT string_agg(t::text, ' ') FROM llm_calls t")).scalar_one()
    assert [(r.prompt_name, r.status, r.attempts) for r in rows] == [("message_summary", "ok", 1), ("intent", "ok", 2)]
    summary_row, intent_row = rows
    assert (summary_row.prompt_tokens, summary_row.completion_tokens, summary_row.total_tokens) == (1000, 100, 1100)
    assert summary_row.cost_usd == Decimal("0.21")  # 1k * 0.15 + 0.1k * 0.6
    assert summary_row.model == "test-model" and summary_row.endpoint == server.url
    assert len(summary_row.prompt_sha256) == 64 and summary_row.prompt_chars > len(MESSAGE)
    assert summary_row.prompt_version == first.prompt_version and summary_row.created_at is not None
    assert intent_row.tags == {"run_id": "r1", "asset": "intent_labels"}
    assert intent_row.response_format == "json_schema"
    # No prompt or answer text, and no key, ever reaches the table.
    assert "MARKER-7731" not in dumped and "3ds Max" not in dumped and API_KEY not in dumped

    totals = usage_summary(engine, tags={"run_id": "r1"})
    assert totals["llm_calls"] == 2 and totals["llm_attempts"] == 3
    assert totals["llm_prompt_tokens"] == 1010 and totals["llm_cost_usd"] == pytest.approx(0.2115 + 0.0006)
    assert usage_summary(engine, tags={"asset": "intent_labels"})["llm_calls"] == 1


def test_api_key_never_logged_or_raised_or_stored(server, make_client, caplog, engine):
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx2", "httpcore", "telegram_intel"):
        caplog.set_level(logging.DEBUG, logger=name)
    # A 401 that echoes the key, as OpenAI's "Incorrect API key provided: sk-..." does.
    server.push(error(500, f"upstream said Bearer {API_KEY}"), error(401, f"Incorrect API key provided: {API_KEY}"))
    client = make_client(recorder=SqlCallRecorder(engine))
    with pytest.raises(LLMRequestError) as raised:
        summarize(client)
    server.push(ok(SUMMARY))
    summarize(client)

    assert caplog.records, "expected the retry to be logged"
    assert API_KEY not in caplog.text
    assert API_KEY not in str(raised.value) and API_KEY not in repr(client)
    with engine.connect() as conn:
        dumped = conn.execute(sa.text("SELECT string_agg(t::text, ' ') FROM llm_calls t")).scalar_one()
    assert API_KEY not in dumped and "request_error" in dumped


def test_cut_off_200_body_is_retried_then_reported_as_a_response_error(server, make_client, clock):
    """A 200 whose JSON body ends early (proxy or server died mid-answer) is a bad answer like any other: retried,
    then LLMResponseError, which the enrichment runs turn into their offline fallback."""
    server.push(cut_off(SUMMARY), ok(SUMMARY))
    result = summarize(make_client())
    assert result.data == SUMMARY and result.attempts == 2 and len(clock.sleeps) == 1

    server.push(*[cut_off(SUMMARY, keep=keep) for keep in (0.1, 0.5, 0.9)])
    client = make_client()
    with pytest.raises(LLMResponseError, match="gave up after 3 attempts"):
        summarize(client)
    (call,) = client.recorder.calls[-1:]
    assert (call.status, call.error_kind, call.attempts) == ("error", "invalid_response", 3)
