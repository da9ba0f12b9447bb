from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from telegram_intel.lib.export_parser import iter_export
from telegram_intel.lib.records import MessageRecord, TelegramDataError
from telegram_intel.pipeline.ingest import import_export

FIXTURE_NAMES = [
    "telegram_2020-01.result.json",
    "telegram_2021-06_supergroup.result.json",
    "telegram_2023-01.result.json",
    "telegram_2023-10_audio-video.result.json",
    "telegram_2024-01_inline-bot-buttons.result.json",
    "telegram_2024-05_boosts_file-name_etc.result.json",
    "telegram_2025-12.result.json",
]


def fixture_messages(path: Path) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    chats = data.get("chats", {}).get("list", []) + data.get("left_chats", {}).get("list", [])
    return [m for c in chats for m in c.get("messages", []) if m.get("type") != "unsupported"]


def snapshot(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {
            table: conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1, 2")).all()
            for table in ("telegram_chats", "telegram_users", "telegram_messages", "telegram_files",
                          "telegram_message_edits")
        }


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_imports_exactly_and_reimport_changes_nothing(name, engine, storage_dir, fixtures_dir):
    path = fixtures_dir / name
    source = fixture_messages(path)
    stats = import_export(engine, path, storage_dir)
    assert stats.messages_seen == len(source)
    assert stats.messages_new == len(source)

    with engine.connect() as conn:
        total, service = conn.execute(
            sa.text("SELECT count(*), count(*) FILTER (WHERE kind = 'service') FROM telegram_messages")
        ).one()
        replies = conn.execute(sa.text("SELECT count(*) FROM telegram_messages WHERE reply_to_message_id IS NOT NULL "
                                       "AND kind = 'message'")).scalar_one()
        forwards = conn.execute(sa.text("SELECT count(*) FROM telegram_messages WHERE forwarded_from IS NOT NULL")).scalar_one()
        edited = conn.execute(sa.text("SELECT count(*) FROM telegram_messages WHERE edit_date IS NOT NULL")).scalar_one()
        with_media = conn.execute(sa.text("SELECT count(*) FROM telegram_messages WHERE media_type IS NOT NULL")).scalar_one()
        no_sender = conn.execute(sa.text(
            "SELECT count(*) FROM telegram_messages WHERE sender_id IS NULL AND raw->>'from_id' IS NOT NULL"
        )).scalar_one()
    assert total == len(source)
    assert service == sum(1 for m in source if m["type"] == "service")
    assert replies == sum(1 for m in source if m["type"] == "message" and "reply_to_message_id" in m)
    assert forwards == sum(1 for m in source if "forwarded_from" in m)
    assert edited == sum(1 for m in source if "edited" in m and not str(m["edited"]).startswith("1970"))
    assert with_media == sum(
        1 for m in source
        if m["type"] == "message" and any(k in m for k in ("photo", "file", "media_type", "poll", "contact_information",
                                                            "location_information", "sticker_emoji", "game_title",
                                                            "invoice_information", "place_name", "dice", "todo_list",
                                                            "giveaway_information"))
    )
    assert no_sender == 0, "every message with a from_id keeps its sender"

    before = snapshot(engine)
    again = import_export(engine, path, storage_dir)
    assert (again.messages_new, again.messages_updated, again.edits_recorded) == (0, 0, 0)
    assert snapshot(engine) == before, "a second import changed rows"


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_stored_columns_equal_the_parsed_records(name, engine, storage_dir, fixtures_dir):
    """Every column the writer fills (JSON, timestamps, ids, text) reads back as the parser produced it."""
    path = fixtures_dir / name
    import_export(engine, path, storage_dir)
    records = {(r.chat_id, r.message_id): r for r in iter_export(path) if isinstance(r, MessageRecord)}
    with engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT chat_id, message_id, kind, date, edit_date, sender_id, sender_name, text, entities, "
            "reply_to_message_id, reply_to_peer_id, forwarded_from, forwarded_from_id, saved_from, via_bot, "
            "media_type, mime_type, duration_seconds, action, actor_id, grouped_id, reactions, inline_buttons, "
            "raw::text FROM telegram_messages"
        )).all()
    assert len(stored) == len(records)
    for row in stored:
        m = records[(row.chat_id, row.message_id)]
        assert json.loads(row.raw) == m.raw
        assert (row.entities, row.reactions, row.inline_buttons) == (m.entities, m.reactions, m.inline_buttons)
        assert (row.date, row.edit_date) == (m.date, m.edit_date)
        assert row[2:8] == (m.kind, m.date, m.edit_date, m.sender_id, m.sender_name, m.text)
        assert row[9:21] == (
            m.reply_to_message_id, m.reply_to_peer_id, m.forwarded_from, m.forwarded_from_id, m.saved_from,
            m.via_bot, m.media_type, m.mime_type, m.duration_seconds, m.action, m.actor_id, m.grouped_id,
        )


