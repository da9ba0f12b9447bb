"""A small Telegram world (users, a supergroup, a basic group, a channel, a private chat) as real TL
objects, served by ``FakeTelegramClient``; and a row snapshot of every table for exact comparisons."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from telethon.tl import types

from telegram_intel.sources.telethon.config import TelegramConfig, parse_allowed_chats
from telegram_intel_tests.support import telethon_fakes as f

ME = f.user(111, "Owner", "Person", "owner", is_self=True)
ALICE = f.user(333, "Alice", "Smith", "alice", lang="en")
BOB = f.user(444, "Bob")
BOT = f.user(555, "Helper", None, "helper_bot", bot=True)
GHOST = f.user(666, None)  # a deleted account: no name
STRANGER = f.user(777, "Stranger", None, "stranger")
DEV = f.channel(1234567890, "Dev Chat", username="devchat")
FAMILY = f.group(2222, "Family")
NEWS = f.channel(1987654321, "News", megagroup=False, username="newsch")
SENDERS = [ALICE, BOB, GHOST, ALICE, ME]

DEV_ID, FAMILY_ID, NEWS_ID = -1001234567890, -2222, -1001987654321
ALLOWED = f"{DEV_ID}, {FAMILY_ID}, @NewsCh"


def dev_message(i: int):
    """Message ``i`` of the supergroup: every kind of content, cycling."""
    who = SENDERS[i % len(SENDERS)]
    k = i % 20
    if k == 0:
        return f.service(i, DEV, types.MessageActionChatAddUser(users=[BOB.id]), sender=ALICE)
    if k == 19:
        return f.service(i, DEV, types.MessageActionPinMessage(), sender=BOB,
                         reply_to=types.MessageReplyHeader(reply_to_msg_id=i - 2))
    if k == 2:
        text = f"Привет 😀 bold {i} see https://example.org and @alice"
        return f.message(i, DEV, text, sender=who, entities=[
            types.MessageEntityBold(offset=10, length=4 + len(str(i)) + 1),
            types.MessageEntityUrl(offset=text.index("https") + 1, length=19),
            types.MessageEntityMention(offset=text.index("@alice") + 1, length=6),
        ])
    if k == 3:
        return f.message(i, DEV, f"reply {i}", sender=who, reply_to=types.MessageReplyHeader(reply_to_msg_id=i - 1))
    if k == 4:
        return f.message(i, DEV, f"fwd {i}", sender=who,
                         fwd_from=types.MessageFwdHeader(date=f.T0 - timedelta(days=2), from_id=types.PeerUser(BOB.id)))
    if k == 14:
        return f.message(i, DEV, f"hidden fwd {i}", sender=who,
                         fwd_from=types.MessageFwdHeader(date=f.T0 - timedelta(days=3), from_name="Hidden Person"))
    media = {5: "photo", 6: "voice", 7: "video_note", 8: "sticker", 9: "video", 10: "document"}.get(k)
    if media == "photo":
        ref = b"expired" if i == 25 else b"ref"
        return f.message(i, DEV, f"photo {i}", sender=who, media=f.photo_media(10_000 + i, ref=ref))
    if media:
        size = 30 * 1024 * 1024 if (media == "document" and i % 40 == 10) else 4096
        return f.message(i, DEV, "", sender=who, media=f.doc_media(20_000 + i, media, size=size))
    if k == 11:
        markup = types.ReplyInlineMarkup(rows=[types.KeyboardInlineButtonRow(buttons=[
            types.KeyboardInlineButton(text="Open", type=types.InlineButtonTypeUrl(url="https://example.org")),
            types.KeyboardInlineButton(text="Vote", type=types.InlineButtonTypeCallback(data=b"vote:1")),
        ])])
        return f.message(i, DEV, f"via bot {i}", sender=ALICE, via_bot_id=BOT.id, reply_markup=markup)
    if k == 12:
        poll = types.Poll(id=i, question=types.TextWithEntities(text="Lunch?", entities=[]), hash=0, answers=[
            types.PollAnswer(text=types.TextWithEntities(text="Yes", entities=[]), option=b"0")])
        return f.message(i, DEV, "", sender=who, media=types.MessageMediaPoll(poll=poll, results=types.PollResults()))
    if k == 13:
        geo = types.GeoPoint(long=28.97, lat=41.01, access_hash=0)
        return f.message(i, DEV, "", sender=who, media=types.MessageMediaGeo(geo=geo))
    if k == 15:
        return f.message(i, DEV, f"edited {i}", sender=who, edit_date=f.T0 + timedelta(minutes=i, seconds=30))
    if k == 16:
        reactions = types.MessageReactions(results=[
            types.ReactionCount(reaction=types.ReactionEmoji("👍"), count=3),
            types.ReactionCount(reaction=types.ReactionCustomEmoji(5368324170671202286), count=1)])
        return f.message(i, DEV, f"liked {i}", sender=who, reactions=reactions)
    if k in (17, 18):
        return f.message(i, DEV, "album" if k == 17 else "", sender=who, grouped_id=9_000 + i - (k - 17),
                         media=f.photo_media(10_000 + i))
    return f.message(i, DEV, f"hello {i}", sender=who)


def build_client(dev_count: int = 230) -> f.FakeTelegramClient:
    messages = {
        DEV_ID: [dev_message(i) for i in range(1, dev_count + 1)],
        FAMILY_ID: [f.message(5000 + i, FAMILY, f"family {i}", sender=[ALICE, ME][i % 2]) for i in range(1, 13)]
        + [f.service(5013, FAMILY, types.MessageActionChatEditTitle(title="Family ❤"), sender=ME)],
        NEWS_ID: [f.message(i, NEWS, f"post {i}", post=True, views=100 + i) for i in range(1, 31)],
        STRANGER.id: [f.message(6000 + i, STRANGER, f"private {i}", sender=STRANGER) for i in range(1, 6)],
    }
    return f.FakeTelegramClient(
        me=ME,
        dialogs=[DEV, FAMILY, NEWS, STRANGER],
        others=[ALICE, BOB, BOT, GHOST],
        messages=messages,
        participants={DEV_ID: [ALICE, BOB, BOT, GHOST, ME], FAMILY_ID: [ALICE, ME]},
        bios={ALICE.id: "Interior architect in Istanbul"},
        members_count={DEV_ID: 5, NEWS_ID: 1200},
    )


def make_config(**overrides) -> TelegramConfig:
    values = dict(
        api_id=12345, api_hash="0123456789abcdef0123456789abcdef", session="/nonexistent/test.session",
        allowed=parse_allowed_chats(ALLOWED), enabled=True,
        media_types=frozenset({"photo", "voice", "video_note", "document"}), media_max_bytes=20 * 1024 * 1024,
    )
    values.update(overrides)
    return TelegramConfig(**values)


@pytest.fixture
def client() -> f.FakeTelegramClient:
    return build_client()


@pytest.fixture
def config() -> TelegramConfig:
    return make_config()


class NoSleep:
    """Replaces asyncio.sleep in the source: records the waits, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def no_sleep() -> NoSleep:
    return NoSleep()


_VOLATILE = {"created_at", "updated_at", "last_scanned_at", "recorded_at", "id"}
TABLES = ("telegram_chats", "telegram_users", "telegram_messages", "telegram_message_edits", "telegram_files",
          "telegram_sync_cursors")


def snapshot(engine, tables=TABLES, exclude: set[str] = frozenset()) -> dict[str, list[tuple]]:
    """Every row of the given tables (without surrogate ids and bookkeeping timestamps), sorted."""
    inspector = sa.inspect(engine)
    out = {}
    with engine.connect() as conn:
        for table in tables:
            cols = [c["name"] for c in inspector.get_columns(table) if c["name"] not in _VOLATILE | set(exclude)]
            rows = conn.execute(sa.text(f"SELECT {', '.join(cols)} FROM {table}")).mappings().all()
            out[table] = sorted((tuple((k, repr(v)) for k, v in sorted(r.items())) for r in rows))
    return out
