"""The LLM method against a real local HTTP server speaking the OpenAI API (telegram_intel_tests/llm)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from telegram_intel.defs.resources import LLMResource
from telegram_intel.lib.profiles import CorpusMessage
from telegram_intel.llm import LLMClient, MemoryRecorder, RetryPolicy
from telegram_intel.pipeline.profiles import profile_with_llm
from telegram_intel_tests.support.dagster import metadata
from telegram_intel_tests.support.fake_openai import (
    FakeOpenAIServer,
    Reply,
    completion,
    ok,
)
from telegram_intel_tests.support.profiles import materialize_profiles, profiles

ANSWER = {"job_label": "Dentist", "sector": "Healthcare", "confidence": 81,
          "evidence_keywords": ["коронку", "имплант", "x-ray"]}


@pytest.fixture
def server():
    srv = FakeOpenAIServer(default=ok(ANSWER)).start()
    yield srv
    srv.stop()


def test_profile_with_llm_parses_and_links_evidence(server):
    client = LLMClient(model="test-model", base_url=server.url, api_key="sk-test-0000", timeout_s=5,
                       retry=RetryPolicy(max_attempts=1), recorder=MemoryRecorder())
    t = datetime(2025, 6, 1, tzinfo=timezone.utc)
    msgs = [CorpusMessage(-100, 1, t, "Поставил коронку пациенту, завтра имплант"),
            CorpusMessage(-100, 2, t, "Сегодня весь день шёл дождь, ужас"),
            CorpusMessage(-100, 3, t, "The X-ray looks fine, no need for a root canal")]
    guess = profile_with_llm(client, msgs, min_messages=3)
    assert (guess.status, guess.job_label, guess.sector, guess.confidence) == ("analyzed", "Dentist", "healthcare", 81)
    assert guess.method.startswith("llm:test-model:user_job_profile@")
    assert guess.evidence_message_ids == [[-100, 1], [-100, 3]]
    sent = server.requests[-1]["body"]["messages"][-1]["content"]
    assert "Поставил коронку пациенту" in sent and "3 messages" in sent
    assert server.requests[-1]["body"]["response_format"]["type"] == "json_schema"

    server.push(ok({"job_label": "unknown", "sector": "unknown", "confidence": 10, "evidence_keywords": []}))
    guess = profile_with_llm(client, msgs, min_messages=3)
    assert guess.job_label is None and guess.sector is None and guess.confidence == 0
    n = len(server.requests)
    assert profile_with_llm(client, msgs[:2], min_messages=3).status == "insufficient_data"
    assert len(server.requests) == n  # no call for too few messages
    client.close()


def test_user_profiles_asset_with_llm_and_fallback(engine, imported, database_url, server):
    # the first call fails for good (a schema violation, no retries here), the rest answer
    server.push(lambda body: Reply(200, completion(json.dumps({**ANSWER, "confidence": 150}))))
    llm = LLMResource(base_url=server.url, api_key="sk-test-0000", model="test-model", max_retries=0,
                      record_calls=True)
    result = materialize_profiles(database_url, llm=llm, corpus_config={"limit": 30})
    md = metadata(result, "user_profiles")
    assert md["method"] == "llm" and md["llm_failures"] == 1
    methods = md["methods_this_run"]
    assert sum(v for k, v in methods.items() if k.startswith("llm:test-model:user_job_profile")) == \
        md["analyzed_this_run"] - 1
    assert sum(v for k, v in methods.items() if k.startswith("offline:")) == 1
    rows = profiles(engine)
    llm_rows = [r for r in rows.values() if (r["method"] or "").startswith("llm:")]
    assert llm_rows and all(r["job_label"] == "Dentist" and r["sector"] == "healthcare" and r["confidence"] == 81
                            for r in llm_rows)
    for uid in imported.rare_ids:  # no LLM call for users below the minimum
        assert rows[uid]["status"] == "insufficient_data"
    assert len(server.requests) == md["analyzed_this_run"]
    # PII masked and pseudonymized text is what leaves the machine
    sent = "\n".join(r["body"]["messages"][-1]["content"] for r in server.requests)
    owner_name = imported.truth["owner"]["name"]
    other = [u for u in imported.truth["users"] if not u["opt_out"]][3]
    assert other["name"] not in sent or other["name"] == owner_name
    with engine.connect() as conn:
        calls = conn.execute(sa.text("SELECT count(*) FROM llm_calls WHERE prompt_name = 'user_job_profile'"
                                     )).scalar_one()
    assert calls == len(server.requests)

    # method=llm with no server configured is an error, not a silent switch to another method
    with pytest.raises(Exception, match="llm resource is not configured"):
        materialize_profiles(database_url, profiles_config={"method": "llm", "force": True})
