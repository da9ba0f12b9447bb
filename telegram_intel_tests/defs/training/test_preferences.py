"""preference_dataset → dpo_adapter → persona_eval with real dg.materialize on the real PostgreSQL: 👍/👎 feedback
rows written into persona_feedback as the bot writes them, on top of a LoRA adapter of the tiny random model."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.defs.training.assets import lora_adapter, persona_eval, sft_dataset
from telegram_intel.defs.training.preferences import dpo_adapter, preference_dataset, preference_dataset_format_valid
from telegram_intel.lib.sft import SplitRecords
from telegram_intel.pipeline import training
from telegram_intel_tests.support.dagster import metadata
from telegram_intel_tests.support.preferences import insert_feedback
from telegram_intel_tests.support.training import FAST_TRAINING, training_resources

GENERIC = "Certainly! As an AI language model, I would be glad to assist you with that request."
OPTED_OUT, ERASED = 900_000_001, 900_000_002
FAST_DPO = {"max_steps": 4, "batch_size": 2, "learning_rate": 0.005, "max_length": 160}
EVAL = {"max_examples": 20, "style_examples": 4, "samples": 2, "max_new_tokens": 6, "max_seq_len": 160}


def _feedback(records: list[dict]) -> list[dict]:
    """What owner-testers of the bot would give: the generic reply disliked and corrected with what the owner
    really wrote; for every other prompt the real reply shown again and liked (a 👍/👎 pair without correction)."""
    rows = []
    for i, r in enumerate(records):
        prompt, real = r["messages"][:-1], r["messages"][-1]["content"]
        user = 5000 + i % 5
        rows.append({"bot_user_id": user, "prompt": prompt, "reply": GENERIC, "rating": -1, "correction": real,
                     "adapter": "1"})
        if i % 2:
            rows.append({"bot_user_id": user, "prompt": prompt, "reply": real, "rating": 1})
    return rows


def _private_rows(prompt: list[dict]) -> list[dict]:
    return [{"bot_user_id": OPTED_OUT, "prompt": prompt, "reply": "SECRET-OPTED-OUT", "rating": 1},
            {"bot_user_id": ERASED, "prompt": prompt, "reply": "SECRET-ERASED", "rating": -1,
             "correction": "SECRET-ERASED-CORRECTION"}]


def test_feedback_trains_a_preference_adapter_that_persona_eval_compares_with_its_parent(
        cleaned, database_url, storage_dir):
    from telegram_intel.ml import lora

    resources = training_resources(database_url, storage_dir)
    with dg.instance_for_test() as instance:
        sft = dg.materialize([sft_dataset, lora_adapter], instance=instance, resources=resources,
                             run_config={"ops": {"lora_adapter": FAST_TRAINING["lora_adapter"]}})
    parent = metadata(sft, "lora_adapter")
    records = SplitRecords.load(Path(metadata(sft, "sft_dataset")["path"]))
    # distinct prompts (an owner's two replies in a row share their context: one prompt, two replies)
    distinct = list({json.dumps(r["messages"][:-1]): r for r in records.train}.values())
    train, spare = distinct[:16], distinct[16]
    with cleaned.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_users (user_id, is_ignored) VALUES (:u, true)"), {"u": OPTED_OUT})
        conn.execute(sa.text("INSERT INTO erased_users (user_id) VALUES (:u)"), {"u": ERASED})
    rows = _feedback(train) + _private_rows(train[0]["messages"][:-1])
    rows.append({"bot_user_id": 5100, "prompt": spare["messages"][:-1], "reply": GENERIC, "rating": -1,
                 "correction": "пиши на ivan.petrov@example.com или +7 916 123-45-67"})
    ids = insert_feedback(cleaned, rows)

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [preference_dataset, preference_dataset_format_valid, dpo_adapter, persona_eval], instance=instance,
            resources=resources, run_config={"ops": {"dpo_adapter": {"config": FAST_DPO},
                                                     "persona_eval": {"config": EVAL}}})
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    check = checks["preference_dataset_format_valid"]
    assert check.passed and checks["persona_eval_adapter_beats_base"].severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["conversations_in_both_splits"].value == 0

    # -- the dataset: DPO pairs from corrections and from 👍/👎, privacy, PII, conversation split
    ds = metadata(result, "preference_dataset")
    assert ds["method"] == "dpo" and ds["feedback_watermark"] == max(ids)
    assert ds["version"].startswith(f"fb{max(ids):08d}-")
    assert ds["feedback_rows"] == len(rows) - 2 and ds["excluded_opted_out_or_erased"] == 2
    assert ds["pairs_from_corrections"] == 17 and ds["pairs_from_ratings"] == 8
    assert ds["train_pairs"] + ds["test_pairs"] == 25 and ds["test_pairs"] > 0
    folder = Path(ds["path"])
    assert folder == storage_dir / "preferences" / ds["version"]
    everything = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.jsonl"))
    assert "SECRET" not in everything  # opted-out and erased people's feedback is never read
    assert "ivan.petrov" not in everything and "916" not in everything and "[EMAIL]" in everything
    manifest = json.loads((folder / "manifest.json").read_text())
    assert OPTED_OUT not in manifest["bot_user_ids"] and ERASED not in manifest["bot_user_ids"]
    pairs = [json.loads(line) for line in (folder / "pairs.train.jsonl").read_text().splitlines()]
    held = [json.loads(line) for line in (folder / "pairs.test.jsonl").read_text().splitlines()]
    assert {p["conversation"] for p in pairs}.isdisjoint({p["conversation"] for p in held})
    prompts_train = {json.dumps(p["prompt"]) for p in pairs}
    assert not prompts_train & {json.dumps(p["prompt"]) for p in held}

    # -- the adapter: continues the SFT adapter, registry row, manifest
    ad = metadata(result, "dpo_adapter")
    assert ad["method"] == "dpo" and ad["parent_adapter_id"] == parent["adapter_id"]
    assert ad["steps"] == 4 and ad["train_examples"] == ds["train_pairs"]
    assert ad["eval_examples"] == ds["test_pairs"] and 0.0 <= ad["eval_reward_accuracy"] <= 1.0
    assert "reward_margin" in ad and "data:image/png;base64," in ad["loss_curve"]
    out = Path(ad["path"]).parent
    assert out.is_relative_to(storage_dir / "adapters" / metadata(sft, "sft_dataset")["watermark"])
    adapter_manifest = json.loads((out / "manifest.json").read_text())
    assert adapter_manifest["parent_adapter_id"] == parent["adapter_id"]
    assert adapter_manifest["pairs_digest"] == manifest["train_digest"]
    assert adapter_manifest["feedback_watermark"] == max(ids)
    with cleaned.connect() as conn:
        row = training.latest_adapter(conn)  # what the bot and `reply` load from now on
    assert row["id"] == ad["adapter_id"] and row["trainer"] == "dpo"
    assert row["dataset_version"] == parent["dataset_version"] and row["metrics"]["parent_adapter_id"] == parent[
        "adapter_id"]

    # -- the evaluation compares the new adapter with its parent
    ev = metadata(result, "persona_eval")
    assert ev["adapter_id"] == ad["adapter_id"]
    assert ev["compared_with"] == f"adapter {parent['adapter_id']} (peft)"
    assert ev["previous_adapter_id"] == parent["adapter_id"]
    sft_records = SplitRecords.load(Path(metadata(sft, "sft_dataset")["path"]))
    held_out = getattr(sft_records, ev["split"])[: EVAL["max_examples"]]
    tokenizer, model = lora.load_with_adapter(parent["base_model_path"], parent["path"])
    expected, _ = lora.reply_perplexity(model, tokenizer, held_out, max_len=EVAL["max_seq_len"])
    assert ev["previous_perplexity"] == pytest.approx(expected, rel=1e-3)
    assert ev["new_perplexity"] == ev["adapter_perplexity"] != ev["previous_perplexity"]
    assert ev["ab_items"] == 2 * EVAL["style_examples"]
    assert 0.0 <= ev["ab_new_passed_as_real"] <= 1.0 and 0.0 <= ev["ab_previous_passed_as_real"] <= 1.0
    assert ev["blind_ab"].count("\n") == 1 + ev["ab_items"]
    with cleaned.connect() as conn:
        stored = conn.execute(sa.text("SELECT metrics FROM persona_evaluations WHERE adapter_id = :a"),
                              {"a": ad["adapter_id"]}).scalar_one()
    items = stored["ab_items"]
    assert len(items) == ev["ab_items"] and {it["candidate"] for it in items} == {"new", "previous"}
    real = {g["real"] for g in stored["generations"]}
    assert all((it["A"] if it["real_is"] == "A" else it["B"]) in real for it in items)
    assert stored["comparison"]["previous_adapter_id"] == parent["adapter_id"]
    assert len(stored["comparison"]["previous_generations"]) == EVAL["style_examples"]

    # -- too few pairs for DPO: KTO on the ratings, from the same SFT parent
    with dg.instance_for_test() as instance:
        kto = dg.materialize([preference_dataset, dpo_adapter], instance=instance, resources=resources,
                             run_config={"ops": {"preference_dataset": {"config": {"min_pairs": 1000}},
                                                 "dpo_adapter": {"config": {**FAST_DPO, "max_steps": 2}}}})
    assert metadata(kto, "preference_dataset")["method"] == "kto"
    kto_ad = metadata(kto, "dpo_adapter")
    assert kto_ad["method"] == "kto" and kto_ad["parent_adapter_id"] == parent["adapter_id"]
    assert kto_ad["train_examples"] == metadata(kto, "preference_dataset")["train_ratings"]


def test_missing_feedback_or_adapter_fails_with_a_clear_message(engine, database_url, storage_dir):
    resources = training_resources(database_url, storage_dir)
    with dg.instance_for_test() as instance:
        empty = dg.materialize([preference_dataset], instance=instance, resources=resources, raise_on_error=False)
    assert not empty.success
    assert "no usable feedback in persona_feedback" in str(empty.get_step_failure_events()[0].event_specific_data)
    prompt = [{"role": "system", "content": "s"}, {"role": "user", "content": "user_1: hi"}]
    insert_feedback(engine, [{"bot_user_id": 1, "prompt": prompt, "reply": "a", "rating": 1},
                             {"bot_user_id": 2, "prompt": prompt, "reply": "b", "rating": -1}])
    with dg.instance_for_test() as instance:
        no_parent = dg.materialize([preference_dataset, dpo_adapter], instance=instance, resources=resources,
                                   raise_on_error=False)
    assert metadata(no_parent, "preference_dataset")["method"] == "kto"
    failure = str(no_parent.get_step_failure_events()[0].event_specific_data)
    assert "no SFT adapter to start from: materialize lora_adapter first" in failure

    # the blocking format check catches a broken line in the newest dataset
    folder = Path(metadata(no_parent, "preference_dataset")["path"])
    with open(folder / "ratings.train.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "x", "conversation": "c", "split": "train", "prompt": prompt,
                            "completion": [{"role": "assistant", "content": ""}], "label": True}) + "\n")
    with dg.instance_for_test() as instance:
        checked = dg.materialize([preference_dataset, preference_dataset_format_valid], instance=instance,
                                 resources=resources,
                                 selection=dg.AssetSelection.checks(preference_dataset_format_valid),
                                 raise_on_error=False)
    (evaluation,) = checked.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.metadata["invalid_lines"].value == 1
    assert evaluation.metadata["examples"].value[0]["errors"] == ["completion is not one non-empty assistant message"]
