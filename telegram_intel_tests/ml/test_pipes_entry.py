"""``ml/pipes_entry.py`` — the program a Kubernetes pod runs — run here through ``PipesSubprocessClient`` by the
real assets: ``lora_adapter`` (tiny random model) and ``voice_transcripts`` (tiny.en on espeak-ng speech)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.defs.pipes import HeavyComputeConfig
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.training.assets import lora_adapter, sft_dataset
from telegram_intel.defs.training.resources import PersonaTrainingResource
from telegram_intel.defs.voice.resources import WhisperResource
from telegram_intel.defs.voice.transcripts import voice_transcripts
from telegram_intel.ml import pipes_entry
from telegram_intel_tests.support import dagster as dagster_support
from telegram_intel_tests.support.training import FAST_TRAINING
from telegram_intel_tests.support.voice import (
    CHAT,
    DAY1,
    EN_BUDGET,
    EN_MEETING,
    VoiceMessage,
    day,
    insert_voice_messages,
    storage_of,
    transcripts,
)

SUBPROCESS = HeavyComputeConfig(mode="subprocess")
STEPS = 6


def _logs(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.user_message for e in instance.all_logs(run_id) if e.user_message]


def test_lora_adapter_trains_in_a_pipes_subprocess(cleaned, database_url, storage_dir, ti_env):
    resources = {
        "telegram": TelegramIntelResource(database_url=database_url, storage_dir=str(storage_dir)),
        "persona_training": PersonaTrainingResource(base_model="tiny-random", torch_threads=1, compute=SUBPROCESS),
    }
    with dg.instance_for_test() as instance:
        result = dg.materialize([sft_dataset, lora_adapter], instance=instance, resources=resources,
                                run_config={"ops": {"lora_adapter": {"config": {
                                    **FAST_TRAINING["lora_adapter"]["config"], "max_steps": STEPS}}}})
        logs = _logs(instance, result.run_id)
    assert result.success
    meta = dagster_support.metadata(result, "lora_adapter", last=True)
    adapter = Path(meta["path"])
    assert adapter.is_relative_to(storage_dir) and (adapter / "adapter_config.json").exists()
    assert meta["trainer"] == "peft" and meta["steps"] == STEPS and meta["final_loss"] > 0
    assert 0 < meta["trainable_params"] < meta["total_params"]
    with cleaned.connect() as conn:
        row = conn.execute(sa.text("SELECT trainer, path, metrics FROM persona_adapters")).one()
    assert (row.trainer, row.path) == ("peft", str(adapter)) and len(row.metrics["losses"]) == STEPS
    # the loop ran in the Pipes child: its log lines came back through Pipes, and the step says where it ran
    assert any("LoRA trained through Pipes (subprocess)" in m for m in logs), logs
    assert any(m.startswith("step ") and "loss" in m for m in logs), logs


def test_voice_transcripts_batch_in_a_pipes_subprocess(engine, ti_env, speech, tmp_path):
    storage = storage_of(ti_env)
    broken = tmp_path / "broken.ogg"
    broken.write_bytes(b"")
    insert_voice_messages(engine, storage, [
        VoiceMessage(1, day(DAY1, 0), speech["en_budget"]),
        VoiceMessage(2, day(DAY1, 5), broken),
        VoiceMessage(3, day(DAY1, 10), speech["en_meeting"], media_type="video_note"),
    ])
    resources = dagster_support.resources(
        whisper=WhisperResource(model="tiny.en", device="cpu", compute=SUBPROCESS))
    with dg.instance_for_test() as instance:
        result = dg.materialize([voice_transcripts], instance=instance, resources=resources,
                                partition_key="2025-06-01")
        logs = _logs(instance, result.run_id)
    rows = transcripts(engine)
    assert set(rows) == {1, 2, 3}
    for mid, words in ((1, EN_BUDGET[1]), (3, EN_MEETING[1])):
        r = rows[mid]
        assert (r.status, r.model, r.language, r.device) == ("ok", "tiny.en", "en", "cpu")
        assert all(w in r.text.lower() for w in words), r.text
        assert r.segments and r.duration_s > 1 and r.file_sha256 == f"sha-{CHAT}-{mid}"
    assert (rows[2].status, rows[2].error_kind) == ("error", "empty_file")
    meta = dagster_support.metadata(result, "voice_transcripts", last=True)
    assert (meta["processed"], meta["transcribed"], meta["errors"]) == (3, 2, 1)
    assert meta["whisper_launched"] == "subprocess"
    assert any("whisper batch through Pipes (subprocess): 2 of 3 files" in m for m in logs), logs


def test_standalone_run_prints_the_messages(tmp_path):
    """Without Dagster (a GPU box): the extras from a file, the messages as JSON lines."""
    extras = {"task": "whisper", "model": "tiny.en", "options": {"device": "cpu"},
              "files": [{"key": "b", "path": str(tmp_path / "missing.ogg")}]}
    (tmp_path / "extras.json").write_text(json.dumps(extras))
    out = subprocess.run([sys.executable, "-m", "telegram_intel.ml.pipes_entry", str(tmp_path / "extras.json")],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert out.returncode == 0, out.stderr
    messages = [json.loads(line) for line in out.stdout.splitlines()]
    assert [m["type"] for m in messages] == ["transcript", "result"]
    assert (messages[0]["key"], messages[0]["ok"], messages[0]["kind"]) == ("b", False, "missing_file")
    assert (messages[1]["files"], messages[1]["transcribed"], messages[1]["errors"]) == (1, 0, 1)
    assert messages[1]["whisper"]["model"] == "tiny.en"


@pytest.mark.parametrize(("extras", "problem"), [
    ({"task": "transcode"}, "unknown task 'transcode': one of lora, whisper"),
    ({"task": "lora", "out_dir": "/x"}, "task 'lora' needs extras dataset_dir, base_path"),
    ({"task": "lora", "dataset_dir": "/x", "out_dir": "/y", "base_path": "b", "params": {"rank": 4}},
     "unknown LoRA parameters ['rank']"),
])
def test_bad_extras_are_named(tmp_path, extras, problem):
    (tmp_path / "extras.json").write_text(json.dumps(extras))
    out = subprocess.run([sys.executable, "-m", "telegram_intel.ml.pipes_entry", str(tmp_path / "extras.json")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.strip() == f"error: {problem}"
    assert "Traceback" not in out.stderr


def test_replayed_transcripts_round_trip():
    from telegram_intel.ml.whisper import Segment, Transcript, TranscriptionError

    t = Transcript(text="the meeting moves to monday", segments=[Segment(0.0, 2.5, "the meeting moves to monday",
                                                                         -0.2, 0.01)],
                   language="en", language_probability=1.0, language_source="model", duration_s=2.6,
                   processing_s=0.3, model="tiny.en", device="cpu", compute_type="int8", batched=False)
    messages = [{"type": "transcript", "key": "k", "ok": True, "transcript": json.loads(json.dumps(t.to_dict()))},
                {"type": "transcript", "key": "bad", "ok": False, "kind": "empty_file", "error": "empty"}]
    replay = pipes_entry.ReplayTranscriber(messages, {"whisper": {"device": "cpu", "compute_type": "int8"}})
    assert replay.transcribe("k") == t
    assert (replay.device, replay.compute_type) == ("cpu", "int8")
    with pytest.raises(TranscriptionError) as err:
        replay.transcribe("bad")
    assert err.value.kind == "empty_file"
    with pytest.raises(TranscriptionError) as err:
        replay.transcribe("never-sent")
    assert err.value.kind == "not_in_batch"
