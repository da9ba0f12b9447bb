"""Parse-only throughput of the export parser (no database).

    .venv/bin/python bench/parse_bench.py --messages 200000 --runs 3
    .venv/bin/python bench/parse_bench.py --kind full_account --messages 300000 --runs 5 --rows

``--rows``: also what a first import does per message before the database (the source hash, the row, its binary
COPY form in a batch buffer), the client's share of an import.

Parses the same generated export (bench/out/) several times and prints the median
rate, CPU-time based (process_time) so other load on the box matters less, plus
the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram_intel.db.loader import TelegramWriter, _Batch, _RowFormatter  # noqa: E402
from telegram_intel.lib.export_parser import iter_export  # noqa: E402
from telegram_intel.lib.records import MessageRecord  # noqa: E402
from telegram_intel_tools.sample_data import write_sample_export  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kind", default="single_chat", choices=["single_chat", "full_account"])
    ap.add_argument("--rows", action="store_true", help="also hash, build and format the rows")
    args = ap.parse_args()
    name = f"export-{args.kind}-{args.messages}" + ("-10chats" if args.kind == "full_account" else "")
    export_dir = ROOT / "bench" / "out" / name
    if not (export_dir / "result.json").exists():
        write_sample_export(export_dir, messages=args.messages, kind=args.kind, chats=10, media=False)
    path = export_dir / "result.json"
    count = sum(1 for r in iter_export(path) if isinstance(r, MessageRecord))
    rates = []
    for _ in range(args.runs):
        t = time.process_time()
        if args.rows:
            rows(path)
        else:
            for _ in iter_export(path):
                pass
        rates.append(count / (time.process_time() - t))
    print(json.dumps({
        "rows": args.rows, "kind": args.kind, "messages": count, "file_mib": round(path.stat().st_size / 2**20, 1),
        "median_msg_per_s": round(statistics.median(rates)), "all": [round(r) for r in rates],
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }, indent=2))


class _NothingStored:
    """A store that holds none of the messages: every message is hashed and built, as on a first import."""

    seed = 1

    def unchanged(self, chat_id: int, account_id: int | None, message_id: int, content_hash: int) -> bool:
        return False

    def stored_hashes(self, chat_id: int, account_id: int | None, first_id: int, last_id: int, count: int) -> set:
        return set()

    def stored_spans(self, chat_id: int, account_id: int | None, first_id: int) -> list:
        return []


def rows(path: Path) -> None:
    formatter, batch = _RowFormatter(), _Batch()
    for r in iter_export(path, checkpoints=True, stored=_NothingStored()):
        if type(r) is MessageRecord:
            batch.add(formatter, r, TelegramWriter._message_row(r))
            if len(batch.messages) >= 10_000:
                batch = _Batch()


if __name__ == "__main__":
    main()
