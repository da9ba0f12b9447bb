"""Preference data from the persona bot's 👍 / 👎 feedback: pairs for DPO, rated replies for KTO (pure logic).

One feedback row is a prompt (the chat messages the model saw), the reply it generated, a rating (+1 "I'd answer
like that", -1 "not like me") and, optionally, the reply the owner would have given (``correction``):

* a 👎 with a correction → a pair (prompt, chosen = correction, rejected = reply);
* a 👍 and a 👎 on replies to the same prompt → a pair (each liked reply against each disliked one, capped);
* every rating (and every correction, as a liked reply) → a KTO example (desirable / undesirable).

DPO needs pairs; KTO learns from unpaired ratings. ``choose_method`` takes DPO once there are ``min_pairs`` training
pairs, KTO otherwise. Feedback is grouped into conversations (the same bot user, prompts that share a message) and
each conversation goes wholly to train or test, so the held-out reward accuracy never sees a training prompt.
Text is PII-masked like the SFT data (``lib.pii``).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from telegram_intel.lib.pii import mask_pii

__all__ = [
    "DPO",
    "KTO",
    "FeedbackRow",
    "blind_ab",
    "PreferenceConfig",
    "PreferenceSet",
    "build_preferences",
    "choose_method",
    "dataset_digest",
    "validate_kto_record",
    "validate_pair_record",
]

DPO, KTO = "dpo", "kto"
SPLITS = ("train", "test")
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class FeedbackRow:
    """One ``persona_feedback`` row as read from the database."""

    id: int
    persona: str
    bot_user_id: int
    prompt: Any  # list of {role, content}, as stored
    reply: str
    rating: int
    correction: str | None = None
    adapter: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class PreferenceConfig:
    test_fraction: float = 0.2
    min_pairs: int = 8  # fewer training pairs than this → KTO on the ratings
    max_pairs_per_prompt: int = 4
    mask: bool = True

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:8]


@dataclass
class PreferenceSet:
    """Records by split: ``pairs`` (DPO) and ``ratings`` (KTO); ``stats`` counts what was used and dropped."""

    pairs: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    ratings: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {s: [] for s in SPLITS})
    stats: dict[str, Any] = field(default_factory=dict)


def _mask(text: str, on: bool) -> str:
    text = (text or "").strip()
    return mask_pii(text)[0] if on and text else text


def prompt_errors(prompt: Any) -> list[str]:
    """Why ``prompt`` is not a usable chat prompt (empty when it is)."""
    if not isinstance(prompt, list) or not prompt:
        return ["prompt is not a non-empty list of messages"]
    errors = []
    for i, m in enumerate(prompt):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            errors.append(f"prompt[{i}] is not a {{role, content}} message")
    if not errors and prompt[-1]["role"] != "user":
        errors.append("the prompt's last message is not the user's")
    return errors


def _clean_prompt(prompt: list[dict[str, Any]], mask: bool) -> list[dict[str, str]]:
    return [{"role": m["role"], "content": _mask(m["content"], mask)} for m in prompt]


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def _split_of(conversation: str, test_fraction: float) -> str:
    bucket = int(hashlib.sha256(conversation.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < test_fraction else "train"


class _Union:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _conversations(rows: Sequence[FeedbackRow], prompts: dict[int, list[dict[str, str]]]) -> dict[int, str]:
    """Feedback id → conversation id: rows of one persona and bot user whose prompts share a user or assistant
    message (a chat's history grows turn by turn, so its prompts overlap) are one conversation, and so are rows
    with the very same prompt (whoever rated them), so no prompt is ever in two splits."""
    uf = _Union()
    seen: dict[tuple[str, int, str], int] = {}
    for r in rows:
        uf.find(r.id)
        keys = [(r.persona, 0, "prompt:" + _digest(prompts[r.id]))]
        for m in prompts[r.id]:
            if m["role"] == "system":
                continue  # the persona prompt (and its retrieved examples) is shared by every chat
            keys.append((r.persona, r.bot_user_id, _digest([m["role"], m["content"]])))
        for key in keys:
            if key in seen:
                uf.join(seen[key], r.id)
            else:
                seen[key] = r.id
    by_root: dict[int, list[FeedbackRow]] = defaultdict(list)
    for r in rows:
        by_root[uf.find(r.id)].append(r)
    out = {}
    for root, members in by_root.items():
        first = min(members, key=lambda r: r.id)
        conv = f"{first.persona}:{first.bot_user_id}:{root}"
        for r in members:
            out[r.id] = conv
    return out


def _assign_splits(conversations: Iterable[str], test_fraction: float) -> dict[str, str]:
    """Stable hash split; with two or more conversations neither split is left empty (a tiny feedback set still
    gets a held-out conversation), and a single conversation is trained on."""
    convs = sorted(set(conversations), key=lambda c: hashlib.sha256(c.encode()).hexdigest())
    split = {c: _split_of(c, test_fraction) if len(convs) > 1 else "train" for c in convs}
    if len(convs) >= 2 and test_fraction > 0:
        if "test" not in split.values():
            split[convs[0]] = "test"
        if "train" not in split.values():
            split[convs[-1]] = "train"
    return split


def build_preferences(rows: Sequence[FeedbackRow], cfg: PreferenceConfig = PreferenceConfig()) -> PreferenceSet:
    """DPO pairs and KTO ratings from feedback rows (see the module docstring). When one reply to one prompt was
    rated more than once, the latest rating counts."""
    stats: dict[str, Any] = {"feedback_rows": len(rows), "invalid_rows": 0, "invalid_reasons": {}, "thumbs_up": 0,
                             "thumbs_down": 0, "corrections": 0, "superseded_ratings": 0}
    valid: list[FeedbackRow] = []
    prompts: dict[int, list[dict[str, str]]] = {}
    for r in sorted(rows, key=lambda r: r.id):
        errors = prompt_errors(r.prompt)
        if not (r.reply or "").strip():
            errors.append("empty reply")
        if r.rating not in (1, -1):
            errors.append("rating is not +1 or -1")
        if errors:
            stats["invalid_rows"] += 1
            for e in errors:
                stats["invalid_reasons"][e] = stats["invalid_reasons"].get(e, 0) + 1
            continue
        valid.append(r)
        prompts[r.id] = _clean_prompt(r.prompt, cfg.mask)
    conv_of = _conversations(valid, prompts)
    split_of_conv = _assign_splits(conv_of.values(), cfg.test_fraction)

    # (prompt key) → reply text → (rating, feedback id, correction); the latest row per (prompt, reply) wins
    by_prompt: dict[str, dict[str, tuple[int, int, str | None]]] = defaultdict(dict)
    prompt_of_key: dict[str, list[dict[str, str]]] = {}
    conv_of_key: dict[str, str] = {}
    for r in valid:
        key = _digest([r.persona, prompts[r.id]])
        prompt_of_key[key] = prompts[r.id]
        conv_of_key.setdefault(key, conv_of[r.id])
        reply = _mask(r.reply, cfg.mask)
        correction = _mask(r.correction or "", cfg.mask) or None
        if reply in by_prompt[key]:
            stats["superseded_ratings"] += 1
        by_prompt[key][reply] = (r.rating, r.id, correction)

    out = PreferenceSet()
    for key, replies in by_prompt.items():
        prompt, conv = prompt_of_key[key], conv_of_key[key]
        split = split_of_conv[conv]
        liked = {text: fid for text, (rating, fid, _) in replies.items() if rating > 0}
        disliked = {text: fid for text, (rating, fid, _) in replies.items() if rating < 0}
        stats["thumbs_up"] += len(liked)
        stats["thumbs_down"] += len(disliked)
        corrections: dict[str, list[int]] = {}
        pairs: list[dict[str, Any]] = []
        for text, (rating, fid, correction) in sorted(replies.items(), key=lambda kv: kv[1][1]):
            if rating < 0 and correction and correction != text:
                stats["corrections"] += 1
                corrections.setdefault(correction, []).append(fid)
                pairs.append(_pair(prompt, correction, text, [fid], "correction", conv, split))
        rated_pairs = [(good, bad) for good in sorted(liked, key=liked.get)
                       for bad in sorted(disliked, key=disliked.get)]
        for good, bad in rated_pairs[: max(0, cfg.max_pairs_per_prompt - len(pairs))]:
            pairs.append(_pair(prompt, good, bad, sorted([liked[good], disliked[bad]]), "ratings", conv, split))
        out.pairs[split].extend(pairs[: cfg.max_pairs_per_prompt] if cfg.max_pairs_per_prompt else pairs)
        for text, fid in liked.items():
            out.ratings[split].append(_rating(prompt, text, True, [fid], "rating", conv, split))
        for text, fid in disliked.items():
            out.ratings[split].append(_rating(prompt, text, False, [fid], "rating", conv, split))
        for text, fids in corrections.items():
            if text not in liked:
                out.ratings[split].append(_rating(prompt, text, True, fids, "correction", conv, split))
    for split in SPLITS:
        out.pairs[split].sort(key=lambda r: r["id"])
        out.ratings[split].sort(key=lambda r: r["id"])
    stats.update({
        "prompts": len(by_prompt),
        "conversations": len(split_of_conv),
        "conversations_by_split": {s: sum(1 for v in split_of_conv.values() if v == s) for s in SPLITS},
        "pairs_by_split": {s: len(out.pairs[s]) for s in SPLITS},
        "pairs_from_corrections": sum(r["source"] == "correction" for s in SPLITS for r in out.pairs[s]),
        "pairs_from_ratings": sum(r["source"] == "ratings" for s in SPLITS for r in out.pairs[s]),
        "ratings_by_split": {s: len(out.ratings[s]) for s in SPLITS},
        "desirable": sum(r["label"] for s in SPLITS for r in out.ratings[s]),
        "undesirable": sum(not r["label"] for s in SPLITS for r in out.ratings[s]),
        "max_feedback_id": max((r.id for r in rows), default=None),
    })
    out.stats = stats
    return out


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _pair(prompt, chosen: str, rejected: str, fids: list[int], source: str, conv: str, split: str) -> dict:
    return {"id": "fb-" + "-".join(map(str, fids)) + ("-c" if source == "correction" else ""),
            "conversation": conv, "split": split, "source": source, "feedback_ids": fids, "prompt": prompt,
            "chosen": _assistant(chosen), "rejected": _assistant(rejected)}


def _rating(prompt, text: str, label: bool, fids: list[int], source: str, conv: str, split: str) -> dict:
    return {"id": "fb-" + "-".join(map(str, fids)) + ("-c" if source == "correction" else ""),
            "conversation": conv, "split": split, "source": source, "feedback_ids": fids, "prompt": prompt,
            "completion": _assistant(text), "label": label}


def choose_method(train_pairs: int, train_ratings: int, min_pairs: int) -> str | None:
    """DPO with at least ``min_pairs`` training pairs, else KTO when there are ratings, else None."""
    if train_pairs >= max(1, min_pairs):
        return DPO
    if train_ratings >= 2:
        return KTO
    return None


def _common_errors(record: Any, split: str | None) -> list[str]:
    if not isinstance(record, dict):
        return ["not an object"]
    errors = [f"missing {k}" for k in ("id", "conversation", "split", "prompt") if k not in record]
    if split is not None and record.get("split") != split:
        errors.append(f"split {record.get('split')!r} in the {split} file")
    errors += prompt_errors(record.get("prompt"))
    return errors


def _completion_errors(value: Any, name: str) -> list[str]:
    if (not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict)
            or value[0].get("role") != "assistant" or not str(value[0].get("content") or "").strip()):
        return [f"{name} is not one non-empty assistant message"]
    return []


def validate_pair_record(record: Any, split: str | None = None) -> list[str]:
    """Errors of a DPO line (TRL's conversational preference format plus our ids); empty when valid."""
    errors = _common_errors(record, split)
    if errors and errors[0] == "not an object":
        return errors
    errors += _completion_errors(record.get("chosen"), "chosen") + _completion_errors(record.get("rejected"),
                                                                                       "rejected")
    if not errors and record["chosen"][0]["content"] == record["rejected"][0]["content"]:
        errors.append("chosen and rejected are the same text")
    return errors


def validate_kto_record(record: Any, split: str | None = None) -> list[str]:
    """Errors of a KTO line (TRL's conversational unpaired preference format plus our ids); empty when valid."""
    errors = _common_errors(record, split)
    if errors and errors[0] == "not an object":
        return errors
    errors += _completion_errors(record.get("completion"), "completion")
    if not isinstance(record.get("label"), bool):
        errors.append("label is not true/false")
    return errors


def dataset_digest(records: Iterable[dict[str, Any]]) -> str:
    """A content hash of training records (the adapter manifest names the exact data it learned from)."""
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps(r, ensure_ascii=False, sort_keys=True).encode())
        h.update(b"\n")
    return h.hexdigest()


def blind_ab(real: Sequence[str], candidates: dict[str, Sequence[str]], owner_probability,
             seed: int = 0) -> tuple[list[dict[str, Any]], dict[str, dict[str, float]]]:
    """A blind A/B of real owner replies against generated ones: for each item and each candidate (e.g. ``new``,
    ``previous``), the real reply and the generated one are put in a seeded random order as A and B and scored
    without their labels by ``owner_probability`` (texts → P(owner), e.g. ``StyleClassifier.owner_probability``);
    the higher one is the judge's pick for "the owner's". Returns the per-item records and, per candidate, how
    often the generated reply was taken for the real one (a tie counts half) and the mean scores."""
    import random

    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    for name, generated in candidates.items():
        if len(generated) != len(real):
            raise ValueError(f"candidate {name!r} has {len(generated)} replies for {len(real)} real ones")
    for i, truth in enumerate(real):
        for name, generated in candidates.items():
            pair = [("real", truth), (name, generated[i])]
            rng.shuffle(pair)
            items.append({"item": i, "candidate": name, "A": pair[0][1], "B": pair[1][1],
                          "real_is": "A" if pair[0][0] == "real" else "B"})
    scores = owner_probability([t for it in items for t in (it["A"], it["B"])]) if items else []
    for n, it in enumerate(items):
        it["p_A"], it["p_B"] = float(scores[2 * n]), float(scores[2 * n + 1])
        it["picked"] = "tie" if it["p_A"] == it["p_B"] else ("A" if it["p_A"] > it["p_B"] else "B")
    summary: dict[str, dict[str, float]] = {}
    for name in candidates:
        mine = [it for it in items if it["candidate"] == name]
        fooled = sum(1.0 if it["picked"] not in ("tie", it["real_is"]) else 0.5 if it["picked"] == "tie" else 0.0
                     for it in mine)
        p_real = [it["p_A"] if it["real_is"] == "A" else it["p_B"] for it in mine]
        p_gen = [it["p_B"] if it["real_is"] == "A" else it["p_A"] for it in mine]
        summary[name] = {"items": len(mine), "passed_as_real": round(fooled / len(mine), 4) if mine else 0.0,
                         "mean_p_real": round(sum(p_real) / len(mine), 4) if mine else 0.0,
                         "mean_p_generated": round(sum(p_gen) / len(mine), 4) if mine else 0.0}
    return items, summary
