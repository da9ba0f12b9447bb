"""The same messages from a Telegram Desktop export and from Telethon give identical rows.

Each case is a message as Telegram Desktop's JSON exporter writes it (current format, with
``date_unixtime`` and ``text_entities``) next to the TL object Telethon receives for it. Both go
through their real paths (export parser → writer; client double → TelethonSource → writer) into
PostgreSQL, and every column of ``telegram_messages`` except ``raw`` (each source keeps its own
JSON there), ``content_hash`` (it covers ``raw``) and bookkeeping timestamps must match, as must the file rows.

Known differences, by design and not covered here: custom emoji (exports name the sticker file,
Telethon has the document id), album ``grouped_id`` and dice (the exporter does not write them),
and reaction "recent" dates (the exporter writes its local time).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from telethon.tl import types

from telegram_intel.db.sync_state import DatabaseSyncStore
from telegram_intel.pipeline.ingest import ingest
from telegram_intel.sources.desktop_export import DesktopExportSource
from telegram_intel.sources.telethon.config import parse_allowed_chats
from telegram_intel.sources.telethon.source import TelethonSource
from telegram_intel_tests.conftest import truncate_all
from telegram_intel_tests.support import telethon_fakes as f
from telegram_intel_tests.support.telethon import (
    ALICE,
    BOB,
    BOT,
    ME,
    NoSleep,
    make_config,
    snapshot,
)

GROUP = f.channel(1555000111, "Parity Group")
CHAT_ID = -1001555000111
NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
EPOCH = 1_700_000_000


def when(i: int) -> datetime:
    return datetime.fromtimestamp(EPOCH + 60 * i, timezone.utc)


def ex(i: int, *, kind: str = "message", **fields) -> dict:
    """An exported message: the exporter's key order and date fields."""
    d = when(i)
    out = {"id": i, "type": kind, "date": d.replace(tzinfo=None).isoformat(), "date_unixtime": str(int(d.timestamp()))}
    out.update(fields)
    out.setdefault("text", "")
    out.setdefault("text_entities", [])
    return out


def frm(user) -> dict:
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    return {"from": name, "from_id": f"user{user.id}"}


def actor(user) -> dict:
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    return {"actor": name, "actor_id": f"user{user.id}"}


def text_fields(*parts) -> dict:
    """Exported ``text``/``text_entities`` from runs given as strings (plain) or dicts (entities)."""
    runs = [{"type": "plain", "text": p} if isinstance(p, str) else p for p in parts]
    if len(runs) == 1 and runs[0]["type"] == "plain":
        return {"text": runs[0]["text"], "text_entities": runs}
    return {"text": [r["text"] if r["type"] == "plain" else r for r in runs], "text_entities": runs}


def tl(i: int, text: str = "", *, sender=ALICE, **kw) -> types.Message:
    return types.Message(id=i, peer_id=types.PeerChannel(GROUP.id), date=when(i), message=text,
                         from_id=types.PeerUser(sender.id) if sender is not None else None, **kw)


def tl_service(i: int, action, *, sender=ALICE, **kw) -> types.MessageService:
    return types.MessageService(id=i, peer_id=types.PeerChannel(GROUP.id), date=when(i), action=action,
                                from_id=types.PeerUser(sender.id), **kw)


def u16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


