"""Persona chat end to end: real aiogram polling the fake Bot API, the reply model behind the fake OpenAI server,
real PostgreSQL: /start, replies with retrieved owner messages and memory, 👍 / 👎 + correction into
persona_feedback, guardrails, limits, /forget."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from telegram_intel.pipeline.persona_chat import PersonaChat, PersonaChatConfig
from telegram_intel_tests.support.bot import USER_ID, callback_update, make_user, message_update
from telegram_intel_tests.support.fake_openai import FakeOpenAIServer, Reply, completion, hang

OWNER = 5001
FRIEND = make_user(7777, "Friend")


def answer(text: str, prompt_tokens: int = 40, completion_tokens: int = 9):
    return lambda body: Reply(200, completion(text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                                              model=body["model"]))


@pytest.fixture
def reply_server():
    server = FakeOpenAIServer(default=answer("ok")).start()
    yield server
    server.stop()


def owner_corpus(engine) -> None:
    """Past messages of the owner in clean_messages (what retrieval searches)."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_chats (chat_id, type, title) VALUES (-100900, 'supergroup', 'g')"))
        conn.execute(sa.text("INSERT INTO telegram_users (user_id, display_name, is_owner) VALUES (:u, 'Owner', true),"
                             " (5002, 'Other', false)"), {"u": OWNER})
        rows = [(1, OWNER, "Let's grab pizza at Luigi's on Friday, I'm buying"),
                (2, OWNER, "Deploy goes out tonight, ping me if the build breaks"),
                (3, 5002, "Pizza on Friday sounds great")]
        for mid, sender, text in rows:
            conn.execute(sa.text("INSERT INTO telegram_messages (chat_id, message_id, date, sender_id, text) "
                                 "VALUES (-100900, :m, now(), :s, :t)"), {"m": mid, "s": sender, "t": text})
            conn.execute(sa.text("INSERT INTO clean_messages (chat_id, message_id, date, sender_id, text, "
                                 "cleaner_version) VALUES (-100900, :m, now(), :s, :t, 'test')"),
                         {"m": mid, "s": sender, "t": text})


def persona_chat(engine, server, **config) -> PersonaChat:
    options = dict(base_url=server.url, model="persona-test", api_key="sk-persona-test-key", persona_name="Anselm",
                   adapter="adapters/owner-dpo-v3", memory_turns=4, timeout_s=5.0)
    options.update(config)
    return PersonaChat(engine, PersonaChatConfig(**options))


def rows(engine, table: str) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")).all()


