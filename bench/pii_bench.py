"""PII detection recall/precision on two labeled sets.

    .venv/bin/python bench/pii_bench.py --messages 3000 --seed 7

1. The hand-labeled ru/en/tr eval set shipped in telegram_intel_tools/data/pii_eval.jsonl.
2. The sample generator's ground truth (written independently of the detector): every message
   of a generated export, PII spans with exact offsets. Match = same type and same span.
The sample's URLs on keep-listed domains are excluded from both sides, as clean_messages keeps them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram_intel.lib.pii import find_pii  # noqa: E402
from telegram_intel_tools.pii_eval import evaluate  # noqa: E402
from telegram_intel_tools.sample_data import load_labeled_messages, write_sample_export  # noqa: E402


def sample_figures(messages: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        write_sample_export(tmp, messages=messages, seed=seed, media=False)
        rows = load_labeled_messages(tmp)
    tp, fp, fn = Counter(), Counter(), Counter()
    for row in rows:
        truth = {(p["type"].upper(), p["start"], p["end"]) for p in row.get("pii") or []}
        found = {(s.type, s.start, s.end) for s in find_pii(row["text"])}
        for t, *_ in truth & found:
            tp[t] += 1
        for t, *_ in found - truth:
            fp[t] += 1
        for t, *_ in truth - found:
            fn[t] += 1
    out = {}
    for t in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else 0.0
        r = tp[t] / (tp[t] + fn[t]) if tp[t] + fn[t] else 0.0
        out[t] = {"precision": round(p, 3), "recall": round(r, 3), "support": tp[t] + fn[t]}
    T, F, N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    out["overall"] = {"precision": round(T / (T + F), 3), "recall": round(T / (T + N), 3), "support": T + N,
                      "messages": len(rows)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    hand = evaluate()
    print(json.dumps({
        "hand_labeled_eval_set": {k: hand[k] for k in ("overall",)},
        "sample_ground_truth": sample_figures(args.messages, args.seed),
    }, indent=2, default=str))


if __name__ == "__main__":
    main()