RICH = "Bold italic https://t.me/x docs Alice #tag /start a@b.co +1 555 0100 $USD under strike spoiler quote 4111"
PARTS = [
    {"type": "bold", "text": "Bold"}, " ", {"type": "italic", "text": "italic"}, " ",
    {"type": "link", "text": "https://t.me/x"}, " ", {"type": "text_link", "text": "docs", "href": "https://docs.example"},
    " ", {"type": "mention_name", "text": "Alice", "user_id": 333}, " ", {"type": "hashtag", "text": "#tag"}, " ",
    {"type": "bot_command", "text": "/start"}, " ", {"type": "email", "text": "a@b.co"}, " ",
    {"type": "phone", "text": "+1 555 0100"}, " ", {"type": "cashtag", "text": "$USD"}, " ",
    {"type": "underline", "text": "under"}, " ", {"type": "strikethrough", "text": "strike"}, " ",
    {"type": "spoiler", "text": "spoiler"}, " ", {"type": "blockquote", "text": "quote"}, " ",
    {"type": "bank_card", "text": "4111"},
]
_TL_ENTITY = {
    "bold": types.MessageEntityBold, "italic": types.MessageEntityItalic, "link": types.MessageEntityUrl,
    "hashtag": types.MessageEntityHashtag, "bot_command": types.MessageEntityBotCommand,
    "email": types.MessageEntityEmail, "phone": types.MessageEntityPhone, "cashtag": types.MessageEntityCashtag,
    "underline": types.MessageEntityUnderline, "strikethrough": types.MessageEntityStrike,
    "spoiler": types.MessageEntitySpoiler, "blockquote": types.MessageEntityBlockquote,
    "bank_card": types.MessageEntityBankCard, "code": types.MessageEntityCode,
}


def tl_entities(parts) -> list:
    out, offset = [], 0
    for p in parts:
        if isinstance(p, str):
            offset += u16(p)
            continue
        n = u16(p["text"])
        if p["type"] == "text_link":
            out.append(types.MessageEntityTextUrl(offset, n, url=p["href"]))
        elif p["type"] == "mention_name":
            out.append(types.MessageEntityMentionName(offset, n, user_id=p["user_id"]))
        elif p["type"] == "pre":
            out.append(types.MessageEntityPre(offset, n, language=p["language"]))
        else:
            out.append(_TL_ENTITY[p["type"]](offset, n))
        offset += n
    return out


def photo(pid: int):
    return f.photo_media(pid)


