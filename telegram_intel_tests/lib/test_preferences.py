"""Pairing 👍/👎 feedback into DPO pairs and KTO ratings, the conversation split, the formats, the blind A/B."""

from __future__ import annotations

import pytest

from telegram_intel.lib.preferences import (
    DPO,
    KTO,
    FeedbackRow,
    PreferenceConfig,
    blind_ab,
    build_preferences,
    choose_method,
    validate_kto_record,
    validate_pair_record,
)
from telegram_intel_tests.support.preferences import chat


def fb(id, prompt, reply, rating, correction=None, user=7, persona="owner"):
    return FeedbackRow(id=id, persona=persona, bot_user_id=user, prompt=prompt, reply=reply, rating=rating,
                       correction=correction)


ALL = PreferenceConfig(test_fraction=0.0)  # everything in train: the pairing rules alone


def everything(prefs, kind):
    return [r for split in ("train", "test") for r in getattr(prefs, kind)[split]]


def test_a_thumbs_down_with_a_correction_is_a_pair_and_the_correction_a_liked_reply():
    p = chat("user_1a2b3c4d: when do we meet?")
    prefs = build_preferences([fb(1, p, "As an AI I cannot meet.", -1, correction="tmrw 10ish")], ALL)
    (pair,) = prefs.pairs["train"]
    assert pair["prompt"] == p and pair["source"] == "correction" and pair["feedback_ids"] == [1]
    assert pair["chosen"] == [{"role": "assistant", "content": "tmrw 10ish"}]
    assert pair["rejected"] == [{"role": "assistant", "content": "As an AI I cannot meet."}]
    ratings = {r["completion"][0]["content"]: r["label"] for r in prefs.ratings["train"]}
    assert ratings == {"As an AI I cannot meet.": False, "tmrw 10ish": True}
    assert validate_pair_record(pair, "train") == [] and all(validate_kto_record(r) == []
                                                               for r in prefs.ratings["train"])


def test_a_like_and_a_dislike_on_the_same_prompt_pair_up_and_lone_thumbs_stay_unpaired():
    p, q = chat("user_1: пиво в пятницу?"), chat("user_2: are you coming?")
    prefs = build_preferences([fb(1, p, "да, давай", 1), fb(2, p, "I am a language model", -1),
                               fb(3, q, "yes!!", 1), fb(4, chat("user_3: hi"), "Greetings, human.", -1)], ALL)
    (pair,) = prefs.pairs["train"]
    assert (pair["chosen"][0]["content"], pair["rejected"][0]["content"]) == ("да, давай", "I am a language model")
    assert pair["source"] == "ratings" and pair["feedback_ids"] == [1, 2]
    assert {(r["completion"][0]["content"], r["label"]) for r in prefs.ratings["train"]} == {
        ("да, давай", True), ("I am a language model", False), ("yes!!", True), ("Greetings, human.", False)}
    s = prefs.stats
    assert (s["thumbs_up"], s["thumbs_down"], s["pairs_from_ratings"], s["pairs_from_corrections"]) == (2, 2, 1, 0)


def test_pairs_per_prompt_are_capped_and_the_latest_rating_of_a_reply_wins():
    p = chat("user_1: what now?")
    rows = [fb(i, p, f"good {i}", 1) for i in range(1, 4)] + [fb(i, p, f"bad {i}", -1) for i in range(4, 7)]
    rows.append(fb(7, p, "good 1", -1))  # changed their mind about "good 1"
    prefs = build_preferences(rows, PreferenceConfig(test_fraction=0.0, max_pairs_per_prompt=4))
    assert len(prefs.pairs["train"]) == 4
    assert prefs.stats["superseded_ratings"] == 1
    assert ("good 1", False) in {(r["completion"][0]["content"], r["label"]) for r in prefs.ratings["train"]}
    assert all(p["chosen"][0]["content"] != "good 1" for p in prefs.pairs["train"])


def test_invalid_rows_are_counted_not_used():
    rows = [fb(1, [{"role": "user", "content": "x"}], "ok", 1), fb(2, "not a list", "ok", 1),
            fb(3, chat("user_1: hi", "hello", ), "ok", 1),  # ends with the assistant
            fb(4, chat("user_1: hi"), "   ", -1), fb(5, chat("user_1: hi"), "fine", 3)]
    prefs = build_preferences(rows, ALL)
    assert prefs.stats["invalid_rows"] == 4 and len(prefs.ratings["train"]) == 1
    assert "empty reply" in prefs.stats["invalid_reasons"]


