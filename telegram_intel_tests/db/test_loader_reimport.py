"""The re-import path of the writer: stored messages whose content hash matches are not written at all; whatever
a write would change (a modelled column, raw, a file's state, a new account) still gets written."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from telegram_intel.db.loader import TelegramWriter
from telegram_intel.lib.records import FileRecord
from telegram_intel_tests.db.test_loader import CHAT, T0, chat_and_users, msg, rows


def physical(engine) -> list[tuple]:
    """Each stored row's physical version (a write of any kind makes a new one) and its hash."""
    return rows(engine, "SELECT message_id, xmin::text, ctid::text, content_hash FROM telegram_messages ORDER BY 1")


def test_unchanged_messages_are_skipped_without_writing(engine, storage_dir):
    records = chat_and_users() + [msg(i, reactions=[{"type": "emoji", "emoji": "👍", "count": i}])
                                  for i in range(1, 251)]
    first = TelegramWriter(engine, storage_dir, batch_size=100).write(records)
    assert (first.messages_new, first.messages_unchanged) == (250, 0)
    before = physical(engine)
    assert all(h is not None for *_, h in before) and len({h for *_, h in before}) == 250

    again = TelegramWriter(engine, storage_dir, batch_size=100).write(records)
    assert (again.messages_seen, again.messages_unchanged, again.messages_new, again.messages_updated) == (250, 250, 0, 0)
    assert physical(engine) == before  # not even a no-op update touched a row


def test_any_changed_column_is_written_and_only_that_message(engine, storage_dir):
    TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(i) for i in range(1, 8)])
    before = dict((r[0], r[1:]) for r in physical(engine))
    later = chat_and_users() + [
        msg(1), msg(2, "message 2, edited", edit=T0 + timedelta(hours=1)),  # text
        msg(3, reactions=[{"type": "emoji", "emoji": "🔥", "count": 1}]),  # a modelled column only
        msg(4), msg(5), msg(6), msg(7), msg(8),  # 8 is new
    ]
    later[3 + 3].raw = {"id": 4, "text": None, "views": 10}  # raw only: an unmodelled field
    stats = TelegramWriter(engine, storage_dir).write(later)
    assert (stats.messages_new, stats.messages_updated, stats.messages_unchanged) == (1, 3, 4)
    after = dict((r[0], r[1:]) for r in physical(engine))
    assert [i for i in range(1, 8) if after[i] != before[i]] == [2, 3, 4]
    assert rows(engine, "SELECT raw->>'views', reactions->0->>'emoji' FROM telegram_messages WHERE message_id IN (3, 4) "
                        "ORDER BY message_id") == [(None, "🔥"), ("10", None)]


def test_a_row_stored_without_hash_gets_one_without_counting_as_updated(engine, storage_dir):
    records = chat_and_users() + [msg(i) for i in range(1, 6)]
    TelegramWriter(engine, storage_dir).write(records)
    with engine.begin() as conn:  # as written before the hash existed (migration 0017)
        conn.execute(sa.text("UPDATE telegram_messages SET content_hash = NULL"))
    updated_at = rows(engine, "SELECT message_id, updated_at FROM telegram_messages ORDER BY 1")

    first = TelegramWriter(engine, storage_dir).write(records)
    assert (first.messages_new, first.messages_updated, first.messages_unchanged) == (0, 0, 0)
    assert rows(engine, "SELECT count(*) FROM telegram_messages WHERE content_hash IS NULL") == [(0,)]
    assert rows(engine, "SELECT message_id, updated_at FROM telegram_messages ORDER BY 1") == updated_at
    assert rows(engine, "SELECT count(*) FROM telegram_message_edits") == [(0,)]

    second = TelegramWriter(engine, storage_dir).write(records)
    assert second.messages_unchanged == 5


def test_a_message_seen_from_another_account_records_that_account(engine, storage_dir):
    TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(i, account_id=501) for i in range(1, 4)])
    same = TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(i, account_id=501) for i in range(1, 4)])
    assert same.messages_unchanged == 3

    other = TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(i, account_id=502) for i in range(1, 4)])
    assert (other.messages_unchanged, other.messages_updated) == (0, 0)  # content unchanged, accounts merged
    assert rows(engine, "SELECT DISTINCT account_ids FROM telegram_messages") == [([501, 502],)]
    again = TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(i, account_id=501) for i in range(1, 4)])
    assert again.messages_unchanged == 3


def test_a_file_that_turned_up_is_written_though_the_message_is_the_same(engine, storage_dir, tmp_path):
    photo = tmp_path / "photo.jpg"

    def with_photo(status: str):
        m = msg(1, media_type="photo")
        m.files = [FileRecord(kind="photo", status=status, source_path=str(photo), file_name="photo.jpg")]
        return chat_and_users() + [m]

    TelegramWriter(engine, storage_dir).write(with_photo("missing"))
    assert TelegramWriter(engine, storage_dir).write(with_photo("missing")).messages_unchanged == 1
    photo.write_bytes(b"\xff\xd8 a photo")
    stats = TelegramWriter(engine, storage_dir).write(with_photo("present"))
    assert stats.messages_unchanged == 0
    assert rows(engine, "SELECT status, sha256 IS NOT NULL FROM telegram_files WHERE chat_id = :c", c=CHAT) == [
        ("present", True)]
