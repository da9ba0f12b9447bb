"""Owner selection per account and topic-aware message loading for the SFT dataset (``pipeline/training.py``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from telegram_intel.pipeline.ingest import import_export
from telegram_intel.pipeline.training import OwnerNotFound, load_clean_messages, resolve_owner_ids
from telegram_intel_tests.conftest import FIXTURES

FORUM = FIXTURES / "hand-written" / "forum_reactions.result.json"


def _accounts(engine, *rows):
    with engine.begin() as conn:
        for uid, name in rows:
            conn.execute(sa.text("INSERT INTO telegram_users (user_id, username, is_owner) VALUES (:u, :n, true)"),
                         {"u": uid, "n": f"acc{uid}"})
            conn.execute(sa.text("INSERT INTO telegram_accounts (account_id, name) VALUES (:u, :n)"),
                         {"u": uid, "n": name})


def test_one_account_is_me(engine):
    _accounts(engine, (111, None))
    with engine.connect() as conn:
        assert resolve_owner_ids(conn, "me") == [111]


def test_with_several_accounts_the_owner_is_chosen_per_account(engine):
    _accounts(engine, (111, "work"), (888, "home"))
    with engine.connect() as conn:
        assert resolve_owner_ids(conn, "account:home") == [888]
        assert resolve_owner_ids(conn, "Account:WORK") == [111]
        assert resolve_owner_ids(conn, "888") == [888]
        with pytest.raises(OwnerNotFound, match="account:work, account:home"):
            resolve_owner_ids(conn, "me")
        with pytest.raises(OwnerNotFound, match="no account named 'play'.*account:work"):
            resolve_owner_ids(conn, "account:play")


def test_clean_messages_come_with_their_topic(engine, storage_dir):
    import_export(engine, FORUM, storage_dir)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO clean_messages (chat_id, message_id, date, sender_id, text, cleaner_version)"
            " SELECT chat_id, message_id, date, sender_id, text, 'test' FROM telegram_messages WHERE text <> ''"))
        topics = {m.message_id: m.topic_id for m in load_clean_messages(conn)}
    assert topics == {1: 1, 3: 2, 4: 1, 5: 2, 7: 6, 9: 1, 10: 6}
