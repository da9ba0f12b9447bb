"""Windowing, threads/splits and the JSONL format of lib/sft.py (pure, no database)."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from telegram_intel.lib.sft import (
    SPLITS,
    ChatMessage,
    SftConfig,
    SplitRecords,
    Watermark,
    assign_split,
    build_examples,
    dataset_stats,
    is_media_only,
    split_disjointness,
    to_record,
    validate_record,
    write_dataset,
)

OWNER = 1
T0 = datetime(2025, 6, 1, 9, 0, tzinfo=timezone.utc)


def msg(mid, sender, text, minute, reply_to=None, chat=-100):
    speaker = None if sender == OWNER else f"user_{sender:08x}"
    return ChatMessage(chat_id=chat, message_id=mid, date=T0 + timedelta(minutes=minute), sender_id=sender,
                       text=text, speaker=speaker, reply_to_message_id=reply_to)


def test_window_takes_reply_chain_first_then_preceding_messages():
    msgs = [
        msg(1, 2, "root question", 0),
        msg(2, 3, "unrelated chatter A", 1),
        msg(3, 4, "follow-up to the root", 2, reply_to=1),
        *[msg(10 + i, 5, f"noise {i}", 3 + i) for i in range(12)],
        msg(30, OWNER, "my answer", 20, reply_to=3),
    ]
    (ex,) = build_examples(msgs, [OWNER], SftConfig(window_min=4, window_max=4))
    keys = [k[1] for k in ex.context_keys]
    assert len(keys) == 4
    assert {1, 3} <= set(keys)  # the chain made it in although 12 later messages came between
    assert keys == sorted(keys, key=lambda m: [x.message_id for x in msgs].index(m))  # chronological
    assert set(keys) - {1, 3} == {20, 21}  # then the two messages just before the reply
    assert ex.messages[0]["role"] == "system" and ex.messages[-1] == {
        "role": "assistant", "content": "my answer", "train": True}
    assert ex.explicit_reply


def test_window_size_is_between_min_and_max_and_stays_in_the_session():
    msgs = [msg(i, 2 + i % 3, f"message {i}", i) for i in range(1, 40)]
    msgs += [msg(100 + i, 2, f"later {i}", 300 + i) for i in range(3)]  # a new session after a 4 h pause
    msgs += [msg(200, OWNER, "owner talks", 304)]  # implicit reply to "later 2"
    msgs += [msg(201 + i, OWNER, f"reply {i}", 40 + i, reply_to=30 + i) for i in range(5)]
    examples = build_examples(msgs, [OWNER], SftConfig(window_min=6, window_max=10))
    sizes = [e.context_messages for e in examples if e.explicit_reply]
    assert sizes and all(6 <= s <= 10 for s in sizes)
    (implicit,) = [e for e in examples if not e.explicit_reply]
    assert [k[1] for k in implicit.context_keys] == [100, 101, 102]  # nothing from before the pause


def test_other_speakers_appear_as_pseudonyms_and_owner_turns_as_assistant():
    msgs = [msg(1, 7, "hi there", 0), msg(2, OWNER, "hey", 1), msg(3, 7, "how are you?", 2),
            msg(4, 8, "and me", 2.5), msg(5, OWNER, "fine", 3, reply_to=3)]
    (ex,) = [e for e in build_examples(msgs, [OWNER], SftConfig()) if e.message_id == 5]
    roles = [m["role"] for m in ex.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    assert ex.messages[1]["content"] == "user_00000007: hi there"
    assert ex.messages[3]["content"] == "user_00000007: how are you?\nuser_00000008: and me"  # merged turn
    assert all(m["train"] is False for m in ex.messages[:-1])


def test_media_only_replies_are_dropped():
    msgs = [msg(1, 2, "look at this", 0), msg(2, OWNER, "[MEDIA:photo]", 1, reply_to=1),
            msg(3, 2, "and this?", 2), msg(4, OWNER, "  ", 3, reply_to=3),
            msg(5, 2, "last one", 4), msg(6, OWNER, "[MEDIA:photo] nice", 5, reply_to=5)]
    examples = build_examples(msgs, [OWNER], SftConfig())
    assert [e.message_id for e in examples] == [6]
    assert is_media_only("[MEDIA:voice_message]") and not is_media_only("[MEDIA:photo] caption")


def test_owner_messages_without_another_speaker_before_them_are_not_examples():
    msgs = [msg(1, OWNER, "channel post", 0), msg(2, OWNER, "another post", 1), msg(3, OWNER, "self reply", 2,
                                                                                        reply_to=1)]
    assert build_examples(msgs, [OWNER], SftConfig()) == []


def random_corpus(seed=3, chats=3, n=1500):
    rng = random.Random(seed)
    out = []
    for chat in range(chats):
        minute = 0.0
        ids = []
        for i in range(n // chats):
            minute += rng.choice([0.5, 1, 2, 5, 90])
            sender = OWNER if rng.random() < 0.25 else rng.randint(2, 9)
            reply_to = rng.choice(ids[-30:]) if ids and rng.random() < 0.4 else None
            mid = 1000 * chat + i + 1
            out.append(msg(mid, sender, f"text {mid}", minute, reply_to=reply_to, chat=-chat - 1))
            ids.append(mid)
    return out


def test_no_thread_and_no_message_crosses_splits():
    examples = build_examples(random_corpus(), [OWNER], SftConfig())
    assert len(examples) > 150
    by_split = {s: [to_record(e) for e in examples if e.split == s] for s in SPLITS}
    assert all(by_split[s] for s in SPLITS)
    threads = {s: {r["thread_id"] for r in recs} for s, recs in by_split.items()}
    assert not (threads["train"] & threads["val"]) and not (threads["train"] & threads["test"])
    assert not (threads["val"] & threads["test"])
    report = split_disjointness(by_split)
    assert report["ok"], report
    # roughly 80/10/10 over threads
    stats = dataset_stats(examples)
    total = sum(stats["threads_by_split"].values())
    assert 0.65 < stats["threads_by_split"]["train"] / total < 0.92


def test_split_assignment_is_stable_and_independent_of_data_order():
    corpus = random_corpus(seed=5)
    a = {e.id: (e.thread_id, e.split) for e in build_examples(corpus, [OWNER], SftConfig())}
    shuffled = corpus[:]
    random.Random(1).shuffle(shuffled)
    b = {e.id: (e.thread_id, e.split) for e in build_examples(shuffled, [OWNER], SftConfig())}
    assert a == b
    assert assign_split("-1:5") == assign_split("-1:5")
    assert {assign_split(f"-1:{i}") for i in range(100)} == set(SPLITS)


def test_jsonl_files_are_valid_chat_template_records(tmp_path):
    examples = build_examples(random_corpus(seed=7, n=600), [OWNER], SftConfig())
    stats = write_dataset(tmp_path, examples, manifest={"version": "v"})
    assert stats["examples"] == len(examples) == sum(stats["by_split"].values())
    records = SplitRecords.load(tmp_path)
    for split, recs in records.as_dict().items():
        for line in (tmp_path / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            assert validate_record(obj) == [], obj
            assert obj["split"] == split
            assert [set(m) for m in obj["messages"]] == [{"role", "content", "train"}] * len(obj["messages"])
    assert json.loads((tmp_path / "manifest.json").read_text())["version"] == "v"
    assert set(stats["reply_chars_histogram"]) and sum(stats["reply_chars_histogram"].values()) == len(examples)


@pytest.mark.parametrize("mutate, error", [
    (lambda o: o["messages"].pop(0), "system"),
    (lambda o: o["messages"][-1].update(train=False), "trained assistant reply"),
    (lambda o: o["messages"][1].update(role="bot"), "role"),
    (lambda o: o["messages"][-1].update(content="[MEDIA:photo]"), "media-only"),
    (lambda o: o["messages"].insert(1, dict(o["messages"][1])), "alternate"),
])
def test_validate_record_reports_broken_examples(mutate, error):
    (ex,) = build_examples([msg(1, 2, "q", 0), msg(2, 3, "q2", 0.5), msg(3, OWNER, "a", 1, reply_to=1)], [OWNER])
    obj = json.loads(json.dumps(to_record(ex)))
    assert validate_record(obj) == []
    mutate(obj)
    assert any(error in e for e in validate_record(obj))


def test_watermark_key_round_trips_and_orders():
    wm = Watermark(datetime(2025, 6, 30, 17, 59, 59, tzinfo=timezone.utc), -1001234, 567)
    assert wm.key == "20250630T175959Z_-1001234_567"
    assert Watermark.parse(wm.key) == wm
    assert Watermark.parse("20250630T175959Z_-1001234_568") > wm
    with pytest.raises(ValueError):
        Watermark.parse("yesterday")


def test_windows_and_threads_never_cross_forum_topics():
    def tmsg(mid, sender, text, minute, topic, reply_to=None):
        return dataclasses.replace(msg(mid, sender, text, minute, reply_to), topic_id=topic)

    # Two topics interleaved in time in one forum; the owner answers implicitly in topic 2 (right after a topic-6
    # message in chat order, but after a topic-2 message in its own topic) and explicitly in topic 6.
    msgs = [
        tmsg(10, 2, "release planning", 0, 2),
        tmsg(11, 3, "dark mode idea", 1, 6),
        tmsg(12, 2, "when do we ship?", 2, 2),
        tmsg(13, 3, "and a light theme", 3, 6),
        tmsg(14, OWNER, "we ship friday", 4, 2),
        tmsg(15, OWNER, "love the idea", 5, 6, reply_to=11),
        tmsg(16, 4, "general hello", 6, 1),
    ]
    examples = {e.message_id: e for e in build_examples(msgs, [OWNER], SftConfig(window_min=6, window_max=6))}
    topic = {m.message_id: m.topic_id for m in msgs}
    assert set(examples) == {14, 15}
    for mid, ex in examples.items():
        assert {topic[k[1]] for k in ex.context_keys} == {topic[mid]}, mid
    assert [k[1] for k in examples[14].context_keys] == [10, 12]
    assert [k[1] for k in examples[15].context_keys] == [11, 13]
    assert examples[14].thread_id != examples[15].thread_id
