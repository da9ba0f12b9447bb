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
