"""Re-importing an export: messages stored exactly as the import would write them are counted before they are
built (``StoredMessageIndex``); anything that would change what is stored still goes through the writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from telegram_intel.db import loader
from telegram_intel.db.loader import StoredMessageIndex, TelegramWriter
from telegram_intel.lib.export_parser import iter_export
from telegram_intel.lib.records import MessageRecord
from telegram_intel.pipeline.ingest import import_export

REAL = "telegram_2020-01.result.json"  # a full-account export: 50 messages, 19 with media files


MEDIA = 19


def physical(engine) -> dict:
    """Each stored message's physical version (any write makes a new one), hash and text."""
    with engine.connect() as conn:
        return {(r[0], r[1]): r[2:] for r in conn.execute(sa.text(
            "SELECT chat_id, message_id, xmin::text, ctid::text, content_hash, text, account_ids "
            "FROM telegram_messages"))}


def with_media(path: Path) -> int:
    """Messages with media files (their files' state is checked on every import)."""
    return sum(1 for r in iter_export(path) if isinstance(r, MessageRecord) and r.files)


@pytest.fixture
def built(monkeypatch) -> list:
    """The messages the writer built a row for (those not skipped at the source)."""
    calls: list = []
    original = TelegramWriter._message_row

    def spy(m):
        calls.append((m.chat_id, m.message_id))
        return original(m)

    monkeypatch.setattr(TelegramWriter, "_message_row", staticmethod(spy))
    return calls


def test_a_reimport_counts_unchanged_messages_without_building_them(engine, storage_dir, fixtures_dir, built):
    path = fixtures_dir / REAL
    first = import_export(engine, path, storage_dir)
    assert first.messages_new == first.messages_seen == 50 and len(built) == 50
    before = physical(engine)

    built.clear()
    again = import_export(engine, path, storage_dir)
    assert (again.messages_seen, again.messages_unchanged, again.messages_new, again.messages_updated) == (50, 50, 0, 0)
    # Only messages with media are built (their files' state is checked); the server finds them unchanged too.
    assert len(built) == with_media(path) == MEDIA
    assert physical(engine) == before
    assert (again.min_date, again.max_date) == (first.min_date, first.max_date)


def test_an_edited_message_in_a_later_export_is_written_and_only_it(engine, storage_dir, fixtures_dir, tmp_path,
                                                                     built):
    path = fixtures_dir / REAL
    import_export(engine, path, storage_dir)
    before = physical(engine)
    data = json.loads(path.read_text(encoding="utf-8"))
    chat = data["chats"]["list"][0]
    edited = next(m for m in chat["messages"] if m["type"] == "message" and isinstance(m["text"], str)
                  and m["text"] and "photo" not in m and "file" not in m)
    edited["text"] = "edited later"
    if "text_entities" in edited:
        edited["text_entities"] = [{"type": "plain", "text": "edited later"}]
    edited["edited"], edited["edited_unixtime"] = "2030-01-01T00:00:00", "1893456000"
    later = tmp_path / "result.json"
    later.write_text(json.dumps(data, ensure_ascii=False, indent=4), encoding="utf-8")  # another layout too

    built.clear()
    stats = import_export(engine, later, storage_dir)
    assert (stats.messages_updated, stats.edits_recorded, stats.messages_new) == (1, 1, 0)
    assert stats.messages_unchanged == 49 and len(built) == MEDIA + 1
    after = physical(engine)
    changed = [k for k in before if after[k] != before[k]]
    assert len(changed) == 1 and after[changed[0]][3] == "edited later"


def test_new_parsing_code_compares_once_then_skips_again(engine, storage_dir, fixtures_dir, monkeypatch, built):
    path = fixtures_dir / REAL
    import_export(engine, path, storage_dir)
    before = physical(engine)
    # What an upgrade of the parser or writer does to the seed.
    monkeypatch.setattr(loader, "derivation_seed", lambda: 12345)

    built.clear()
    stats = import_export(engine, path, storage_dir)
    assert len(built) == 50  # nothing matched: every message went to the server's comparison
    assert (stats.messages_new, stats.messages_updated, stats.edits_recorded) == (0, 0, 0)
    after = physical(engine)
    assert {k: v[3:] for k, v in after.items()} == {k: v[3:] for k, v in before.items()}  # same content
    assert all(after[k][2] != before[k][2] for k in before)  # new hashes stored

    built.clear()
    again = import_export(engine, path, storage_dir)
    assert again.messages_unchanged == 50 and len(built) == MEDIA


