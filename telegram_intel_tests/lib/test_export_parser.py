"""Tests for the Telegram Desktop export parser, against real exports (2020-2025 formats).

Expected values are read from the fixtures with ``json.load`` or checked by hand
against them; the parser itself never computes its own expectations.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest

from telegram_intel.lib import export_parser as ep
from telegram_intel.lib.export_parser import detect_export_kind, iter_export
from telegram_intel.lib.records import (
    MEDIA_TYPES,
    ChatRecord,
    MessageRecord,
    OwnerRecord,
    StoredSpan,
    TelegramDataError,
    UnchangedMessages,
    UserRecord,
    mark_channel_id,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram-desktop-exports"
ALL = sorted(FIXTURES.glob("*.result.json"))
UTC = timezone.utc


def fixture(version: str) -> Path:
    return FIXTURES / f"telegram_{version}.result.json"


def chats_of(records: list) -> list[tuple[ChatRecord, list[MessageRecord]]]:
    """Group records per chat, checking the order guarantees on the way."""
    out: list[tuple[ChatRecord, list[MessageRecord]]] = []
    users: set[int] = set()
    for r in records:
        if isinstance(r, ChatRecord):
            out.append((r, []))
            users = set()
        elif isinstance(r, OwnerRecord):
            assert not out, "the owner comes before the chats"
        elif isinstance(r, UserRecord):
            assert out, "a UserRecord outside of a chat"
            assert r.user_id not in users, "one UserRecord per user and chat"
            users.add(r.user_id)
        else:
            assert isinstance(r, MessageRecord)
            chat = out[-1][0]
            assert r.chat_id == chat.chat_id
            if r.sender_id is not None and r.sender_id > 0:
                assert r.sender_id in users, f"no UserRecord before message {r.message_id}"
            out[-1][1].append(r)
    return out


def messages(path) -> dict[int, MessageRecord]:
    return {r.message_id: r for r in iter_export(path) if isinstance(r, MessageRecord)}


def write_export(tmp_path: Path, chats: list[dict], *, left: list[dict] | None = None, **top) -> Path:
    doc = {"about": "test", **top, "chats": {"about": "", "list": chats}}
    if left is not None:
        doc["left_chats"] = {"about": "", "list": left}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def msg(mid: int, **fields) -> dict:
    return {"id": mid, "type": "message", "date": "2024-01-01T10:00:00", "date_unixtime": "1704103200",
            "from": "Ann", "from_id": "user42", "text": f"m{mid}", **fields}


# --- every fixture ---------------------------------------------------------------


def test_fixtures_are_there():
    assert len(ALL) == 7, ALL


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name.split(".")[0])
def test_every_message_of_every_chat(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    expected = [(c, False) for c in data.get("chats", {}).get("list", [])]
    expected += [(c, True) for c in data.get("left_chats", {}).get("list", [])]

    records = list(iter_export(path))
    got = chats_of(records)

    assert detect_export_kind(path) == "full_account"
    assert [c.title for c, _ in got] == [c.get("name") for c, _ in expected]
    assert [c.is_left for c, _ in got] == [left for _, left in expected]
    for (chat, msgs), (want, _) in zip(got, expected):
        assert [m.message_id for m in msgs] == [m["id"] for m in want["messages"]]
        assert [m.kind for m in msgs] == ["service" if m["type"] == "service" else "message" for m in want["messages"]]
        assert [m.raw for m in msgs] == want["messages"]  # nothing lost, JSON types only
        json.dumps([m.raw for m in msgs])
        for m in msgs:
            assert m.date.tzinfo is not None
            assert m.media_type is None or m.media_type in MEDIA_TYPES
            assert all(f.status in ("present", "missing", "not_included") for f in m.files)
    owner = records[0]
    assert isinstance(owner, OwnerRecord) and owner.is_owner
    assert owner.user_id == data["personal_information"]["user_id"]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name.split(".")[0])
def test_layout_and_chunking_do_not_matter(path, tmp_path, monkeypatch):
    """Minified JSON, and tiny read/decode windows, give exactly the same records."""
    reference = list(iter_export(path))
    minified = tmp_path / "result.json"
    minified.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False), encoding="utf-8")
    assert list(iter_export(minified)) == reference
    per_line = tmp_path / "per_line.json"
    per_line.write_text(_one_message_per_line(json.loads(path.read_text(encoding="utf-8"))), encoding="utf-8")
    assert list(iter_export(per_line)) == reference

    monkeypatch.setattr(ep, "_CHUNK", 97)
    monkeypatch.setattr(ep, "_AHEAD", 61)
    monkeypatch.setattr(ep, "_WINDOW", 700)
    assert list(iter_export(path)) == reference
    assert list(iter_export(minified)) == reference
    assert list(iter_export(per_line)) == reference


def _one_message_per_line(data: dict) -> str:
    """The export with each message compact on a line of its own (as some tools write JSON arrays)."""
    def messages(msgs: list) -> str:
        return "[\n" + ",\n".join(json.dumps(m, ensure_ascii=False) for m in msgs) + "\n]"

    marks, chats = {}, data.get("chats", {}).get("list", [data]) + data.get("left_chats", {}).get("list", [])
    for i, chat in enumerate(chats):
        marks[f"@@{i}@@"] = messages(chat["messages"])
        chat["messages"] = f"@@{i}@@"
    text = json.dumps(data, ensure_ascii=False, indent=1)
    for mark, msgs in marks.items():
        text = text.replace(json.dumps(mark), msgs)
    return text


class _Store:
    """``StoredMessages`` over a dict of what a parse reported: {(chat, message id): content hash}."""

    seed = 5

    def __init__(self, hashes: dict[tuple[int, int], int], spans: list[StoredSpan] = ()) -> None:
        self.hashes = hashes
        self.spans = spans
        self.hits: list[StoredSpan] = []

    def unchanged(self, chat_id, account_id, message_id, content_hash) -> bool:
        return self.hashes.get((chat_id, message_id)) == content_hash

    def stored_hashes(self, chat_id, account_id, first_id, last_id, count) -> set[int]:
        return {h % (1 << 64) for (c, _), h in self.hashes.items() if c == chat_id}

    def stored_spans(self, chat_id, account_id, first_id) -> list:
        """Those whose messages are all stored (the store keeps no other, see migration 0018)."""
        out = []
        for span in self.spans:
            if (span.chat_id, span.first_id) == (chat_id, first_id):
                held = [m for (c, m) in self.hashes if c == chat_id and first_id <= m <= span.last_id]
                if len(held) == span.count:
                    out.append((span.length, span.digest, span.count))
                    self.hits.append(span)
        return out


def _plain(records: list) -> list:
    """Message records without what only a store makes the parser add."""
    return [dataclasses.replace(r, content_hash=None, raw_json=None) if isinstance(r, MessageRecord) else r
            for r in records if not isinstance(r, (UnchangedMessages, StoredSpan))]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name.split(".")[0])
@pytest.mark.parametrize("layout", ["tdesktop", "crlf", "minified", "one_per_line"])
def test_a_store_skips_exactly_the_stored_messages(path, layout, tmp_path, monkeypatch):
    """With a store to ask, the records are the same; a store holding two messages in three gets back exactly the
    others, counted skips included, in every layout and with runs of a few messages (stored ones undecoded)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if layout == "crlf":
        crlf = tmp_path / "result.json"
        crlf.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
        path = crlf
    elif layout != "tdesktop":
        path = tmp_path / "result.json"
        path.write_text(json.dumps(data, ensure_ascii=False) if layout == "minified" else _one_message_per_line(data),
                        encoding="utf-8")
    monkeypatch.setattr(ep, "_WINDOW", 2000)
    reference = list(iter_export(path))
    first = list(iter_export(path, stored=_Store({})))
    assert _plain(first) == reference
    built = [r for r in first if isinstance(r, MessageRecord)]
    assert all(r.content_hash is not None for r in built)
    stored = {(r.chat_id, r.message_id): r.content_hash for k, r in enumerate(built) if k % 3}
    again = list(iter_export(path, stored=_Store(stored)))
    assert [r for r in _plain(again) if isinstance(r, MessageRecord)] == \
        [r for r in reference if isinstance(r, MessageRecord)][::3]
    assert sum(r.count for r in again if isinstance(r, UnchangedMessages)) == len(stored)
    # Every message stored, with the spans the first read recorded: nothing comes back, and where the layout has a
    # joint (not minified) runs without media are skipped unsplit, each span met again.
    everything = {(r.chat_id, r.message_id): r.content_hash for r in built}
    spans = [r for r in first if isinstance(r, StoredSpan)]
    store = _Store(everything, spans)
    third = list(iter_export(path, stored=store))
    assert not [r for r in third if isinstance(r, MessageRecord)]
    assert sum(r.count for r in third if isinstance(r, UnchangedMessages)) == len(built)
    assert not spans if layout == "minified" else spans or len(built) < 10
    assert sorted(store.hits, key=id) == sorted(spans, key=id)
    if spans:  # a span whose messages are no longer all stored as it says is not skipped whole
        span = max(spans, key=lambda r: r.count)
        inside = sorted(k for k in everything if k[0] == span.chat_id and span.first_id <= k[1] <= span.last_id)
        gone = inside[len(inside) // 2]
        del everything[gone]
        fourth = list(iter_export(path, stored=_Store(everything, spans)))
        assert [(r.chat_id, r.message_id) for r in fourth if isinstance(r, MessageRecord)] == [gone]


@pytest.mark.parametrize("layout", ["tdesktop", "one_per_line"])
def test_message_runs_are_decoded_together(layout, tmp_path, monkeypatch):
    """The hot path decodes runs of messages at once in both line layouts; one at a time only at edges."""
    data = {"name": "G", "type": "private_group", "id": 5, "messages": [
        {"id": i, "type": "message", "date": "2024-01-01T00:00:00", "from": "A", "from_id": "user1",
         "text": [f"hi {i}", {"type": "bold", "text": "}\n ]"}], "text_entities": []}
        for i in range(1, 3001)
    ]}
    path = tmp_path / "result.json"
    text = json.dumps(data, ensure_ascii=False, indent=1) if layout == "tdesktop" else _one_message_per_line(data)
    path.write_text(text, encoding="utf-8")
    singles = []
    one_at_a_time = ep._Stream.value
    monkeypatch.setattr(ep._Stream, "value", lambda self, where, *a: singles.append(where) or one_at_a_time(self, where, *a))
    got = [r for r in iter_export(path) if isinstance(r, MessageRecord)]
    assert [m.message_id for m in got] == list(range(1, 3001))
    assert got[7].text == "hi 8}\n ]"
    assert len([w for w in singles if "messages[" in w]) < 30


# --- 2020-01: the oldest format ------------------------------------------------------


def test_2020_senders_texts_and_edits():
    path = fixture("2020-01")
    m = messages(path)

    assert m[4730].sender_id == 44444444  # integer from_id
    assert m[4730].sender_name == "Eeeee Eeeeeeeeee"
    assert m[4730].text == "Видел)"
    assert m[4730].date == datetime(2016, 11, 9, 0, 36, 45, tzinfo=UTC)  # no date_unixtime: read as UTC
    assert m[4730].edit_date is None  # "edited": "1970-01-01T05:00:00" means not edited
    assert m[67346].edit_date == datetime(2018, 11, 17, 0, 58, 5, tzinfo=UTC)
    assert m[24712].sender_name is None and m[24712].sender_id == 32507588  # "from": null

    # text as a list of parts is flattened; non-plain parts become entities
    assert m[10415].text == (
        "девиз Вольво:\nhttp://cs5.pikabu.ru/post_img/big/2015/12/04/5/1449210847155432089.jpgгыгы"
    )
    assert m[10415].entities == [{
        "type": "link", "text": "http://cs5.pikabu.ru/post_img/big/2015/12/04/5/1449210847155432089.jpg",
        "offset": 14, "length": 70,
    }]
    assert [e["type"] for e in m[31325].entities] == ["pre", "bold", "italic", "strikethrough"]
    assert m[31325].entities[0]["language"] == ""

    assert m[39740].reply_to_message_id == 39739
    assert m[27100].forwarded_from == "Uzbek-MDK"
    assert m[10355].via_bot == "@saytextbot"


def test_2020_media():
    m = messages(fixture("2020-01"))
    voice = m[10355]
    assert (voice.media_type, voice.mime_type, voice.duration_seconds) == ("voice", "audio/mpeg", 2)
    [f] = voice.files
    assert (f.kind, f.status, f.file_name, f.source_path) == ("file", "missing", "test.mp3", None)

    assert m[10699].media_type == "animation"
    assert [(f.kind, f.status) for f in m[10699].files] == [("file", "not_included"), ("thumbnail", "not_included")]
    assert m[10699].files[0].width == 258 and m[10699].files[0].duration_seconds == 11
    assert m[38952].media_type == "video_note" and m[38952].forwarded_from == "Wwwwww Www"
    assert m[39115].media_type == "video"
    assert m[39125].media_type == "photo"
    assert [(f.kind, f.status, f.width, f.height) for f in m[39125].files] == [("photo", "not_included", 849, 1280)]
    assert m[4744].media_type == "sticker"
    assert [(f.kind, f.file_name) for f in m[4744].files] == [
        ("file", "sticker.webp"), ("thumbnail", "sticker.webp_thumb.jpg"),
    ]
    assert m[124030].media_type == "document" and m[124030].mime_type == "application/pdf"
    assert m[74752].media_type == "contact"
    assert m[129455].media_type == "location"
    assert m[132894].media_type == "poll"
    assert m[4725].media_type == "photo" and m[4725].files[0].status == "missing"


def test_2020_service_messages():
    m = messages(fixture("2020-01"))
    assert (m[4720].kind, m[4720].action, m[4720].actor_id, m[4720].sender_id) == (
        "service", "create_group", 22222222, 22222222,
    )
    assert m[4720].raw["members"] == ["Wwwwww Www", "Nnnnnnn", "Aaaaa Aaaaaaaaaaa", "Eeeee Eeeeeeeeee"]
    assert m[4740].action == "pin_message" and m[4740].reply_to_message_id == 4723
    assert m[40163].action == "phone_call" and m[40163].duration_seconds == 77
    assert m[4721].action == "edit_group_photo" and m[4721].media_type is None
    assert [(f.kind, f.status) for f in m[4721].files] == [("photo", "missing")]


def test_2020_chat_ids_and_owner():
    records = list(iter_export(fixture("2020-01")))
    chats = [c for c, _ in chats_of(records)]
    # Old exports shift ids: groups 2**33|id, personal chats 2**32|id (un-shifted only in range).
    assert [(c.type, c.chat_id) for c in chats] == [
        ("group", -8123123123),
        ("private", 9777777777),
        ("private", 4321012345 - 2**32),
        ("private", 9333333333),
    ]
    owner = records[0]
    assert (owner.user_id, owner.first_name, owner.last_name, owner.username, owner.display_name) == (
        11111111, "Aaaaa", "Aaaaaaaaaaa", "frozenspider", "Aaaaa Aaaaaaaaaaa",
    )
    assert "1234567" not in repr(records)  # the owner's phone number is kept nowhere


# --- 2021-2025 --------------------------------------------------------------------


def test_2021_string_ids_and_migrated_message_ids():
    records = list(iter_export(fixture("2021-06_supergroup")))
    [(chat, msgs)] = chats_of(records)
    assert (chat.type, chat.chat_id) == ("supergroup", mark_channel_id(1234567890))
    assert [m.message_id for m in msgs] == [-999681092, -999681090, -999681087, 358000]
    assert [m.sender_id for m in msgs] == [222222222, 333333333, 444444444, 11111111]
    assert msgs[3].media_type == "contact"
    users = [r for r in records if type(r) is UserRecord]
    assert [(u.user_id, u.display_name) for u in users] == [
        (222222222, "Sssss Pppppp"), (333333333, "Tttttt Yyyyyyy"),
        (444444444, "Vvvvvvvv Bbbbbbb"), (11111111, "Aaaaa Aaaaaaaaaaa"),
    ]


def test_2023_unixtime_entities_and_channel_actor():
    m = messages(fixture("2023-01"))
    assert m[111111].date == datetime.fromtimestamp(1479387460, UTC)  # date_unixtime wins over local "date"
    assert m[111111].text == "this contains a lot of stuff: 😁http://mylink.org/HIDE ME"
    # offsets/lengths in UTF-16 units: the emoji counts 2
    assert [(e["type"], e["offset"], e["length"]) for e in m[111111].entities] == [
        ("custom_emoji", 30, 2), ("link", 32, 18), ("spoiler", 50, 7),
    ]
    assert m[111111].entities[0]["document_id"] == "chats/chat_004/stickers/sticker (62).webp"
    assert m[1].actor_id == mark_channel_id(123123123) and m[1].action == "migrate_from_group"
    assert m[-999999999].action == "migrate_to_supergroup"
    assert m[111114].action == "suggest_profile_photo"
    assert [(f.kind, f.status, f.width) for f in m[111114].files] == [("photo", "not_included", 640)]


def test_2023_audio_video():
    records = list(iter_export(fixture("2023-10_audio-video")))
    [(chat, msgs)] = chats_of(records)
    assert chat.chat_id == mark_channel_id(123123123)
    m = {x.message_id: x for x in msgs}
    assert m[11111].sender_id == 5555555555 and m[11111].sender_name is None  # big id, not "shifted"
    assert (m[11112].media_type, m[11112].duration_seconds) == ("audio", 123)
    assert [(f.kind, f.status, f.file_name) for f in m[11112].files] == [
        ("file", "missing", "audio_file.mp3"), ("thumbnail", "missing", "audio_file.mp3_thumb.jpg"),
    ]
    assert m[21112].media_type == "video"
    assert (m[21112].files[0].width, m[21112].files[0].height, m[21112].files[0].duration_seconds) == (222, 333, 111)
    assert [type(r) for r in records].count(UserRecord) == 1  # same sender: one UserRecord


def test_2024_inline_buttons():
    m = messages(fixture("2024-01_inline-bot-buttons"))
    assert m[11111].inline_buttons[0][3] == {
        "type": "callback", "text": "Callback button", "data": '{"a":"aaaa","b":123456789,"h":"a0b1c2"}',
    }
    assert [len(row) for row in m[11111].inline_buttons] == [4, 1]
    assert m[11111].entities == [{"type": "bold", "text": "Some initial bold text", "offset": 0, "length": 22}]
    assert m[11112].entities is None  # two plain parts: no formatting


def test_2024_file_names_and_boosts():
    m = messages(fixture("2024-05_boosts_file-name_etc"))
    assert m[11111].media_type == "document"  # "file" without media_type
    assert [(f.kind, f.status, f.file_name, f.mime_type) for f in m[11111].files] == [
        ("file", "not_included", "my-file.jpg", "image/jpeg"), ("thumbnail", "not_included", None, None),
    ]
    assert m[11112].media_type == "sticker" and m[11112].files[0].file_name == "sticker.webm"
    assert (m[11113].kind, m[11113].action, m[11113].raw["boosts"]) == ("service", "boost_apply", 123)


def test_2025_channel_senders_forwards_edits():
    records = list(iter_export(fixture("2025-12")))
    got = chats_of(records)
    assert [(c.type, c.chat_id) for c, _ in got] == [
        ("group", -123123123), ("channel", mark_channel_id(123456789)),
    ]
    m = {x.message_id: x for _, msgs in got for x in msgs}
    assert m[11112].sender_id == mark_channel_id(123123123)
    assert m[11112].forwarded_from == "This Should Not Matter"
    assert m[11112].forwarded_from_id == mark_channel_id(123123123)
    assert m[11111].actor_id == mark_channel_id(123123123) and m[11111].action == "paid_messages_price_change"
    assert m[11113].edit_date == datetime.fromtimestamp(1665499754, UTC)
    assert m[11113].media_type == "todo_list"
    # "(File unavailable, please try again later)" is another way of not including it
    assert [(f.kind, f.status, f.size) for f in m[11115].files] == [("file", "not_included", 0)]
    assert not any(type(r) is UserRecord and r.user_id < 0 for r in records)  # channels are not users


# --- ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chat_type", "raw_id", "from_id", "chat_kind", "chat_id"),
    [
        ("personal_chat", 5_000_000_000, "user5000000000", "private", 5_000_000_000),  # 64-bit user id
        ("personal_chat", 2**32 + 123, 123, "private", 123),  # pre-2021 shifted
        ("bot_chat", 93372553, "user93372553", "bot", 93372553),
        ("private_group", 2**33 + 777, 5, "group", -777),  # pre-2021 shifted
        ("private_group", 777, "user5", "group", -777),
        ("private_supergroup", 1234, "user5", "supergroup", -1000000001234),
        ("public_supergroup", 1001234567890, "user5", "supergroup", -1001234567890),  # marked, no sign
        ("private_channel", -1001234567890, "channel1234567890", "channel", -1001234567890),  # marked
        ("public_channel", 2 << 48 | 1234, "channel1234", "channel", -1000000001234),  # tdesktop PeerId value
    ],
)
def test_chat_id_marking(tmp_path, chat_type, raw_id, from_id, chat_kind, chat_id):
    first = msg(1, from_id=from_id)
    if type(from_id) is int:  # old format: no date_unixtime either
        del first["date_unixtime"]
    path = write_export(tmp_path, [{"name": "c", "type": chat_type, "id": raw_id, "messages": [first]}])
    [(chat, [m])] = chats_of(list(iter_export(path)))
    assert (chat.type, chat.chat_id, m.chat_id) == (chat_kind, chat_id, chat_id)


