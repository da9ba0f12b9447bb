"""telegram_intel.ml.whisper on real speech (espeak-ng) with the packaged models."""

from __future__ import annotations

import os

import pytest

from telegram_intel.ml.whisper import (
    PACKAGED_MODELS,
    AudioError,
    ModelError,
    Transcriber,
    normalize_language,
    resolve_model,
)
from telegram_intel_tests.support.voice import EN_BUDGET, EN_MEETING


def words_in(text: str, words) -> list[str]:
    low = text.lower()
    return [w for w in words if w not in low]


def test_tiny_en_transcribes_english_speech_with_timestamps(tiny_en, speech):
    result = tiny_en.transcribe(speech["en_budget"])
    assert not words_in(result.text, EN_BUDGET[1]), result.text
    assert result.language == "en" and result.language_source == "model"  # English-only model
    assert result.model == "tiny.en" and result.device == "cpu" and result.compute_type == "int8"
    assert 2.0 < result.duration_s < 8.0
    assert result.segments and all(0 <= s.start < s.end <= result.duration_s + 0.5 for s in result.segments)
    assert [s.start for s in result.segments] == sorted(s.start for s in result.segments)
    assert result.real_time_factor is not None and result.real_time_factor > 0
    data = result.to_dict()
    assert data["segments"][0]["text"] and "real_time_factor" in data


def test_batched_pipeline_gives_the_same_words(speech):
    batched = Transcriber("tiny.en", device="cpu", batched=True, batch_size=4, beam_size=1)
    result = batched.transcribe(speech["en_meeting"])
    assert batched.batched and result.batched
    assert not words_in(result.text, EN_MEETING[1]), result.text


def test_multilingual_base_is_assembled_from_two_packages_and_verified(models_dir):
    """(Its Russian and language detection are tested through the asset, test_assets.py.)"""
    spec = PACKAGED_MODELS["base"]
    resolved = resolve_model("base", models_dir)
    model_bin = models_dir / "faster-whisper-base" / "model.bin"
    assert resolved.source == "package" and resolved.path == str(model_bin.parent) and resolved.multilingual
    assert model_bin.stat().st_size == spec.model_bin_size
    assert (model_bin.parent / "model.bin.verified").read_text().split()[0] == spec.model_bin_sha256
    assert {p.name for p in model_bin.parent.iterdir()} >= {"model.bin", "config.json", "tokenizer.json",
                                                           "vocabulary.txt"}
    stamp = model_bin.stat().st_mtime_ns
    assert resolve_model("base", models_dir).path == resolved.path
    assert model_bin.stat().st_mtime_ns == stamp  # the second call reuses the verified file


def test_damaged_assembled_model_is_rebuilt(models_dir, tmp_path):
    target = tmp_path / "models"
    resolve_model("base", target)
    model_bin = target / "faster-whisper-base" / "model.bin"
    with open(model_bin, "r+b") as f:  # same size, one byte changed: only the hash can tell
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    os.utime(model_bin, ns=(1, 1))  # and the stamp no longer vouches for it
    resolve_model("base", target)
    with open(model_bin, "rb") as f:
        f.seek(1000)
        assert f.read(1) == byte


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("random.ogg", os.urandom(4096), {"corrupt_audio", "unsupported_format"}),
    ("random.bin", os.urandom(4096), {"unsupported_format"}),
    ("empty.ogg", b"", {"empty_file"}),
    ("notes.txt", "just some text, not audio\n".encode() * 20, {"unsupported_format", "no_audio_stream"}),
    ("truncated.wav", b"RIFF\x00\x00\x00\x00WAVEfmt ", {"unsupported_format"}),
])
def test_bad_audio_raises_a_clear_per_file_error(tiny_en, tmp_path, name, content, kind):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError) as raised:
        tiny_en.transcribe(path)
    assert raised.value.kind in kind
    assert name in str(raised.value)


def test_picture_and_missing_file(tiny_en, tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "photo.jpg")
    with pytest.raises(AudioError) as raised:
        tiny_en.transcribe(tmp_path / "photo.jpg")
    assert raised.value.kind == "no_audio_stream"
    with pytest.raises(AudioError) as raised:
        tiny_en.transcribe(tmp_path / "gone.ogg")
    assert raised.value.kind == "missing_file"


def test_model_and_language_errors(tmp_path):
    with pytest.raises(ModelError, match="downloads are off") as raised:
        Transcriber("small", models_dir=tmp_path)  # not packaged, not cached, no network
    assert raised.value.kind == "model_load_failed"
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(str(tmp_path / "no-such-model"))
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(ModelError, match="no model.bin"):
        resolve_model(str(tmp_path / "empty-model"))
    assert normalize_language("auto") is None and normalize_language("RU") == "ru"
    with pytest.raises(ValueError, match="unknown whisper language"):
        normalize_language("klingon")