def cases() -> list[tuple[dict, object]]:
    geo = types.GeoPoint(long=28.97, lat=41.01, access_hash=0)
    code_parts = ["Run ", {"type": "code", "text": "ls"}, " or\n",
                  {"type": "pre", "text": "print('😀')", "language": "python"}]
    return [
        (ex(1, kind="service", **actor(ALICE), action="invite_members", members=["Bob"]),
         tl_service(1, types.MessageActionChatAddUser(users=[BOB.id]))),
        (ex(2, **frm(ALICE), **text_fields("Hello, world")), tl(2, "Hello, world")),
        (ex(3, **frm(BOB), **text_fields(*PARTS)), tl(3, RICH, sender=BOB, entities=tl_entities(PARTS))),
        (ex(4, **frm(BOB), reply_to_message_id=2, **text_fields("agreed")),
         tl(4, "agreed", sender=BOB, reply_to=types.MessageReplyHeader(reply_to_msg_id=2))),
        (ex(5, **frm(ALICE), forwarded_from="Bob", forwarded_from_id="user444", **text_fields("fwd")),
         tl(5, "fwd", fwd_from=types.MessageFwdHeader(date=when(0), from_id=types.PeerUser(BOB.id)))),
        (ex(6, **frm(ALICE), forwarded_from="Hidden Person", **text_fields("secret fwd")),
         tl(6, "secret fwd", fwd_from=types.MessageFwdHeader(date=when(0), from_name="Hidden Person"))),
        (ex(7, **frm(ALICE), via_bot="@helper_bot", **text_fields("from a bot"), inline_bot_buttons=[[
            {"type": "url", "text": "Open", "data": "https://example.org"},
            {"type": "callback", "text": "Vote", "dataBase64": "dm90ZTox", "data": ""}]]),
         tl(7, "from a bot", via_bot_id=BOT.id, reply_markup=types.ReplyInlineMarkup(rows=[
             types.KeyboardInlineButtonRow(buttons=[
                 types.KeyboardInlineButton(text="Open", type=types.InlineButtonTypeUrl(url="https://example.org")),
                 types.KeyboardInlineButton(text="Vote", type=types.InlineButtonTypeCallback(data=b"vote:1"))])]))),
        (ex(8, **frm(BOB), photo=NOT_INCLUDED, photo_file_size=145000, width=1280, height=960,
            **text_fields("look")), tl(8, "look", sender=BOB, media=photo(801))),
        (ex(9, **frm(ALICE), file=NOT_INCLUDED, file_size=4096, media_type="voice_message", mime_type="audio/ogg",
            duration_seconds=7), tl(9, media=f.doc_media(901, "voice"))),
        (ex(10, **frm(ALICE), file=NOT_INCLUDED, file_size=4096, media_type="video_message", mime_type="video/mp4",
            duration_seconds=5, width=384, height=384), tl(10, media=f.doc_media(1001, "video_note"))),
        (ex(11, **frm(BOB), file=NOT_INCLUDED, file_name="sticker.webp", file_size=4096, media_type="sticker",
            sticker_emoji="😀", mime_type="image/webp", width=512, height=512),
         tl(11, sender=BOB, media=f.doc_media(1101, "sticker"))),
        (ex(12, **frm(BOB), file=NOT_INCLUDED, file_name="clip.mp4", file_size=4096, media_type="video_file",
            mime_type="video/mp4", duration_seconds=12, width=1280, height=720, **text_fields("clip")),
         tl(12, "clip", sender=BOB, media=f.doc_media(1201, "video"))),
        (ex(13, **frm(ALICE), file=NOT_INCLUDED, file_name="funny.gif.mp4", file_size=4096, media_type="animation",
            mime_type="video/mp4", duration_seconds=2, width=320, height=240),
         tl(13, media=f.doc_media(1301, "animation"))),
        (ex(14, **frm(ALICE), file=NOT_INCLUDED, file_name="song.mp3", file_size=4096, media_type="audio_file",
            performer="Band", title="Song", mime_type="audio/mpeg", duration_seconds=201),
         tl(14, media=f.doc_media(1401, "audio"))),
        (ex(15, **frm(BOB), file=NOT_INCLUDED, file_name="report.pdf", file_size=4096, mime_type="application/pdf",
            **text_fields("Q3 report")), tl(15, "Q3 report", sender=BOB, media=f.doc_media(1501, "document"))),
        (ex(16, **frm(ALICE), poll={"question": "Lunch?", "closed": False, "total_voters": 0,
                                    "answers": [{"text": "Yes", "voters": 0, "chosen": False}]}),
         tl(16, media=types.MessageMediaPoll(poll=types.Poll(
             id=16, question=types.TextWithEntities(text="Lunch?", entities=[]), hash=0,
             answers=[types.PollAnswer(text=types.TextWithEntities(text="Yes", entities=[]), option=b"0")]),
             results=types.PollResults()))),
        (ex(17, **frm(BOB), contact_information={"first_name": "Carol", "last_name": "", "phone_number": "+1 555 0101"}),
         tl(17, sender=BOB, media=types.MessageMediaContact(phone_number="15550101", first_name="Carol", last_name="",
                                                            vcard="", user_id=0))),
        (ex(18, **frm(ALICE), location_information={"latitude": 41.01, "longitude": 28.97}),
         tl(18, media=types.MessageMediaGeo(geo=geo))),
        (ex(19, **frm(ALICE), place_name="Cafe", address="Main St 1",
            location_information={"latitude": 41.01, "longitude": 28.97}),
         tl(19, media=types.MessageMediaVenue(geo=geo, title="Cafe", address="Main St 1", provider="foursquare",
                                              venue_id="v1", venue_type="food"))),
        (ex(20, **frm(BOB), edited=when(21).replace(tzinfo=None).isoformat(),
            edited_unixtime=str(int(when(21).timestamp())), **text_fields("typo fixed")),
         tl(20, "typo fixed", sender=BOB, edit_date=when(21))),
        (ex(21, **frm(ALICE), **text_fields("popular"), reactions=[{"type": "emoji", "count": 3, "emoji": "👍"}]),
         tl(21, "popular", reactions=types.MessageReactions(results=[
             types.ReactionCount(reaction=types.ReactionEmoji("👍"), count=3)]))),
        (ex(22, kind="service", **actor(BOB), action="pin_message", message_id=20),
         tl_service(22, types.MessageActionPinMessage(), sender=BOB,
                    reply_to=types.MessageReplyHeader(reply_to_msg_id=20))),
        (ex(23, kind="service", **actor(ME), action="edit_group_title", title="Parity ❤"),
         tl_service(23, types.MessageActionChatEditTitle(title="Parity ❤"), sender=ME)),
        (ex(24, kind="service", **actor(BOB), action="join_group_by_link", inviter="Alice Smith"),
         tl_service(24, types.MessageActionChatJoinedByLink(inviter_id=ALICE.id), sender=BOB)),
        (ex(25, kind="service", **actor(ALICE), action="remove_members", members=["Bob"]),
         tl_service(25, types.MessageActionChatDeleteUser(user_id=BOB.id))),
        (ex(26, **{"from": "Parity Group", "from_id": "channel1555000111"}, **text_fields("anonymous admin")),
         types.Message(id=26, peer_id=types.PeerChannel(GROUP.id), date=when(26), message="anonymous admin",
                       from_id=types.PeerChannel(GROUP.id))),
        (ex(27, **frm(BOB), **text_fields(*code_parts)),
         tl(27, "Run ls or\nprint('😀')", sender=BOB, entities=tl_entities(code_parts))),
        # The exporter's UTF-8/UTF-16 length mix-up adds an empty trailing run after non-ASCII text.
        (ex(28, **frm(ALICE), text=["Hi 😀 ", {"type": "bold", "text": "end"}, ""],
            text_entities=[{"type": "plain", "text": "Hi 😀 "}, {"type": "bold", "text": "end"},
                           {"type": "plain", "text": ""}]),
         tl(28, "Hi 😀 end", entities=[types.MessageEntityBold(6, 3)])),
        # An entity starting inside the previous one is dropped by the exporter.
        (ex(29, **frm(ALICE), **text_fields({"type": "bold", "text": "all bold"}, " tail")),
         tl(29, "all bold tail", entities=[types.MessageEntityBold(0, 8), types.MessageEntityItalic(4, 4)])),
        (ex(30, **frm(BOB), forwarded_from="Dev News", forwarded_from_id="channel1987654321",
            **text_fields("from a channel")),
         tl(30, "from a channel", sender=BOB, fwd_from=types.MessageFwdHeader(
             date=when(0), from_id=types.PeerChannel(1987654321), channel_post=77))),
    ]


