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
from telegram_intel.lib.media_store import MediaStore
from telegram_intel.lib.records import MessageRecord
from telegram_intel.pipeline.ingest import import_export

REAL = "telegram_2020-01.result.json"  # a full-account export: 50 messages, 19 with media files


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
    # Its 19 messages with media files (not included or missing) too: their files are as they were.
    assert with_media(path) == 19 and built == []
    assert physical(engine) == before
    assert (again.min_date, again.max_date) == (first.min_date, first.max_date)


def test_an_edited_message_in_a_later_export_is_written_and_only_it(engine, storage_dir, fixtures_dir, tmp_path,
                                                                     built):
    path = fixtures_dir / REAL
    import_export(engine, path, storage_dir)
    before = physical(engine)
    # Next month's export, as Telegram Desktop writes it: the same bytes but for one edited message.
    raw = path.read_bytes()
    message = '"edited": "1970-01-01T05:00:00",\n      "from": "Eeeee Eeeeeeeeee",\n      "from_id": 44444444,\n' \
              '      "text": "Видел)"'.encode()
    assert raw.count(message) == 1
    later = tmp_path / "result.json"
    later.write_bytes(raw.replace(message, message.replace(b"1970-01-01T05", b"2030-01-01T00")
                                  .replace('"Видел)"'.encode(), b'"edited later"')))

    built.clear()
    stats = import_export(engine, later, storage_dir)
    assert (stats.messages_updated, stats.edits_recorded, stats.messages_new) == (1, 1, 0)
    assert stats.messages_unchanged == 49 and len(built) == 1
    after = physical(engine)
    changed = [k for k in before if after[k] != before[k]]
    assert len(changed) == 1 and after[changed[0]][3] == "edited later"


def test_another_layout_is_compared_once_then_skipped(engine, storage_dir, fixtures_dir, tmp_path, built):
    """Stored hashes are of the export's bytes (``_Layout``): the same messages laid out otherwise go through the
    server's comparison once, change nothing, and are skipped from then on."""
    path = fixtures_dir / REAL
    import_export(engine, path, storage_dir)
    before = physical(engine)
    other = tmp_path / "result.json"
    other.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False, indent=4),
                     encoding="utf-8")

    built.clear()
    stats = import_export(engine, other, storage_dir)
    assert len(built) == 50 and (stats.messages_new, stats.messages_updated, stats.edits_recorded) == (0, 0, 0)
    after = physical(engine)
    assert {k: v[3:] for k, v in after.items()} == {k: v[3:] for k, v in before.items()}  # same content

    built.clear()
    assert import_export(engine, other, storage_dir).messages_unchanged == 50 and built == []


def test_an_export_on_one_line_is_skipped_by_its_json_text(engine, storage_dir, fixtures_dir, tmp_path, built):
    """Without a layout to split runs by (the whole export on one line), messages are hashed by their JSON text."""
    compact = tmp_path / "result.json"
    compact.write_text(json.dumps(json.loads((fixtures_dir / REAL).read_text(encoding="utf-8")), ensure_ascii=False),
                       encoding="utf-8")
    assert import_export(engine, compact, storage_dir).messages_new == 50
    built.clear()
    assert import_export(engine, compact, storage_dir).messages_unchanged == 50 and built == []


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
    assert again.messages_unchanged == 50 and built == []


def test_another_account_is_not_skipped_it_is_recorded(engine, storage_dir, fixtures_dir, tmp_path, built):
    path = fixtures_dir / "telegram_2021-06_supergroup.result.json"  # a supergroup: one numbering for all accounts
    import_export(engine, path, storage_dir)
    owner = json.loads(path.read_text(encoding="utf-8"))["personal_information"]["user_id"]
    other = tmp_path / "result.json"  # the same export, made by another account
    other.write_bytes(path.read_bytes().replace(b'"user_id": %d' % owner, b'"user_id": %d' % (owner + 1), 1))

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
    assert sorted(tuple(g) for g in gone) == sorted(built)
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


