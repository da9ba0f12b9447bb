"""Import throughput and peak memory for a generated export.

    .venv/bin/python bench/import_bench.py --messages 1000000 --runs 3

Generates the sample export once (bench/out/, Telegram Desktop's layout), then for each
run: empties the tables, checkpoints (so a run does not pay for the previous run's
writes), imports the export in a child process (`telegram-intel import`) and reads that
child's wall time and peak RSS. A final run re-imports into the filled tables (the
idempotent no-op path). Uses an embedded PostgreSQL in bench/out/home unless
TELEGRAM_INTEL_DATABASE_URL is set. BENCH_EXTRA adds options to the import command
(e.g. BENCH_EXTRA="--batch-size 5000"). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
EXTRA = os.environ.get("BENCH_EXTRA", "").split()
sys.path.insert(0, str(ROOT))

from telegram_intel.db.embedded import EmbeddedPostgres  # noqa: E402
from telegram_intel.db.engine import make_engine, upgrade  # noqa: E402
from telegram_intel_tools.sample_data import write_sample_export  # noqa: E402


def child_import(export: Path, env: dict) -> tuple[float, float, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "telegram-intel"), "import", "--json", *EXTRA, str(export)],
        env=env, capture_output=True, text=True, check=True,
    )
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far; runs only grow the same way,
    # so report it per run (the first run's value is exact, later ones are upper bounds).
    return wall, max(peak_kb, before) / 1024, json.loads(out.stdout)[str(export)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kind", default="single_chat", choices=["single_chat", "full_account"])
    args = ap.parse_args()

    out = ROOT / "bench" / "out"
    export_dir = out / f"export-{args.kind}-{args.messages}"
    if not (export_dir / "result.json").exists():
        t = time.perf_counter()
        write_sample_export(export_dir, messages=args.messages, kind=args.kind, media=False)
        print(f"generated {args.messages:,} messages in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    export = export_dir / "result.json"

    env = dict(os.environ)
    server = None
    if not env.get("TELEGRAM_INTEL_DATABASE_URL"):
        home = out / "home"
        home.mkdir(parents=True, exist_ok=True)
        server = EmbeddedPostgres(home / "pg")
        server.start()
        env["TELEGRAM_INTEL_DATABASE_URL"] = server.url
        env["TELEGRAM_INTEL_HOME"] = str(home)
    engine = make_engine(env["TELEGRAM_INTEL_DATABASE_URL"])
    upgrade(engine)
    try:
        fresh = []
        for i in range(args.runs):
            with engine.begin() as conn:
                conn.execute(sa.text(
                    "TRUNCATE telegram_files, telegram_message_edits, telegram_messages, telegram_users, "
                    "telegram_chats, telegram_import_runs CASCADE"
                ))
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("CHECKPOINT"))
            wall, rss, stats = child_import(export, env)
            fresh.append((wall, rss, stats))
            print(f"run {i + 1}: {stats['messages_seen'] / wall:,.0f} msg/s, peak RSS {rss:.0f} MiB", file=sys.stderr)
        wall_re, rss_re, stats_re = child_import(export, env)
    finally:
        engine.dispose()
        if server:
            server.stop()

    n = fresh[0][2]["messages_seen"]
    rates = [n / w for w, _, _ in fresh]
    result = {
        "messages": n,
        "export_mb": round(export.stat().st_size / 2**20, 1),
        "runs": args.runs,
        "median_msg_per_s": round(statistics.median(rates)),
        "all_msg_per_s": [round(r) for r in rates],
        "peak_rss_mib_first_run": round(fresh[0][1]),
        "reimport_msg_per_s": round(n / wall_re),
        "reimport_new_updated": [stats_re["messages_new"], stats_re["messages_updated"]],
        "chat_fk_check": fresh[0][2].get("chat_fk_check"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
