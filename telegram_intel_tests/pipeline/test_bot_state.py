"""The bot service's rows: bounded memory, ratings (one per reply, changeable), corrections, /forget, and the
erasure of a person (`people forget`) reaching them too."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from telegram_intel.pipeline import bot_state, privacy

USER, OTHER = 9101, 9102


def count(engine, table: str, user: int) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE bot_user_id = :u"), {"u": user}).scalar()


def reply(engine, user: int = USER, text: str = "sure") -> int:
    return bot_state.save_reply(engine, persona="owner", user_id=user, chat_id=user,
                                prompt=[{"role": "user", "content": "user_guest: hi"}], reply=text, adapter="a1",
                                model="m", latency_ms=5)


def test_rating_is_one_row_per_reply_and_only_by_its_user(engine):
    rid = reply(engine)
    fid, changed = bot_state.rate_reply(engine, rid, USER, -1)
    assert changed and bot_state.awaiting_correction(engine, USER) == fid
    assert bot_state.save_correction(engine, USER, "nope, tomorrow") == fid
    assert bot_state.awaiting_correction(engine, USER) is None
    assert bot_state.save_correction(engine, USER, "not awaited") is None
    again, changed = bot_state.rate_reply(engine, rid, USER, 1)  # changed their mind: same row, correction dropped
    assert again == fid and changed
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT rating, correction, adapter, prompt FROM persona_feedback")).all()
    assert [(r.rating, r.correction, r.adapter) for r in rows] == [(1, None, "a1")]
    assert rows[0].prompt == [{"role": "user", "content": "user_guest: hi"}]
    with pytest.raises(bot_state.FeedbackRefused):
        bot_state.rate_reply(engine, rid, OTHER, -1)
    with pytest.raises(bot_state.FeedbackRefused):
        bot_state.rate_reply(engine, rid + 999, USER, 1)


def test_memory_keeps_the_newest_turns(engine):
    for i in range(5):
        bot_state.append_memory(engine, "owner", USER, [{"role": "user", "content": f"m{i}"}], turns=3)
    assert [m["content"] for m in bot_state.load_memory(engine, "owner", USER, 10)] == ["m2", "m3", "m4"]
    assert bot_state.load_memory(engine, "other-persona", USER, 10) == []


def test_forget_and_erasure_delete_every_bot_row_of_the_person(engine, tmp_path):
    for user in (USER, OTHER):
        bot_state.touch_user(engine, user)
        bot_state.append_memory(engine, "owner", user, [{"role": "user", "content": "x"}], turns=4)
        bot_state.rate_reply(engine, reply(engine, user), user, -1)
        bot_state.cache_voice(engine, f"{user:064d}", "v", user, {"transcript": "t"}, hours=24)
    assert bot_state.forget_user(engine, USER) == {"persona_feedback": 1, "bot_persona_memory": 1,
                                                   "bot_persona_replies": 1, "bot_voice_cache": 1, "bot_users": 1}
    assert all(count(engine, t, OTHER) == 1 for t in bot_state.USER_TABLES)
    # erasing the person with `people forget` (they are also a Telegram user of the corpus) reaches the bot rows
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_users (user_id, display_name) VALUES (:u, 'Other')"), {"u": OTHER})
    report = privacy.forget_user(engine, OTHER, media_root=tmp_path, data_root=tmp_path)
    assert report.rows["persona_feedback"] == 1 and report.rows["bot_users"] == 1
    assert all(count(engine, t, OTHER) == 0 for t in bot_state.USER_TABLES)
