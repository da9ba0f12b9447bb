"""Accuracy of the offline profile method on the synthetic sample's ground truth (no database, no Dagster).

The sample's messages go through the same cleaning as ``clean_messages`` (normalization, filters, PII masks,
pseudonyms), then :func:`~telegram_intel.lib.profiles.select_corpus`, then the profiler. Ground truth: each
user's ``sector``/``job_label`` in ``ground_truth.json``; rare users (3 messages) must come out as
"insufficient data"; the owner and opted-out users are not scored.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram_intel.lib.cleaning import clean_message
from telegram_intel.lib.export_parser import iter_export
from telegram_intel.lib.profiles import (
    INSUFFICIENT_DATA,
    CorpusMessage,
    OfflineProfiler,
    ProfileGuess,
    sector_accuracy,
    select_corpus,
)
from telegram_intel.lib.pseudonyms import Pseudonymizer
from telegram_intel.lib.records import MessageRecord, OwnerRecord, UserRecord
from telegram_intel_tools.sample_data import load_ground_truth

EVAL_SECRET = "profile-eval-pseudonym-secret-0123456789"


def sample_messages(sample_dir: str | Path) -> dict[int, list[CorpusMessage]]:
    """Every user's cleaned messages from a sample export, keyed by user id (cleaned like ``clean_messages``)."""
    sample_dir = Path(sample_dir)
    records = list(iter_export(sample_dir / "result.json"))
    names: dict[str, int] = {}
    owners: list[int] = []
    for r in records:
        if isinstance(r, UserRecord):
            if r.display_name and " " in r.display_name.strip():
                names[r.display_name] = r.user_id
            if r.username:
                names["@" + r.username] = r.user_id
            if isinstance(r, OwnerRecord):
                owners.append(r.user_id)
    pz = Pseudonymizer(EVAL_SECRET, names, keep_ids=owners)
    out: dict[int, list[CorpusMessage]] = defaultdict(list)
    for r in records:
        if not isinstance(r, MessageRecord) or r.sender_id is None:
            continue
        res = clean_message(r.text, kind=r.kind, has_media=bool(r.media_type), pseudonymizer=pz)
        if res.kept:
            out[r.sender_id].append(CorpusMessage(r.chat_id, r.message_id, r.date, res.text))
    return dict(out)


@dataclass
class SectorEval:
    accuracy: float
    correct: int
    total: int
    job_accuracy: float
    insufficient_ok: int
    insufficient_total: int
    users: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "users"}


def evaluate_offline(
    sample_dir: str | Path,
    profiler: OfflineProfiler,
    *,
    limit: int = 100,
    days_back: int = 90,
    min_length: int = 20,
    min_messages: int = 5,
    messages: dict[int, list[CorpusMessage]] | None = None,
) -> SectorEval:
    """Sector (and job) accuracy of ``profiler`` on a sample written by ``write_sample_export``."""
    truth = load_ground_truth(sample_dir)
    messages = messages if messages is not None else sample_messages(sample_dir)
    started = time.perf_counter()
    scored = [u for u in truth["users"] if not u["opt_out"]]
    as_of = max((m.date for msgs in messages.values() for m in msgs), default=None)
    corpora = {u["user_id"]: select_corpus(messages.get(u["user_id"], []), limit=limit, days_back=days_back,
                                           min_length=min_length, as_of=as_of) for u in scored}
    profiler.prepare(list(corpora.values()))
    guesses: dict[int, ProfileGuess] = {uid: profiler.profile(c, min_messages=min_messages)
                                        for uid, c in corpora.items()}
    inferable = {u["user_id"]: u["sector"] for u in scored if not u["rare"]}
    acc, correct, total = sector_accuracy({uid: g.sector for uid, g in guesses.items()}, inferable)
    jobs_ok = sum(1 for u in scored if not u["rare"] and guesses[u["user_id"]].job_label == u["job_label"])
    rare = [u for u in scored if u["rare"]]
    rare_ok = sum(1 for u in rare if guesses[u["user_id"]].status == INSUFFICIENT_DATA)
    rows = [{"user_id": u["user_id"], "language": u["language"], "truth_sector": u["sector"],
             "truth_job": u["job_label"], "rare": u["rare"], "messages": len(corpora[u["user_id"]]),
             **{k: getattr(guesses[u["user_id"]], k) for k in ("status", "sector", "job_label", "confidence")}}
            for u in scored]
    return SectorEval(acc, correct, total, jobs_ok / total if total else 0.0, rare_ok, len(rare), rows,
                      time.perf_counter() - started)


def calibration_points(
    messages: dict[int, list[CorpusMessage]],
    truth: dict[str, Any],
    profiler: OfflineProfiler,
    *,
    sizes: tuple[int, ...] = (3, 5, 8, 12, 20, 35, 60),
    draws: int = 2,
    seed: int = 0,
    min_length: int = 20,
) -> list[tuple[float, int, bool]]:
    """(p_top sector probability, support, sector correct) for random sub-corpora of every inferable user."""
    rnd = random.Random(seed)
    pts = []
    for u in truth["users"]:
        if u["opt_out"] or u["rare"]:
            continue
        full = select_corpus(messages.get(u["user_id"], []), limit=10_000, days_back=None, min_length=min_length)
        for size in sizes:
            for _ in range(draws):
                if len(full) < size:
                    continue
                sub = rnd.sample(full, size)
                sc, _, _ = profiler.scores(sub)
                best = max(sc.p_sector, key=sc.p_sector.get)
                pts.append((sc.p_sector[best], sc.support, best == u["sector"]))
    return pts