def test_pii_is_masked_in_prompts_replies_and_corrections():
    p = chat("user_1: call me at +7 916 123-45-67")
    prefs = build_preferences([fb(1, p, "mail me: a.b@example.com", -1, correction="ok, +7 916 765-43-21")],
                              ALL)
    (pair,) = prefs.pairs["train"]
    text = str(pair)
    assert "916" not in text and "example.com" not in text
    assert "[PHONE]" in pair["prompt"][-1]["content"] and "[EMAIL]" in pair["rejected"][0]["content"]


def test_a_conversation_is_never_split_between_train_and_test():
    rows, n = [], 0
    for user in range(12):
        history: list[str] = []
        for turn in range(3):  # the chat grows: each prompt repeats the earlier turns
            history += [f"user_{user:08x}: message {turn} of {user}"]
            n += 1
            rows.append(fb(n, chat(*history), f"reply {turn}", 1 if turn % 2 else -1, user=1000 + user,
                           correction=f"fixed {turn}" if turn % 2 == 0 else None))
            history += [f"reply {turn}"]
    prefs = build_preferences(rows, PreferenceConfig(test_fraction=0.3))
    train = {r["conversation"] for kind in ("pairs", "ratings") for r in getattr(prefs, kind)["train"]}
    test = {r["conversation"] for kind in ("pairs", "ratings") for r in getattr(prefs, kind)["test"]}
    assert train and test and not train & test
    assert prefs.stats["conversations"] == 12  # one per bot user: their prompts share earlier turns
    users_by_conv = {}
    for r in everything(prefs, "ratings"):
        users_by_conv.setdefault(r["conversation"], set()).update(r["feedback_ids"])
    assert all(len({(i - 1) // 3 for i in ids}) == 1 for ids in users_by_conv.values())


def test_the_same_prompt_rated_by_two_people_is_one_conversation_and_pairs_up():
    p = chat("user_1: same question")
    prefs = build_preferences([fb(1, p, "yes", 1, user=1), fb(2, p, "No.", -1, user=2),
                               fb(3, chat("user_9: other"), "k", 1, user=3)], PreferenceConfig(test_fraction=0.5))
    assert prefs.stats["conversations"] == 2
    (pair,) = [r for s in ("train", "test") for r in prefs.pairs[s]]
    assert pair["feedback_ids"] == [1, 2]


def test_two_conversations_always_give_a_held_out_one():
    rows = [fb(1, chat("user_1: a"), "x", 1, user=1), fb(2, chat("user_2: b"), "y", -1, user=2)]
    for fraction in (0.01, 0.99):
        prefs = build_preferences(rows, PreferenceConfig(test_fraction=fraction))
        assert len(prefs.ratings["train"]) == len(prefs.ratings["test"]) == 1


def test_choose_method():
    assert choose_method(8, 20, min_pairs=8) == DPO
    assert choose_method(7, 20, min_pairs=8) == KTO
    assert choose_method(0, 1, min_pairs=8) is None


def test_validators_name_the_problem():
    good = {"id": "fb-1", "conversation": "c", "split": "train", "prompt": chat("user_1: q"),
            "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}
    assert validate_pair_record(good, "train") == []
    assert validate_pair_record(good, "test") == ["split 'train' in the test file"]
    assert "chosen and rejected are the same text" in validate_pair_record({**good, "rejected": good["chosen"]})
    assert validate_pair_record({**good, "chosen": []}) == ["chosen is not one non-empty assistant message"]
    kto = {"id": "fb-1", "conversation": "c", "split": "test", "prompt": chat("user_1: q"),
           "completion": [{"role": "assistant", "content": "a"}], "label": 1}
    assert validate_kto_record(kto) == ["label is not true/false"]
    assert validate_kto_record("x") == ["not an object"]


def test_blind_ab_scores_shuffled_pairs_without_labels_and_counts_who_passed_as_real():
    real = ["ok see u", "lol no", "ya 10ish"]
    seen = []

    def judge(texts):  # "the owner writes short lowercase messages"
        seen.extend(texts)
        return [1.0 if t.islower() and len(t) < 12 else 0.0 for t in texts]

    items, summary = blind_ab(real, {"new": ["ok sure", "no", "At 10."], "previous": ["Certainly! I will."] * 3},
                              judge, seed=3)
    assert len(items) == 6 and len(seen) == 12
    assert sorted({it["real_is"] for it in items}) == ["A", "B"]  # shuffled
    for it in items:
        assert (it["A"] if it["real_is"] == "A" else it["B"]) in real
    assert summary["previous"]["passed_as_real"] == 0.0 and summary["previous"]["mean_p_real"] == 1.0
    assert summary["new"]["passed_as_real"] == pytest.approx((0.5 + 0.5 + 0) / 3, abs=1e-4)  # two ties
    with pytest.raises(ValueError, match="candidate 'new' has 1 replies"):
        blind_ab(real, {"new": ["x"]}, judge)
