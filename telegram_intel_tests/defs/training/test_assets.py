"""sft_dataset → lora_adapter → persona_eval with real dg.materialize on the real PostgreSQL (tiny random
Llama model), then the adapter loaded for generation, retrieval from pgvector and the `reply` command."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import dagster as dg
import numpy as np
import sqlalchemy as sa
from click.testing import CliRunner

from telegram_intel.defs.training.assets import lora_adapter, persona_eval, sft_dataset
from telegram_intel.defs.training.checks import (
    sft_dataset_format_valid,
    sft_dataset_no_opted_out_users,
    sft_dataset_splits_disjoint,
)
from telegram_intel.lib.sft import SPLITS, SplitRecords, validate_record
from telegram_intel.pipeline import training
from telegram_intel_tests.support.dagster import metadata
from telegram_intel_tests.support.training import FAST_TRAINING, training_resources

ASSETS = [sft_dataset, lora_adapter, persona_eval, sft_dataset_format_valid, sft_dataset_splits_disjoint]


def test_chain_materializes_and_the_adapter_generates(cleaned, database_url, storage_dir, ti_env):
    with dg.instance_for_test() as instance:
        result = dg.materialize(ASSETS, instance=instance, resources=training_resources(database_url, storage_dir),
                                run_config={"ops": {**FAST_TRAINING, "lora_adapter": {"config": {
                                    **FAST_TRAINING["lora_adapter"]["config"], "merge": True}}}})
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["sft_dataset_format_valid"].passed and checks["sft_dataset_splits_disjoint"].passed
    assert checks["persona_eval_adapter_beats_base"].passed
    assert checks["persona_eval_adapter_beats_base"].severity == dg.AssetCheckSeverity.WARN

    # -- the dataset: versioned by watermark, files under storage/datasets/<version>/
    ds = metadata(result, "sft_dataset")
    assert re.fullmatch(r"\d{8}T\d{6}Z_-?\d+_\d+-[0-9a-f]{8}", ds["version"])
    assert ds["version"].startswith(ds["watermark"])
    folder = storage_dir / "datasets" / ds["version"]
    assert Path(ds["path"]) == folder and (folder / "stats.json").exists()
    assert ds["examples"] == ds["train_examples"] + ds["val_examples"] + ds["test_examples"] > 100
    assert ds["val_examples"] > 0 and ds["test_examples"] > 0
    assert "data:image/png;base64," in ds["reply_length_histogram"]
    records = SplitRecords.load(folder)
    assert all(validate_record(r) == [] for s in SPLITS for r in getattr(records, s))
    with cleaned.connect() as conn:
        owner = conn.execute(sa.text("SELECT user_id, display_name, first_name FROM telegram_users "
                                     "WHERE is_owner")).one()
        newest = conn.execute(sa.text(
            "SELECT date, chat_id, message_id FROM clean_messages ORDER BY date DESC, chat_id DESC, message_id DESC "
            "LIMIT 1")).one()
    assert ds["owner_ids"] == [owner.user_id]
    assert ds["watermark"].endswith(f"_{newest.chat_id}_{newest.message_id}")
    # other people appear only as pseudonyms
    user_turns = [m["content"] for r in records.train for m in r["messages"] if m["role"] == "user"]
    assert user_turns and all(re.match(r"user_[0-9a-f]{8}: ", line) for t in user_turns for line in t.split("\n"))

    # -- the adapter: registry row, files, metadata
    ad = metadata(result, "lora_adapter")
    assert ad["base_model"] == "tiny-random" and ad["dataset_version"] == ds["version"]
    assert Path(ad["path"]).is_relative_to(storage_dir / "adapters" / ds["watermark"])
    assert (Path(ad["path"]) / "adapter_config.json").exists()
    assert (Path(ad["merged_path"]) / "config.json").exists()
    assert 0 < ad["trainable_params"] < ad["total_params"]
    assert ad["tokens_per_second"] > 0 and len(ad["losses"]) == ad["steps"] == 12
    assert "data:image/png;base64," in ad["loss_curve"]

    # -- the evaluation
    ev = metadata(result, "persona_eval")
    assert ev["adapter_perplexity"] < ev["base_perplexity"]
    assert ev["adapter_id"] == ad["adapter_id"]
    assert 0.0 <= ev["style_score_adapter"] <= 1.0 and 0.5 < ev["style_classifier_accuracy"] <= 1.0
    assert ev["sample_generations"].count("\n") == 2 + 3 - 1  # header, rule, 3 rows
    with cleaned.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM persona_evaluations")).one()
    assert row.adapter_id == ad["adapter_id"] and row.adapter_perplexity < row.base_perplexity

    # -- the adapter loads and generates (and the merged model says the same under greedy decoding)
    from telegram_intel.pipeline.persona import PersonaReplier, build_reply_messages

    messages = build_reply_messages("как дела? call me at +7 916 123-45-67", examples=["ок, понял"])
    assert "[PHONE]" in messages[-1]["content"] and "ок, понял" in messages[0]["content"]
    with_adapter = PersonaReplier(ad["base_model_path"], ad["path"])
    text = with_adapter.reply(messages, max_new_tokens=6, temperature=0.0)
    merged = PersonaReplier(ad["base_model_path"], merged_path=ad["merged_path"])
    assert isinstance(text, str)
    assert merged.reply(messages, max_new_tokens=6, temperature=0.0) == text
    ids = with_adapter.tokenizer(text or "x", add_special_tokens=False)["input_ids"]
    assert len(ids) >= 1

    # -- `telegram-intel reply` with the latest adapter and full-text retrieval
    import click

    from telegram_intel.cli.training import register

    @click.group()
    def cli():
        pass

    register(cli)
    out = CliRunner().invoke(cli, ["reply", "Когда встреча?", "--text-only", "--json", "--max-new-tokens", "5",
                                   "-k", "3"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    answer = json.loads(out.output[out.output.index("{"):])
    assert answer["adapter_id"] == ad["adapter_id"] and isinstance(answer["reply"], str)
    assert answer["messages"][-1]["content"].endswith("Когда встреча?")


class HashingEmbedder:
    """A deterministic bag-of-words embedder (the Embedder protocol): same words, close vectors."""

    name = "test-hashing-64"
    dims = 64

    def encode(self, texts):
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dims] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1
        return out / norms


def test_retrieval_returns_similar_past_owner_messages_from_pgvector(cleaned):
    from telegram_intel.db.vectors import ensure_hnsw_index, write_embeddings
    from telegram_intel.pipeline.persona import similar_owner_replies

    emb = HashingEmbedder()
    with cleaned.begin() as conn:
        owner = conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE is_owner")).scalar_one()
        rows = conn.execute(sa.text("SELECT chat_id, message_id, date, text, sender_id FROM clean_messages")).all()
        write_embeddings(conn, emb.name, [(r.chat_id, r.message_id, r.date) for r in rows],
                         emb.encode([r.text for r in rows]))
        ensure_hnsw_index(conn, emb.name, emb.dims)
    owners_rows = [r for r in rows if r.sender_id == owner]
    probe = owners_rows[len(owners_rows) // 2]
    hits = similar_owner_replies(cleaned, emb, probe.text, [owner], k=3, min_similarity=None)
    assert 1 <= len(hits) <= 3
    assert (hits[0].chat_id, hits[0].message_id) == (probe.chat_id, probe.message_id) or hits[0].text == probe.text
    assert hits[0].similarity is not None and hits[0].similarity > 0.99
    by_key = {(r.chat_id, r.message_id): r for r in rows}
    assert all(by_key[(h.chat_id, h.message_id)].sender_id == owner for h in hits)  # only the owner's messages


def test_sft_dataset_until_caps_the_data_at_a_watermark(cleaned, database_url, storage_dir):
    from telegram_intel.lib.sft import Watermark

    with cleaned.connect() as conn:
        rows = conn.execute(sa.text("SELECT date, chat_id, message_id FROM clean_messages "
                                    "ORDER BY date, chat_id, message_id")).all()
    middle = rows[len(rows) // 2]
    until = Watermark(middle.date, middle.chat_id, middle.message_id)
    with dg.instance_for_test() as instance:
        result = dg.materialize([sft_dataset], instance=instance, resources=training_resources(database_url,
                                                                                                storage_dir),
                                run_config={"ops": {"sft_dataset": {"config": {"until": until.key}}}})
    md = metadata(result, "sft_dataset")
    assert md["watermark"] == until.key and md["messages_read"] == len(rows) // 2 + 1
    records = SplitRecords.load(Path(md["path"]))
    assert max(r["date"] for s in SPLITS for r in getattr(records, s)) <= middle.date.isoformat()


def test_an_opted_out_user_in_the_dataset_fails_the_check(cleaned, database_url, storage_dir):
    with dg.instance_for_test() as instance:
        result = dg.materialize([sft_dataset, sft_dataset_no_opted_out_users], instance=instance,
                                resources=training_resources(database_url, storage_dir))
    assert result.success and result.get_asset_check_evaluations()[0].passed
    records = SplitRecords.load(Path(metadata(result, "sft_dataset")["path"]))
    everything = [r for split in records.as_dict().values() for r in split]
    chat, _, msg = everything[0]["context_keys"][0].rpartition(":")
    with cleaned.begin() as conn:  # someone opts out after the corpus was cleaned (before its next purge)
        sender = conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = (SELECT sender_id "
                                      "FROM telegram_messages WHERE chat_id = :c AND message_id = :m) "
                                      "RETURNING user_id"), {"c": int(chat), "m": int(msg)}).scalar_one()
    with cleaned.connect() as conn:
        assert sender in training.opted_out_in_dataset(conn, everything)
    with dg.instance_for_test() as instance:
        again = dg.materialize([sft_dataset, sft_dataset_no_opted_out_users], instance=instance,
                               resources=training_resources(database_url, storage_dir), raise_on_error=False)
    evaluation = again.get_asset_check_evaluations()
    assert evaluation and not evaluation[0].passed