def test_conversation_feedback_correction_and_forget(engine, reply_server, bot_harness, fake_bot_api):
    owner_corpus(engine)
    reply_server.push(answer("haha sure, pizza friday it is"), answer("tonight, after the deploy"))
    bot = bot_harness(features=("persona",), persona=persona_chat(engine, reply_server))

    bot.send(message_update("/start"))
    start = fake_bot_api.wait_for("sendMessage")[0]
    assert "AI persona of the account owner" in start.params["text"]
    assert "/forget" in start.params["text"]

    bot.send(message_update("Are we still on for pizza on Friday?"))
    first = fake_bot_api.wait_for("sendMessage", 2)[1]
    assert first.params["text"] == "haha sure, pizza friday it is"
    buttons = first.params["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["👍 I'd answer like that", "👎 Not like me"]

    bot.send(message_update("When do you deploy?"))
    second = fake_bot_api.wait_for("sendMessage", 3)[2]
    assert second.params["text"] == "tonight, after the deploy"

    # what the model was given: the persona system prompt with the owner's similar past message, the memory of
    # the first exchange, and the new message as the last user turn
    body = reply_server.requests[1]["body"]
    assert reply_server.requests[1]["headers"]["authorization"] == "Bearer sk-persona-test-key"
    assert body["model"] == "persona-test" and body["max_tokens"] == 160
    system = body["messages"][0]["content"]
    assert "You are Anselm" in system and "Deploy goes out tonight" in system
    assert "Pizza on Friday sounds great" not in system  # not the owner's
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][2]["content"] == "haha sure, pizza friday it is"
    assert body["messages"][-1]["content"] == "user_guest: When do you deploy?"

    # 👍 on the first reply, 👎 on the second and the correction that follows
    bot.send(callback_update(buttons[0]["callback_data"], message=first.result))
    assert fake_bot_api.wait_for("answerCallbackQuery")[0].params["text"].startswith("Thanks")
    down = second.params["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    bot.send(callback_update(down, message=second.result))
    ask = fake_bot_api.wait_for("sendMessage", 4)[3]
    assert "How would you answer instead?" in ask.params["text"]
    bot.send(message_update("around 9pm, once CI is green"))
    assert "saved your version" in fake_bot_api.wait_for("sendMessage", 5)[4].params["text"]
    assert len(reply_server.requests) == 2  # the correction went to the feedback, not to the model

    feedback = rows(engine, "persona_feedback")
    assert [(f.rating, f.correction) for f in feedback] == [(1, None), (-1, "around 9pm, once CI is green")]
    down_row = feedback[1]
    assert down_row.persona == "owner" and down_row.bot_user_id == USER_ID
    assert down_row.reply == "tonight, after the deploy" and down_row.adapter == "adapters/owner-dpo-v3"
    assert down_row.prompt == body["messages"] and down_row.created_at is not None
    assert len(rows(engine, "bot_persona_memory")) == 4  # bounded: memory_turns=4 of the 4 turns

    metrics = bot.metrics()
    assert metrics["telegram_intel_bot_tokens_total"][(("kind", "prompt"), ("mode", "PERSONA"))] == 80
    assert metrics["telegram_intel_bot_persona_feedback_total"] == {
        (("kind", "up"),): 1, (("kind", "down"),): 1, (("kind", "correction"),): 1}
    assert metrics["telegram_intel_bot_processing_seconds_count"][(("feature", "persona"), ("step", "reply"))] == 2
    with engine.connect() as conn:
        calls = conn.execute(sa.text("SELECT prompt_name, status, prompt_tokens, tags FROM llm_calls")).all()
    assert [(c.prompt_name, c.status, c.prompt_tokens) for c in calls] == [("persona_reply", "ok", 40)] * 2

    # someone else's /forget deletes nothing of this user; theirs deletes everything
    bot.send(message_update("/forget", user=FRIEND))
    fake_bot_api.wait_for("sendMessage", 6)
    assert len(rows(engine, "persona_feedback")) == 2
    bot.send(message_update("/forget"))
    done = fake_bot_api.wait_for("sendMessage", 7)[6]
    assert "deleted everything" in done.params["text"]
    for table in ("persona_feedback", "bot_persona_memory", "bot_persona_replies", "bot_users"):
        assert rows(engine, table) == [], table
    # a button of a forgotten reply no longer stores anything
    bot.send(callback_update(buttons[1]["callback_data"], message=first.result))
    assert "no longer be rated" in fake_bot_api.wait_for("answerCallbackQuery", 3)[2].params["text"]
    assert rows(engine, "persona_feedback") == []


def test_memory_is_bounded_and_per_user(engine, reply_server, bot_harness, fake_bot_api):
    bot = bot_harness(features=("persona",), persona=persona_chat(engine, reply_server, memory_turns=2))
    for i in range(3):
        bot.send(message_update(f"message {i}"))
        fake_bot_api.wait_for("sendMessage", i + 1)
    bot.send(message_update("hi from a friend", user=FRIEND))
    fake_bot_api.wait_for("sendMessage", 4)
    with engine.connect() as conn:
        memory = conn.execute(sa.text("SELECT bot_user_id, role, content FROM bot_persona_memory ORDER BY id")).all()
    assert [(m.bot_user_id, m.role, m.content) for m in memory] == [
        (USER_ID, "user", "user_guest: message 2"), (USER_ID, "assistant", "ok"),
        (FRIEND["id"], "user", "user_guest: hi from a friend"), (FRIEND["id"], "assistant", "ok")]
    # the friend's model input holds none of the first user's conversation
    assert all("message" not in m["content"] for m in reply_server.requests[-1]["body"]["messages"][1:])


def test_guardrails_mask_secrets_and_pii_in_replies(engine, reply_server, bot_harness, fake_bot_api):
    reply_server.push(answer("call me at +7 916 123-45-67, card 4111 1111 1111 1111? key sk-proj-AbCdEf0123456789xyzXYZ "
                             "and password: hunter2"))
    bot = bot_harness(features=("persona",), persona=persona_chat(engine, reply_server))
    bot.send(message_update("my number is +44 20 7946 0958, what's yours?"))
    sent = fake_bot_api.wait_for("sendMessage")[0].params["text"]
    assert "916" not in sent and "4111" not in sent and "sk-proj" not in sent and "hunter2" not in sent
    assert "[PHONE]" in sent and "[CARD]" in sent and "[hidden]" in sent
    # the incoming number was masked before it reached the model, and is not kept in memory
    assert "7946" not in json.dumps(reply_server.requests[0]["body"])
    with engine.connect() as conn:
        assert "7946" not in json.dumps([list(r) for r in conn.execute(sa.text(
            "SELECT content FROM bot_persona_memory")).all()])
    assert bot.metrics()["telegram_intel_bot_errors_total"][(("feature", "persona"), ("kind", "guardrail"))] >= 3


def test_time_limit_and_server_errors_give_a_friendly_answer(engine, reply_server, bot_harness, fake_bot_api):
    reply_server.push(hang(5.0), lambda body: Reply(500, {"error": {"message": "boom"}}))
    bot = bot_harness(features=("persona",), persona=persona_chat(engine, reply_server, timeout_s=0.5))
    started = time.monotonic()
    bot.send(message_update("hello?"))
    sent = fake_bot_api.wait_for("sendMessage")[0]
    assert time.monotonic() - started < 4
    assert "can't answer right now" in sent.params["text"] and "reply_markup" not in sent.params
    bot.send(message_update("hello again?"))
    assert "can't answer right now" in fake_bot_api.wait_for("sendMessage", 2)[1].params["text"]
    with engine.connect() as conn:
        calls = conn.execute(sa.text("SELECT status, error_kind FROM llm_calls ORDER BY id")).all()
    assert [tuple(c) for c in calls] == [("error", "timeout"), ("error", "InternalServerError")]
    assert rows(engine, "bot_persona_replies") == []
    errors = bot.metrics()["telegram_intel_bot_errors_total"]
    assert errors[(("feature", "persona"), ("kind", "timeout"))] == 1


def test_unconfigured_persona_says_so(engine, bot_harness, fake_bot_api):
    chat = PersonaChat(engine, PersonaChatConfig(base_url=None, model=None))
    bot = bot_harness(features=("persona",), persona=chat)
    bot.send(message_update("hi"))
    assert "can't answer right now" in fake_bot_api.wait_for("sendMessage")[0].params["text"]
