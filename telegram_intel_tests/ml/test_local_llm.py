"""The local LLM tier: `telegram-intel llm serve` (llama.cpp through xllamacpp) answering the real LLM-backed assets.

The packaged SmolLM2-135M keeps this fast; the Qwen2.5-Coder model goes through the same code with another GGUF path
(its assembly is tested in test_packaged_models.py, its quality measured by telegram_intel_tools.llm_eval)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.defs.labels.assets import intent_labels, message_summaries
from telegram_intel.defs.resources import LLMResource
from telegram_intel.lib.intents import INTENTS
from telegram_intel.ml.local_llm import LocalLLMError, LocalLLMServer, resolve_gguf
from telegram_intel.pipeline.labels import llm_method
from telegram_intel_tests.support import dagster


@pytest.fixture
def served_model():
    """`telegram-intel llm serve` in its own process; yields (base_url, model name)."""
    proc = subprocess.Popen([sys.executable, "-m", "telegram_intel.cli", "llm", "serve", "--model", "smollm2-135m",
                             "--port", "0", "--threads", "2", "--ctx", "2048"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        env = {}
        deadline = time.monotonic() + 120
        while len(env) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            key, _, value = line.strip().partition("=")
            env[key] = value
        assert len(env) == 2, proc.stderr.read() if proc.poll() is not None else env
        yield env["TELEGRAM_INTEL_LLM_BASE_URL"], env["TELEGRAM_INTEL_LLM_MODEL"], proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def test_served_model_labels_and_summarizes_through_the_assets(corpus, database_url, served_model):
    base_url, model, proc = served_model
    # the server decodes the pipelines' 4 concurrent requests side by side (--parallel 4, the default); greedy
    # decoding, and room for the longest answer the schemas allow (a cut-off answer is not JSON)
    llm = LLMResource(base_url=base_url, model=model, max_retries=1, timeout_s=300, max_tokens=768,
                      temperature=0.0, per_minute=100_000, per_hour=1_000_000)
    result = dg.materialize([intent_labels, message_summaries], partition_key="2025-06-01",
                            resources=dagster.resources(database_url, llm=llm),
                            run_config={"ops": {a.op.name: {"config": {"method": "llm"}}
                                                for a in (intent_labels, message_summaries)}})
    assert result.success
    with corpus.connect() as conn:
        labels = conn.execute(sa.text("SELECT label, method, confidence FROM intent_labels")).all()
        summaries = conn.execute(sa.text("SELECT method, summary FROM message_summaries")).all()
        calls = conn.execute(sa.text("SELECT status, model, completion_tokens FROM llm_calls")).all()
    assert labels and summaries
    # the grammar-constrained answers validate: every row comes from the model, none from the offline fallback
    assert {r.method for r in labels} == {llm_method(model, "intent")}
    assert {r.method for r in summaries} == {llm_method(model, "message_summary")}
    assert all(r.label in INTENTS and 0 <= r.confidence <= 1 for r in labels)
    assert all(r.summary.strip() for r in summaries)
    assert len(calls) == len(labels) + len(summaries)
    assert {c.status for c in calls} == {"ok"} and {c.model for c in calls} == {model}
    assert all(c.completion_tokens > 0 for c in calls)
    # SIGTERM stops the server cleanly
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_in_process_answer_follows_the_json_schema():
    schema = {"type": "object", "properties": {"label": {"type": "string", "enum": list(INTENTS)}},
              "required": ["label"], "additionalProperties": False}
    with LocalLLMServer("smollm2-135m", threads=2) as server:
        answer = server.chat({"messages": [{"role": "user", "content": "Can you send me the file please?"}],
                              "temperature": 0, "max_tokens": 30,
                              "response_format": {"type": "json_schema", "json_schema": {"name": "i", "schema": schema}}})
    import json

    assert json.loads(answer["choices"][0]["message"]["content"])["label"] in INTENTS


def test_bad_model_names_are_clear_errors(tmp_path):
    with pytest.raises(LocalLLMError, match="not a known model name"):
        resolve_gguf(str(tmp_path / "missing.gguf"))
    fake = tmp_path / "weights.gguf"
    fake.write_bytes(b"PK\x03\x04 not gguf")
    with pytest.raises(LocalLLMError, match="not a GGUF file"):
        resolve_gguf(str(fake))
    done = subprocess.run([sys.executable, "-m", "telegram_intel.cli", "llm", "serve", "--model", str(fake)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "not a GGUF file" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "telegram_intel.cli", "llm", "serve", "--host", "0.0.0.0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--api-key" in done.stderr
