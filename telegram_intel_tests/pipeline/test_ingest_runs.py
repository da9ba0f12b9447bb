"""The run log of imports (``telegram_import_runs``): a run whose process was killed does not stay ``running``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from telegram_intel.pipeline.ingest import fail_stale_runs, import_export

ROOT = Path(__file__).resolve().parents[2]
# An import whose source hangs after its first record, so it can be killed while it runs.
CHILD = """
import sys, time
from pathlib import Path
from telegram_intel.db.engine import make_engine
from telegram_intel.lib.records import ChatRecord
from telegram_intel.pipeline.ingest import ingest

class Hanging:
    kind = "test"
    def describe(self):
        return "hanging source"
    def records(self):
        yield ChatRecord(chat_id=-100777, type="group", title="t")
        Path(sys.argv[2]).touch()
        time.sleep(600)

ingest(make_engine(sys.argv[1]), Hanging(), Path(sys.argv[3]))
"""


def runs(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT id, source, status, error FROM telegram_import_runs ORDER BY id")).all()


def wait_for(check, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_run_of_a_killed_import_is_marked_failed_on_the_next_start(engine, database_url, storage_dir, tmp_path,
                                                                    fixtures_dir):
    started = tmp_path / "started"
    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url, str(started), str(storage_dir)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: started.exists() or child.poll() is not None)
        assert child.poll() is None, child.stdout.read().decode()
        ((run_id, source, status, _),) = runs(engine)
        assert (source, status) == ("hanging source", "running")
        with engine.begin() as conn:
            assert fail_stale_runs(conn) == []  # alive: its process holds the run's lock
        assert runs(engine)[0].status == "running"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)

    def lock_released() -> bool:  # the server ends the dead client's session a moment after the kill
        with engine.connect() as conn:
            return not conn.execute(sa.text("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = :id"),
                                    {"id": run_id}).first()

    wait_for(lock_released, 30)
    import_export(engine, fixtures_dir / "telegram_2023-01.result.json", storage_dir)
    killed, imported = runs(engine)
    assert killed.status == "failed" and killed.error.startswith("interrupted")
    assert imported.status == "success"
