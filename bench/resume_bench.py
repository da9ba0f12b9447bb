"""An import killed with SIGKILL part way, then started again: how much the second run reads and how long it takes.

    .venv/bin/python bench/resume_bench.py --messages 1000000 --kill-at 0.5

Generates the export like import_bench.py (full account, ``--chats`` chats), empties the tables, starts
``telegram-intel import`` in a child process, SIGKILLs it once its committed checkpoints cover ``--kill-at`` of the
messages, then runs the same command again; that run resumes. Reports the resumed run's byte offset (share of the
file it did not read), the messages it parsed, its wall and CPU time, and an uninterrupted import for comparison.
Uses an embedded PostgreSQL in ``--home`` unless TELEGRAM_INTEL_DATABASE_URL is set. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.import_bench import TABLES, child_import, sql  # noqa: E402
from telegram_intel.db.embedded import EmbeddedPostgres  # noqa: E402
from telegram_intel.db.engine import make_engine, upgrade  # noqa: E402
from telegram_intel_tools.sample_data import write_sample_export  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--chats", type=int, default=10)
    ap.add_argument("--kill-at", type=float, default=0.5, help="share of the messages committed before the kill")
    ap.add_argument("--home", type=Path, default=ROOT / "bench" / "out" / "home-resume")
    args = ap.parse_args()

    export_dir = ROOT / "bench" / "out" / f"export-full_account-{args.messages}-{args.chats}chats"
    if not (export_dir / "result.json").exists():
        write_sample_export(export_dir, messages=args.messages, kind="full_account", chats=args.chats, media=False,
                            speech=False)
    export = export_dir / "result.json"
    env = dict(os.environ)
    server = None
    if not env.get("TELEGRAM_INTEL_DATABASE_URL"):
        args.home.mkdir(parents=True, exist_ok=True)
        server = EmbeddedPostgres(args.home / "pg")
        server.start()
        env["TELEGRAM_INTEL_DATABASE_URL"] = server.url
        env["TELEGRAM_INTEL_HOME"] = str(args.home)
    engine = make_engine(env["TELEGRAM_INTEL_DATABASE_URL"])
    upgrade(engine)
    try:
        sql(engine, f"TRUNCATE {TABLES} CASCADE")
        sql(engine, "CHECKPOINT", autocommit=True)
        full_wall, _, full = child_import(export, env)

        sql(engine, f"TRUNCATE {TABLES} CASCADE")
        sql(engine, "CHECKPOINT", autocommit=True)
        child = subprocess.Popen([str(ROOT / ".venv" / "bin" / "telegram-intel"), "import", "--json", str(export)],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        want = args.kill_at * full["messages_seen"]
        with engine.connect() as conn:
            while child.poll() is None:
                done = conn.execute(sa.text("SELECT coalesce(sum(messages), 0) FROM telegram_import_checkpoints")
                                    ).scalar_one()
                conn.commit()
                if done >= want:
                    os.kill(child.pid, signal.SIGKILL)
                    break
                time.sleep(0.05)
        child.wait()
        killed_after = done
        time.sleep(1)  # the server ends the killed client's session (and its run lock)
        wall, rss, resumed = child_import(export, env)
    finally:
        engine.dispose()
        if server:
            server.stop()
    size = export.stat().st_size
    print(json.dumps({
        "messages": full["messages_seen"],
        "export_mb": round(size / 2**20, 1),
        "uninterrupted": {"wall_s": round(full_wall, 2), "cpu_s": round(full["cpu_seconds"], 2)},
        "killed_after_committed_messages": killed_after,
        "resumed": {
            "resume_offset": resumed["resume_offset"],
            "share_of_file_not_read": round(resumed["resume_offset"] / size, 3),
            "messages_before_resume": resumed["messages_before_resume"],
            "messages_parsed": resumed["messages_seen"],
            "messages_new": resumed["messages_new"],
            "messages_unchanged": resumed["messages_unchanged"],
            "wall_s": round(wall, 2), "cpu_s": round(resumed["cpu_seconds"], 2), "peak_rss_mib": round(rss),
        },
        "machine_load_average": round(os.getloadavg()[0], 1),
    }, indent=2))


if __name__ == "__main__":
    main()