def test_a_forum_whose_newest_messages_are_new_places_them_in_their_topics(engine, storage_dir, fixtures_dir):
    """The stored topic creation before new messages is read again (not skipped with its run): it makes the chat a
    forum, and the new messages land in the topics they reply into."""
    path = fixtures_dir / "hand-written" / "forum_reactions.result.json"
    placed = "SELECT message_id, topic_id, content_hash FROM telegram_messages ORDER BY 1"
    import_export(engine, path, storage_dir)
    with engine.begin() as conn:
        before = conn.execute(sa.text(placed)).all()
        assert len({topic for _, topic, _ in before}) == 3  # General and two topics
        gone = conn.execute(sa.text("DELETE FROM telegram_messages WHERE message_id IN (SELECT message_id "
                                    "FROM telegram_messages ORDER BY message_id DESC LIMIT 2)")).rowcount
    assert gone == 2
    stats = import_export(engine, path, storage_dir)
    assert stats.messages_new == 2
    with engine.connect() as conn:
        assert conn.execute(sa.text(placed)).all() == before


def decoded_elements(monkeypatch) -> list[int]:
    """How many JSON values the export parser's orjson calls decode (a run counts its elements)."""
    from telegram_intel.lib import export_parser

    counts: list[int] = []
    original = export_parser._loads

    def counting(data):
        value = original(data)
        counts.append(len(value) if type(value) is list else 1)
        return value

    monkeypatch.setattr(export_parser, "_loads", counting)
    return counts


def test_an_overlapping_export_decodes_only_what_is_new(engine, storage_dir, tmp_path, monkeypatch, built):
    """A later export of the same chats (most of it stored): stored runs of messages are recognised by their bytes
    and not decoded; the new messages (and media messages, whose files are checked) are."""
    from telegram_intel_tools.sample_data import write_sample_export

    out = tmp_path / "export"
    write_sample_export(out, messages=3000, chats=3, users=8, seed=11, media=True)
    path = out / "result.json"
    import_export(engine, path, storage_dir)
    before = physical(engine)
    media = with_media(path)
    with engine.begin() as conn:  # last month's export: the newest tenth of every chat is not stored yet
        gone = {tuple(k) for k in conn.execute(sa.text(
            "WITH cut AS (SELECT chat_id, percentile_disc(0.9) WITHIN GROUP (ORDER BY message_id) AS last_kept "
            "FROM telegram_messages GROUP BY chat_id) DELETE FROM telegram_messages m USING cut "
            "WHERE m.chat_id = cut.chat_id AND m.message_id > cut.last_kept RETURNING m.chat_id, m.message_id"))}
    new = len(gone)
    assert new > 250

    counts = decoded_elements(monkeypatch)
    built.clear()
    copied: list[Path] = []
    put = MediaStore.put
    monkeypatch.setattr(MediaStore, "put", lambda self, source, chat_id: copied.append(source) or put(self, source,
                                                                                                       chat_id))
    stats = import_export(engine, path, storage_dir)
    assert (stats.messages_new, stats.messages_updated) == (new, 0)
    assert sorted(built) == sorted(gone)  # media messages whose files are there as before are skipped too
    # Media files are copied (read and hashed) for the new messages only.
    with engine.connect() as conn:
        present = conn.execute(sa.text("SELECT chat_id, message_id FROM telegram_files WHERE status = 'present'"))
        new_files = sum(1 for k in present if tuple(k) in gone)
    assert 0 < len(copied) == new_files
    assert stats.messages_unchanged + stats.messages_new + media >= stats.messages_seen >= 3000
    # Decoded: the new messages, the media messages, and per chat at most a run where stored and new ones meet
    # (decoded as one when it is mostly new), besides the dates of the skipped stretches.
    assert sum(counts) <= new + media + 3 * 128, (sum(counts), new, media)
    assert physical(engine).keys() == before.keys()
    assert {k: v[2:] for k, v in physical(engine).items()} == {k: v[2:] for k, v in before.items()}


def test_windows_fetched_ahead_answer_like_the_store(engine, storage_dir, monkeypatch):
    """Windows of stored hashes are fetched ahead as a chat is read in order; answers across window edges, after a
    jump past the window fetched ahead, and for another chat are the store's."""
    from telegram_intel_tests.db.test_loader import CHAT, chat_and_users, msg

    monkeypatch.setattr(loader, "_WINDOW_ROWS", 50)
    TelegramWriter(engine, storage_dir).write(chat_and_users() + [msg(i) for i in range(1, 401) if i % 7])
    with engine.connect() as conn:
        hashes = dict(conn.execute(sa.text("SELECT message_id, content_hash FROM telegram_messages")).all())
    index = StoredMessageIndex(engine, seed=0)
    try:
        assert [index.unchanged(CHAT, None, i, hashes.get(i, 0)) for i in range(1, 200)] == \
            [i in hashes for i in range(1, 200)]
        assert index.windows == 4  # 50 stored ids each: 171 of them below 200
        run = index.stored_hashes(CHAT, None, 200, 230, 27)
        assert run is not None and {hashes[i] % (1 << 64) for i in range(200, 231) if i in hashes} <= run
        assert index.stored_hashes(CHAT, None, 390, 400, 9) is not None  # past the window fetched ahead
        assert [index.unchanged(CHAT, None, i, hashes.get(i, 0)) for i in range(390, 401)] == \
            [i in hashes for i in range(390, 401)]
        assert index.stored_hashes(CHAT + 1, None, 1, 10, 10) == set()  # nothing stored there
    finally:
        index.close()


