"""Fuzz the export import: N mutated real exports through the real import, 0 crashes expected.

    .venv/bin/python bench/fuzz_import.py --cases 10000 [--seed 1]

Cases come from ``telegram_intel_tests/support/fuzz_exports.py`` (hypothesis; see its docstring for the mutations).
Each is imported into one fresh embedded PostgreSQL (or TELEGRAM_INTEL_DATABASE_URL, which must be a disposable
database) that holds the baseline fixtures. A case must end in an import or a ``TelegramDataError`` naming the file
and where in it; anything else is a crash, counted and saved under bench/out/fuzz-crashes/ (no shrinking, so one
run counts every crash). The baseline chats' rows are compared with their state before fuzzing every 500 cases
and at the end. Prints JSON.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from telegram_intel.db.embedded import EmbeddedPostgres  # noqa: E402
from telegram_intel.db.engine import make_engine, upgrade  # noqa: E402
from telegram_intel_tests.support.fuzz_exports import (  # noqa: E402
    baseline_rows,
    import_baseline,
    import_case,
    mutated_exports,
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    out = ROOT / "bench" / "out"
    crash_dir = out / "fuzz-crashes"
    shutil.rmtree(crash_dir, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="ti-fuzz-"))
    work.chmod(0o711)  # the embedded server's system user (as root) must traverse it
    server = None
    url = os.environ.get("TELEGRAM_INTEL_DATABASE_URL")
    if not url:
        server = EmbeddedPostgres(work / "pg")
        server.start()
        url = server.url
    engine = make_engine(url)
    upgrade(engine)
    storage = work / "storage"
    storage.mkdir()
    case_file = work / "case" / "result.json"
    case_file.parent.mkdir()
    counts: collections.Counter[str] = collections.Counter()
    crashes: collections.Counter[str] = collections.Counter()
    changed_at: list[int] = []
    started = time.perf_counter()
    try:
        chats = import_baseline(engine, storage)
        before = baseline_rows(engine, chats)

        @seed(args.seed)
        @settings(max_examples=args.cases, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=mutated_exports())
        def fuzz(case: tuple[str, bytes]) -> None:
            what, data = case
            case_file.write_bytes(data)
            try:
                counts[import_case(engine, storage, case_file)] += 1
            except Exception as exc:  # a crash: count and keep it, go on (no shrinking)
                kind = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
                crashes[kind] += 1
                counts["crash"] += 1
                if crashes[kind] <= 3:
                    crash_dir.mkdir(parents=True, exist_ok=True)
                    n = sum(crashes.values())
                    (crash_dir / f"{n:04d}.json").write_bytes(data)
                    (crash_dir / f"{n:04d}.txt").write_text(f"{what}\n\n{traceback.format_exc()}")
            done = sum(counts.values())
            if done % 500 == 0:
                if baseline_rows(engine, chats) != before:
                    changed_at.append(done)
                rate = done / (time.perf_counter() - started)
                print(f"{done} cases, {counts['crash']} crashes, {rate:.1f} cases/s", file=sys.stderr)

        fuzz()
        unchanged = baseline_rows(engine, chats) == before and not changed_at
    finally:
        engine.dispose()
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    print(json.dumps({
        "cases": total,
        "imported": counts["imported"],
        "rejected_with_typed_error": counts["rejected"],
        "crashes": counts["crash"],
        "crash_kinds": dict(crashes.most_common()),
        "baseline_rows_unchanged": unchanged,
        "baseline_changed_after_cases": changed_at,
        "seed": args.seed,
        "seconds": round(seconds, 1),
        "cases_per_s": round(total / seconds, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }, indent=2))
    if counts["crash"] or not unchanged:
        sys.exit(1)


if __name__ == "__main__":
    main()
