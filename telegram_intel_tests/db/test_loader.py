from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from telegram_intel.db.loader import BadRecordError, MissingChatError, TelegramWriter
from telegram_intel.lib.records import ChatRecord, FileRecord, MessageRecord, UserRecord
from telegram_intel_tests.conftest import truncate_all

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
CHAT = -1001234567890


def chat_and_users():
    return [
        ChatRecord(chat_id=CHAT, type="supergroup", title="Design"),
        UserRecord(user_id=11, display_name="Ann Lee"),
        UserRecord(user_id=12, display_name="Bob Ray"),
    ]


def msg(i: int, text: str = None, *, edit: datetime | None = None, sender: int = 11, **kw) -> MessageRecord:
    return MessageRecord(
        chat_id=CHAT, message_id=i, date=T0 + timedelta(minutes=i), sender_id=sender,
        text=text if text is not None else f"message {i}", edit_date=edit, raw={"id": i, "text": text}, **kw,
    )


def rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def test_replay_changes_nothing(engine, storage_dir):
    records = chat_and_users() + [msg(i) for i in range(1, 251)]
    first = TelegramWriter(engine, storage_dir, batch_size=100).write(records)
    assert (first.messages_new, first.messages_updated, first.batches) == (250, 0, 3)
    before = rows(engine, "SELECT chat_id, message_id, updated_at, text FROM telegram_messages ORDER BY message_id")

    again = TelegramWriter(engine, storage_dir, batch_size=100).write(records)
    assert (again.messages_new, again.messages_updated) == (0, 0)
    assert rows(engine, "SELECT chat_id, message_id, updated_at, text FROM telegram_messages ORDER BY message_id") == before
    assert rows(engine, "SELECT count(*) FROM telegram_message_edits")[0][0] == 0


def test_overlapping_export_adds_new_and_applies_edits(engine, storage_dir):
    TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(i) for i in range(1, 11)])
    later = chat_and_users() + [msg(i) for i in range(5, 16)]
    later[3 + 5 - 5] = msg(5, "message 5 (fixed typo)", edit=T0 + timedelta(hours=5))  # message 5 edited
    stats = TelegramWriter(engine, storage_dir).write(later)
    assert (stats.messages_new, stats.messages_updated) == (5, 1)
    assert rows(engine, "SELECT count(*) FROM telegram_messages")[0][0] == 15
    (text, edit_date), = rows(engine, "SELECT text, edit_date FROM telegram_messages WHERE message_id = 5")
    assert text == "message 5 (fixed typo)" and edit_date == T0 + timedelta(hours=5)
    assert rows(engine, "SELECT message_id, text, edit_date FROM telegram_message_edits") == [(5, "message 5", None)]


def test_older_version_never_overwrites_newer_edit(engine, storage_dir):
    edited = msg(1, "new text", edit=T0 + timedelta(days=1))
    TelegramWriter(engine, storage_dir).write(chat_and_users() + [edited])
    stats = TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(1, "old text")])
    assert stats.messages_updated == 0
    assert rows(engine, "SELECT text FROM telegram_messages")[0][0] == "new text"


def test_a_key_twice_in_one_source_commits_in_source_order(engine, storage_dir):
    """Found by fuzzing: a message id repeated in one export starts a new batch, and the writers ran that batch in
    parallel with the earlier one, so the two deadlocked (an import crash) or the earlier version won."""
    for round_ in range(5):  # the race was timing-dependent: a few rounds make it show
        chat = CHAT - round_
        first = [MessageRecord(chat_id=chat, message_id=i, date=T0, text=f"v1 {i}", raw={"v": 1}) for i in range(1, 41)]
        again = [MessageRecord(chat_id=chat, message_id=i, date=T0, text=f"v{v} {i}", raw={"v": v})
                 for v in (2, 3) for i in (range(40, 0, -1) if v == 2 else range(1, 41))]
        records = [ChatRecord(chat_id=chat, type="supergroup", title="t"), *first, *again]
        stats = TelegramWriter(engine, storage_dir, batch_size=1000).write(records)
        assert (stats.batches, stats.messages_new, stats.messages_updated) == (3, 40, 80)
        texts = {t for (t,) in rows(engine, "SELECT text FROM telegram_messages WHERE chat_id = :c", c=chat)}
        assert texts == {f"v3 {i}" for i in range(1, 41)}
        history = rows(engine, "SELECT message_id, text FROM telegram_message_edits WHERE chat_id = :c ORDER BY id",
                       c=chat)
        assert sorted(history) == sorted([(i, f"v1 {i}") for i in range(1, 41)] + [(i, f"v2 {i}") for i in range(1, 41)])


