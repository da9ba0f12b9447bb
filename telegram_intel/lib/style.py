"""A small "sounds like the owner?" classifier: logistic regression on character n-grams (no Dagster here).

Trained on the owner's messages against other people's messages from the training split, it gives any text a
probability of being the owner's. Applied to generations it scores how much an adapter moved the base model
towards the owner's style (seed 003: "Style classifier: classify owner vs generic"). Character n-grams (2–4,
word-bounded) pick up punctuation, emoji, casing, slang and language mix without a tokenizer, in any language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["StyleClassifier", "texts_by_author"]

_SPEAKER_PREFIX = re.compile(r"^(?:user_[0-9a-f]{4,}|someone): ", re.IGNORECASE)


def texts_by_author(records: Iterable[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(owner texts, others' texts) from SFT records: assistant turns are the owner's; user turns are one line per
    message, ``user_xxxx: text``. Each message is counted once even when several windows show it."""
    owner: dict[str, None] = {}
    others: dict[str, None] = {}
    for rec in records:
        for msg in rec["messages"]:
            if msg["role"] == "assistant":
                for line in msg["content"].split("\n"):
                    if line.strip():
                        owner.setdefault(line.strip())
            elif msg["role"] == "user":
                for line in msg["content"].split("\n"):
                    line = _SPEAKER_PREFIX.sub("", line).strip()
                    if line:
                        others.setdefault(line)
    return list(owner), list(others)


@dataclass
class StyleClassifier:
    ngram_range: tuple[int, int] = (2, 4)
    C: float = 2.0
    _pipeline: Any = None

    def fit(self, owner_texts: Sequence[str], other_texts: Sequence[str]) -> StyleClassifier:
        if not owner_texts or not other_texts:
            raise ValueError("the style classifier needs texts of both the owner and other people")
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self._pipeline = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, sublinear_tf=True, min_df=1,
                            lowercase=False),
            LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced"),
        )
        X = list(owner_texts) + list(other_texts)
        y = [1] * len(owner_texts) + [0] * len(other_texts)
        self._pipeline.fit(X, y)
        return self

    def owner_probability(self, texts: Sequence[str]) -> list[float]:
        """P(owner) per text; an empty text scores 0 (an empty generation is not the owner's style)."""
        if self._pipeline is None:
            raise RuntimeError("fit() first")
        out = [0.0] * len(texts)
        idx = [i for i, t in enumerate(texts) if t and t.strip()]
        if idx:
            probs = self._pipeline.predict_proba([texts[i] for i in idx])[:, 1]
            for i, p in zip(idx, probs):
                out[i] = float(p)
        return out

    def score(self, texts: Sequence[str]) -> float:
        """Mean P(owner) over ``texts`` (0 when there are none)."""
        probs = self.owner_probability(texts)
        return sum(probs) / len(probs) if probs else 0.0

    def accuracy(self, owner_texts: Sequence[str], other_texts: Sequence[str]) -> float | None:
        """Held-out accuracy (threshold 0.5) on labelled texts; None when there are none."""
        texts = list(owner_texts) + list(other_texts)
        if not texts:
            return None
        probs = self.owner_probability(texts)
        truth = [1] * len(owner_texts) + [0] * len(other_texts)
        return sum((p >= 0.5) == bool(t) for p, t in zip(probs, truth)) / len(texts)