def test_export_and_telethon_give_identical_rows(engine, storage_dir, tmp_path):
    pairs = cases()
    export = {"name": "Parity Group", "type": "private_supergroup", "id": GROUP.id, "messages": [e for e, _ in pairs]}
    path = tmp_path / "export" / "result.json"
    path.parent.mkdir()
    path.write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")

    # A single-chat export does not name its account: the import is told (Telethon knows it from get_me).
    ingest(engine, DesktopExportSource(path, account_id=ME.id), storage_dir)
    exported = snapshot(engine, ("telegram_messages", "telegram_files"), exclude={"raw", "content_hash"})
    assert len(exported["telegram_messages"]) == len(pairs)

    truncate_all(engine)
    news = f.channel(1987654321, "Dev News", megagroup=False)
    client = f.FakeTelegramClient(me=ME, dialogs=[GROUP], others=[ALICE, BOB, BOT, news],
                                  messages={CHAT_ID: [t for _, t in pairs]})
    config = make_config(allowed=parse_allowed_chats(str(CHAT_ID)), media_types=frozenset(), participants=False)
    asyncio.run(TelethonSource(client, DatabaseSyncStore(engine, storage_dir), config, sleep=NoSleep()).sync_all())
    synced = snapshot(engine, ("telegram_messages", "telegram_files"), exclude={"raw", "content_hash"})

    for table in ("telegram_messages", "telegram_files"):
        by_key = lambda rows: {dict(r)["message_id"] + ("" if table == "telegram_messages" else dict(r)["kind"]): dict(r)  # noqa: E731
                               for r in rows}
        a, b = by_key(exported[table]), by_key(synced[table])
        assert a.keys() == b.keys(), table
        diffs = {k: {c: (a[k][c], b[k][c]) for c in a[k] if a[k][c] != b[k][c]} for k in a}
        assert not {k: d for k, d in diffs.items() if d}, f"{table} differs (export, telethon): {diffs}"