def test_another_account_is_not_skipped_it_is_recorded(engine, storage_dir, fixtures_dir, tmp_path, built):
    path = fixtures_dir / "telegram_2021-06_supergroup.result.json"  # a supergroup: one numbering for all accounts
    import_export(engine, path, storage_dir)
    data = json.loads(path.read_text(encoding="utf-8"))
    owner = data["personal_information"]["user_id"]
    data["personal_information"]["user_id"] = owner + 1
    other = tmp_path / "result.json"
    other.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    built.clear()
    stats = import_export(engine, other, storage_dir)
    assert len(built) == stats.messages_seen == 4 and stats.messages_new == 0
    with engine.connect() as conn:
        accounts = conn.execute(sa.text("SELECT DISTINCT account_ids FROM telegram_messages")).all()
    assert accounts == [([owner, owner + 1],)]
    built.clear()
    for export in (other, path):  # now stored as seen by both
        assert import_export(engine, export, storage_dir).messages_unchanged == 4 and built == []


def test_deleted_rows_come_back_and_the_rest_is_skipped(engine, storage_dir, fixtures_dir, built):
    path = fixtures_dir / REAL
    import_export(engine, path, storage_dir)
    before = physical(engine)
    with engine.begin() as conn:
        gone = conn.execute(sa.text(
            "DELETE FROM telegram_messages WHERE (chat_id, message_id) IN (SELECT chat_id, message_id "
            "FROM telegram_messages WHERE NOT has_media ORDER BY date DESC LIMIT 5) RETURNING chat_id, message_id")).all()
    built.clear()
    stats = import_export(engine, path, storage_dir)
    assert (stats.messages_new, stats.messages_unchanged) == (5, 45)
    assert {tuple(g) for g in gone} <= set(built) and len(built) == MEDIA + 5
    after = physical(engine)
    assert {k: v[3:] for k, v in after.items()} == {k: v[3:] for k, v in before.items()}


def test_a_chat_asked_out_of_order_stops_being_looked_up(engine, storage_dir):
    from telegram_intel_tests.db.test_loader import CHAT, chat_and_users, msg

    records = chat_and_users() + [msg(i) for i in range(1, 401)]
    TelegramWriter(engine, storage_dir).write(records)
    with engine.connect() as conn:
        hashes = dict(conn.execute(sa.text("SELECT message_id, content_hash FROM telegram_messages")).all())
    index = StoredMessageIndex(engine, seed=0)
    try:
        assert all(index.unchanged(CHAT, None, i, hashes[i]) for i in range(1, 401))  # in order: one window
        assert index.windows == 1
        assert not index.unchanged(CHAT, None, 5, hashes[5] + 1)
        assert not index.unchanged(CHAT, 999, 1, hashes[1])  # another account saw none of them
    finally:
        index.close()
    newest_first = StoredMessageIndex(engine, seed=0)
    try:
        # A window per message at first (each starts at the id asked), then no lookups at all.
        answers = [newest_first.unchanged(CHAT, None, i, hashes[i]) for i in range(400, 0, -1)]
        assert answers[:5] == [True] * 5 and not any(answers[20:])
        assert newest_first.windows <= 10
    finally:
        newest_first.close()


TOPICS = ("SELECT chat_id, topic_id, title, icon_emoji_id, icon_color, creator_id, created_date, edited_date "
          "FROM telegram_topics ORDER BY 1, 2")


def test_a_forum_reimport_keeps_its_topics_and_rows(engine, storage_dir, fixtures_dir):
    path = fixtures_dir / "hand-written" / "forum_reactions.result.json"
    import_export(engine, path, storage_dir)
    with engine.connect() as conn:
        topics = conn.execute(sa.text(TOPICS)).all()
    before = physical(engine)
    again = import_export(engine, path, storage_dir)
    assert (again.messages_new, again.messages_updated) == (0, 0)
    assert again.messages_unchanged == again.messages_seen > 0
    assert physical(engine) == before
    with engine.connect() as conn:
        assert conn.execute(sa.text(TOPICS)).all() == topics
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_messages WHERE topic_id IS NULL")).scalar() == 0
