"""The bot service's frame: routers per feature with an extension point, per-user rate limiting, /health and
/metrics over HTTP (parsed with prometheus_client's parser), errors answered and counted, settings."""

from __future__ import annotations

import json

import pytest
from aiogram import F, Router
from aiogram.types import Message

from telegram_intel.bot.app import BotConfigError, BotSettings, feature_modules
from telegram_intel.pipeline.persona_chat import PersonaChat, PersonaChatConfig
from telegram_intel_tests.support.bot import message_update


def unconfigured_persona(engine) -> PersonaChat:
    return PersonaChat(engine, PersonaChatConfig(base_url=None, model=None))


def test_start_health_metrics_and_extra_routers(engine, fake_bot_api, bot_harness):
    extra = Router(name="extra")

    @extra.message(F.text == "ping")
    async def ping(message: Message) -> None:
        await message.answer("pong")

    @extra.message(F.text == "boom")
    async def boom(message: Message) -> None:
        raise RuntimeError("secret user text must not be logged")

    bot = bot_harness(features=("persona",), extra_routers=(extra,), persona=unconfigured_persona(engine))
    commands = fake_bot_api.calls("setMyCommands")[0].params["commands"]
    assert [c["command"] for c in commands] == ["start", "help", "forget"]

    bot.send(message_update("ping"))  # the extra router answers before persona's catch-all
    assert fake_bot_api.wait_for("sendMessage")[0].params["text"] == "pong"
    bot.send(message_update("boom"))
    assert "something went wrong" in fake_bot_api.wait_for("sendMessage", 2)[1].params["text"]

    status, body = bot.get("/health")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ok" and health["database"] == "ok"
    assert health["bot"] == "telegram_intel_test_bot" and health["features"] == ["persona"]
    metrics = bot.metrics()
    updates = metrics["telegram_intel_bot_updates_total"]
    assert updates[(("outcome", "ok"), ("update_type", "message"))] == 1
    assert updates[(("outcome", "error"), ("update_type", "message"))] == 1
    assert metrics["telegram_intel_bot_errors_total"][(("feature", "dispatch"), ("kind", "RuntimeError"))] == 1
    assert metrics["telegram_intel_bot_active_users"][()] == 1
    assert bot.get("/modes") == (200, b'{"modes": []}')


def test_rate_limit_per_user(engine, fake_bot_api, bot_harness):
    bot = bot_harness(features=("persona",), persona=unconfigured_persona(engine), rate_limit_per_minute=2)
    for i in range(4):
        bot.send(message_update(f"hi {i}"))
    bot.send(message_update("hi from someone else", user={"id": 77, "is_bot": False, "first_name": "B"}))
    sent = fake_bot_api.wait_for("sendMessage", 4)
    texts = [c.params["text"] for c in sent]
    assert sum("Too many messages" in t for t in texts) == 1  # one notice, the 4th message dropped silently
    assert sum("can't answer right now" in t for t in texts) == 3  # 2 of user 1, 1 of user 2
    assert bot.metrics()["telegram_intel_bot_rate_limited_total"][()] == 2


def test_settings_from_env_and_bad_values():
    env = {"TELEGRAM_INTEL_BOT_TOKEN": "123:" + "x" * 35, "TELEGRAM_INTEL_BOT_API_URL": "http://127.0.0.1:8081/",
           "TELEGRAM_INTEL_BOT_FEATURES": "voice, persona", "TELEGRAM_INTEL_BOT_ADMINS": "1,2",
           "TELEGRAM_INTEL_BOT_VOICE_CACHE_HOURS": "12", "TELEGRAM_INTEL_LLM_BASE_URL": "http://llm/v1"}
    settings = BotSettings.from_env(env)
    assert settings.api_url == "http://127.0.0.1:8081" and settings.features == ("voice", "persona")
    assert settings.admins == (1, 2) and settings.voice_cache_hours == 12.0
    assert settings.persona_base_url == "http://llm/v1"
    assert "x" * 35 not in repr(settings) and "token" not in settings.describe()
    with pytest.raises(BotConfigError, match="TELEGRAM_INTEL_BOT_RATE_LIMIT must be a whole number"):
        BotSettings.from_env({"TELEGRAM_INTEL_BOT_RATE_LIMIT": "lots"})
    with pytest.raises(BotConfigError, match="TELEGRAM_INTEL_BOT_ADMINS"):
        BotSettings.from_env({"TELEGRAM_INTEL_BOT_ADMINS": "@me"})
    with pytest.raises(BotConfigError, match="TELEGRAM_INTEL_BOT_TOKEN is not set"):
        BotSettings.from_env({}).require_token()
    with pytest.raises(BotConfigError, match="does not look like a bot token"):
        BotSettings(token="oops").require_token()
    with pytest.raises(BotConfigError, match="unknown feature"):
        feature_modules(["voice", "weather"])
    assert [m.__name__ for m in feature_modules(["persona", "voice"])] == [
        "telegram_intel.bot.voice", "telegram_intel.bot.persona"]