def save_prototype_vectors(embedder, path: Path | None = None) -> Path:
    """Write the shipped profession prototype file for ``embedder`` into ``telegram_intel/lib/data`` (run after
    editing the taxonomy; ``lib.profiles`` falls back to computing them when the file's fingerprint is stale)."""
    import numpy as np

    from telegram_intel.lib import profiles
    from telegram_intel.lib.profession_taxonomy import PROFESSIONS

    texts, _ = profiles._prototype_texts(PROFESSIONS)
    vecs = np.asarray(embedder.encode(texts), dtype=np.float32)
    path = path or profiles.DATA_DIR / f"profession_prototypes_{embedder.name}.npz"
    np.savez_compressed(path, vectors=vecs.astype(np.float16),
                        fingerprint=np.array(profiles._fingerprint(PROFESSIONS, profiles.DEFAULT_PROTOTYPE_SETS)))
    return path


# ---------------------------------------------------------------------------------------------------------------
# The independent dev set (telegram_intel_tests/data/devsets/profiles): sector, abstention, calibration


def dev_scores(part: str, embedder) -> list[dict[str, Any]]:
    """Per dev user: truth, the evidence profiler's sector, evidence and margin (messages cleaned like the corpus)."""
    import numpy as np

    from telegram_intel.lib.evidence_profiles import EvidenceProfiler, sector_scores
    from telegram_intel.lib.profiles import embed_cached
    from telegram_intel_tools import devsets

    profiler = EvidenceProfiler(embedder)
    out = []
    for user in devsets.load("profiles", part, key="user"):
        texts = [r.text for r in (clean_message(t) for t in user["messages"]) if r.kept]
        s = sector_scores(profiler, np.asarray(embed_cached(embedder, texts)))
        out.append({"user": user["user"], "lang": user["lang"], "difficulty": user["difficulty"],
                    "truth": user["sector"], **s})
    return out


def fit_calibration(scores: list[dict[str, Any]], max_none_share: float = 0.1) -> dict[str, float]:
    """Threshold: the lowest evidence that attributes at most ``max_none_share`` of the no-signal users; then a
    logistic fit of correct / wrong on (evidence, margin) over the users above it."""
    from sklearn.linear_model import LogisticRegression

    none = sorted((s["best"] for s in scores if not s["truth"]), reverse=True)
    allowed = int(max_none_share * len(none))
    threshold = (none[allowed] + 1e-3) if len(none) > allowed else 0.0
    answered = [s for s in scores if s["best"] >= threshold]
    X = [[s["best"], s["margin"]] for s in answered]
    y = [int(s["sector"] == s["truth"]) for s in answered]
    clf = LogisticRegression(C=1.0).fit(X, y)
    return {"a": round(float(clf.coef_[0][0]), 4), "b": round(float(clf.coef_[0][1]), 4),
            "c": round(float(clf.intercept_[0]), 4), "threshold": round(float(threshold), 4)}


def dev_report(scores: list[dict[str, Any]], cal: dict[str, float]) -> dict[str, Any]:
    from telegram_intel.lib.evidence_profiles import confidence

    def top1(rows):
        return {"n": len(rows), "top1": round(sum(1 for s in rows if s["best"] >= cal["threshold"]
                                                  and s["sector"] == s["truth"]) / len(rows), 3) if rows else None}

    signal = [s for s in scores if s["truth"]]
    none = [s for s in scores if not s["truth"]]
    out = {"users_with_sector": top1(signal),
           "no_signal_attributed": f"{sum(1 for s in none if s['best'] >= cal['threshold'])} of {len(none)}",
           "top1_without_abstaining": round(sum(1 for s in signal if s["sector"] == s["truth"]) / len(signal), 3)}
    out |= {f"lang {lang}": top1([s for s in signal if s["lang"] == lang]) for lang in ("ru", "en", "tr", "mixed")}
    out |= {f"difficulty {d}": top1([s for s in signal if s["difficulty"] == d]) for d in ("normal", "hard")}
    # calibration: stated confidence vs observed accuracy in bins (answered users, signal and no-signal)
    bins: dict[str, list[int]] = defaultdict(list)
    for s in scores:
        if s["best"] >= cal["threshold"]:
            c = confidence(s["best"], s["margin"], cal)
            bins[f"{(c // 20) * 20}-{(c // 20) * 20 + 19}"].append((c, int(s["sector"] == s["truth"])))
    out["calibration"] = {k: {"n": len(v), "stated": round(sum(c for c, _ in v) / len(v)),
                              "observed": round(100 * sum(ok for _, ok in v) / len(v))} for k, v in sorted(bins.items())}
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    from telegram_intel.lib import evidence_profiles
    from telegram_intel.ml.embedders import load_embedder
    from telegram_intel_tools import devsets

    parser = argparse.ArgumentParser(description="Profile method on the independent dev set.")
    parser.add_argument("--dev", choices=devsets.PARTS, default="visible")
    parser.add_argument("--model", default="embeddinggemma")
    parser.add_argument("--fit", action="store_true",
                        help="fit threshold + calibration on the visible part and write lib/data/profile_calibration.json"
                             " and the message model")
    args = parser.parse_args(argv)
    embedder = load_embedder(args.model)
    evidence_profiles.message_model(embedder, save=args.fit)
    if args.fit:
        cal = fit_calibration(dev_scores("visible", embedder))
        evidence_profiles.CALIBRATION_PATH.write_text(json.dumps(cal, indent=1) + "\n")
        print("calibration", cal)
    cal = evidence_profiles.load_calibration()
    print(json.dumps(dev_report(dev_scores(args.dev, embedder), cal), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