# -- forum topics and reactions: the hand-written forum export (its README says what it holds) and its TL twin -----
FORUM_EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "telegram-desktop-exports" / "hand-written" \
    / "forum_reactions.result.json"


def forum_tl() -> tuple[types.Channel, list]:
    forum = f.channel(1666000222, "Builders Forum")
    forum.forum = True

    def topic(msg_id: int, top: int | None = None) -> types.MessageReplyHeader:
        return types.MessageReplyHeader(forum_topic=True, reply_to_msg_id=msg_id, reply_to_top_id=top)

    def reacted(*results, recent=()) -> types.MessageReactions:
        return types.MessageReactions(
            results=[types.ReactionCount(reaction=r, count=n) for r, n in results],
            recent_reactions=[types.MessagePeerReaction(peer_id=types.PeerUser(u.id), date=f.T0 + timedelta(minutes=t),
                                                        reaction=r) for u, t, r in recent])

    thumbs, fire = types.ReactionEmoji(emoticon="👍"), types.ReactionEmoji(emoticon="🔥")
    msgs = [
        f.message(1, forum, "hello before topics", sender=ALICE),
        f.service(2, forum, types.MessageActionTopicCreate(title="Releases", icon_color=0x6FB9F0), sender=ME),
        f.message(3, forum, "v1 is out", sender=BOB, reply_to=topic(2),
                  reactions=reacted((thumbs, 2), (types.ReactionPaid(), 5),
                                    recent=[(ALICE, 4, thumbs), (ME, 5, thumbs)])),
        f.message(4, forum, "general chatter", sender=ALICE),
        f.message(5, forum, "congrats", sender=ALICE, reply_to=topic(3, 2)),
        f.service(6, forum, types.MessageActionTopicCreate(title="Ideas", icon_color=0xFFD67E), sender=ALICE),
        f.message(7, forum, "idea: dark mode", sender=BOB, reply_to=topic(6),
                  reactions=reacted((fire, 3), recent=[(ALICE, 8, fire)])),
        f.service(8, forum, types.MessageActionTopicEdit(title="Releases 2024"), sender=ME, reply_to=topic(2)),
        f.message(9, forum, "answering in General", sender=ME, reply_to=types.MessageReplyHeader(reply_to_msg_id=4),
                  reactions=reacted((thumbs, 1), recent=[(BOB, 10, thumbs)])),
        f.message(10, forum, "+1", sender=ALICE, reply_to=topic(7, 6)),
    ]
    return forum, msgs


def test_forum_topics_and_reactions_are_identical_from_both_sources(engine, storage_dir):
    tables = ("telegram_messages", "telegram_files", "telegram_topics")
    # icon_color: Telegram Desktop does not export it; the dates of the topics are the service messages' dates.
    exclude = {"raw", "content_hash", "icon_color"}
    ingest(engine, DesktopExportSource(FORUM_EXPORT), storage_dir)
    exported = snapshot(engine, tables, exclude=exclude)

    truncate_all(engine)
    forum, msgs = forum_tl()
    client = f.FakeTelegramClient(me=ME, dialogs=[forum], others=[ALICE, BOB], messages={-1001666000222: msgs})
    config = make_config(allowed=parse_allowed_chats("-1001666000222"), media_types=frozenset(), participants=False)
    asyncio.run(TelethonSource(client, DatabaseSyncStore(engine, storage_dir), config, sleep=NoSleep()).sync_all())
    synced = snapshot(engine, tables, exclude=exclude)

    assert synced == exported
    rows = {dict(r)["message_id"]: dict(r) for r in synced["telegram_messages"]}
    assert {i: r["topic_id"] for i, r in rows.items()} == {
        "1": "1", "2": "2", "3": "2", "4": "1", "5": "2", "6": "6", "7": "6", "8": "2", "9": "1", "10": "6"}
    assert {dict(t)["topic_id"]: dict(t)["title"] for t in synced["telegram_topics"]} == {
        "1": "'General'", "2": "'Releases 2024'", "6": "'Ideas'"}