def test_tombstone_survives_reimport(engine, storage_dir):
    TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(1)])
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_messages SET deleted_at = now()"))
    TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(1, "changed", edit=T0 + timedelta(hours=1))])
    (text, deleted), = rows(engine, "SELECT text, deleted_at IS NOT NULL FROM telegram_messages")
    assert deleted and text == "changed"


def test_failure_midway_keeps_committed_batches_and_drops_partial_one(engine, storage_dir):
    def records():
        yield from chat_and_users()
        for i in range(1, 26):
            if i == 24:
                raise ValueError("bad message 24")
            yield msg(i)

    with pytest.raises(ValueError, match="bad message 24"):
        TelegramWriter(engine, storage_dir, batch_size=10).write(records())
    # Batches 1-10 and 11-20 committed; 21-23 were in the unfinished batch.
    assert rows(engine, "SELECT min(message_id), max(message_id), count(*) FROM telegram_messages")[0] == (1, 20, 20)


def test_database_error_rolls_back_whole_batch(engine, storage_dir):
    # A message whose chat was never declared violates the FK: that batch must not land at all.
    good = chat_and_users() + [msg(i) for i in range(1, 6)]
    TelegramWriter(engine, storage_dir).write(good)
    bad = [msg(i) for i in range(6, 9)] + [MessageRecord(chat_id=999, message_id=1, date=T0)]
    with pytest.raises(MissingChatError, match=r"chat\(s\) not stored: \[999\]"):
        TelegramWriter(engine, storage_dir).write(bad)
    assert rows(engine, "SELECT count(*) FROM telegram_messages")[0][0] == 5


def _is_superuser(engine) -> bool:
    return rows(engine, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0]


def test_chat_fk_checked_once_per_batch_by_the_owner(engine, storage_dir):
    if not _is_superuser(engine):
        pytest.skip("the test database's user is not a superuser")
    stats = TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(i) for i in range(1, 4)])
    assert stats.fk_checked_per_batch and stats.as_dict()["chat_fk_check"] == "per_batch"
    # The constraint itself stays: any other writer is checked per row.
    with pytest.raises(sa.exc.IntegrityError, match="foreign key"), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_messages (chat_id, message_id, date) VALUES (999, 1, now())"))


def test_a_trigger_on_messages_keeps_row_triggers_on(engine, storage_dir):
    with engine.begin() as conn:
        conn.execute(sa.text("""
            CREATE FUNCTION ti_test_log() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO ti_test_log_rows VALUES (NEW.message_id); RETURN NEW; END $$"""))
        conn.execute(sa.text("CREATE TABLE ti_test_log_rows (message_id bigint)"))
        conn.execute(sa.text(
            "CREATE TRIGGER ti_test_log AFTER INSERT ON telegram_messages FOR EACH ROW EXECUTE FUNCTION ti_test_log()"
        ))
    try:
        stats = TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(i) for i in range(1, 4)])
        assert not stats.fk_checked_per_batch
        assert rows(engine, "SELECT count(*) FROM ti_test_log_rows")[0][0] == 3
        with pytest.raises(Exception, match="foreign key"):
            TelegramWriter(engine, storage_dir).write([MessageRecord(chat_id=999, message_id=1, date=T0)])
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TRIGGER ti_test_log ON telegram_messages"))
            conn.execute(sa.text("DROP TABLE ti_test_log_rows"))
            conn.execute(sa.text("DROP FUNCTION ti_test_log()"))