@pytest.mark.parametrize(
    ("from_id", "sender"),
    [
        (42, 42),
        (2**32 + 42, 42),  # late-2020 exports: exporter's user peer id
        (2**33 + 42, mark_channel_id(42)),  # ... and its chat/channel peer id
        ("user42", 42),
        ("channel42", mark_channel_id(42)),
        ("chat42", -42),
    ],
)
def test_from_id_forms(tmp_path, from_id, sender):
    chat = {"name": "c", "type": "private_supergroup", "id": 1, "messages": [msg(1, from_id=from_id)]}
    path = write_export(tmp_path, [chat])
    assert messages(path)[1].sender_id == sender


def test_saved_messages_is_the_owner_and_left_chats(tmp_path):
    path = write_export(
        tmp_path,
        [{"type": "saved_messages", "id": 99, "messages": [msg(1, from_id="user7")]}],
        left=[{"name": "gone", "type": "public_channel", "id": 5, "messages": []}],
        personal_information={
            "user_id": 7, "first_name": "Me", "last_name": "", "phone_number": "+1 555", "username": "@me",
        },
    )
    records = list(iter_export(path))
    owner, saved, left = records[0], records[1], records[-1]
    assert isinstance(owner, OwnerRecord) and (owner.user_id, owner.display_name, owner.username) == (7, "Me", "me")
    assert (saved.type, saved.chat_id, saved.title) == ("saved", 7, None)
    assert (left.type, left.chat_id, left.is_left) == ("channel", mark_channel_id(5), True)
    assert "555" not in repr(records)


