"""Import throughput and peak memory for a generated export: first import, re-import, overlapping export.

    .venv/bin/python bench/import_bench.py --kind full_account --chats 10 --messages 1000000 --runs 3
    .venv/bin/python bench/import_bench.py --kind single_chat --messages 1000000 --runs 3

Generates the export once (bench/out/, Telegram Desktop's own layout, `telegram-intel sample` generator; a
full-account export spreads the messages over ``--chats`` chats), then for each run:

1. ``import``: empties the tables, checkpoints (so a run does not pay for the previous run's writes), imports the
   export in a child process (``telegram-intel import``);
2. ``reimport``: imports the same file again into the filled tables (nothing changes);
3. ``overlap`` (``--overlap F``, default 0.1): deletes the newest share F of every chat's messages (what last
   month's export did not have yet; then VACUUM ANALYZE), imports the whole export again: most of it is stored,
   F of it is new.
   The target is that this takes about as long as importing the new part alone, measured two ways:
4. ``new_part_on_stored``: deletes the same newest messages again and imports a file holding only them (cut from
   the export once, same layout): the same writes into the same stored state, without the overlap to read;
5. ``new_part_alone``: empties the tables and imports a generated export of F x messages in as many chats (same
   layout, its own file): the new part's cost in an empty store, process start included.

Each child's wall time (process start to exit, schema check included) and its own peak RSS (``wait4``) are reported;
figures are medians over the runs. Uses an embedded PostgreSQL in ``--home`` (default bench/out/home) unless
TELEGRAM_INTEL_DATABASE_URL is set. BENCH_EXTRA adds options to the import command. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
EXTRA = os.environ.get("BENCH_EXTRA", "").split()
sys.path.insert(0, str(ROOT))

from telegram_intel.db.embedded import EmbeddedPostgres  # noqa: E402
from telegram_intel.db.engine import make_engine, upgrade  # noqa: E402
from telegram_intel_tools.sample_data import write_sample_export  # noqa: E402

TABLES = ("telegram_files, telegram_message_edits, telegram_messages, telegram_users, telegram_chats, "
          "telegram_import_runs")


def child_import(export: Path, env: dict) -> tuple[float, float, dict]:
    """(wall seconds, peak RSS MiB of this child alone, the import's JSON stats with the child's CPU seconds)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "telegram-intel"), "import", "--json", *EXTRA, str(export)],
            env=env, stdout=out, stderr=err,
        )
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage (RUSAGE_CHILDREN is a max over all)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"import failed ({child.returncode}): {err.read()[-2000:].decode(errors='replace')}")
        stats = json.loads(out.read())[str(export)]
        stats["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # the importing process only, not the server
        return wall, usage.ru_maxrss / 1024, stats


def sql(engine, statement: str, autocommit: bool = False) -> None:
    if autocommit:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(statement))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))


def drop_newest(engine, fraction: float) -> int:
    """Delete the newest ``fraction`` of every chat's messages (by id); returns how many were deleted."""
    with engine.begin() as conn:
        n = conn.execute(sa.text(
            "WITH cut AS (SELECT chat_id, percentile_disc(:keep) WITHIN GROUP (ORDER BY message_id) AS last_kept "
            "FROM telegram_messages GROUP BY chat_id) "
            "DELETE FROM telegram_messages m USING cut WHERE m.chat_id = cut.chat_id AND m.message_id > cut.last_kept"
        ), {"keep": 1 - fraction}).rowcount
    sql(engine, "VACUUM ANALYZE telegram_messages", autocommit=True)
    return n


