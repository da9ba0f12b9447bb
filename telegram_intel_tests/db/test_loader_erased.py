"""The writer and the ``erased_users`` tombstone: nothing of an erased id is written again, and other people's
messages come in without the reactions that named them."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from telegram_intel.db.loader import TelegramWriter
from telegram_intel.lib.records import ChatRecord, MessageRecord, UserRecord

GONE, KEPT, GROUP = 6206854358, 1826009828, -1001158625742
T = datetime(2025, 5, 1, 12, tzinfo=timezone.utc)


def _records():
    reactions = [{"type": "emoji", "count": 2, "emoji": "🔥",
                  "recent": [{"from": "Gone Person", "from_id": f"user{GONE}", "date": "2025-05-01T12:05:00"},
                             {"from": "Kept Person", "from_id": f"user{KEPT}", "date": "2025-05-01T12:06:00"}]}]
    return [
        ChatRecord(GROUP, "supergroup", "Group"),
        ChatRecord(GONE, "private", "Gone Person"),  # the private chat with them
        UserRecord(GONE, "Gone Person", "Gone", "Person"),
        UserRecord(KEPT, "Kept Person", "Kept", "Person"),
        MessageRecord(GROUP, 1, T, sender_id=GONE, sender_name="Gone Person", text="words of the erased"),
        MessageRecord(GROUP, 2, T, sender_id=KEPT, text="forwarded", forwarded_from="Gone Person",
                      forwarded_from_id=GONE),
        MessageRecord(GONE, 3, T, sender_id=KEPT, text="in the private chat"),
        MessageRecord(GROUP, 4, T, sender_id=KEPT, text="my own words", reactions=reactions,
                      entities=[{"type": "mention_name", "text": "Gone", "user_id": GONE}],
                      raw={"id": 4, "reactions": reactions}),
    ]


def test_an_erased_id_is_not_written_again(engine, storage_dir):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO erased_users (user_id) VALUES (:u)"), {"u": GONE})
    stats = TelegramWriter(engine, storage_dir).write(_records())
    assert stats.erased_skipped == 5 and stats.as_dict()["erased_skipped"] == 5
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT user_id FROM telegram_users")).scalars().all() == [KEPT]
        assert conn.execute(sa.text("SELECT chat_id FROM telegram_chats")).scalars().all() == [GROUP]
        (row,) = conn.execute(sa.text("SELECT message_id, reactions, entities, raw FROM telegram_messages")).all()
    assert row.message_id == 4
    assert row.reactions == [{"type": "emoji", "count": 1, "emoji": "🔥", "recent": [
        {"from": "Kept Person", "from_id": f"user{KEPT}", "date": "2025-05-01T12:06:00"}]}]
    assert row.entities == [{"type": "mention_name", "text": "Gone"}] and row.raw["reactions"] == row.reactions
    assert str(GONE) not in str(row) and "Gone Person" not in str(row)


def test_without_tombstones_everything_is_written(engine, storage_dir):
    stats = TelegramWriter(engine, storage_dir).write(_records())
    assert stats.erased_skipped == 0 and stats.messages_new == 4