# --- single-chat exports, filters, odd-but-valid input -----------------------------


def test_single_chat_export(tmp_path):
    data = json.loads(fixture("2020-01").read_text(encoding="utf-8"))
    chat = data["chats"]["list"][2]  # the null-named personal chat
    path = tmp_path / "result.json"
    path.write_text(json.dumps(chat, ensure_ascii=False, indent=1), encoding="utf-8")

    assert detect_export_kind(path) == "single_chat"
    records = list(iter_export(path))
    [(c, msgs)] = chats_of(records)
    assert (c.type, c.title, c.chat_id) == ("private", None, 4321012345 - 2**32)
    assert [m.raw for m in msgs] == chat["messages"]
    assert not any(isinstance(r, OwnerRecord) for r in records)


def test_messages_before_the_chat_id(tmp_path):
    """Re-sorted JSON (jq -S) puts "messages" before "name" and "type"."""
    path = tmp_path / "result.json"
    chat = {"id": 1234, "messages": [msg(1), msg(2, text="ß")], "name": "x", "type": "private_supergroup"}
    path.write_text(json.dumps(chat, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    [(c, msgs)] = chats_of(list(iter_export(path)))
    assert c.chat_id == mark_channel_id(1234) and [m.text for m in msgs] == ["m1", "ß"]


def test_chat_filter(tmp_path):
    chats = [
        {"name": name, "type": "private_group", "id": i, "messages": [msg(1), msg(2)]}
        for i, name in ((1, "a"), (2, "b"))
    ]
    path = write_export(tmp_path, chats)
    only_b = list(iter_export(path, chat_filter={-2}))
    assert [r.chat_id for r in only_b if isinstance(r, ChatRecord | MessageRecord)] == [-2, -2, -2]
    by_name = list(iter_export(path, chat_filter=lambda c: c.title == "a"))
    assert {r.chat_id for r in by_name if isinstance(r, MessageRecord)} == {-1}


def test_unsupported_messages_are_skipped_and_bom_is_fine(tmp_path):
    path = tmp_path / "result.json"
    chat = {"name": "x", "type": "personal_chat", "id": 5, "messages": [{"id": 1, "type": "unsupported"}, msg(2)]}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(chat).encode())
    assert list(messages(path)) == [2]


def test_known_exporter_bugs_are_repaired(tmp_path):
    """tdesktop writes "\\xNN" escapes and (4.1) unquoted custom emoji paths: invalid JSON."""
    path = tmp_path / "result.json"
    path.write_text(
        '{"name": "x", "type": "personal_chat", "id": 5, "messages": [\n'
        ' {"id": 1, "type": "message", "date": "2024-01-01T10:00:00", "from_id": "user1",\n'
        '  "text": "a\\x01b \\\\x41"},\n'
        ' {"id": 2, "type": "message", "date": "2024-01-01T10:00:00", "from_id": "user1",\n'
        '  "text": [{"type": "custom_emoji", "text": "😮",\n'
        '    "document_id": video_files/sticker (2).webm\n'
        '   }, " hi"]}\n'
        ']}\n',
        encoding="utf-8",
    )
    m = messages(path)
    assert m[1].text == "a\x01b \\x41"  # an escaped backslash before "x" stays as it was
    assert m[2].text == "😮 hi"
    assert m[2].entities[0]["document_id"] == "video_files/sticker (2).webm"


# --- media files on disk ---------------------------------------------------------------


def test_file_statuses_and_paths(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "p.jpg").write_bytes(b"jpg")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "doc.pdf").write_bytes(b"pdf")
    path = write_export(tmp_path, [{"name": "c", "type": "personal_chat", "id": 5, "messages": [
        msg(1, photo="photos/p.jpg", width=10, height=20, photo_file_size=3),
        msg(2, file="files/doc.pdf", file_name="Report.pdf", mime_type="application/pdf", file_size=3,
            thumbnail="files/doc.pdf_thumb.jpg"),
        msg(3, media_type="video_file",
            file="(File exceeds maximum size. Change data exporting settings to download.)"),
    ]}])
    m = messages(path)
    [photo] = m[1].files
    assert (photo.kind, photo.status, photo.source_path, photo.file_name, photo.size, photo.width, photo.height) == (
        "photo", "present", str(tmp_path / "photos" / "p.jpg"), "p.jpg", 3, 10, 20,
    )
    assert os.path.isabs(photo.source_path)
    doc, thumb = m[2].files
    assert (doc.status, doc.file_name, doc.mime_type, doc.source_path) == (
        "present", "Report.pdf", "application/pdf", str(tmp_path / "files" / "doc.pdf"),
    )
    assert (thumb.kind, thumb.status, thumb.source_path) == ("thumbnail", "missing", None)
    assert (m[3].media_type, m[3].files[0].status) == ("video", "not_included")


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "photos/../../x.jpg"])
def test_media_path_escaping_the_export_is_rejected(tmp_path, bad):
    path = write_export(tmp_path, [{"name": "c", "type": "personal_chat", "id": 5, "messages": [
        msg(1), msg(2, photo=bad),
    ]}])
    seen = []
    with pytest.raises(TelegramDataError) as e:
        seen.extend(iter_export(path))
    assert str(path) in str(e.value) and "message id 2" in str(e.value) and "outside" in str(e.value)
    assert any(isinstance(r, MessageRecord) and r.message_id == 1 for r in seen)