def write_newest(export: Path, fraction: float, out: Path) -> int:
    """Write the export's newest ``fraction`` of every chat's messages (by id, as ``drop_newest`` cuts them) to
    ``out`` in the same layout; returns how many."""
    data = json.loads(export.read_bytes())
    chats = data["chats"]["list"] if "chats" in data else [data]
    n = 0
    for chat in chats:
        ids = sorted(m["id"] for m in chat.get("messages", ()))
        if ids:
            cut = ids[max(0, -(-len(ids) * round((1 - fraction) * 10_000) // 10_000) - 1)]  # percentile_disc
            chat["messages"] = [m for m in chat["messages"] if m["id"] > cut]
            n += len(chat["messages"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kind", default="full_account", choices=["single_chat", "full_account"])
    ap.add_argument("--chats", type=int, default=10, help="chats of a full-account export")
    ap.add_argument("--overlap", type=float, default=0.1, help="new share of the overlapping export (0: skip)")
    ap.add_argument("--home", type=Path, default=ROOT / "bench" / "out" / "home")
    ap.add_argument("--cut-newest", nargs=2, metavar=("EXPORT", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cut_newest:
        n = write_newest(Path(args.cut_newest[0]), args.overlap, Path(args.cut_newest[1]))
        print(f"cut the newest part: {n:,} messages", file=sys.stderr)
        return

    out = ROOT / "bench" / "out"
    name = f"export-{args.kind}-{args.messages}" + (f"-{args.chats}chats" if args.kind == "full_account" else "")
    export_dir = out / name
    if not (export_dir / "result.json").exists():
        t = time.perf_counter()
        write_sample_export(export_dir, messages=args.messages, kind=args.kind, chats=args.chats, media=False,
                            speech=False)
        print(f"generated {args.messages:,} messages in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    export = export_dir / "result.json"
    part = newest = None
    if args.overlap:
        newest = export_dir / f"newest-{args.overlap}" / "result.json"
        if not newest.exists():  # in a child: the children measured below would inherit this process's peak RSS
            subprocess.run([sys.executable, __file__, "--cut-newest", str(export), str(newest),
                            "--overlap", str(args.overlap)], check=True)
        n_part = round(args.messages * args.overlap)
        part_dir = out / (f"export-{args.kind}-{n_part}" + (f"-{args.chats}chats" if args.kind == "full_account"
                                                             else ""))
        if not (part_dir / "result.json").exists():
            write_sample_export(part_dir, messages=n_part, kind=args.kind, chats=args.chats, media=False,
                                speech=False)
        part = part_dir / "result.json"

    env = dict(os.environ)
    server = None
    if not env.get("TELEGRAM_INTEL_DATABASE_URL"):
        home = args.home
        home.mkdir(parents=True, exist_ok=True)
        server = EmbeddedPostgres(home / "pg")
        server.start()
        env["TELEGRAM_INTEL_DATABASE_URL"] = server.url
        env["TELEGRAM_INTEL_HOME"] = str(home)
    engine = make_engine(env["TELEGRAM_INTEL_DATABASE_URL"])
    upgrade(engine)
    results: dict[str, list[tuple[float, float, dict]]] = {"import": [], "reimport": [], "overlap": [],
                                                           "new_part_on_stored": [], "new_part_alone": []}
    dropped = 0
    try:
        for i in range(args.runs):
            sql(engine, f"TRUNCATE {TABLES} CASCADE")
            sql(engine, "CHECKPOINT", autocommit=True)
            results["import"].append(child_import(export, env))
            sql(engine, "CHECKPOINT", autocommit=True)
            results["reimport"].append(child_import(export, env))
            line = [f"run {i + 1}:"] + [
                f"{k} {r[-1][2]['messages_seen'] / r[-1][0]:,.0f} msg/s ({r[-1][1]:.0f} MiB, "
                f"{r[-1][2]['cpu_seconds'] / r[-1][2]['messages_seen'] * 1e6:.1f} µs CPU/msg)"
                for k, r in results.items() if r and k in ("import", "reimport")]
            if args.overlap:
                dropped = drop_newest(engine, args.overlap)
                sql(engine, "CHECKPOINT", autocommit=True)
                results["overlap"].append(child_import(export, env))
                r = results["overlap"][-1]
                line.append(f"overlap {r[2]['messages_seen'] / r[0]:,.0f} msg/s, {dropped:,} new in {r[0]:.1f}s "
                            f"({r[2]['cpu_seconds']:.1f}s CPU)")
                if drop_newest(engine, args.overlap) != dropped:
                    raise SystemExit("the second cut deleted other messages than the first")
                sql(engine, "CHECKPOINT", autocommit=True)
                results["new_part_on_stored"].append(child_import(newest, env))
                r = results["new_part_on_stored"][-1]
                if r[2]["messages_new"] != dropped:
                    raise SystemExit(f"the newest part wrote {r[2]['messages_new']:,} messages, not {dropped:,}")
                line.append(f"new part on stored {r[0]:.1f}s")
                sql(engine, f"TRUNCATE {TABLES} CASCADE")
                sql(engine, "CHECKPOINT", autocommit=True)
                results["new_part_alone"].append(child_import(part, env))
                line.append(f"new part alone {results['new_part_alone'][-1][0]:.1f}s")
            print(" ".join(line), file=sys.stderr)
    finally:
        engine.dispose()
        if server:
            server.stop()

    n = results["import"][0][2]["messages_seen"]

    def summary(runs: list[tuple[float, float, dict]]) -> dict:
        rates = [r[2]["messages_seen"] / r[0] for r in runs]
        return {
            "median_msg_per_s": round(statistics.median(rates)),
            "all_msg_per_s": [round(x) for x in rates],
            "median_wall_s": round(statistics.median(r[0] for r in runs), 2),
            # CPU of the importing process per message: less sensitive than wall time to a loaded machine
            "median_client_cpu_us_per_msg": round(statistics.median(r[2]["cpu_seconds"] / r[2]["messages_seen"] * 1e6
                                                                    for r in runs), 2),
            "peak_rss_mib": round(max(r[1] for r in runs)),
            "new_updated": [runs[-1][2]["messages_new"], runs[-1][2]["messages_updated"]],
        }

    result = {
        "kind": args.kind,
        "chats": results["import"][0][2]["chats"],
        "messages": n,
        "export_mb": round(export.stat().st_size / 2**20, 1),
        "runs": args.runs,
        **{k: summary(v) for k, v in results.items() if v},
        "chat_fk_check": results["import"][0][2].get("chat_fk_check"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
    }
    if results["overlap"]:
        result["overlap"]["messages_new_part"] = dropped
        result["overlap_wall_vs_new_part_on_stored"] = round(result["overlap"]["median_wall_s"]
                                                             / result["new_part_on_stored"]["median_wall_s"], 2)
        result["overlap_wall_vs_new_part_alone"] = round(result["overlap"]["median_wall_s"]
                                                         / result["new_part_alone"]["median_wall_s"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
