"""On-disk size per message of the tables a deployment grows: a generated full-account export imported and cleaned
into a fresh embedded PostgreSQL, then ``pg_total_relation_size`` (heap + indexes + TOAST) of every table after
VACUUM ANALYZE. The per-message figures feed deploy/README.md's sizing for 10M and 100M messages.

    .venv/bin/python bench/table_sizes_bench.py --messages 200000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--chats", type=int, default=10)
    args = ap.parse_args()

    from telegram_intel.db.embedded import EmbeddedPostgres
    from telegram_intel.db.engine import make_engine, upgrade
    from telegram_intel.lib.cleaning import CleaningConfig
    from telegram_intel.pipeline.corpus import clean_range
    from telegram_intel.pipeline.ingest import import_export
    from telegram_intel_tools.sample_data import write_sample_export

    root = Path(tempfile.mkdtemp(prefix="ti-sizes-"))
    root.chmod(0o711)
    server = EmbeddedPostgres(root / "pg")
    server.start()
    try:
        export = root / "export"
        write_sample_export(export, messages=args.messages, chats=args.chats, media=False, seed=17)
        engine = make_engine(server.url)
        upgrade(engine)
        storage = root / "storage"
        storage.mkdir()
        t0 = time.perf_counter()
        import_export(engine, export / "result.json", storage)
        t1 = time.perf_counter()
        clean_range(engine, datetime(2013, 8, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc),
                    CleaningConfig(), secret="bench-secret-0123456789abcdef")
        t2 = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
            messages = conn.execute(sa.text("SELECT count(*) FROM telegram_messages")).scalar_one()
            clean = conn.execute(sa.text("SELECT count(*) FROM clean_messages")).scalar_one()
            rows = conn.execute(sa.text(
                "SELECT relname, pg_total_relation_size(c.oid) AS total, pg_relation_size(c.oid) AS heap "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY total DESC")).all()
        engine.dispose()
        out = {
            "messages": messages, "clean_messages": clean, "export_bytes": (export / "result.json").stat().st_size,
            "import_s": round(t1 - t0, 1), "clean_s": round(t2 - t1, 1),
            "tables": {r.relname: {"total_bytes": r.total, "heap_bytes": r.heap,
                                   "bytes_per_message": round(r.total / messages, 1)}
                       for r in rows if r.total > 64 * 1024},
        }
        print(json.dumps(out, indent=2))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