def test_role_without_privilege_gets_row_checks_and_a_grant_enables_batch_checks(engine, storage_dir):
    if not _is_superuser(engine):
        pytest.skip("creating a role needs a superuser")
    if int(rows(engine, "SHOW server_version_num")[0][0]) < 150000:
        pytest.skip("GRANT SET ON PARAMETER needs PostgreSQL 15+")
    with engine.begin() as conn:
        conn.execute(sa.text("DROP ROLE IF EXISTS ti_test_writer"))
        conn.execute(sa.text("CREATE ROLE ti_test_writer LOGIN"))
        conn.execute(sa.text("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO ti_test_writer"))
        conn.execute(sa.text("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ti_test_writer"))
    writer_engine = sa.create_engine(engine.url.set(username="ti_test_writer"))
    try:
        stats = TelegramWriter(writer_engine, storage_dir).write(chat_and_users() + [msg(1)])
        assert stats.messages_new == 1 and not stats.fk_checked_per_batch
        with pytest.raises(Exception, match="foreign key"):
            TelegramWriter(writer_engine, storage_dir).write([MessageRecord(chat_id=999, message_id=1, date=T0)])
        with engine.begin() as conn:
            conn.execute(sa.text("GRANT SET ON PARAMETER session_replication_role TO ti_test_writer"))
        stats = TelegramWriter(writer_engine, storage_dir).write(chat_and_users() + [msg(2)])
        assert stats.messages_new == 1 and stats.fk_checked_per_batch
        with pytest.raises(MissingChatError):
            TelegramWriter(writer_engine, storage_dir).write([MessageRecord(chat_id=999, message_id=1, date=T0)])
    finally:
        writer_engine.dispose()
        with engine.begin() as conn:
            conn.execute(sa.text("DROP OWNED BY ti_test_writer"))
            conn.execute(sa.text("DROP ROLE ti_test_writer"))
    assert rows(engine, "SELECT count(*) FROM telegram_messages WHERE chat_id = 999")[0][0] == 0


def test_duplicate_keys_in_one_batch_keep_newest(engine, storage_dir):
    records = chat_and_users() + [msg(1, "v1"), msg(1, "v2", edit=T0 + timedelta(hours=2)), msg(1, "v1 again")]
    stats = TelegramWriter(engine, storage_dir).write(records)
    assert stats.messages_new == 1
    assert rows(engine, "SELECT text FROM telegram_messages")[0][0] == "v2"


def test_media_copied_once_with_sha256_dedup(engine, storage_dir, tmp_path):
    src = tmp_path / "export" / "photos"
    src.mkdir(parents=True)
    (src / "a.jpg").write_bytes(b"\xff\xd8same-bytes")
    (src / "b.jpg").write_bytes(b"\xff\xd8same-bytes")
    records = chat_and_users() + [
        msg(1, media_type="photo", files=[FileRecord("photo", "present", source_path=str(src / "a.jpg"))]),
        msg(2, media_type="photo", files=[FileRecord("photo", "present", source_path=str(src / "b.jpg"))]),
        msg(3, media_type="document", files=[FileRecord("file", "not_included", file_name="big.zip")]),
    ]
    TelegramWriter(engine, storage_dir).write(records)
    got = rows(engine, "SELECT message_id, status, file_path, sha256, file_size FROM telegram_files ORDER BY message_id")
    assert [g[1] for g in got] == ["present", "present", "not_included"]
    assert got[0][2] == got[1][2] and got[0][3] == got[1][3] and got[0][4] == 12
    stored = list((storage_dir / "telegram" / "media" / str(CHAT)).rglob("*.jpg"))
    assert len(stored) == 1 and stored[0].read_bytes() == b"\xff\xd8same-bytes"
    assert got[2][2] is None

    # A later export without the file does not erase what we stored.
    thinner = chat_and_users() + [msg(1, media_type="photo", files=[FileRecord("photo", "not_included")])]
    TelegramWriter(engine, storage_dir).write(thinner)
    assert rows(engine, "SELECT status FROM telegram_files WHERE message_id = 1")[0][0] == "present"


