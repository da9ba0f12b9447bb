"""Voice insight through the bot: a Telegram voice message (OGG/Opus of real espeak-ng speech) downloaded from the
fake Bot API's file endpoint, real faster-whisper, DEFAULT and TONE side by side through a local OpenAI-compatible
server, one HTML reply; the 24 h cache, friendly errors, /list_modes, /set_model and hot-reloaded custom modes."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from telegram_intel.llm.config import LLMSettings
from telegram_intel.pipeline import bot_state
from telegram_intel.pipeline.bot_voice import ModeChangeRejected, VoiceInsightService
from telegram_intel.bot.voice import format_insight, split_html
from telegram_intel.pipeline.bot_voice import VoiceInsightResult
from telegram_intel_tests.support.bot import (
    audio_update,
    check_html,
    message_update,
    ogg_opus,
    video_note_update,
    voice_update,
)
from telegram_intel_tests.support.fake_openai import Reply
from telegram_intel_tests.support.voice import EN_BUDGET, RU_THANKS, VoiceLLMServer

ADMIN = 4242  # the default test user


class ModelCheckingServer(VoiceLLMServer):
    """Answers the voice prompts, and 404 for a model the server does not have."""

    known_models = {"test-model", "gpt-4o"}

    def _answer(self, body: dict) -> Reply:
        if body.get("model") not in self.known_models:
            return Reply(404, {"error": {"message": f"The model `{body.get('model')}` does not exist",
                                         "type": "invalid_request_error", "code": "model_not_found"}})
        return super()._answer(body)


@pytest.fixture
def llm_server():
    server = ModelCheckingServer().start()
    yield server
    server.stop()


def llm_settings(server) -> LLMSettings:
    return LLMSettings(base_url=server.url, model="test-model", max_retries=0, timeout_s=10, per_minute=100_000,
                       per_hour=1_000_000)


@pytest.fixture(scope="module")
def ogg(speech) -> dict[str, bytes]:
    return {"en": ogg_opus(speech["en_budget"]), "ru": ogg_opus(speech["ru_thanks"])}


def edits(api) -> list:
    return [c for c in api.calls("editMessageText") if c.error is None]


def test_voice_message_gets_transcript_default_and_tone(engine, fake_bot_api, bot_harness, tiny_en, llm_server, ogg):
    service = VoiceInsightService(engine, whisper_model="tiny.en", llm=llm_settings(llm_server), transcriber=tiny_en)
    bot = bot_harness(features=("voice", "persona"), voice=service)
    fake_bot_api.add_file("VOICE-1", ogg["en"], "voice/file_1.oga")

    bot.send(voice_update("VOICE-1", duration=4))
    reply = fake_bot_api.wait_for("editMessageText", timeout=60)[0]
    assert fake_bot_api.file_downloads == ["voice/file_1.oga"]
    assert fake_bot_api.calls("sendMessage")[0].params["text"] == "⏳ Transcribing…"
    text = reply.params["text"]
    assert reply.params["parse_mode"] == "HTML"  # and the fake API parsed the markup
    transcript = text.split("\n")[1].lower()
    for word in EN_BUDGET[1]:
        assert word in transcript
    assert "<b>📝 DEFAULT</b>" in text and "LLM summary: " in text and "• point one" in text
    assert "<b>🎭 TONE</b>" in text and "impatience (6/10)" in text and "Confirm the deadline first" in text

    # the two modes ran side by side, each accounted in llm_calls with the request's tags
    with engine.connect() as conn:
        calls = conn.execute(sa.text("SELECT tags->>'mode' AS mode, tags->>'source' AS source, prompt_tokens, "
                                     "status FROM llm_calls ORDER BY tags->>'mode'")).all()
        cached = conn.execute(sa.text("SELECT result, expires_at - created_at AS ttl FROM bot_voice_cache")).one()
    assert [(c.mode, c.source, c.prompt_tokens, c.status) for c in calls] == [
        ("DEFAULT", "bot", 11, "ok"), ("TONE", "bot", 11, "ok")]
    spans = {m: (datetime.fromisoformat(v["started_at"]), datetime.fromisoformat(v["finished_at"]))
             for m, v in cached.result["modes"].items()}
    assert spans["DEFAULT"][0] < spans["TONE"][1] and spans["TONE"][0] < spans["DEFAULT"][1]
    assert round(cached.ttl.total_seconds() / 3600) == 24

    metrics = bot.metrics()
    tokens = metrics["telegram_intel_bot_tokens_total"]
    assert tokens[(("kind", "prompt"), ("mode", "DEFAULT"))] == 11
    assert tokens[(("kind", "completion"), ("mode", "TONE"))] == 7
    assert metrics["telegram_intel_bot_processing_seconds_count"][(("feature", "voice"), ("step", "total"))] == 1
    assert metrics["telegram_intel_bot_active_users"][()] == 1

    # the same audio again (another file id, as a video note): answered from the cache, no whisper or LLM work
    fake_bot_api.add_file("NOTE-2", ogg["en"], "video_notes/file_2.mp4")
    requests = len(llm_server.requests)
    bot.send(video_note_update("NOTE-2", duration=4))
    again = fake_bot_api.wait_for("editMessageText", 2, timeout=30)[1].params["text"]
    assert "cache" in again and again.split("\n")[1] == text.split("\n")[1]
    assert len(llm_server.requests) == requests
    assert bot.metrics()["telegram_intel_bot_voice_cache_total"][(("result", "hit"),)] == 1

    # expired results are deleted, and /forget deletes the user's cached results
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE bot_voice_cache SET expires_at = now() - interval '1 second'"))
    assert bot_state.purge_expired(engine, memory_days=30)["bot_voice_cache"] == 1
    assert bot_state.cached_voice(engine, cached.result["audio_sha256"], service.variant(service.modes())) is None


def test_bad_audio_gets_a_friendly_error(engine, fake_bot_api, bot_harness, tiny_en, llm_server):
    service = VoiceInsightService(engine, whisper_model="tiny.en", llm=llm_settings(llm_server), transcriber=tiny_en)
    bot = bot_harness(features=("voice",), voice=service, max_voice_seconds=60)
    fake_bot_api.add_file("BROKEN", b"OggS\x00 this is not really audio" * 20, "voice/broken.oga")
    bot.send(voice_update("BROKEN"))
    text = fake_bot_api.wait_for("editMessageText", timeout=30)[0].params["text"]
    assert text.startswith("😕") and "try another recording" in text
    bot.send(voice_update("LONG", duration=3600))
    assert "too long" in fake_bot_api.wait_for("sendMessage", 2)[1].params["text"]
    bot.send(voice_update("NOT-ON-THE-SERVER"))  # getFile answers 400
    assert "could not download" in fake_bot_api.wait_for("editMessageText", 2, timeout=30)[1].params["text"]
    errors = bot.metrics()["telegram_intel_bot_errors_total"]
    assert sum(v for k, v in errors.items() if ("feature", "voice") in k) == 3
    assert llm_server.requests == [] and fake_bot_api.file_downloads == ["voice/broken.oga"]


@pytest.fixture(scope="module")
def base_ru(models_dir):
    from telegram_intel.ml.whisper import Transcriber

    return Transcriber("base", device="cpu", models_dir=models_dir)


def test_russian_audio_file_offline_default(engine, fake_bot_api, bot_harness, base_ru, ogg):
    """Russian speech with the multilingual model (language forced to ru) and no LLM configured: DEFAULT comes
    from the offline extractive method, TONE says it is not available."""
    service = VoiceInsightService(engine, whisper_model="base", language="ru", llm=None, transcriber=base_ru)
    bot = bot_harness(features=("voice",), voice=service)
    fake_bot_api.add_file("AUDIO-RU", ogg["ru"], "music/file_7.ogg")
    bot.send(audio_update("AUDIO-RU", file_name="note.ogg", mime_type="audio/ogg"))
    text = fake_bot_api.wait_for("editMessageText", timeout=90)[0].params["text"]
    assert ", ru)" in text.split("\n")[0]
    assert any(word in text.lower() for word in RU_THANKS[1])
    assert "offline summary" in text and "not available: no LLM is configured" in text


def test_list_modes_set_model_and_hot_reload(engine, fake_bot_api, bot_harness, tiny_en, llm_server, tmp_path):
    modes_file = tmp_path / "modes.yaml"
    modes_file.write_text("modes:\n  DEFAULT:\n    model: test-model\n")
    service = VoiceInsightService(engine, whisper_model="tiny.en", llm=llm_settings(llm_server),
                                  transcriber=tiny_en, modes_file=str(modes_file))
    bot = bot_harness(features=("voice",), voice=service, admins=(ADMIN,))

    bot.send(message_update("/list_modes"))
    listing = fake_bot_api.wait_for("sendMessage")[0].params["text"]
    assert "<b>DEFAULT</b>" in listing and "<b>TONE</b>" in listing and "<code>test-model</code>" in listing

    # a model the server does not have is refused after a real check; the old one stays
    bot.send(message_update("/set_model TONE no-such-model"))
    refused = fake_bot_api.wait_for("sendMessage", 2)[1].params["text"]
    assert refused.startswith("Not changed:") and "'no-such-model' failed the check" in refused
    assert service.registry()["TONE"].model != "no-such-model"
    bot.send(message_update("/set_model TONE gpt-4o"))
    assert fake_bot_api.wait_for("sendMessage", 3)[2].params["text"] == "TONE now uses gpt-4o (was test-model)."
    assert service.registry()["TONE"].resolved_model("test-model") == "gpt-4o"
    bot.send(message_update("/set_model TONE gpt-4o", user={"id": 99, "is_bot": False, "first_name": "X"}))
    assert "Only the bot's admins" in fake_bot_api.wait_for("sendMessage", 4)[3].params["text"]

    # a custom mode added to the file is picked up without a restart; a broken file keeps the last good modes
    prompt = tmp_path / "risk.md"
    prompt.write_text("## system\nFind risks. Answer with JSON.\n\n## user\n{{transcript}}\n")
    modes_file.write_text("modes:\n  RISK:\n    prompt: risk.md\n    model: default\n    description: risks\n"
                          "    schema: {type: object, required: [risk], properties: {risk: {type: string}}}\n")
    assert [m["name"] for m in service.describe_modes()] == ["DEFAULT", "TONE", "RISK"]
    assert service.registry()["TONE"].resolved_model("test-model") == "gpt-4o"  # the /set_model change survives
    modes_file.write_text("modes:\n  BROKEN:\n    prompt: missing.md\n")
    bot.send(message_update("/list_modes"))
    listing = fake_bot_api.wait_for("sendMessage", 5)[4].params["text"]
    assert "<b>RISK</b>" in listing and "BROKEN" not in listing and "previous modes stay in use" in listing
    with pytest.raises(ModeChangeRejected, match="unknown mode"):
        service.set_model("NOPE", "gpt-4o")


def test_long_replies_are_split_into_valid_html_messages():
    transcript = " ".join(f"<b>word{i}</b> & a<b" for i in range(900))  # markup-like speech, 4 x 4096 long
    result = VoiceInsightResult(audio_sha256="0" * 64, transcript=transcript, language="en", language_probability=1.0,
                                duration_s=300.0, modes={"DEFAULT": {"status": "ok", "method": "llm:x", "result": {
                                    "summary": "<i>s</i>", "key_points": ["a > b"], "actions": []}}})
    chunks = split_html(format_insight(result))
    assert len(chunks) >= 4 and all(len(c) <= 4096 for c in chunks)
    for chunk in chunks:
        check_html(chunk)  # what the fake Bot API (and Telegram) accept
    assert "&lt;b&gt;word0&lt;/b&gt; &amp; a&lt;b" in chunks[0] and "<b>📝 DEFAULT</b>" in chunks[-1]