def test_a_media_file_that_appears_gets_its_message_written(engine, storage_dir, fixtures_dir, tmp_path, built):
    """Whether a message's file is in the export (not in its JSON text) is part of its stored hash: the message
    whose file now is there is written again, with the file; the others are skipped."""
    export = tmp_path / "export"
    export.mkdir()
    path = export / "result.json"
    path.write_bytes((fixtures_dir / REAL).read_bytes())
    import_export(engine, path, storage_dir)
    # -8123123123/4721 names chats/chat_01/group_photo_1.jpg, which the fixture does not have.
    photo = export / "chats" / "chat_01" / "group_photo_1.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8\xff\xe0 a JPEG's first bytes")

    built.clear()
    stats = import_export(engine, path, storage_dir)
    assert built == [(-8123123123, 4721)] and stats.messages_unchanged == 49
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status, file_size FROM telegram_files WHERE message_id = 4721")).one() \
            == ("present", photo.stat().st_size)
    built.clear()
    assert import_export(engine, path, storage_dir).messages_unchanged == 50 and built == []


def spans(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT chat_id, first_id, last_id, count FROM telegram_import_spans ORDER BY chat_id, first_id"))]


@pytest.fixture
def sample_export(tmp_path) -> Path:
    from telegram_intel_tools.sample_data import write_sample_export

    write_sample_export(tmp_path / "export", messages=3000, chats=3, users=8, seed=11, media=False)
    return tmp_path / "export" / "result.json"


@pytest.fixture
def splits(monkeypatch) -> list[int]:
    """How many runs the export parser split into their elements."""
    from telegram_intel.lib import export_parser

    calls: list[int] = []
    original = export_parser._Layout.pieces
    monkeypatch.setattr(export_parser._Layout, "pieces", lambda self, run: calls.append(1) or original(self, run))
    return calls


def test_a_reimport_skips_stored_spans_without_splitting_them(engine, storage_dir, sample_export, splits, built):
    """An import stores its runs of messages as spans (the xxh3 of their bytes); the next import of the same bytes
    skips each run whole: no split, no decoding, no stored hash read, nothing built."""
    first = import_export(engine, sample_export, storage_dir)
    stored = spans(engine)
    assert sum(s[3] for s in stored) >= 0.9 * first.messages_seen
    assert all(s[1] <= s[2] and s[3] >= 1 for s in stored)
    before = physical(engine)

    splits.clear()
    built.clear()
    again = import_export(engine, sample_export, storage_dir)
    assert (again.messages_unchanged, again.messages_new, again.messages_updated) == (again.messages_seen, 0, 0)
    assert built == []
    assert len(splits) <= 3 * 2, splits  # per chat: the run where its array ends (stored as no span)
    assert physical(engine) == before
    assert spans(engine) == stored


def test_deleted_messages_take_their_spans_with_them(engine, storage_dir, sample_export, built):
    """Deleting messages (any statement, e.g. forgetting a person) deletes the spans that meet them: the next
    import reads those runs again and writes the deleted messages back; TRUNCATE deletes every span."""
    import_export(engine, sample_export, storage_dir)
    before = physical(engine)
    stored = spans(engine)
    chat, first, last, _ = stored[len(stored) // 2]
    with engine.begin() as conn:
        gone = {tuple(r) for r in conn.execute(sa.text(
            "DELETE FROM telegram_messages WHERE chat_id = :c AND message_id IN (:a, :b) RETURNING chat_id, message_id"),
            {"c": chat, "a": first, "b": last})}
    assert len(gone) == 2
    assert spans(engine) == [s for s in stored if not (s[0] == chat and s[1] <= last and s[2] >= first)]
    assert len(spans(engine)) == len(stored) - 1

    built.clear()
    stats = import_export(engine, sample_export, storage_dir)
    assert (stats.messages_new, stats.messages_updated) == (2, 0)
    assert set(built) == gone
    assert {k: v[2:] for k, v in physical(engine).items()} == {k: v[2:] for k, v in before.items()}
    assert spans(engine) == stored  # the run read again is a span again

    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE telegram_messages CASCADE"))
    assert spans(engine) == []


def test_a_message_written_over_takes_its_spans_with_it(engine, storage_dir, sample_export, built):
    """The writer deletes the spans of the messages it writes over (another source's newer version): the next
    import compares that run on the server again; the other spans still skip."""
    import dataclasses

    import_export(engine, sample_export, storage_dir)
    stored = spans(engine)
    chat, first, last, _ = stored[len(stored) // 2]
    [original] = [r for r in iter_export(sample_export) if isinstance(r, MessageRecord)
                  and (r.chat_id, r.message_id) == (chat, first)]
    edited = dataclasses.replace(original, text="edited live", edit_date=original.date.replace(year=2099))
    stats = TelegramWriter(engine, storage_dir).write([edited])
    assert stats.messages_updated == 1
    assert spans(engine) == [s for s in stored if (s[0], s[1]) != (chat, first)]

    built.clear()
    again = import_export(engine, sample_export, storage_dir)
    assert (again.messages_updated, again.messages_new) == (0, 0)  # the live version is newer: kept
    assert built and all(k[0] == chat and first <= k[1] <= last for k in built)


def test_a_span_is_stored_only_with_all_of_its_run(engine, storage_dir):
    """A span commits with the last of its run's messages; a batch that had to end inside a run (a run whose span
    is far off) drops that run's span, so a span never claims messages of a batch that may not commit."""
    from telegram_intel.lib.records import StoredSpan
    from telegram_intel_tests.db.test_loader import CHAT, chat_and_users, msg

    def span(lo: int, hi: int) -> StoredSpan:
        return StoredSpan(CHAT, None, lo, hi, hi - lo + 1, 100 * (hi - lo + 1), lo, 7)

    def run(lo: int, hi: int) -> list:
        return [msg(i) for i in range(lo, hi + 1)] + [span(lo, hi)]

    # Batches of 10 messages wait up to 12 for their run's end: 6..30 is cut twice (its span is dropped), 31..37
    # fills the batch after its remnant (27..30) and ends it with its span, 38..40 goes with the last batch.
    batches: list[int] = []
    TelegramWriter(engine, storage_dir, batch_size=10, on_batch=lambda st: batches.append(st.messages_new)).write(
        chat_and_users() + run(1, 5) + run(6, 30) + run(31, 37) + run(38, 40))
    assert spans(engine) == [(CHAT, 1, 5, 5), (CHAT, 31, 37, 7), (CHAT, 38, 40, 3)]
    assert sorted(b - a for a, b in zip([0] + batches, batches)) == [3, 11, 13, 13]  # in whatever order they commit
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_messages")).scalar() == 40


def test_runs_with_media_files_are_skipped_whole_while_their_files_stay(engine, storage_dir, tmp_path, splits,
                                                                          built):
    """A run whose messages have files in the export is a span too, its files' state on disk in its digest: the
    next import skips it whole while the files are as they were; a file gone since sends its run back to be read,
    and only its message is written again."""
    from telegram_intel_tools.sample_data import write_sample_export

    write_sample_export(tmp_path / "export", messages=3000, chats=3, users=8, seed=11, media=True)
    path = tmp_path / "export" / "result.json"
    first = import_export(engine, path, storage_dir)
    with engine.connect() as conn:
        present = conn.execute(sa.text(
            "SELECT f.chat_id, f.message_id, f.file_name FROM telegram_files f WHERE f.status = 'present' "
            "ORDER BY f.chat_id, f.message_id")).all()
    assert len(present) > 20
    assert sum(s[3] for s in spans(engine)) >= 0.9 * first.messages_seen

    splits.clear()
    built.clear()
    again = import_export(engine, path, storage_dir)
    assert (again.messages_unchanged, again.messages_new, again.messages_updated) == (again.messages_seen, 0, 0)
    assert built == [] and len(splits) <= 3 * 2

    chat, message, name = present[len(present) // 2]
    [gone] = [f for f in (tmp_path / "export").rglob(name)]
    gone.unlink()
    built.clear()
    later = import_export(engine, path, storage_dir)
    assert built == [(chat, message)] and later.messages_new == 0  # (the media store keeps its copy)
    built.clear()
    splits.clear()
    assert import_export(engine, path, storage_dir).messages_unchanged == first.messages_seen
    assert built == [] and len(splits) <= 3 * 2  # its run is a span again, with the file's new state