def test_users_first_and_last_seen_follow_messages(engine, storage_dir):
    TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(3), msg(7), msg(5, sender=12)])
    got = dict((r[0], r[1:]) for r in rows(engine, "SELECT user_id, first_seen_at, last_seen_at FROM telegram_users"))
    assert got[11] == (T0 + timedelta(minutes=3), T0 + timedelta(minutes=7))
    assert got[12] == (T0 + timedelta(minutes=5), T0 + timedelta(minutes=5))


def test_nul_characters_are_stripped_not_fatal(engine, storage_dir):
    record = msg(1, "a\x00b")
    record.raw = {"text": "a\x00b"}
    TelegramWriter(engine, storage_dir).write(chat_and_users() + [record])
    (text, raw), = rows(engine, "SELECT text, raw FROM telegram_messages")
    assert text == "ab" and raw == {"text": "ab"}


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("duration_seconds", 2**31, "duration_seconds 2147483648 is out of range"),
        ("grouped_id", 2**64, "grouped_id=18446744073709551616"),
        ("forwarded_from", 5, "forwarded_from=5"),
        ("edit_date", datetime(2024, 3, 2), "edit_date=datetime"),
    ],
)
def test_a_value_its_column_cannot_hold_fails_the_batch_by_name(engine, storage_dir, field, value, named):
    TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(1)])
    bad = msg(3)
    setattr(bad, field, value)
    with pytest.raises(BadRecordError, match=f"message 3 of chat {CHAT}: .*{named}"):
        TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(2), bad])
    assert rows(engine, "SELECT message_id FROM telegram_messages") == [(1,)]
    # the same value on a stored key (staging + upsert path) fails the same way
    again = msg(1, "changed", edit=T0 + timedelta(hours=1))
    setattr(again, field, value)
    with pytest.raises(BadRecordError, match=f"message 1 of chat {CHAT}"):
        TelegramWriter(engine, storage_dir).write(chat_and_users() + [again])
    assert rows(engine, "SELECT text FROM telegram_messages") == [("message 1",)]


def test_concurrent_insert_race_falls_back_to_upsert(engine, storage_dir, monkeypatch):
    """If a key appears between the existence check and the COPY, the batch is redone via the upsert."""
    import telegram_intel.db.loader as loader

    TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(1), msg(2)])
    # Pretend the existence check saw nothing: the direct COPY then hits the unique key.
    monkeypatch.setattr(loader, "_BATCH_START", loader._batch_start_sql("false"))
    stats = TelegramWriter(engine, storage_dir).write(
        chat_and_users() + [msg(1), msg(2, "edited", edit=T0 + timedelta(hours=1)), msg(3)]
    )
    assert (stats.messages_new, stats.messages_updated, stats.edits_recorded) == (1, 1, 1)
    assert rows(engine, "SELECT message_id, text FROM telegram_messages ORDER BY 1") == [
        (1, "message 1"), (2, "edited"), (3, "message 3")
    ]


def test_a_batch_waiting_for_a_writer_holds_its_rows_wire_bytes_and_little_else():
    """A batch keeps each message's row in binary COPY form in one buffer (no per-row objects: orjson's results
    keep a 4 KiB build buffer, a tuple of 30 values costs more than its bytes) and a small tuple per message."""
    import tracemalloc

    from telegram_intel.db import loader

    records = [msg(i, f"text {i} " * 5) for i in range(1, 2001)]
    formatter = loader._RowFormatter()
    tracemalloc.start()
    try:
        batch = loader._Batch()
        for r in records:
            batch.add(formatter, r, TelegramWriter._message_row(r))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    first = bytes(batch.buf[batch.messages[0][-2]:batch.messages[0][-1]])
    assert b'{"id":1,"text":"text 1 text 1 text 1 text 1 text 1 "}' in first
    assert len(batch.messages) == 2000 and held - len(batch.buf) < 2000 * 300, f"{held / 2000:.0f} bytes per row"


