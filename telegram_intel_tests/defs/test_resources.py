"""LLMResource in Dagster: offline by default, configured through dg.EnvVar at run time."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.db.llm_calls import LLMCall
from telegram_intel.defs.resources import LLMResource
from telegram_intel.llm import (
    MESSAGE_SUMMARY_SCHEMA,
    LLMDisabledError,
    load_llm_settings,
)
from telegram_intel_tests.support.fake_openai import ok
from telegram_intel_tests.support.llm import API_KEY

ENV = ("TELEGRAM_INTEL_LLM_ENABLED", "TELEGRAM_INTEL_LLM_BASE_URL", "TELEGRAM_INTEL_LLM_API_KEY", "TELEGRAM_INTEL_LLM_MODEL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_default_is_offline():
    llm = LLMResource()
    assert not llm.is_enabled()
    assert llm.describe()["llm_enabled"] is False
    with pytest.raises(LLMDisabledError):
        llm.get_client()
    # enabled without a key or a server still cannot call anything
    assert not LLMResource(enabled=True).is_enabled()
    assert not LLMResource(api_key="k", enabled=False).is_enabled()


def test_settings_from_environment_at_call_time(monkeypatch):
    llm = LLMResource()
    monkeypatch.setenv("TELEGRAM_INTEL_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("TELEGRAM_INTEL_LLM_MODEL", "qwen2.5:7b")
    assert llm.is_enabled()  # a local server needs no key
    assert llm.describe()["llm_model"] == "qwen2.5:7b"
    monkeypatch.setenv("TELEGRAM_INTEL_LLM_ENABLED", "false")
    assert not llm.is_enabled()
    assert load_llm_settings({"TELEGRAM_INTEL_LLM_API_KEY": API_KEY}).is_enabled


def test_key_hidden_from_repr():
    llm = LLMResource(api_key=API_KEY)
    assert API_KEY not in repr(llm) and API_KEY not in str(llm.settings())


def test_asset_uses_llm_configured_by_envvar(server, engine, monkeypatch):
    monkeypatch.setenv("TI_TEST_LLM_KEY", API_KEY)
    monkeypatch.setenv("TI_TEST_LLM_URL", server.url)
    server.push(ok({"summary": "s", "keywords": ["a", "b", "c"]}, prompt_tokens=2000, completion_tokens=1000))

    @dg.asset
    def summaries(context, llm: LLMResource) -> dg.MaterializeResult:
        if not llm.is_enabled():
            return dg.MaterializeResult(metadata={"method": "offline"})
        client = llm.get_client(engine, tags={"run_id": context.run.run_id})
        result = client.complete_json("message_summary", {"message": "m", "reply_context": ""}, MESSAGE_SUMMARY_SCHEMA)
        return dg.MaterializeResult(metadata={"method": result.method, "cost_usd": float(result.cost_usd), **llm.describe()})

    resource = LLMResource(
        api_key=dg.EnvVar("TI_TEST_LLM_KEY"),
        base_url=dg.EnvVar("TI_TEST_LLM_URL"),
        model="test-model",
        per_minute=dg.EnvVar.int("TI_TEST_LLM_PER_MINUTE"),
        prices={"test-model": [0.01, 0.02]},
    )
    monkeypatch.setenv("TI_TEST_LLM_PER_MINUTE", "30")
    result = dg.materialize([summaries], resources={"llm": resource})
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["method"].value.startswith("llm:test-model:message_summary@")
    assert metadata["cost_usd"].value == pytest.approx(0.04)
    assert metadata["llm_per_minute"].value == 30
    assert server.requests[0]["headers"]["authorization"] == f"Bearer {API_KEY}"
    with engine.connect() as conn:
        row = conn.execute(sa.select(LLMCall.__table__)).one()
    assert row.tags == {"run_id": result.run_id} and row.total_tokens == 3000

    offline = dg.materialize([summaries], resources={"llm": LLMResource()})
    assert offline.get_asset_materialization_events()[0].materialization.metadata["method"].value == "offline"