def test_all_fixtures_together_then_each_again(engine, storage_dir, fixtures_dir):
    expected = 0
    for name in FIXTURE_NAMES:
        import_export(engine, fixtures_dir / name, storage_dir)
        expected += len(fixture_messages(fixtures_dir / name))
    before = snapshot(engine)
    for name in FIXTURE_NAMES:
        again = import_export(engine, fixtures_dir / name, storage_dir)
        assert again.messages_new == 0
    after = snapshot(engine)
    # Several fixtures reuse the same dummy chat/message ids with different attributes (file status, titles):
    # for those the last import wins. Message rows never move backwards: no text/edit change on a replay.
    assert after["telegram_messages"] == before["telegram_messages"]
    assert after["telegram_message_edits"] == before["telegram_message_edits"]
    assert len(after["telegram_users"]) == len(before["telegram_users"])
    # The same person appears in several exports: one row per user id.
    with engine.connect() as conn:
        dupes = conn.execute(sa.text("SELECT count(*) - count(DISTINCT user_id) FROM telegram_users")).scalar_one()
        owners = conn.execute(sa.text("SELECT count(*) FROM telegram_users WHERE is_owner")).scalar_one()
    assert dupes == 0 and owners >= 1


def test_specific_rows_preserved_2020(engine, storage_dir, fixtures_dir):
    path = fixtures_dir / "telegram_2020-01.result.json"
    source = fixture_messages(path)
    import_export(engine, path, storage_dir)
    with engine.connect() as conn:
        got = {
            (r.message_id, r.kind): r
            for r in conn.execute(sa.text(
                "SELECT message_id, kind, sender_name, text, reply_to_message_id, forwarded_from, via_bot, media_type,"
                " action, edit_date FROM telegram_messages"
            ))
        }
    for m in source:
        row = got[(m["id"], m["type"] if m["type"] == "service" else "message")]
        if m["type"] == "message":
            assert row.sender_name == m.get("from")
            if "reply_to_message_id" in m:
                assert row.reply_to_message_id == m["reply_to_message_id"]
            if m.get("forwarded_from"):
                assert row.forwarded_from == m["forwarded_from"]
            if "via_bot" in m:
                assert row.via_bot == m["via_bot"]
            if isinstance(m.get("text"), str):
                assert row.text == m["text"]
        else:
            assert row.action == m["action"]
        assert row.edit_date is None or not str(m.get("edited", "")).startswith("1970")
    media = {r.media_type for r in got.values() if r.media_type}
    assert {"sticker", "voice", "video_note", "poll", "contact", "location"} <= media


def test_export_media_files_copied_with_dedup(engine, storage_dir, tmp_path):
    from telegram_intel_tools.sample_data import write_sample_export

    info = write_sample_export(tmp_path / "export", messages=1500, seed=3)
    import_export(engine, info.result_json, storage_dir)
    with engine.connect() as conn:
        present, not_included, distinct_sha, distinct_paths = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE status = 'present'), count(*) FILTER (WHERE status = 'not_included'),"
            " count(DISTINCT sha256), count(DISTINCT file_path) FROM telegram_files"
        )).one()
        paths = conn.execute(sa.text("SELECT DISTINCT chat_id, file_path FROM telegram_files WHERE status = 'present'")).all()
    assert present > 0 and not_included > 0
    assert distinct_paths <= distinct_sha * len({c for c, _ in paths})  # one stored copy per chat and content
    for chat_id, rel in paths:
        stored = storage_dir / rel
        assert stored.is_file() and rel.startswith(f"telegram/media/{chat_id}/")
    files_on_disk = [p for p in (storage_dir / "telegram" / "media").rglob("*") if p.is_file()]
    assert len(files_on_disk) == len(paths)


def test_bad_input_names_file_and_keeps_committed_data(engine, storage_dir, fixtures_dir, tmp_path):
    good = fixtures_dir / "telegram_2023-01.result.json"
    import_export(engine, good, storage_dir)
    before = snapshot(engine)

    truncated = tmp_path / "truncated.json"
    truncated.write_bytes((fixtures_dir / "telegram_2020-01.result.json").read_bytes()[:20000])
    with pytest.raises(TelegramDataError) as err:
        import_export(engine, truncated, storage_dir, batch_size=5)
    assert "truncated.json" in str(err.value)

    not_export = tmp_path / "other.json"
    not_export.write_text('{"hello": [1, 2, 3]}')
    with pytest.raises(TelegramDataError, match="other.json.*not a Telegram export"):
        import_export(engine, not_export, storage_dir)

    bad_shape = tmp_path / "bad_shape.json"
    bad_shape.write_text(json.dumps({"name": "x", "type": "private_group", "id": 5, "messages": [
        {"id": 1, "type": "message", "date": "2024-01-01T00:00:00", "text": "ok"},
        {"id": "two", "type": "message", "date": "2024-01-01T00:00:00", "text": "bad id"},
    ]}))
    with pytest.raises(TelegramDataError) as err:
        import_export(engine, bad_shape, storage_dir)
    assert "bad_shape.json" in str(err.value) and "messages" in str(err.value)

    after = snapshot(engine)
    # Committed data from the good import is untouched; at most whole committed batches of the bad files were added.
    # (users/chats seen again in those batches may gain first/last-seen dates; messages never change.)
    for table in ("telegram_messages", "telegram_files", "telegram_message_edits"):
        assert all(row in after[table] for row in before[table]), table
    with engine.connect() as conn:
        runs = conn.execute(sa.text("SELECT source, status, error FROM telegram_import_runs ORDER BY id")).all()
    assert [r.status for r in runs] == ["success", "failed", "failed", "failed"]
    assert all(r.error for r in runs[1:])


