"""The offline intent classifier: behaviour per language and class, and macro-F1 on the held-out set."""

from __future__ import annotations

import unicodedata
from collections import Counter

import numpy as np
import pytest

from telegram_intel.lib import intents as I
from telegram_intel.lib.language import resolve_lang
from telegram_intel.llm.schemas import INTENT_LABELS

# Why 0.90: the shipped model scores 0.965 on the held-out set (bench/README.md). The fit is deterministic, so
# the margin is for deliberate edits (lexicons, training rows) that cost a few items, while the failures this
# guards against -- a label-order or feature-order mismatch between code and weights, a broken embedder,
# lost cue features -- land far lower (embeddings alone: ~0.90, cues alone: ~0.96, shuffled labels: ~0.17).
HELD_OUT_MACRO_F1 = 0.90
PER_LANGUAGE_MACRO_F1 = 0.85


def _norm(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


def test_labels_are_the_llm_schema_labels():
    assert I.INTENTS == INTENT_LABELS


def test_eval_set_is_balanced_hand_written_and_held_out(tmp_path):
    rows = I.load_jsonl(I.EVAL_PATH)
    train = I.load_jsonl(I.TRAIN_PATH)
    assert len(rows) >= 180
    per_lang = Counter(r["lang"] for r in rows)
    assert set(per_lang) == {"ru", "en", "tr"} and max(per_lang.values()) - min(per_lang.values()) <= 3
    assert {r["label"] for r in rows} == set(I.INTENTS)
    assert min(Counter((r["lang"], r["label"]) for r in rows).values()) >= 10
    # distinct from the training set ...
    assert not {_norm(r["text"]) for r in rows} & {_norm(r["text"]) for r in train}
    # ... and not made from the sample-data templates
    from telegram_intel_tools.sample_data import (
        load_labeled_messages,
        write_sample_export,
    )

    write_sample_export(tmp_path, messages=1500, media=False, seed=3)
    sample = {_norm(r["text"]) for r in load_labeled_messages(tmp_path)}
    assert not {_norm(r["text"]) for r in rows} & sample
    # the training set shares only universal one- or two-word formulas with it ("Привет!", "/start")
    shared = [r["text"] for r in train if _norm(r["text"]) in sample]
    assert all(len(t.split()) <= 2 for t in shared), shared


def test_shipped_model_matches_training_file_and_is_small():
    model = I.IntentClassifier.load(I.MODEL_PATH)
    assert model.info["train_sha256"] == I.file_sha256(I.TRAIN_PATH), "run: python -m telegram_intel_tools.intent_eval --train"
    assert model.info["feature_version"] == I.FEATURE_VERSION
    assert I.MODEL_PATH.stat().st_size < 1_000_000
    assert model.W.shape == (512 + len(I.CUE_NAMES), len(I.INTENTS))


def test_held_out_macro_f1_above_threshold():
    rep = I.evaluate()
    assert rep["n"] >= 180
    assert rep["macro_f1"] >= HELD_OUT_MACRO_F1, rep["errors"]
    for lang, f1 in rep["per_lang_macro_f1"].items():
        assert f1 >= PER_LANGUAGE_MACRO_F1, (lang, f1)
    for label, m in rep["per_class"].items():
        assert m["f1"] >= 0.8, (label, m)


# New sentences, in neither data file.
CASES = [
    ("ru", "question", "Подскажите, как отменить подписку в приложении?"),
    ("ru", "question", "почему не работает лифт"),
    ("ru", "statement", "Мы вчера переехали в Казань, теперь офис рядом с домом."),
    ("ru", "command", "Пожалуйста, пришли договор до обеда."),
    ("ru", "command", "/start"),
    ("ru", "discussion", "Не согласен, по-моему это пустая трата денег."),
    ("ru", "greeting", "Всем привет!"),
    ("ru", "feedback", "Спасибо огромное, отличная работа!"),
    ("en", "question", "What time does the pharmacy close today?"),
    ("en", "statement", "The delivery arrived this morning and everything is in the garage now."),
    ("en", "command", "Please send me the signed form by Friday."),
    ("en", "discussion", "I totally disagree, in my opinion it's a waste of money."),
    ("en", "greeting", "Good morning everyone!"),
    ("en", "feedback", "Thank you so much, great job!"),
    ("tr", "question", "Bu kargo ne zaman gelir?"),
    ("tr", "question", "Yarın toplantı var mı?"),
    ("tr", "statement", "Dün yeni daireye taşındık, ofis artık eve çok yakın."),
    ("tr", "command", "Lütfen raporu akşama kadar gönderin."),
    ("tr", "discussion", "Katılmıyorum, bence bu para israfı."),
    ("tr", "greeting", "Günaydın herkese!"),
    ("tr", "feedback", "Çok teşekkürler, eline sağlık!"),
]


@pytest.mark.parametrize("lang,label,text", CASES, ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_examples_per_language_and_class(lang, label, text):
    pred = I.classify([text], [lang])[0]
    assert pred.label == label, pred
    assert pred.confidence == max(pred.confidences.values())
    assert pred.method == I.METHOD


def test_language_is_detected_when_not_given():
    texts = [t for _, _, t in CASES]
    given = [p.label for p in I.classify(texts, [lg for lg, _, _ in CASES])]
    detected = [p.label for p in I.classify(texts)]
    assert given == detected
    assert [resolve_lang(t) for t in ("Привет, как дела?", "Yarın toplantı var mı?", "See you tomorrow",
                                       "Bugün gelemem", "Ок")] == ["ru", "tr", "en", "tr", "ru"]


def test_confidences_are_a_distribution_over_all_six():
    preds = I.classify(["Привет!", "Who's in?", "/help", "Eline sağlık", "", "[PHONE]"])
    for p in preds:
        assert list(p.confidences) == list(I.INTENTS)
        assert abs(sum(p.confidences.values()) - 1.0) < 1e-3
        assert all(0.0 <= v <= 1.0 for v in p.confidences.values())
        assert p.label == max(p.confidences, key=p.confidences.get)
    assert preds[2].label == "command" and preds[2].confidence >= 0.9  # bot commands by rule


def test_cue_features_are_language_aware():
    names = I.CUE_NAMES
    tr = dict(zip(names, I.cue_features("Bunu nasıl yapabilirim acaba", "tr")))
    assert tr["wh_word_anywhere"] and not tr["has_question_mark"]
    tr_cmd = dict(zip(names, I.cue_features("Dosyayı bana gönderin lütfen", "tr")))
    assert tr_cmd["imperative_morphology"] and tr_cmd["polite_marker"]
    ru = dict(zip(names, I.cue_features("Пришлите, пожалуйста, отчёт", "ru")))
    assert ru["imperative_first3"] and ru["polite_marker"]
    en = dict(zip(names, I.cue_features("Is the store open? 🙂", "en")))
    assert en["aux_opener"] and en["ends_with_question_mark"]
    assert I.cue_features("Здравствуйте!", "ru")[names.index("imperative_morphology")] == 0
    assert I.cue_features("mı geliyorsun yarın", "tr")[names.index("question_particle")] == 1


def test_train_save_load_roundtrip(tmp_path):
    rows = I.load_jsonl(I.TRAIN_PATH)
    subset = [r for i, r in enumerate(rows) if i % 12 == 0]  # ~60 rows, every class and language
    model = I.IntentClassifier.train(subset, l2=1e-2)
    path = model.save(tmp_path / "m.npz", train_sha256="x")
    again = I.IntentClassifier.load(path)
    texts = ["Hello all", "Can you help?", "Пришли файл"]
    assert np.allclose(model.predict_proba(texts), again.predict_proba(texts), atol=1e-4)
    assert again.info["train_sha256"] == "x" and again.info["n_train"] == len(subset)


def test_macro_f1_helper():
    assert I.macro_f1(["question", "greeting"], ["question", "greeting"], ("question", "greeting")) == 1.0
    assert I.macro_f1(["question", "greeting"], ["greeting", "question"], ("question", "greeting")) == 0.0


def test_default_embedder_classifier_on_the_independent_dev_set():
    """The EmbeddingGemma classifier on the visible half of the dev set (ru/en/tr/mixed, written from the label
    definitions alone): the regression guard for the figures in bench/README.md (visible 0.908)."""
    from telegram_intel.ml.embedders import load_embedder
    from telegram_intel_tools.intent_eval import dev_report

    embedder = load_embedder("embeddinggemma")
    model = I.default_classifier(embedder)
    assert model.info["train_sha256"] == I.file_sha256(I.TRAIN_PATH), "run: intent_eval --train"
    report = dev_report("visible", embedder)
    assert report["method"] == I.method_name("embeddinggemma-300m")
    assert report["all"]["macro_f1"] >= 0.87
    assert min(report[lang]["macro_f1"] for lang in ("ru", "en", "tr", "mixed")) >= 0.80


def test_conventions_polite_requests_ritual_thanks_complaints():
    from telegram_intel.ml.embedders import load_embedder

    embedder = load_embedder("embeddinggemma")
    cases = [("Можешь скинуть мне презентацию?", "ru", "command"),
             ("Dosyayı bana atar mısın?", "tr", "command"),
             ("С днём рождения, Лена! 🎉", "ru", "greeting"),
             ("Spasibo, the fix works perfectly, saved my evening", "en", "feedback")]
    preds = I.classify([t for t, _, _ in cases], [lg for _, lg, _ in cases], embedder=embedder)
    assert [p.label for p in preds] == [label for _, _, label in cases]
    # a complaint is feedback; this Turkish one is a near tie with "statement" (0.48 / 0.48 in bf16: which side
    # wins depends on the CPU's bf16 arithmetic), so the test holds the model to the tie, not to the winner
    complaint = I.classify(["Kargo yine 5 gün gecikti, bu firmaya bir daha sipariş vermem"], ["tr"],
                           embedder=embedder)[0]
    top2 = sorted(complaint.confidences, key=complaint.confidences.get)[-2:]
    assert "feedback" in top2 and complaint.confidences["feedback"] >= 0.45
