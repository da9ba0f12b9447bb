"""The preference work layer against the real PostgreSQL: feedback of people who opted out or were erased, and the
preference datasets / adapters made from someone's feedback when they leave."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from telegram_intel.lib.preferences import PreferenceConfig
from telegram_intel.lib.sft import Watermark
from telegram_intel.pipeline import preferences, privacy, training
from telegram_intel_tests.support.preferences import chat, insert_feedback

ALICE, BOB = 4_000_001, 4_000_002
KTO_ONLY = PreferenceConfig(min_pairs=1000)


@pytest.fixture
def two_raters(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_users (user_id) VALUES (:a), (:b)"), {"a": ALICE, "b": BOB})
    insert_feedback(engine, [
        {"bot_user_id": ALICE, "prompt": chat("user_1: alice asks"), "reply": "ALICE-LIKED", "rating": 1},
        {"bot_user_id": ALICE, "prompt": chat("user_1: alice asks"), "reply": "ALICE-DISLIKED", "rating": -1},
        {"bot_user_id": BOB, "prompt": chat("user_2: bob asks"), "reply": "BOB-LIKED", "rating": 1},
        {"bot_user_id": BOB, "prompt": chat("user_2: bob asks"), "reply": "BOB-DISLIKED", "rating": -1},
    ])
    return engine


def _preference_adapter(engine, storage_dir: Path, version: str) -> tuple[int, Path]:
    """A preference adapter row (and folder, and evaluation) trained on preference dataset ``version``."""
    wm = Watermark(datetime(2025, 6, 1, tzinfo=timezone.utc), -100, 1)
    training.record_dataset(engine, version="sft-v1", owner_ids=[1], watermark=wm, path=str(storage_dir / "d"),
                            config={}, stats={"examples": 1}, run_id=None)
    with engine.connect() as conn:
        sft = training.get_dataset(conn, "sft-v1")
    folder = storage_dir / "adapters" / wm.key / "kto-p1-0000"
    (folder / "adapter").mkdir(parents=True)
    (folder / "adapter" / "adapter_model.safetensors").write_bytes(b"weights")
    (folder / "manifest.json").write_text("{}")
    adapter_id = training.record_adapter(engine, dataset=sft, base_model="tiny-random", base_model_path="/m",
                                         trainer="kto", path=str(folder / "adapter"), merged_path=None,
                                         metrics={"preference_dataset": version}, run_id=None)
    training.record_evaluation(engine, adapter_id=adapter_id, split="test", examples=1, base_ppl=2.0, adapter_ppl=1.0,
                               style_adapter=None, style_base=None, metrics={}, run_id=None)
    return adapter_id, folder


def _texts(storage_dir: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in (storage_dir / "preferences").rglob("*.jsonl"))


def test_forgetting_a_rater_removes_the_datasets_and_adapters_made_from_their_feedback(two_raters, storage_dir):
    engine = two_raters
    version, report = preferences.build_preference_dataset(engine, storage_dir, cfg=KTO_ONLY, until_id=None,
                                                           run_id="run-1")
    assert report.values["method"] == "kto" and report.values["feedback_rows"] == 4
    assert "ALICE-LIKED" in _texts(storage_dir)
    adapter_id, folder = _preference_adapter(engine, storage_dir, version)

    forgotten = privacy.forget_user(engine, ALICE, media_root=storage_dir, data_root=storage_dir)
    assert adapter_id in forgotten.training.adapters_stale and forgotten.training.evaluations_removed == 1
    assert not folder.exists() and not (storage_dir / "preferences" / version).exists()
    with engine.connect() as conn:
        row = training.get_adapter(conn, adapter_id)
        assert row["stale_at"] is not None and row["stale_reason"] == "erasure"
        assert training.latest_adapter(conn) is None  # the bot no longer loads it
        rows, excluded = preferences.load_feedback(conn)
    assert {r.bot_user_id for r in rows} == {BOB}

    again, _ = preferences.build_preference_dataset(engine, storage_dir, cfg=KTO_ONLY, until_id=None, run_id="run-2")
    assert "ALICE" not in _texts(storage_dir) and "BOB-LIKED" in _texts(storage_dir)
    assert preferences.get_preference_dataset(storage_dir, again)["bot_user_ids"] == [BOB]


def test_opting_out_leaves_the_feedback_unread_and_removes_what_was_made_from_it(two_raters, storage_dir,
                                                                                 monkeypatch):
    engine = two_raters
    monkeypatch.setenv("TELEGRAM_INTEL_STORAGE_DIR", str(storage_dir))
    version, _ = preferences.build_preference_dataset(engine, storage_dir, cfg=KTO_ONLY, until_id=None, run_id="r")
    adapter_id, folder = _preference_adapter(engine, storage_dir, version)
    privacy.set_ignored(engine, BOB, True)
    assert not folder.exists() and not (storage_dir / "preferences" / version).exists()
    with engine.connect() as conn:
        assert training.get_adapter(conn, adapter_id)["stale_reason"] == "opt-out"
        rows, excluded = preferences.load_feedback(conn)
    assert {r.bot_user_id for r in rows} == {ALICE} and excluded == 2
    preferences.build_preference_dataset(engine, storage_dir, cfg=KTO_ONLY, until_id=None, run_id="r2")
    assert "BOB" not in _texts(storage_dir)


def test_until_caps_the_feedback_and_too_little_is_a_clear_error(two_raters, storage_dir):
    with two_raters.connect() as conn:
        first = min(r.id for r in preferences.load_feedback(conn)[0])
        assert preferences.count_feedback_after(conn, first) == 3
        assert preferences.count_feedback_after(conn, None, limit=2) == 2
    with pytest.raises(preferences.PreferenceError, match="too little feedback to train on"):
        preferences.build_preference_dataset(two_raters, storage_dir, cfg=KTO_ONLY, until_id=first, run_id="r")