def _variant(fixtures_dir: Path, tmp_path: Path, change, name: str = "result.json") -> Path:
    """The 2020-01 export with ``change(doc)`` applied (its first chat holds photos, forwards and via_bot)."""
    doc = json.loads((fixtures_dir / "telegram_2020-01.result.json").read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def test_nul_in_names_forwards_and_bots_imports_without_it(engine, storage_dir, fixtures_dir, tmp_path):
    # Found by fuzzing: PostgreSQL text cannot hold NUL, so COPY rejected such an export every time.
    def add_nul(doc):
        chat = doc["chats"]["list"][0]
        chat["name"] = "ppp\x00ppp"
        by_id = {m["id"]: m for m in chat["messages"]}
        by_id[10355]["via_bot"] = "@bot\x00name"
        for m in chat["messages"]:  # every message of that sender: the user row takes the name of the first
            if m.get("from_id") == by_id[10355]["from_id"]:
                m["from"] = "Ann\x00 Lee"
        by_id[27100]["forwarded_from"] = "Chan\x00nel"
        by_id[27100]["saved_from"] = "Sa\x00ved"

    import_export(engine, _variant(fixtures_dir, tmp_path, add_nul), storage_dir)
    with engine.connect() as conn:
        title = conn.execute(sa.text("SELECT title FROM telegram_chats WHERE title LIKE 'ppp%'")).scalar_one()
        rows = dict(conn.execute(sa.text(
            "SELECT message_id, concat_ws('|', sender_name, via_bot, forwarded_from, saved_from) FROM telegram_messages "
            "WHERE message_id IN (10355, 27100)")).all())
        names = conn.execute(sa.text("SELECT count(*) FROM telegram_users WHERE display_name = 'Ann Lee'")).scalar_one()
    assert title == "pppppp" and rows == {10355: "Ann Lee|@botname", 27100: rows[27100]}
    assert rows[27100].endswith("|Channel|Saved") and names == 1


def test_unknown_field_nested_past_orjson_is_stored_in_raw(engine, storage_dir, fixtures_dir, tmp_path):
    # Found by fuzzing: orjson writes at most 255 levels, so storing `raw` failed for a deeper unknown field.
    deep: object = "leaf"
    for _ in range(300):
        deep = {"k": deep}

    def add_deep(doc):
        doc["chats"]["list"][0]["messages"][0]["unknown_field"] = deep

    import_export(engine, _variant(fixtures_dir, tmp_path, add_deep), storage_dir)
    with engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT raw::text FROM telegram_messages WHERE raw::jsonb ? 'unknown_field'")).one()
    assert json.loads(raw[0])["unknown_field"] == deep


def test_same_date_reimport_that_drops_a_photo_keeps_the_previous_version(engine, storage_dir, fixtures_dir, tmp_path):
    """An export of the same date without the photo replaces the row (last import wins, as for text), and the
    previous version of every modelled field is kept in the history, not only the text."""
    import_export(engine, fixtures_dir / "telegram_2020-01.result.json", storage_dir)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT media_type, has_media, raw::text, text FROM telegram_messages "
                                      "WHERE message_id = 4725")).one()

    def drop_photo(doc):
        m = next(m for m in doc["chats"]["list"][0]["messages"] if m["id"] == 4725)
        for key in ("photo", "width", "height", "photo_file_size"):
            m.pop(key, None)

    stats = import_export(engine, _variant(fixtures_dir, tmp_path, drop_photo), storage_dir)
    assert (stats.messages_updated, stats.edits_recorded) == (1, 1)
    with engine.connect() as conn:
        now = conn.execute(sa.text("SELECT media_type, has_media FROM telegram_messages WHERE message_id = 4725")).one()
        history = conn.execute(sa.text("SELECT message_id, text, previous FROM telegram_message_edits")).all()
        files = conn.execute(sa.text("SELECT kind FROM telegram_files WHERE message_id = 4725")).scalars().all()
    assert before.media_type == "photo" and tuple(now) == (None, False)
    ((mid, text, previous),) = history
    assert mid == 4725 and text == before.text
    assert previous["media_type"] == "photo" and previous["has_media"] is True
    assert previous["raw"] == json.loads(before.raw) and "photo" in previous["raw"]
    assert set(previous) == {"media_type", "has_media", "raw"}  # only what changed
    assert files == ["photo"]  # a file row is never removed by a thinner export

    # the same thinner export again is a replay: no new version
    again = import_export(engine, _variant(fixtures_dir, tmp_path, drop_photo), storage_dir)
    assert (again.messages_updated, again.edits_recorded) == (0, 0)
