"""Fixtures for the labels assets: clean_messages rows written with SQL, and a local OpenAI-compatible server
that answers the intent and summary prompts (and fails, on cue)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from telegram_intel_tests.support.fake_openai import FakeOpenAIServer, Reply, completion

CHAT = -1009876543210
DAY1 = datetime(2025, 6, 1, 9, 0, tzinfo=timezone.utc)
DAY2 = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
# (message_id, minutes after day start, reply_to, lang, text); ids 1-10 on DAY1, 11-12 on DAY2.
MESSAGES = [
    (1, 0, None, "ru", "Всем привет!"),
    (2, 5, None, "ru", "Кто-нибудь может посмотреть планировку кухни до пятницы?"),
    (3, 9, 2, "ru", "Ок, гляну вечером."),
    (4, 14, None, "en", "Please send me the lighting plan and the furniture spec by tonight."),
    (5, 20, 4, "en", "Sent."),
    (6, 31, None, "en", "Honestly I think PostgreSQL beats MySQL for this project, the JSON support alone is worth it."),
    (7, 40, None, "tr", "Müteahhit mutfak bölme duvarını 20 cm kaydırmış, aydınlatma planını yeniden yapmamız lazım."),
    (8, 52, None, "tr", "Çok teşekkürler, eline sağlık!"),
    (9, 60, None, "ru", "Мой номер [PHONE], user_1a2b3c4d знает, как меня найти."),
    (10, 75, None, "en", "/start"),
    (11, 0, None, "en", "Good morning! The new office opens on Monday."),
    (12, 10, 11, "tr", "Harika haber, tebrikler!"),
]


def day_of(message_id: int) -> datetime:
    return DAY1 if message_id <= 10 else DAY2


def insert_clean_messages(engine, messages=MESSAGES, *, chat_id: int = CHAT) -> None:
    """telegram_chats / telegram_messages rows (for the ai_* columns) and their clean_messages rows."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_chats (chat_id, type, title) VALUES (:c, 'supergroup', 'Test') "
                             "ON CONFLICT DO NOTHING"), {"c": chat_id})
        for mid, minutes, reply_to, lang, text in messages:
            date = day_of(mid) + timedelta(minutes=minutes)
            params = {"c": chat_id, "m": mid, "d": date, "r": reply_to, "t": text, "l": lang}
            conn.execute(sa.text(
                "INSERT INTO telegram_messages (chat_id, message_id, date, sender_id, text, reply_to_message_id) "
                "VALUES (:c, :m, :d, 42, :t, :r)"), params)
            conn.execute(sa.text(
                "INSERT INTO clean_messages (chat_id, message_id, date, sender_id, reply_to_message_id, text, lang, "
                "cleaner_version) VALUES (:c, :m, :d, 42, :r, :t, :l, 'test')"), params)


@pytest.fixture
def corpus(engine):
    insert_clean_messages(engine)
    return engine


def _user_text(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def _message_part(body: dict) -> str:
    text = _user_text(body)
    return text.split("Message:", 1)[1] if "Message:" in text else text


def llm_answer(body: dict) -> Reply:
    """Answers like a model would: intent by '?' / greeting; summary 'LLM: …' with three keywords.
    A message containing FAIL gets HTTP 500 (the client then gives up: max_retries=0 in the tests)."""
    message = _message_part(body)
    if "FAIL" in message:
        return Reply(500, {"error": {"message": "model crashed", "type": "server_error"}})
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    text = message.strip().strip('"').strip()
    if "intent" in system.lower():
        label = "question" if "?" in text else "greeting" if "привет" in text.lower() else "statement"
        confidences = {k: 0.02 for k in ("question", "statement", "command", "discussion", "greeting", "feedback")}
        confidences[label] = 0.9
        data = {"label": label, "confidences": confidences}
    else:
        data = {"summary": "LLM: " + text[:60], "keywords": ["alpha", "beta", "gamma"]}
    return Reply(200, completion(json.dumps(data, ensure_ascii=False)))


@pytest.fixture
def llm_server():
    server = FakeOpenAIServer(default=llm_answer).start()
    yield server
    server.stop()
