"""Parse-only throughput of the export parser (no database).

    .venv/bin/python bench/parse_bench.py --messages 200000 --runs 3

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

from telegram_intel.lib.export_parser import iter_export  # noqa: E402
from telegram_intel.lib.records import MessageRecord  # noqa: E402
from telegram_intel_tools.sample_data import write_sample_export  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kind", default="single_chat", choices=["single_chat", "full_account"])
    args = ap.parse_args()
    export_dir = ROOT / "bench" / "out" / f"export-{args.kind}-{args.messages}"
    if not (export_dir / "result.json").exists():
        write_sample_export(export_dir, messages=args.messages, kind=args.kind, media=False)
    path = export_dir / "result.json"
    count = sum(1 for r in iter_export(path) if isinstance(r, MessageRecord))
    rates = []
    for _ in range(args.runs):
        t = time.process_time()
        for _ in iter_export(path):
            pass
        rates.append(count / (time.process_time() - t))
    print(json.dumps({
        "kind": args.kind, "messages": count, "file_mib": round(path.stat().st_size / 2**20, 1),
        "median_msg_per_s": round(statistics.median(rates)), "all": [round(r) for r in rates],
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }, indent=2))


if __name__ == "__main__":
    main()
