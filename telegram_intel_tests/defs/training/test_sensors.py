"""preference_training_sensor against the real PostgreSQL: an SFT adapter and feedback rows in the registry and
persona_feedback tables, evaluated with Dagster's build_sensor_context."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.training.sensors import preference_training_sensor
from telegram_intel.lib.sft import Watermark
from telegram_intel.pipeline import training
from telegram_intel_tests.support.preferences import chat, insert_feedback


def _sft_adapter(engine, storage_dir, n: int = 1) -> int:
    from datetime import datetime, timezone

    wm = Watermark(datetime(2025, 6, n, tzinfo=timezone.utc), -100, n)
    training.record_dataset(engine, version=f"v{n}", owner_ids=[1], watermark=wm, path=str(storage_dir / f"d{n}"),
                            config={}, stats={"examples": 1}, run_id=None)
    with engine.connect() as conn:
        dataset = training.get_dataset(conn, f"v{n}")
    return training.record_adapter(engine, dataset=dataset, base_model="tiny-random", base_model_path="/m",
                                   trainer="peft", path=str(storage_dir / f"a{n}"), merged_path=None, metrics={},
                                   run_id=None)


def _feedback(engine, n: int) -> list[int]:
    return insert_feedback(engine, [{"bot_user_id": 7, "prompt": chat(f"user_1: q{i}"), "reply": f"r{i}",
                                     "rating": 1 if i % 2 else -1} for i in range(n)])


def _evaluate(database_url, instance, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor,
                                 resources={"telegram": TelegramIntelResource(database_url=database_url)}) as ctx:
        return preference_training_sensor(ctx), ctx.cursor


def test_requests_preference_training_after_n_new_feedback_rows(engine, database_url, storage_dir, monkeypatch):
    monkeypatch.setenv("TELEGRAM_INTEL_PREFERENCE_MIN_NEW_FEEDBACK", "5")
    monkeypatch.delenv("TELEGRAM_INTEL_RETRAIN_ENABLED", raising=False)
    with dg.instance_for_test() as instance:
        _feedback(engine, 6)
        skip, cursor = _evaluate(database_url, instance)
        assert isinstance(skip, dg.SkipReason) and "no SFT adapter yet" in skip.skip_message and cursor is None

        parent = _sft_adapter(engine, storage_dir)
        request, cursor = _evaluate(database_url, instance)
        assert isinstance(request, dg.RunRequest)
        newest = 6
        assert request.run_key == f"preference-{newest}"
        assert request.run_config["ops"]["preference_dataset"]["config"]["until_feedback_id"] == newest
        assert request.run_config["ops"]["dpo_adapter"]["config"]["parent_adapter_id"] == parent
        assert request.tags["telegram_intel/preference_reason"] == "threshold"
        assert json.loads(cursor)["feedback_id"] == newest

        again, same = _evaluate(database_url, instance, cursor)
        assert isinstance(again, dg.SkipReason) and "0 new feedback rows since feedback id 6" in again.skip_message

        _feedback(engine, 4)
        below, _ = _evaluate(database_url, instance, cursor)
        assert isinstance(below, dg.SkipReason) and below.skip_message.startswith("4 new feedback rows")
        _feedback(engine, 1)
        second, cursor2 = _evaluate(database_url, instance, cursor)
        assert isinstance(second, dg.RunRequest) and second.run_key == "preference-11"

        # a retrain made a new SFT adapter: the feedback so far is applied to it at once, once
        newer = _sft_adapter(engine, storage_dir, 2)
        carry, cursor3 = _evaluate(database_url, instance, cursor2)
        assert isinstance(carry, dg.RunRequest) and carry.run_key == f"preference-11-on-{newer}"
        assert carry.tags["telegram_intel/preference_reason"] == "new_sft_adapter"
        settled, _ = _evaluate(database_url, instance, cursor3)
        assert isinstance(settled, dg.SkipReason)

        monkeypatch.setenv("TELEGRAM_INTEL_RETRAIN_ENABLED", "false")
        _feedback(engine, 10)
        off, kept = _evaluate(database_url, instance, cursor3)
        assert isinstance(off, dg.SkipReason) and "TELEGRAM_INTEL_RETRAIN_ENABLED=false" in off.skip_message
        assert kept == cursor3


def test_a_trained_preference_adapter_moves_the_baseline(engine, database_url, storage_dir, monkeypatch):
    monkeypatch.delenv("TELEGRAM_INTEL_PREFERENCE_MIN_NEW_FEEDBACK", raising=False)  # default 50
    monkeypatch.delenv("TELEGRAM_INTEL_RETRAIN_ENABLED", raising=False)
    parent = _sft_adapter(engine, storage_dir)
    ids = _feedback(engine, 60)
    with engine.connect() as conn:
        dataset = training.get_dataset(conn, "v1")
    training.record_adapter(engine, dataset=dataset, base_model="tiny-random", base_model_path="/m", trainer="dpo",
                            path=str(storage_dir / "dpo"), merged_path=None,
                            metrics={"parent_adapter_id": parent, "feedback_watermark": ids[-11]}, run_id=None)
    with dg.instance_for_test() as instance:
        skip, _ = _evaluate(database_url, instance)  # trained by hand up to ids[-11]: 10 are new
        assert isinstance(skip, dg.SkipReason)
        assert skip.skip_message == f"10 new feedback rows since feedback id {ids[-11]}; preference training at 50"


@pytest.mark.parametrize("value", ["-1", "many"])
def test_a_bad_threshold_is_a_clear_error(engine, database_url, monkeypatch, value):
    monkeypatch.setenv("TELEGRAM_INTEL_PREFERENCE_MIN_NEW_FEEDBACK", value)
    monkeypatch.delenv("TELEGRAM_INTEL_RETRAIN_ENABLED", raising=False)
    with dg.instance_for_test() as instance, pytest.raises(Exception, match="TELEGRAM_INTEL_PREFERENCE_MIN_NEW"):
        _evaluate(database_url, instance)