# -- forum topics, accounts -----------------------------------------------------------------------------------------
def test_topic_fields_keep_their_newest_version_whatever_the_order(engine, storage_dir):
    from telegram_intel.lib.records import TopicRecord

    t0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
    created = TopicRecord(CHAT, 5, title="Releases", icon_color=7, creator_id=11, date=t0)
    renamed = TopicRecord(CHAT, 5, title="Releases 2024", date=t0 + timedelta(days=1), edited=True)
    new_icon = TopicRecord(CHAT, 5, icon_emoji_id=99, date=t0 + timedelta(days=2), edited=True)
    general = TopicRecord(CHAT, 1, title="General")
    expected = [(1, "General", None, None, None, None, None),
                (5, "Releases 2024", 99, 7, 11, t0, t0 + timedelta(days=2))]
    sql = ("SELECT topic_id, title, icon_emoji_id, icon_color, creator_id, created_date, edited_date"
           " FROM telegram_topics ORDER BY 1")
    for order in ([created, renamed, new_icon, general], [new_icon, renamed, general, created]):  # newest first too
        truncate_all(engine)
        TelegramWriter(engine, storage_dir).write([*chat_and_users(), *order, msg(1)])
        assert rows(engine, sql) == expected
        # a topic makes its chat a forum: its topic-less messages are General's
        assert rows(engine, "SELECT is_forum FROM telegram_chats") == [(True,)]
        assert rows(engine, "SELECT topic_id FROM telegram_messages") == [(1,)]


def test_accounts_that_saw_a_message_only_grow(engine, storage_dir):
    from telegram_intel.lib.records import OwnerRecord

    w = TelegramWriter(engine, storage_dir)
    edited = datetime(2024, 6, 1, tzinfo=timezone.utc)
    w.write([*chat_and_users(), OwnerRecord(user_id=7, account_name="work"), msg(1, "new", edit=edited, account_id=7)])
    # another account's older copy: the newer text stays, the account is added; an unknown account adds nothing
    w.write([*chat_and_users(), OwnerRecord(user_id=9), msg(1, "old", account_id=9), msg(1, "old")])
    assert rows(engine, "SELECT text, account_ids FROM telegram_messages") == [("new", [7, 9])]
    assert rows(engine, "SELECT account_id, name FROM telegram_accounts ORDER BY 1") == [(7, "work"), (9, None)]
    assert rows(engine, "SELECT count(*) FROM telegram_message_edits") == [(0,)]


def test_another_accounts_private_chat_never_overwrites_a_message(engine, storage_dir, caplog):
    # Two of the user's accounts each talk privately to user 500: one chat id, but message ids are per account.
    def private(i, text, account):
        return MessageRecord(chat_id=500, message_id=i, date=T0 + timedelta(minutes=i), sender_id=500, text=text,
                             raw={"id": i, "text": text}, account_id=account)

    chat = ChatRecord(chat_id=500, type="private", title="Pat")
    w = TelegramWriter(engine, storage_dir)
    w.write([chat, private(1, "to the first account", 7)])
    w.write([chat, private(1, "to the second account", 9), private(2, "only the second", 9)])
    assert rows(engine, "SELECT message_id, text, account_ids FROM telegram_messages ORDER BY 1") == [
        (1, "to the first account", [7]), (2, "only the second", [9])]
    assert "numbered per account" in caplog.text and "to the second" not in caplog.text


def test_batches_of_stored_rows_are_smaller(engine, storage_dir):
    """While most of a batch was stored already (staging and the upsert hold it longer), batches end at 3/4 of the
    byte limit; new rows fill whole ones."""
    from telegram_intel.db import loader

    records = chat_and_users() + [msg(i, f"message {i} " + "x" * 200) for i in range(1, 1201)]
    probe = loader._Batch()
    probe.add(loader._RowFormatter(), records[3], TelegramWriter._message_row(records[3]))
    limit = 100 * len(probe.buf)  # about 100 of these rows per batch
    writer = TelegramWriter(engine, storage_dir, batch_bytes=limit, writers=1)
    first = writer.write(records)
    assert first.messages_new == 1200 and first.batches in (12, 13)
    edited = chat_and_users() + [msg(i, f"edited {i} " + "x" * 200) for i in range(1, 1201)]
    again = writer.write(edited)
    assert again.messages_updated == 1200
    # the first batch at the full limit, the rest at 3/4 of it
    assert again.batches >= 1 + (1200 - 100) * 4 // 300
