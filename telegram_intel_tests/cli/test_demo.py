"""`telegram-intel demo` (cli/demo.py): what it sets up, evaluated with the real sensors, a real Dagster instance, the
real definitions and the real `dg dev` it serves with.

The full demo (3,000 messages through every enrichment asset) takes many minutes on two cores; these tests run its
steps on smaller samples."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.cli import demo
from telegram_intel.config import load_settings
from telegram_intel.defs.automation.sensors import retrain_after_new_messages_sensor
from telegram_intel.defs.ingest.sensors import telegram_export_inbox_sensor
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tools.sample_data import load_ground_truth


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def no_demo_env(monkeypatch):
    for name in (demo.PARTITIONS_START_ENV, demo.RETRAIN_ENABLED_ENV):
        monkeypatch.delenv(name, raising=False)


def _evaluate(sensor, instance, database_url, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor,
                                 resources={"telegram": TelegramIntelResource(database_url=database_url)}) as context:
        return sensor.evaluate_tick(context)


def test_demo_leaves_persona_training_to_the_user(ti_env, engine, database_url, monkeypatch, no_demo_env):
    """With the demo's environment the retrain sensor starts no training (it says how to launch one); without it the
    same sensor on the same data requests one — the 18-minute CPU run the demo used to start unasked."""
    sample_dir = demo.ensure_sample(load_settings(), 1200)
    import_export(engine, sample_dir / "result.json", ti_env / "storage")
    env = demo.demo_environment(sample_dir, database_url)

    with dg.instance_for_test() as instance:
        plain = _evaluate(retrain_after_new_messages_sensor, instance, database_url)
        assert [r.run_key.split("-")[0] for r in plain.run_requests] == ["retrain"]

        for name, value in env.items():
            monkeypatch.setenv(name, value)
        in_demo = _evaluate(retrain_after_new_messages_sensor, instance, database_url)
    assert in_demo.run_requests == []
    assert "persona_training_job" in in_demo.skip_message and "RETRAIN_ENABLED" in in_demo.skip_message


def test_the_inbox_sensor_does_not_import_the_demos_sample_again(ti_env, engine, dagster_home, monkeypatch):
    """The demo imports the sample through Dagster; the inbox sensor, seeing the file for the first time (empty
    cursor), registers nothing new and requests no second import — until the file changes."""
    monkeypatch.setattr(demo, "_materialize_enrichment", lambda instance, defs, url: None)  # minutes; not needed
    demo.prepare_dagster_home(load_settings())
    settings = load_settings()
    demo._materialize_sample(settings, 300, os.environ["TELEGRAM_INTEL_DATABASE_URL"])

    instance = dg.DagsterInstance.get()
    try:
        first = telegram_export_inbox_sensor(dg.build_sensor_context(instance=instance))
        assert first.run_requests == [] and first.dynamic_partitions_requests == []

        sample = settings.inbox_dir / demo.SAMPLE_KEY
        sample.write_text(sample.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # a newer version
        changed = telegram_export_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert [r.partition_key for r in changed.run_requests] == [demo.SAMPLE_KEY]
    finally:
        instance.dispose()


def test_partitions_start_where_the_demos_data_starts(ti_env, engine, database_url, no_demo_env):
    """The demo's sample ends yesterday; the partitions the definitions build with the demo's environment start on
    its first day, and the range the demo materializes is every partition the UI lists (none "missing")."""
    sample_dir = demo.ensure_sample(load_settings(), 300)
    truth = load_ground_truth(sample_dir)
    env = demo.demo_environment(sample_dir, database_url)
    import_export(engine, sample_dir / "result.json", ti_env / "storage")
    with engine.connect() as conn:
        first, last = conn.execute(sa.text("SELECT min(date), max(date) FROM telegram_messages")).one()
    today = datetime.now(timezone.utc).date()
    assert last.date() < today and first.date() >= today - timedelta(days=91)  # a recent sample, not 2025's
    assert truth["end_unixtime"] > time.time() - 3600

    code = (
        "import json, dagster as dg\n"
        "from datetime import datetime\n"
        "from telegram_intel.definitions import defs\n"
        "from telegram_intel.cli.demo import enrichment_range\n"
        "p = defs.resolve_asset_graph().get(dg.AssetKey('clean_messages')).partitions_def\n"
        f"rng = enrichment_range(defs, datetime.fromisoformat({first.isoformat()!r}))\n"
        "print(json.dumps({'first': p.get_first_partition_key(), 'last': p.get_last_partition_key(),\n"
        "                  'count': len(p.get_partition_keys()), 'range': rng}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["first"] == env[demo.PARTITIONS_START_ENV] == first.astimezone(timezone.utc).date().isoformat()
    assert got["range"] == [got["first"], got["last"]] and got["last"] == today.isoformat()
    assert got["count"] <= 92  # the sample's 90 days (+ today), not ≈ 4,800 since 2013


# -- the console a newcomer sees -----------------------------------------------------------------------------------

NOISE = {
    "telemetry banner": re.compile(r"Telemetry:|We will not see or store"),
    "superseded dagster dev": re.compile(r"SupersessionWarning|superseded|Use 'dg dev' instead"),
    "no dagster.yaml": re.compile(r"No dagster instance configuration file|will not be used to configure Dagster"),
    "backfill policy": re.compile(r"BackfillPolic", re.IGNORECASE),
    "code location name": re.compile(r"does not match the name"),
    "traceback": re.compile(r"Traceback|FileNotFoundError"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_the_served_ui_console_shows_no_warnings(ti_env, engine, database_url, dagster_home, no_demo_env):
    """`dg dev` on the demo's instance and workspace, with the demo's environment, from the demo's working folder:
    it serves, the daemon evaluates the sensors (the retrain sensor saying it is off), and the console shows no
    telemetry banner, superseded-command warning, missing-dagster.yaml warning or backfill-policy warning."""
    settings = load_settings()
    home = demo.prepare_dagster_home(settings)
    assert dg.DagsterInstance.get().telemetry_enabled is False
    sample_dir = demo.ensure_sample(settings, 200)
    env = {**os.environ, **demo.demo_environment(sample_dir, database_url)}
    port = _free_port()
    log = home.parent / "console.txt"
    with open(log, "w") as out:
        proc = subprocess.Popen(demo.serve_command(demo.workspace_yaml(settings), port), cwd=home, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        text = ""
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            if "Serving dagster-webserver" in text and "retrain_after_new_messages_sensor skipped" in text:
                break
            assert proc.poll() is None, text[-3000:]
            time.sleep(1)
        time.sleep(3)  # anything printed right after
        text = log.read_text(errors="replace")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert f"Serving dagster-webserver on http://127.0.0.1:{port}" in text, text[-3000:]
    assert "automatic retraining is off" in text, text[-3000:]
    found = {what: pattern.search(text).group(0) for what, pattern in NOISE.items() if pattern.search(text)}
    assert not found, (found, text[-3000:])