def test_symlink_out_of_the_export_is_rejected(tmp_path):
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"x")
    export = tmp_path / "export"
    export.mkdir()
    (export / "p.jpg").symlink_to(outside)
    path = write_export(export, [{"name": "c", "type": "personal_chat", "id": 5, "messages": [msg(1, photo="p.jpg")]}])
    with pytest.raises(TelegramDataError, match="outside"):
        list(iter_export(path))


# --- bad input ---------------------------------------------------------------------


def test_truncated_file(tmp_path):
    data = fixture("2020-01").read_bytes()
    path = tmp_path / "result.json"
    path.write_bytes(data[: len(data) * 2 // 3])
    seen = []
    with pytest.raises(TelegramDataError) as e:
        seen.extend(iter_export(path))
    assert e.value.source == str(path)
    assert "truncated" in e.value.problem and "chats.list[" in e.value.where
    assert sum(isinstance(r, MessageRecord) for r in seen) > 10  # what came before was yielded


def test_truncated_anywhere_is_always_a_data_error(tmp_path):
    data = fixture("2023-01").read_bytes()
    path = tmp_path / "result.json"
    for cut in range(0, len(data.rstrip()) - 1, 37):
        path.write_bytes(data[:cut])
        with pytest.raises(TelegramDataError):
            list(iter_export(path))


def test_invalid_json(tmp_path):
    text = fixture("2024-01_inline-bot-buttons").read_text(encoding="utf-8")
    path = tmp_path / "result.json"
    path.write_text(text.replace('"id": 11113,', '"id": 11113;'), encoding="utf-8")
    with pytest.raises(TelegramDataError) as e:
        list(iter_export(path))
    assert "invalid JSON at byte" in e.value.problem and "chats.list[0].messages[2]" in e.value.where
    assert str(path) in str(e.value)


@pytest.mark.parametrize("content", ['{"foo": [1, 2], "bar": {"x": 1}}', "[1, 2, 3]", "", "  ", '"messages"'])
def test_not_an_export(tmp_path, content):
    path = tmp_path / "data.json"
    path.write_text(content)
    with pytest.raises(TelegramDataError, match="not a Telegram export|truncated"):
        detect_export_kind(path)
    with pytest.raises(TelegramDataError, match="not a Telegram export|truncated"):
        list(iter_export(path))


@pytest.mark.parametrize(
    ("bad", "where", "problem"),
    [
        ({"type": "message", "date": "2024-01-01T10:00:00", "text": ""}, "message id None", "without an id"),
        (msg("12"), "message id '12'", "not a 64-bit integer"),
        (msg(2**63), f"message id {2**63}", "not a 64-bit integer"),
        (msg(12, from_id=f"user{2**64}"), "message id 12", "64-bit id range"),
        (msg(12, reply_to_message_id=-(2**63) - 1), "message id 12", "reply_to_message_id"),
        (msg(12, media_group_id=str(2**64)), "message id 12", "grouped id"),
        (msg(12, media_type="voice_message", duration_seconds=2**31), "message id 12", "duration_seconds"),
        (msg(12, file="files/a.bin", file_size=2**63 + 5), "message id 12", "bad size"),
        (msg(12, photo="photos/p.jpg", width=2**40, height=10), "message id 12", "bad width"),
        (msg(12, date_unixtime="hidden"), "message id 12", "bad date"),
        ({**msg(12), "date_unixtime": None, "date": "yesterday"}, "message id 12", "bad date"),
        (msg(12, from_id="robot7"), "message id 12", "bad from_id"),
        (msg(12, text=5), "message id 12", "text"),
        (msg(12, reply_to_message_id="x"), "message id 12", "reply_to_message_id"),
        (msg(12, edited="whenever"), "message id 12", "edit date"),
    ],
)
def test_bad_message_shape(tmp_path, bad, where, problem):
    path = write_export(tmp_path, [{"name": "c", "type": "private_group", "id": 1, "messages": [msg(11), bad]}])
    with pytest.raises(TelegramDataError) as e:
        list(iter_export(path))
    assert str(path) in str(e.value)
    assert "chats.list[0].messages[1]" in e.value.where and where in e.value.where
    assert problem in e.value.problem


def test_message_not_an_object(tmp_path):
    path = write_export(tmp_path, [{"name": "c", "type": "private_group", "id": 1, "messages": [msg(11), [1, 2]]}])
    with pytest.raises(TelegramDataError, match=r"messages\[1\].*must be a JSON object"):
        list(iter_export(path))


def _with_raw(tmp_path: Path, placeholder: str, raw: str, key: str = "unknown") -> Path:
    """An export whose second message has ``raw`` (JSON text json.dumps cannot write) at ``key``."""
    path = write_export(tmp_path, [{"name": "c", "type": "private_group", "id": 1,
                                    "messages": [msg(11), msg(12, **{key: placeholder})]}])
    path.write_text(path.read_text(encoding="utf-8").replace(f'"{placeholder}"', raw), encoding="utf-8")
    return path


@pytest.mark.parametrize("depth", [1_100, 5_000])
@pytest.mark.parametrize("where", ["message", "side section"])
def test_json_nested_past_the_decoders_is_a_data_error(tmp_path, depth, where):
    # Found by fuzzing: RecursionError from the stdlib scanner once orjson (1024 levels) gave up.
    deep = "[" * depth + "]" * depth
    if where == "message":
        path = _with_raw(tmp_path, "@deep@", deep)
        at = "chats.list[0].messages[1]"
    else:
        path = tmp_path / "result.json"
        path.write_text('{"contacts": {"list": [' + deep + ']}, "chats": {"list": []}}')
        at = "contacts"
    with pytest.raises(TelegramDataError) as e:
        list(iter_export(path))
    assert str(path) in str(e.value) and at in e.value.where and "nested too deeply" in e.value.problem


def test_error_text_quotes_a_deeply_nested_value_in_short(tmp_path):
    # 1,010 levels decode (orjson), but repr() of them recursed past the interpreter's limit while building the error.
    path = _with_raw(tmp_path, "@deep@", "[" * 1010 + "]" * 1010, key="date_unixtime")
    with pytest.raises(TelegramDataError) as e:
        list(iter_export(path))
    assert e.value.where == "chats.list[0].messages[1] (message id 12)"
    assert e.value.problem.startswith("bad date [[[") and len(e.value.problem) < 200


def test_an_integer_literal_too_long_for_python_is_a_data_error(tmp_path):
    path = _with_raw(tmp_path, "@big@", "9" * 5000)
    with pytest.raises(TelegramDataError) as e:
        list(iter_export(path))
    assert "chats.list[0].messages[1]" in e.value.where and "invalid JSON" in e.value.problem


@pytest.mark.parametrize("media_type", [["voice_message"], {"kind": "photo"}, 7, True])
def test_media_type_of_another_type_is_kept_as_other(tmp_path, media_type):
    # Found by fuzzing: a list or object here raised TypeError (unhashable) in the lookup.
    path = write_export(tmp_path, [{"name": "c", "type": "private_group", "id": 1,
                                    "messages": [msg(11, media_type=media_type)]}])
    (m,) = messages(path).values()
    assert m.media_type == "other" and m.raw["media_type"] == media_type


def test_names_of_another_type_stay_in_raw_only(tmp_path):
    owner = {"user_id": 7, "first_name": ["x"], "last_name": "Lee", "username": {"u": 1}, "bio": 5}
    path = write_export(tmp_path, [{"name": "c", "type": "private_group", "id": 1,
                                    "messages": [msg(11, **{"from": [[1]]}), msg(12, **{"from": 42})]}],
                        personal_information=owner)
    records = list(iter_export(path))
    me = next(r for r in records if isinstance(r, OwnerRecord))
    assert (me.display_name, me.first_name, me.username, me.bio) == ("Lee", None, None, None)
    got = {r.message_id: r.sender_name for r in records if isinstance(r, MessageRecord)}
    assert got == {11: None, 12: "42"}


# --- streaming ---------------------------------------------------------------------


def _big_export(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write('{"name": "big", "type": "private_supergroup", "id": 1, "messages": [\n')
        for i in range(1, n + 1):
            m = msg(i, text=["Привет ", {"type": "bold", "text": "мир"}, f" #{i} 🙂"], reply_to_message_id=max(1, i - 1))
            f.write(("," if i > 1 else "") + json.dumps(m, ensure_ascii=False, indent=1) + "\n")
        f.write("]}\n")


def test_memory_is_flat_in_file_size(tmp_path):
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    _big_export(small, 5_000)
    _big_export(large, 30_000)
    peaks = []
    for path in (small, large):
        tracemalloc.start()
        n = sum(isinstance(r, MessageRecord) for r in iter_export(path))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert n == (5_000 if path is small else 30_000)
    assert large.stat().st_size > 5 * small.stat().st_size
    assert peaks[1] < 1.5 * peaks[0] + (1 << 20), peaks
    assert peaks[1] < 16 << 20, peaks


def _bench_message(i: int) -> dict:
    m = {"id": i, "type": "message", "date": "2024-01-01T10:00:00", "date_unixtime": str(1704103200 + i),
         "from": "Alice Smith", "from_id": f"user{100 + i % 37}",
         "text": ["hello ", {"type": "bold", "text": "world"}, " more text here about interior design"],
         "text_entities": [{"type": "plain", "text": "hello "}, {"type": "bold", "text": "world"},
                           {"type": "plain", "text": " more text here about interior design"}]}
    if i % 5 == 0:
        m["reply_to_message_id"] = i - 1
    return m


def _write_chat(f, name: str, chat_type: str, chat_id: int, n: int) -> None:
    f.write(json.dumps({"name": name, "type": chat_type, "id": chat_id}, indent=1)[:-2] + ',\n "messages": [\n')
    for i in range(1, n + 1):
        f.write(("" if i == 1 else ",\n") + json.dumps(_bench_message(i), ensure_ascii=False, indent=1))
    f.write("\n ]\n}")


# -- forum topics, accounts, reactions (hand-written fixture: the real exports have none; see its README) ---------
FORUM = FIXTURES / "hand-written" / "forum_reactions.result.json"
FORUM_ID = -1001666000222


def test_forum_topics_follow_the_reply_chain():
    from telegram_intel.lib.records import TopicRecord

    records = list(iter_export(FORUM))
    topics = [(t.topic_id, t.title, t.edited, t.creator_id) for t in records if isinstance(t, TopicRecord)]
    # General comes with the first topic; the rename of topic 2 is an edit, not a new topic.
    assert topics == [(1, "General", False, None), (2, "Releases", False, 111), (6, "Ideas", False, 333),
                      (2, "Releases 2024", True, None)]
    by_id = {m.message_id: m for m in records if isinstance(m, MessageRecord)}
    # Message 1 came before the chat was known to be a forum: the writer gives it General.
    assert {i: m.topic_id for i, m in by_id.items()} == {
        1: None, 2: 2, 3: 2, 4: 1, 5: 2, 6: 6, 7: 6, 8: 2, 9: 1, 10: 6}
    assert all(m.chat_id == FORUM_ID for m in by_id.values())


def test_messages_record_the_account_that_exported_them(tmp_path):
    assert {m.account_id for m in iter_export(FORUM) if isinstance(m, MessageRecord)} == {111}
    single = tmp_path / "result.json"
    single.write_text(json.dumps({"name": "x", "type": "private_supergroup", "id": 5,
                                  "messages": [{"id": 1, "type": "message", "date": "2024-01-01T00:00:00",
                                                "text": "hi"}]}))
    # A single-chat export does not say whose it is: the caller does, or it stays unknown.
    assert [m.account_id for m in iter_export(single) if isinstance(m, MessageRecord)] == [None]
    assert [m.account_id for m in iter_export(single, account_id=999) if isinstance(m, MessageRecord)] == [999]


def test_bad_topic_icon_is_named(tmp_path):
    bad = tmp_path / "result.json"
    bad.write_text(json.dumps({"name": "x", "type": "private_supergroup", "id": 5, "messages": [
        {"id": 7, "type": "service", "date": "2024-01-01T00:00:00", "action": "topic_created", "title": "T",
         "icon_emoji_id": "nope", "text": ""}]}))
    with pytest.raises(TelegramDataError, match=r"message id 7.*icon_emoji_id"):
        list(iter_export(bad))


def test_a_topic_renamed_in_a_partial_export_keeps_its_id(tmp_path):
    from telegram_intel.lib.records import TopicRecord

    part = tmp_path / "result.json"  # the topic's creation message (id 40) is before the exported range
    part.write_text(json.dumps({"name": "x", "type": "private_supergroup", "id": 5, "messages": [
        {"id": 50, "type": "service", "date": "2024-01-01T00:00:00", "actor": "A", "actor_id": "user1",
         "action": "topic_edit", "new_title": "Renamed", "reply_to_message_id": 40, "text": ""},
        {"id": 51, "type": "message", "date": "2024-01-01T00:01:00", "from": "A", "from_id": "user1",
         "reply_to_message_id": 50, "text": "in the renamed topic"}]}))
    records = list(iter_export(part))
    assert [(t.topic_id, t.title, t.edited) for t in records if isinstance(t, TopicRecord)] == [
        (1, "General", False), (40, "Renamed", True)]
    assert [(m.message_id, m.topic_id) for m in records if isinstance(m, MessageRecord)] == [(50, 40), (51, 40)]
