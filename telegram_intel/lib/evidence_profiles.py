"""Profession sector from a user's messages by *own-work evidence*, with abstention and calibrated confidence.

Each message is classified by a multinomial logistic regression over its sentence vector into one of the sectors or
``none``. ``none`` was trained on what is *not* evidence of the writer's profession: requests for a service ("anyone
know a good plumber?"), the writer as a customer ("my car is at the service again"), private life (own renovation,
home cooking, a child's school), polysemous words and small talk; the sectors on first-person talk about one's own
work. Training data: ``data/profile_train.jsonl`` (written for this purpose from the sector definitions, separately
from the dev set) plus the taxonomy's descriptive phrases.

A user's evidence for a sector is the sum of the ``TOP_K`` highest message probabilities for it, so one clear clue
counts and off-topic volume does not dilute it. (``TOP_K = 1`` scored 2 more visible dev users of 51 but let a single
stray message decide for people with many clues: 3 of 11 sample users went to a neighbouring sector.) Below ``threshold`` the answer is *no professional signal* (status
``analyzed``, no sector, confidence 0). Above it, confidence is a logistic calibration of (evidence, margin over the
runner-up) to the observed share of correct answers on the visible half of the dev set
(``python -m telegram_intel_tools.profile_eval --dev visible --fit``); the runner-up sectors are the alternatives.
The job label is the taxonomy profession of that sector whose prototypes are closest to the evidence messages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from telegram_intel.lib.profession_taxonomy import PROFESSIONS, Profession
from telegram_intel.lib.profiles import (
    ANALYZED,
    CorpusMessage,
    KeywordMatcher,
    ProfileGuess,
    embed_cached,
    insufficient,
    prototype_vectors,
)

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
TRAIN_PATH = DATA_DIR / "profile_train.jsonl"
NONE = "none"
VERSION = "3"
TOP_K = 3
#: Fitted on the visible dev half (see the module docstring); ``threshold`` keeps attributions to users with no
#: professional signal at or below one in ten there.
DEFAULT_CALIBRATION = {"a": 3.0, "b": 2.0, "c": -3.0, "threshold": 0.9}
CALIBRATION_PATH = DATA_DIR / "profile_calibration.json"
MAX_CONFIDENCE = 97


def method_name(embedder_name: str) -> str:
    return f"offline:evidence+{embedder_name}@{VERSION}"


def training_rows(professions: Sequence[Profession] = PROFESSIONS) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in TRAIN_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = [{"text": r["text"], "sector": r["sector"]} for r in rows]
    for p in professions:
        for phrases in p.phrases.values():
            out.extend({"text": t, "sector": p.sector} for t in phrases)
    return out


def _fingerprint(rows: Sequence[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


class MessageModel:
    """P(sector | message) over sentence vectors (classes: sectors + ``none``)."""

    def __init__(self, classes: list[str], W: np.ndarray, b: np.ndarray) -> None:
        self.classes, self.W, self.b = classes, W, b
        self.none_index = classes.index(NONE)

    @classmethod
    def train(cls, embedder, rows: Sequence[dict[str, str]], *, C: float = 64.0) -> MessageModel:
        from sklearn.linear_model import LogisticRegression

        X = embed_cached(embedder, [r["text"] for r in rows])
        clf = LogisticRegression(C=C, max_iter=5000).fit(X, [r["sector"] for r in rows])
        return cls(list(clf.classes_), clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32))

    def proba(self, vectors: np.ndarray) -> np.ndarray:
        z = np.asarray(vectors, dtype=np.float32) @ self.W.T + self.b
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: Path, fingerprint: str) -> None:
        np.savez_compressed(path, classes=np.array(self.classes), W=self.W, b=self.b,
                            fingerprint=np.array(fingerprint))

    @classmethod
    def load(cls, path: Path, fingerprint: str) -> MessageModel | None:
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as data:
            if str(data["fingerprint"]) != fingerprint:
                return None
            return cls(data["classes"].tolist(), data["W"], data["b"])


_MODELS: dict[str, MessageModel] = {}
_LOCK = threading.Lock()


def model_path(embedder_name: str) -> Path:
    return DATA_DIR / f"profile_model_{embedder_name.replace('/', '_')}.npz"


def message_model(embedder, *, save: bool = False) -> MessageModel:
    """The shipped message model for ``embedder``'s vectors, or one trained now (seconds) when it is missing or
    was made from other training rows."""
    with _LOCK:
        model = _MODELS.get(embedder.name)
        if model is None:
            rows = training_rows()
            fp = _fingerprint(rows)
            path = model_path(embedder.name)
            model = MessageModel.load(path, fp)
            if model is None:
                log.info("training the profile message model for %s (%s rows)", embedder.name, len(rows))
                model = MessageModel.train(embedder, rows)
                if save:
                    model.save(path, fp)
            _MODELS[embedder.name] = model
        return model


def load_calibration() -> dict[str, float]:
    if CALIBRATION_PATH.is_file():
        return {**DEFAULT_CALIBRATION, **json.loads(CALIBRATION_PATH.read_text())}
    return dict(DEFAULT_CALIBRATION)


def confidence(evidence: float, margin: float, cal: dict[str, float]) -> int:
    z = cal["a"] * evidence + cal["b"] * margin + cal["c"]
    return int(round(min(MAX_CONFIDENCE, max(1.0, 100.0 / (1.0 + math.exp(-z))))))


class EvidenceProfiler:
    """The offline profile method (see the module docstring); the same interface as ``OfflineProfiler``."""

    def __init__(self, embedder, professions: Sequence[Profession] = PROFESSIONS, *,
                 calibration: dict[str, float] | None = None, max_evidence_messages: int = 5,
                 max_keywords: int = 10) -> None:
        self.embedder = embedder
        self.professions = list(professions)
        self.calibration = calibration or load_calibration()
        self.method = method_name(embedder.name)
        self.matcher = KeywordMatcher(self.professions)
        self.max_evidence_messages = max_evidence_messages
        self.max_keywords = max_keywords

    @property
    def model(self) -> MessageModel:
        return message_model(self.embedder)

    def prepare(self, corpora: Sequence[Sequence[CorpusMessage]]) -> None:
        texts = list({m.text for msgs in corpora for m in msgs})
        if texts:
            embed_cached(self.embedder, texts)

    def evidence(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(per-message sector probabilities without ``none``, per-sector evidence, sector names)."""
        model = self.model
        P = model.proba(vectors)
        keep = [i for i in range(len(model.classes)) if i != model.none_index]
        Q = P[:, keep]
        ev = np.sort(Q, axis=0)[-TOP_K:].sum(axis=0) if len(Q) else np.zeros(len(keep))
        return Q, ev, [model.classes[i] for i in keep]

    def profile(self, messages: Sequence[CorpusMessage], *, min_messages: int = 5,
                vectors: np.ndarray | None = None) -> ProfileGuess:
        n = len(messages)
        if n < max(1, min_messages):
            return insufficient(self.method, n)
        if vectors is None:
            vectors = embed_cached(self.embedder, [m.text for m in messages])
        Q, ev, sectors = self.evidence(np.asarray(vectors, dtype=np.float32))
        order = np.argsort(-ev)
        best, second = float(ev[order[0]]), float(ev[order[1]]) if len(order) > 1 else 0.0
        total = float(ev.sum()) or 1.0
        alternatives = []
        for j in order[:3]:
            col = Q[:, j]
            top = np.argsort(-col)[:TOP_K]
            alt = self._profession(sectors[j], np.asarray(vectors)[top])
            alternatives.append({"job_label": alt.label if alt else sectors[j], "sector": sectors[j],
                                 "evidence": round(float(ev[j]), 3), "probability": round(float(ev[j]) / total, 3)})
        if best < self.calibration["threshold"]:
            # no professional signal strong enough: no sector (the alternatives stay for a person to look at)
            return ProfileGuess(status=ANALYZED, method=self.method, message_count=n, confidence=0,
                                alternatives=alternatives)
        sector = sectors[order[0]]
        col = Q[:, order[0]]
        strongest = [i for i in np.argsort(-col, kind="stable")[: self.max_evidence_messages] if col[i] >= 0.5]
        prof = self._profession(sector, np.asarray(vectors)[strongest] if strongest else np.asarray(vectors))
        words: Counter = Counter()
        for i in strongest:
            for j, _, surface in self.matcher.find(messages[i].text):
                if self.professions[j].sector == sector:
                    words[surface] += 1
        return ProfileGuess(
            status=ANALYZED, method=self.method, message_count=n, job_label=prof.label if prof else None,
            sector=sector, confidence=confidence(best, best - second, self.calibration),
            evidence_keywords=[w for w, _ in words.most_common(self.max_keywords)],
            evidence_message_ids=[list(messages[i].key) for i in strongest],
            profession_key=prof.key if prof else None, alternatives=alternatives,
        )

    def _profession(self, sector: str, vectors: np.ndarray) -> Profession | None:
        in_sector = [j for j, p in enumerate(self.professions) if p.sector == sector]
        if not in_sector:
            return None
        protos, owners = prototype_vectors(self.embedder, self.professions)
        sims = np.asarray(vectors, dtype=np.float32) @ protos.T
        return self.professions[max(in_sector, key=lambda j: float(sims[:, owners == j].max())
                                    if (owners == j).any() else -1.0)]


__all__ = ["EvidenceProfiler", "MessageModel", "message_model", "method_name", "training_rows", "NONE"]


def sector_scores(profiler: EvidenceProfiler, vectors: np.ndarray) -> dict[str, Any]:
    """Evidence per sector for one user (the dev-set calibration uses it)."""
    _, ev, sectors = profiler.evidence(vectors)
    order = np.argsort(-ev)
    return {"sector": sectors[order[0]], "best": float(ev[order[0]]),
            "margin": float(ev[order[0]] - (ev[order[1]] if len(order) > 1 else 0.0))}
