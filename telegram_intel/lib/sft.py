"""Owner replies → supervised fine-tuning examples (pure Python, no Dagster, no database).

Each example is one message the owner wrote in answer to somebody else, with the messages that led to it:

* **Context window**: ``window_min``–``window_max`` messages (the size is picked per example by a stable hash, so
  the model sees short and long contexts). The reply chain comes first (the message replied to, the one *it*
  replied to, …), then the messages just before the reply in the same time-gap session fill the rest. The window
  is put back in chronological order; trailing owner messages are dropped so the last turn is somebody else's.
* **Replies**: explicit Telegram replies to another person's message, and (``implicit_replies``) owner messages
  that directly follow another person's message in the same session — in private chats people rarely press
  "reply". Media-only replies (no text, or only ``[MEDIA:…]`` placeholders) are dropped.
* **Speakers**: other people appear under their pseudonyms (``user_XXXXXXXX``, as ``clean_messages`` stores
  them); the owner's turns are the ``assistant`` role. Consecutive turns of one role are merged, as chat templates
  expect alternating roles.
* **Threads and splits**: a thread is a connected group of messages linked by reply edges and by the context
  windows drawn from them. Whole threads go to train/val/test (80/10/10 by default) by a stable hash of the
  thread id, so no message — reply or context — is seen in two splits. A forum's topics are separate
  conversations: windows, sessions and threads never cross topics.
* **Format**: JSONL, one ``{"messages": [{"role", "content", "train"}...], ...}`` object per line: axolotl's
  ``chat_template`` dataset type reads it (``field_messages: messages``; ``message_field_training: train`` trains
  only the final answer).
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "SPLITS",
    "ChatMessage",
    "Example",
    "SftConfig",
    "Watermark",
    "assign_split",
    "build_examples",
    "dataset_stats",
    "is_media_only",
    "read_jsonl",
    "split_disjointness",
    "to_record",
    "validate_record",
    "write_dataset",
]

SPLITS = ("train", "val", "test")
ROLES = ("system", "user", "assistant")

DEFAULT_SYSTEM_PROMPT = (
    "You are {persona}, chatting on Telegram as yourself. Write the next message exactly as {persona} would: "
    "in the language of the conversation, with the same tone, length, punctuation and habits. Other people appear "
    "as pseudonyms such as user_1a2b3c4d; masked personal data appears as [PHONE], [EMAIL], [URL]."
)

_MEDIA_PLACEHOLDER = re.compile(r"\[MEDIA:[^\]]*\]")


@dataclass(frozen=True)
class ChatMessage:
    """One cleaned message (a ``clean_messages`` row)."""

    chat_id: int
    message_id: int
    date: datetime
    sender_id: int | None
    text: str
    speaker: str | None = None  # pseudonym; None for the owner or unknown
    reply_to_message_id: int | None = None
    topic_id: int | None = None  # forum topic (telegram_messages.topic_id); None outside forums

    @property
    def key(self) -> tuple[int, int]:
        return (self.chat_id, self.message_id)


@dataclass(frozen=True, order=True)
class Watermark:
    """The largest ``(date, chat_id, message_id)`` a dataset was built from; ``key`` names folders and run keys."""

    date: datetime
    chat_id: int
    message_id: int

    @property
    def key(self) -> str:
        d = self.date.astimezone(timezone.utc)
        return f"{d:%Y%m%dT%H%M%S}Z_{self.chat_id}_{self.message_id}"

    @classmethod
    def parse(cls, key: str) -> Watermark:
        m = re.fullmatch(r"(\d{8}T\d{6})Z_(-?\d+)_(-?\d+)", key.strip())
        if not m:
            raise ValueError(f"not a watermark key: {key!r} (expected e.g. 20250630T175959Z_-1001234_567)")
        date = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
        return cls(date, int(m.group(2)), int(m.group(3)))

    @classmethod
    def of(cls, message: ChatMessage) -> Watermark:
        # second resolution, as the key carries: dataset bounds and keys then agree
        return cls(message.date.astimezone(timezone.utc).replace(microsecond=0), message.chat_id, message.message_id)

@dataclass(frozen=True)
class SftConfig:
    window_min: int = 6
    window_max: int = 10
    session_gap_minutes: float = 60.0
    implicit_replies: bool = True
    min_reply_chars: int = 1
    max_message_chars: int = 1200
    splits: tuple[float, float, float] = (0.8, 0.1, 0.1)
    split_salt: str = "sft-v1"
    persona: str = "the account owner"
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    owner_label: str = "me"

    def __post_init__(self) -> None:
        if not 1 <= self.window_min <= self.window_max:
            raise ValueError(f"need 1 <= window_min <= window_max, got {self.window_min}..{self.window_max}")
        if len(self.splits) != 3 or any(s < 0 for s in self.splits) or abs(sum(self.splits) - 1.0) > 1e-6:
            raise ValueError(f"splits must be three non-negative fractions summing to 1, got {self.splits}")

    def fingerprint(self) -> str:
        """Short hash of everything that changes the files (not of the data)."""
        blob = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:8]

    def system_text(self) -> str:
        return self.system_prompt.replace("{persona}", self.persona)


@dataclass
class Example:
    chat_id: int
    message_id: int
    date: datetime
    thread_id: str
    messages: list[dict[str, Any]]
    context_keys: list[tuple[int, int]]
    split: str = "train"
    explicit_reply: bool = True

    @property
    def id(self) -> str:
        return f"{self.chat_id}:{self.message_id}"

    @property
    def reply(self) -> str:
        return self.messages[-1]["content"]

    @property
    def context_messages(self) -> int:
        return len(self.context_keys)


# ---------------------------------------------------------------------------------------------------------------


def is_media_only(text: str | None) -> bool:
    """No text beyond ``[MEDIA:…]`` placeholders (what ``clean_messages`` writes for kept media)."""
    return not _MEDIA_PLACEHOLDER.sub("", text or "").strip()


def _stable_unit(*parts: object) -> float:
    h = hashlib.sha256(":".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def assign_split(thread_id: str, splits: Sequence[float] = (0.8, 0.1, 0.1), salt: str = "sft-v1") -> str:
    """train/val/test for a thread: a stable hash, independent of the order or amount of data."""
    u = _stable_unit(salt, thread_id)
    acc = 0.0
    for name, frac in zip(SPLITS, splits):
        acc += frac
        if u < acc:
            return name
    return SPLITS[-1]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(self, x: tuple[int, int]) -> tuple[int, int]:
        parent = self.parent
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: tuple[int, int], b: tuple[int, int]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the smaller key (the earlier message id) stays root: thread ids barely move as data grows
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def _truncate(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_examples(
    messages: Iterable[ChatMessage], owner_ids: Iterable[int], config: SftConfig | None = None
) -> list[Example]:
    """Examples for every owner reply in ``messages`` (any order), with threads and splits assigned."""
    config = config or SftConfig()
    owners = set(owner_ids)
    gap = timedelta(minutes=config.session_gap_minutes)
    # A forum topic is a conversation of its own (as Telegram shows it): one stream per chat and topic.
    by_chat: dict[tuple[int, int], list[ChatMessage]] = defaultdict(list)
    for m in messages:
        by_chat[(m.chat_id, -1 if m.topic_id is None else m.topic_id)].append(m)

    uf = _UnionFind()
    drafts: list[tuple[ChatMessage, list[ChatMessage], bool]] = []
    for chat_id, _topic in sorted(by_chat):
        msgs = sorted(by_chat[(chat_id, _topic)], key=lambda m: (m.date, m.message_id))
        index = {m.message_id: i for i, m in enumerate(msgs)}
        session = [0] * len(msgs)
        for i in range(1, len(msgs)):
            session[i] = session[i - 1] + (msgs[i].date - msgs[i - 1].date > gap)
        for m in msgs:  # reply chains are threads
            uf.find(m.key)
            if m.reply_to_message_id is not None and m.reply_to_message_id in index:
                uf.union(m.key, (chat_id, m.reply_to_message_id))

        for i, m in enumerate(msgs):
            if m.sender_id not in owners:
                continue
            if is_media_only(m.text) or len(m.text.strip()) < config.min_reply_chars:
                continue
            target = index.get(m.reply_to_message_id) if m.reply_to_message_id is not None else None
            explicit = target is not None and target < i and msgs[target].sender_id not in owners
            if not explicit:
                implicit = (config.implicit_replies and m.reply_to_message_id is None and i > 0
                            and session[i - 1] == session[i] and msgs[i - 1].sender_id not in owners)
                if not implicit:
                    continue
            size = config.window_min + int(
                _stable_unit("window", m.chat_id, m.message_id) * (config.window_max - config.window_min + 1))
            chosen: dict[int, ChatMessage] = {}
            # 1. the reply chain, newest first
            j = target if explicit else None
            while j is not None and len(chosen) < size and j not in chosen:
                chosen[j] = msgs[j]
                parent = msgs[j].reply_to_message_id
                j = index.get(parent) if parent is not None else None
                if j is not None and j >= i:
                    j = None
            # 2. the messages just before the reply, in its session; the owner's own messages right before the
            # reply are skipped (the context must end with somebody else's turn), earlier ones are context
            latest_other = max((k for k in chosen if msgs[k].sender_id not in owners), default=-1)
            j = i - 1
            while j >= 0 and len(chosen) < size and session[j] == session[i]:
                if msgs[j].sender_id in owners:
                    if j > latest_other:
                        j -= 1
                        continue
                else:
                    latest_other = max(latest_other, j)
                chosen.setdefault(j, msgs[j])
                j -= 1
            context = [chosen[k] for k in sorted(chosen)]
            while context and context[-1].sender_id in owners:
                context.pop()
            context = [c for c in context if c.text.strip()]
            if not context:
                continue
            for c in context:
                uf.union(m.key, c.key)
            drafts.append((m, context, explicit))

    examples = []
    for m, context, explicit in drafts:
        root = uf.find(m.key)
        thread_id = f"{root[0]}:{root[1]}"
        examples.append(Example(
            chat_id=m.chat_id, message_id=m.message_id, date=m.date, thread_id=thread_id,
            messages=_chat_messages(context, m, owners, config), context_keys=[c.key for c in context],
            split=assign_split(thread_id, config.splits, config.split_salt), explicit_reply=explicit,
        ))
    examples.sort(key=lambda e: (e.date, e.chat_id, e.message_id))
    return examples


def _chat_messages(context: list[ChatMessage], reply: ChatMessage, owners: set[int], config: SftConfig) -> list[dict]:
    turns: list[dict[str, Any]] = [{"role": "system", "content": config.system_text(), "train": False}]
    for c in context:
        text = _truncate(c.text, config.max_message_chars)
        if c.sender_id in owners:
            role, line = "assistant", text
        else:
            role, line = "user", f"{c.speaker or 'someone'}: {text}"
        if turns[-1]["role"] == role:
            turns[-1]["content"] += "\n" + line
        else:
            turns.append({"role": role, "content": line, "train": False})
    turns.append({"role": "assistant", "content": _truncate(reply.text, config.max_message_chars), "train": True})
    return turns


# ---------------------------------------------------------------------------------------------------------------
# Records, files, checks


def to_record(example: Example) -> dict[str, Any]:
    """The JSONL object (axolotl ``chat_template``: ``messages`` with ``role``/``content``, ``train`` flags)."""
    return {
        "messages": example.messages,
        "id": example.id,
        "thread_id": example.thread_id,
        "split": example.split,
        "date": example.date.astimezone(timezone.utc).isoformat(),
        "context_keys": [f"{c}:{m}" for c, m in example.context_keys],
    }


def validate_record(obj: Any) -> list[str]:
    """Problems with one JSONL object (empty when it is valid)."""
    if not isinstance(obj, dict):
        return ["not a JSON object"]
    msgs = obj.get("messages")
    if not isinstance(msgs, list) or len(msgs) < 3:
        return ["'messages' must be a list of at least system, one context turn and the reply"]
    errors = []
    for n, msg in enumerate(msgs):
        if not isinstance(msg, dict):
            errors.append(f"message {n} is not an object")
            continue
        if msg.get("role") not in ROLES:
            errors.append(f"message {n} has role {msg.get('role')!r}")
        if not isinstance(msg.get("content"), str) or not msg["content"].strip():
            errors.append(f"message {n} has empty content")
        if not isinstance(msg.get("train", False), bool):
            errors.append(f"message {n} has a non-boolean 'train'")
    if errors:
        return errors
    roles = [m["role"] for m in msgs]
    if roles[0] != "system" or "system" in roles[1:]:
        errors.append("exactly one system message, first")
    if any(a == b for a, b in zip(roles[1:], roles[2:])):
        errors.append("roles must alternate after the system message")
    if roles[-1] != "assistant" or msgs[-1].get("train") is not True:
        errors.append("the last message must be the trained assistant reply")
    if any(m.get("train") for m in msgs[:-1]):
        errors.append("only the last message may be trained")
    if is_media_only(msgs[-1]["content"]):
        errors.append("media-only reply")
    if obj.get("split") not in SPLITS:
        errors.append(f"split {obj.get('split')!r}")
    if not obj.get("thread_id"):
        errors.append("missing thread_id")
    return errors


def split_disjointness(records_by_split: dict[str, Sequence[dict[str, Any]]]) -> dict[str, Any]:
    """Threads and messages shared between splits (all zero for a sound dataset)."""
    threads = {s: {r["thread_id"] for r in recs} for s, recs in records_by_split.items()}
    msgs = {s: {r["id"] for r in recs} | {k for r in recs for k in r.get("context_keys", [])}
            for s, recs in records_by_split.items()}
    out: dict[str, Any] = {"shared_threads": {}, "shared_messages": {}}
    names = list(records_by_split)
    for a_i, a in enumerate(names):
        for b in names[a_i + 1:]:
            out["shared_threads"][f"{a}/{b}"] = len(threads[a] & threads[b])
            out["shared_messages"][f"{a}/{b}"] = len(msgs[a] & msgs[b])
    out["ok"] = not any(out["shared_threads"].values()) and not any(out["shared_messages"].values())
    return out


def dataset_stats(examples: Sequence[Example]) -> dict[str, Any]:
    """Counts, average lengths and distributions for the metadata and ``stats.json``."""
    by_split = Counter(e.split for e in examples)
    threads = {s: len({e.thread_id for e in examples if e.split == s}) for s in SPLITS}
    reply_chars = [len(e.reply) for e in examples]
    prompt_chars = [sum(len(m["content"]) for m in e.messages[1:-1]) for e in examples]
    ctx = [e.context_messages for e in examples]

    def avg(xs: Sequence[float]) -> float:
        return round(statistics.fmean(xs), 2) if xs else 0.0

    bins = [0, 10, 20, 40, 80, 160, 320, 640, 10**9]
    labels = [f"{lo}-{hi - 1}" if hi < 10**9 else f"{lo}+" for lo, hi in zip(bins, bins[1:])]
    hist = Counter()
    for n in reply_chars:
        for label, lo, hi in zip(labels, bins, bins[1:]):
            if lo <= n < hi:
                hist[label] += 1
                break
    return {
        "examples": len(examples),
        "by_split": {s: by_split.get(s, 0) for s in SPLITS},
        "threads": sum(threads.values()),
        "threads_by_split": threads,
        "explicit_replies": sum(e.explicit_reply for e in examples),
        "implicit_replies": sum(not e.explicit_reply for e in examples),
        "chats": len({e.chat_id for e in examples}),
        "avg_reply_chars": avg(reply_chars),
        "median_reply_chars": statistics.median(reply_chars) if reply_chars else 0,
        "avg_context_chars": avg(prompt_chars),
        "avg_context_messages": avg(ctx),
        "context_messages_distribution": {str(k): v for k, v in sorted(Counter(ctx).items())},
        "reply_chars_histogram": {label: hist.get(label, 0) for label in labels},
    }


def write_dataset(out_dir: Path, examples: Sequence[Example], *, manifest: dict[str, Any] | None = None) -> dict:
    """``train.jsonl``, ``val.jsonl``, ``test.jsonl``, ``stats.json`` and ``manifest.json`` under ``out_dir``
    (written to a temp name and renamed, so a reader never sees half a file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split in SPLITS:
        path = out_dir / f"{split}.jsonl"
        tmp = path.with_suffix(".jsonl.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            for e in examples:
                if e.split == split:
                    f.write(json.dumps(to_record(e), ensure_ascii=False) + "\n")
        tmp.replace(path)
        paths[split] = str(path)
    stats = dataset_stats(examples)
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False), encoding="utf-8")
    (out_dir / "manifest.json").write_text(
        json.dumps({**(manifest or {}), "files": paths}, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return stats


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@dataclass
class SplitRecords:
    train: list[dict[str, Any]] = field(default_factory=list)
    val: list[dict[str, Any]] = field(default_factory=list)
    test: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> SplitRecords:
        return cls(**{s: read_jsonl(folder / f"{s}.jsonl") if (folder / f"{s}.jsonl").exists() else []
                      for s in SPLITS})

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {"train": self.train, "val": self.val, "test": self.test}
