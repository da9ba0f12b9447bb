"""Decision engine latency on this machine: the offline router alone, and ``DecisionEngine.submit`` end to end (claim,
route, plan, act, audit rows) on the embedded PostgreSQL — text orders into the local workbook, and 3-photo albums
into the WooCommerce contract fake (a local HTTP server; real shops add their network time).

    .venv/bin/python bench/decision_engine_bench.py [--n 50] [--runs 3]

Prints the median of ``--runs`` runs per figure. Plumbing figures (synthetic inputs), not routing quality.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the contract fake lives in the test support package

from telegram_intel.db.embedded import EmbeddedPostgres  # noqa: E402
from telegram_intel.db.engine import make_engine, upgrade  # noqa: E402
from telegram_intel.lib.decisions import MessagePart, assemble, route_offline  # noqa: E402
from telegram_intel.pipeline.decisions.config import DecisionSettings  # noqa: E402
from telegram_intel.pipeline.decisions.engine import DecisionEngine  # noqa: E402
from telegram_intel_tests.support.decisions import Album, FakeWooCommerce, woo_settings  # noqa: E402

TEXTS = ["Order: 3 x blue mugs for Anna, 45 USD", "Заказ 2 шт. стулья для Ивана 3000 руб",
         "Sipariş: 5 adet bardak 250 TL", "what do you think about this?"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ti-decisions-bench-"))
    root.chmod(0o711)
    server = EmbeddedPostgres(root / "pg")
    server.start()
    shop = FakeWooCommerce().start()
    try:
        engine = make_engine(server.url)
        upgrade(engine)
        units = [assemble([MessagePart(1, i, 7, TEXTS[i % len(TEXTS)])]) for i in range(1000)]
        t = time.perf_counter()
        for u in units:
            route_offline(u)
        router_us = (time.perf_counter() - t) / len(units) * 1e6
        text_ms, album_ms = [], []
        for run in range(args.runs):
            settings = DecisionSettings(mode="act", woocommerce=woo_settings(shop), xlsx_path=root / f"o{run}.xlsx",
                                        media_dir=root / "media")
            decisions = DecisionEngine(engine, settings)
            t = time.perf_counter()
            for i in range(args.n):
                decisions.submit(assemble([MessagePart(100 + run, i, 7, TEXTS[i % 3])]))
            text_ms.append((time.perf_counter() - t) / args.n * 1000)
            t = time.perf_counter()
            for i in range(args.n // 5):
                album = Album(200 + run, f"g{i}", "Oak chair for sale 90 USD")
                decisions.submit(assemble(album.parts()), album.contents())
            album_ms.append((time.perf_counter() - t) / (args.n // 5) * 1000)
        print(f"offline router: {router_us:.0f} µs/unit")
        print(f"text order → xlsx row, submit end to end: {statistics.median(text_ms):.1f} ms/unit "
              f"(median of {args.runs} runs × {args.n})")
        print(f"3-photo album → draft product (local fake shop): {statistics.median(album_ms):.1f} ms/album "
              f"(median of {args.runs} runs × {args.n // 5})")
        engine.dispose()
    finally:
        shop.stop()
        server.stop()


if __name__ == "__main__":
    main()
