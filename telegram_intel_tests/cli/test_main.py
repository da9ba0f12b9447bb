from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from telegram_intel.cli.main import main
from telegram_intel.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from telegram_intel.db.engine import make_engine
from telegram_intel.sources import desktop_export


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_import_then_stats_json(ti_env, engine, fixtures_dir):
    res = run("import", str(fixtures_dir / "telegram_2020-01.result.json"), str(fixtures_dir / "telegram_2025-12.result.json"))
    assert res.exit_code == 0, res.output
    assert "msg/s" in res.output

    stats = json.loads(run("stats", "--json").output)
    data = [json.loads((fixtures_dir / n).read_text()) for n in ("telegram_2020-01.result.json", "telegram_2025-12.result.json")]
    msgs = [m for d in data for c in d["chats"]["list"] for m in c["messages"]]
    assert stats["messages"] == len(msgs)
    assert stats["service_messages"] == sum(1 for m in msgs if m["type"] == "service")
    assert stats["forwards"] == sum(1 for m in msgs if "forwarded_from" in m)
    assert stats["chats"] == sum(len(d["chats"]["list"]) for d in data)
    assert set(stats) >= {"chats", "users", "messages", "service_messages", "replies", "forwards", "edited", "media"}
    assert stats["media"]["sticker"] >= 1 and stats["media"]["voice"] >= 1

    again = json.loads(run("import", "--json", str(fixtures_dir / "telegram_2020-01.result.json")).output)
    (result,) = again.values()
    assert (result["messages_new"], result["messages_updated"]) == (0, 0)


def test_import_bad_file_exits_nonzero_with_clear_error(ti_env, engine, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"chats": {"list": [{"name": "x", "type": "private_group", "id": 1, "messages": [{"id": 1,')
    result = CliRunner().invoke(main, ["import", str(bad)])
    assert result.exit_code == 1
    error, hint = result.output.strip().splitlines()
    assert error.startswith(f"error: {bad}: ") and "truncated" in error and hint.startswith("hint: ")
    assert json.loads(run("stats", "--json").output)["messages"] == 0


def test_sample_command_writes_export_and_truth(ti_env, tmp_path):
    out = tmp_path / "s"
    res = run("sample", "--out", str(out), "--messages", "400", "--seed", "5")
    assert res.exit_code == 0, res.output
    assert (out / "result.json").is_file() and (out / "ground_truth.json").is_file()
    truth = json.loads((out / "ground_truth.json").read_text())
    assert len(truth["users"]) >= 10


def test_embedded_server_is_stopped_after_a_command(tmp_path):
    """With no database URL the CLI starts the embedded server and leaves none running."""
    home = Path(tempfile.mkdtemp(prefix="ti-home-"))
    home.chmod(0o711)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_INTEL_")}
    env["TELEGRAM_INTEL_HOME"] = str(home)
    cli = [sys.executable, "-m", "telegram_intel.cli"]
    out = subprocess.run([*cli, "stats", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["messages"] == 0
    server = EmbeddedPostgres(home / "pg")
    assert (home / "pg" / "data" / "PG_VERSION").exists()
    assert not server.is_running()

    # `db start` keeps it running for later commands, which then leave it running.
    url = subprocess.run([*cli, "db", "start"], env=env, capture_output=True, text=True, timeout=120)
    assert url.returncode == 0 and url.stdout.strip() == server.url
    try:
        assert subprocess.run([*cli, "db", "upgrade"], env=env, capture_output=True, timeout=120).returncode == 0
        assert server.is_running()
    finally:
        server.stop()
    assert not server.is_running()


def test_database_dying_mid_import_is_one_line_and_a_hint(tmp_path, monkeypatch, fixtures_dir):
    """The server dies while an export is imported: one error line naming the file, a hint, no traceback
    (``--debug`` shows it); the next start marks the interrupted runs failed."""
    root = Path(tempfile.mkdtemp(prefix="ti-pg-dies-"))
    root.chmod(0o711)  # the embedded server's system user (when run as root) must traverse it
    server = EmbeddedPostgres(root / "pg")
    server.start()
    monkeypatch.setenv("TELEGRAM_INTEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TELEGRAM_INTEL_DATABASE_URL", server.url)
    real = desktop_export.iter_export

    def dies_after_three_records(path, **kwargs):
        for i, record in enumerate(real(path, **kwargs)):
            if i == 3:
                subprocess.run(server._cmd("pg_ctl", "stop", "-m", "immediate", "-D", str(server.data_dir)),
                               check=True, capture_output=True)
            yield record

    export = fixtures_dir / "telegram_2020-01.result.json"
    engine = make_engine(server.url)
    try:
        monkeypatch.setattr(desktop_export, "iter_export", dies_after_three_records)
        result = CliRunner().invoke(main, ["import", str(export)])
        assert result.exit_code == 1 and "Traceback" not in result.output
        error, hint = result.output.strip().splitlines()
        assert error.startswith(f"error: importing {export}: database unavailable: ")
        assert hint.startswith("hint: check that PostgreSQL is running")

        server.start()
        debug = CliRunner().invoke(main, ["--debug", "import", str(export)])
        assert debug.exit_code == 1
        assert isinstance(debug.exception, (sa.exc.OperationalError, psycopg.OperationalError))

        server.start()
        monkeypatch.setattr(desktop_export, "iter_export", real)
        assert CliRunner().invoke(main, ["import", str(export)]).exit_code == 0
        with engine.connect() as conn:
            runs = conn.execute(sa.text("SELECT status, error FROM telegram_import_runs ORDER BY id")).all()
        assert [r.status for r in runs] == ["failed", "failed", "success"]
        assert all(r.error.startswith("interrupted") for r in runs[:2])
    finally:
        engine.dispose()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="the embedded server runs as a system user only when run as root")
def test_embedded_server_that_cannot_reach_its_folder_is_one_line_and_a_hint(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)  # root's own: the server's system user cannot traverse it
    monkeypatch.setenv("TELEGRAM_INTEL_HOME", str(locked / "home"))
    monkeypatch.delenv("TELEGRAM_INTEL_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["stats"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    error, hint = result.output.strip().splitlines()
    assert error.startswith("error: the embedded database runs as system user") and "cannot reach" in error
    assert hint == "hint: set TELEGRAM_INTEL_HOME to a directory under a traversable path, or set " \
                   "TELEGRAM_INTEL_DATABASE_URL to an external PostgreSQL"
    debug = CliRunner().invoke(main, ["--debug", "stats"])
    assert isinstance(debug.exception, EmbeddedPostgresError)
