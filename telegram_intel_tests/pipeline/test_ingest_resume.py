"""Resumable imports: an export import killed (SIGKILL) at seeded random points and started again ends with exactly
the rows of an uninterrupted import, and each restart reads on from its checkpoint instead of from the start."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tests.conftest import truncate_all
from telegram_intel_tools.sample_data import write_sample_export

ROOT = Path(__file__).resolve().parents[2]
BATCH = 500
# The import a user runs, slowed down after each committed batch so that the kills land inside it.
CHILD = """
import sys, time
from pathlib import Path
from telegram_intel.db.engine import make_engine
from telegram_intel.pipeline.ingest import import_export

import_export(make_engine(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), batch_size=int(sys.argv[4]),
              on_batch=lambda stats: time.sleep(0.1))
"""

# Everything an import stores, in a stable order (timestamps of the write itself left out).
SNAPSHOT = {
    "telegram_chats": "SELECT chat_id, type, title, is_left, is_forum FROM telegram_chats ORDER BY 1",
    "telegram_users": "SELECT user_id, display_name, is_owner, first_seen_at, last_seen_at FROM telegram_users "
                      "ORDER BY 1",
    "telegram_messages": "SELECT md5(string_agg(to_jsonb(m)::text, '' ORDER BY chat_id, message_id)), count(*) FROM "
                         "(SELECT chat_id, message_id, kind, date, edit_date, sender_id, sender_name, text, entities, "
                         "reply_to_message_id, forwarded_from, media_type, action, reactions, raw::text AS raw, "
                         "topic_id, account_ids, content_hash, deleted_at FROM telegram_messages) m",
    "telegram_files": "SELECT chat_id, message_id, kind, status, file_name FROM telegram_files ORDER BY 1, 2, 3",
    "telegram_message_edits": "SELECT count(*) FROM telegram_message_edits",
}


def snapshot(engine) -> dict:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(q)).all() for t, q in SNAPSHOT.items()}


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("resume-export")
    write_sample_export(out, messages=12_000, chats=5, kind="full_account", media=False, speech=False, seed=3)
    return out / "result.json"


def runs(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT id, status, error, resumed_from, resume_offset, messages_seen FROM telegram_import_runs ORDER BY id"
        )).all()


def committed_batches(engine, run_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM telegram_import_checkpoints WHERE run_id = :r AND batch >= 0"),
                            {"r": run_id}).scalar_one()


def contiguous_offset(engine, run_id: int) -> int | None:
    """The byte offset of the last checkpoint below which every batch of the run committed (the test's own
    reading of the checkpoints, to compare with where the next run says it started)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT batch, byte_offset FROM telegram_import_checkpoints WHERE run_id = :r "
                                    "ORDER BY batch"), {"r": run_id}).all()
    offset, expect = None, rows[0].batch if rows and rows[0].batch == -1 else 0
    for batch, at in rows:
        if batch != expect:
            break
        offset, expect = at if at is not None else offset, expect + 1
    return offset


def wait_for(check, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def kill_after(engine, database_url: str, export: Path, storage_dir: Path, batches: int) -> int:
    """Start the import in a child process, SIGKILL it once ``batches`` of its batches committed; its run id."""
    earlier = max((r.id for r in runs(engine)), default=0)  # a killed run stays "running" until the next start
    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url, str(export), str(storage_dir), str(BATCH)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def started() -> bool:
            assert child.poll() is None, child.stdout.read().decode()
            return any(r.id > earlier for r in runs(engine))

        wait_for(started)
        run_id = max(r.id for r in runs(engine))
        wait_for(lambda: committed_batches(engine, run_id) >= batches or child.poll() is not None)
        assert child.poll() is None, "the import finished before the kill: " + child.stdout.read().decode()
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)

    def lock_released() -> bool:  # the server ends the dead client's session a moment after the kill
        with engine.connect() as conn:
            return not conn.execute(sa.text("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = :id"),
                                    {"id": run_id}).first()

    wait_for(lock_released, 30)
    return run_id


def test_import_killed_at_random_points_resumes_to_the_same_rows(engine, database_url, storage_dir, export):
    reference_stats = import_export(engine, export, storage_dir, batch_size=BATCH)
    reference = snapshot(engine)
    total = reference_stats.messages_seen
    assert reference_stats.resumed_from_run is None and reference_stats.resume_offset == 0
    truncate_all(engine)

    rng = random.Random(14)
    killed = []
    for _ in range(3):
        # A few batches into what is left: the runs before have committed some of the export already.
        killed.append(kill_after(engine, database_url, export, storage_dir, rng.randint(2, 5)))
    stats = import_export(engine, export, storage_dir, batch_size=BATCH)

    assert snapshot(engine) == reference
    *interrupted, last = runs(engine)
    assert [r.id for r in interrupted] == killed
    # The stale-run rule still holds: each killed run was marked failed by the next start.
    assert all(r.status == "failed" and r.error.startswith("interrupted") for r in interrupted)
    assert last.status == "success"
    # Each start resumed the run before it, exactly where all of that run's batches below had committed ...
    assert interrupted[0].resumed_from is None and interrupted[0].resume_offset == 0
    for before, after in zip(interrupted, [*interrupted[1:], last]):
        assert after.resumed_from == before.id
        assert after.resume_offset == contiguous_offset(engine, before.id) > before.resume_offset
    # ... and did not read the part before it: the last run parsed only the messages after its offset.
    assert stats.resumed_from_run == interrupted[-1].id and stats.resume_offset == last.resume_offset
    assert 0 < stats.messages_before_resume < total
    assert stats.messages_seen == last.messages_seen == total - stats.messages_before_resume


def test_a_changed_file_or_a_finished_run_is_imported_from_the_start(engine, database_url, storage_dir, export,
                                                                     tmp_path):
    copy = tmp_path / "result.json"
    copy.write_bytes(export.read_bytes())
    kill_after(engine, database_url, copy, storage_dir, 2)
    os.utime(copy, ns=(time.time_ns(), time.time_ns()))  # touched: maybe another export under the same name
    stats = import_export(engine, copy, storage_dir, batch_size=BATCH)
    assert stats.resumed_from_run is None and stats.messages_seen == stats.messages_new + stats.messages_unchanged
    again = import_export(engine, copy, storage_dir, batch_size=BATCH)  # the last run finished: a plain re-import
    assert again.resumed_from_run is None
    assert (again.messages_unchanged, again.messages_new, again.messages_updated) == (again.messages_seen, 0, 0)
