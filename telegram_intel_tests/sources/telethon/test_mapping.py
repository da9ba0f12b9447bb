"""lib/telethon_map.py on real TL objects (no database)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from telethon.tl import types

from telegram_intel.lib.records import MEDIA_TYPES
from telegram_intel.sources.telethon import mapping as tm
from telegram_intel_tests.support import telethon_fakes as f
from telegram_intel_tests.support.telethon import (
    ALICE,
    BOB,
    BOT,
    DEV,
    FAMILY,
    GHOST,
    ME,
    NEWS,
)


def test_text_runs_follow_the_desktop_exporter():
    text = "a😀b bold tail"
    runs = tm.text_parts(text, [types.MessageEntityBold(5, 4)])
    assert runs == [{"type": "plain", "text": "a😀b "}, {"type": "bold", "text": "bold"},
                    {"type": "plain", "text": " tail"}]
    # nested/overlapping entities are dropped; zero-length ones too
    runs = tm.text_parts("abcdef", [types.MessageEntityBold(0, 4), types.MessageEntityItalic(2, 3),
                                    types.MessageEntityCode(5, 0)])
    assert runs == [{"type": "bold", "text": "abcd"}, {"type": "plain", "text": "ef"}]
    assert tm.text_parts("", None) == []
    assert tm.entities_column(tm.text_parts("plain only", [])) is None


def test_entity_attributes_and_utf16_offsets():
    text = "😀 docs @x code"
    ents = [types.MessageEntityTextUrl(3, 4, url="https://d"), types.MessageEntityMentionName(8, 2, user_id=42),
            types.MessageEntityPre(11, 4, language="py"), types.MessageEntityCustomEmoji(0, 2, document_id=77),
            types.MessageEntityBlockquote(0, 1, collapsed=True)]
    ents.sort(key=lambda e: e.offset)
    col = tm.entities_column(tm.text_parts(text, ents))
    assert col == [
        {"type": "custom_emoji", "text": "😀", "document_id": "77", "offset": 0, "length": 2},
        {"type": "text_link", "text": "docs", "href": "https://d", "offset": 3, "length": 4},
        {"type": "mention_name", "text": "@x", "user_id": 42, "offset": 8, "length": 2},
        {"type": "pre", "text": "code", "language": "py", "offset": 11, "length": 4},
    ]


@pytest.mark.parametrize("kind, media_type, mime, duration", [
    ("voice", "voice", "audio/ogg", 7),
    ("video_note", "video_note", "video/mp4", 5),
    ("video", "video", "video/mp4", 12),
    ("animation", "animation", "video/mp4", 2),
    ("sticker", "sticker", "image/webp", None),
    ("audio", "audio", "audio/mpeg", 201),
    ("document", "document", "application/pdf", None),
])
def test_document_media_types(kind, media_type, mime, duration):
    rec = tm.message_record(f.message(1, DEV, "", sender=ALICE, media=f.doc_media(9, kind)))
    assert (rec.media_type, rec.mime_type, rec.duration_seconds) == (media_type, mime, duration)
    assert rec.media_type in MEDIA_TYPES
    (file,) = rec.files
    assert file.kind == "file" and file.status == "pending" and file.size == 4096


def test_other_media():
    geo = types.GeoPoint(long=1.0, lat=2.0, access_hash=0)
    for media, expected in [
        (f.photo_media(1), "photo"),
        (types.MessageMediaGeo(geo=geo), "location"),
        (types.MessageMediaGeoLive(geo=geo, period=60), "location"),
        (types.MessageMediaVenue(geo=geo, title="t", address="a", provider="", venue_id="", venue_type=""), "venue"),
        (types.MessageMediaContact(phone_number="1", first_name="C", last_name="", vcard="", user_id=0), "contact"),
        (types.MessageMediaDice(value=3, emoticon="🎲"), "dice"),
        (types.MessageMediaUnsupported(), "other"),
        (types.MessageMediaWebPage(webpage=types.WebPageEmpty(id=1)), None),
    ]:
        rec = tm.message_record(f.message(1, DEV, "x", sender=ALICE, media=media))
        assert rec.media_type == expected, media
    photo = tm.message_record(f.message(1, DEV, "", sender=ALICE, media=f.photo_media(5))).files[0]
    assert (photo.kind, photo.width, photo.height, photo.size) == ("photo", 1280, 960, 145_000)


@pytest.mark.parametrize("action, name", [
    (types.MessageActionChatCreate(title="t", users=[1]), "create_group"),
    (types.MessageActionChatAddUser(users=[1]), "invite_members"),
    (types.MessageActionChatDeleteUser(user_id=1), "remove_members"),
    (types.MessageActionChatJoinedByLink(inviter_id=1), "join_group_by_link"),
    (types.MessageActionChatEditTitle(title="t"), "edit_group_title"),
    (types.MessageActionPinMessage(), "pin_message"),
    (types.MessageActionChannelMigrateFrom(title="t", chat_id=1), "migrate_from_group"),
    (types.MessageActionChatMigrateTo(channel_id=1), "migrate_to_supergroup"),
    (types.MessageActionPhoneCall(call_id=1, duration=65), "phone_call"),
    (types.MessageActionSetChatWallPaper(wallpaper=types.WallPaperNoFile(id=1, settings=None), same=True),
     "set_same_chat_wallpaper"),
    (types.MessageActionHistoryClear(), "clear_history"),
    (types.MessageActionChatJoinedViaCommunity(community_id=5), "chat_joined_via_community"),  # TL name
])
def test_service_action_names(action, name):
    rec = tm.message_record(f.service(3, DEV, action, sender=BOB))
    assert (rec.kind, rec.action, rec.actor_id, rec.sender_id, rec.text, rec.entities) == (
        "service", name, BOB.id, BOB.id, "", None)
    if isinstance(action, types.MessageActionPhoneCall):
        assert rec.duration_seconds == 65


def test_authors_names_forwards_and_replies():
    # channel post: no from_id, the channel is the author
    post = tm.message_record(f.message(1, NEWS, "post", post=True), {-1001987654321: NEWS})
    assert (post.sender_id, post.sender_name) == (-1001987654321, "News")
    # deleted account: no name; unknown forward origin keeps "this is a forward"
    rec = tm.message_record(f.message(2, DEV, "x", sender=GHOST, fwd_from=types.MessageFwdHeader(
        date=f.T0, from_id=types.PeerUser(999))), {GHOST.id: GHOST})
    assert (rec.sender_id, rec.sender_name, rec.forwarded_from, rec.forwarded_from_id) == (666, None, "", 999)
    # a reply into another chat keeps the other chat's id
    rec = tm.message_record(f.message(3, DEV, "x", sender=ALICE, reply_to=types.MessageReplyHeader(
        reply_to_msg_id=7, reply_to_peer_id=types.PeerChannel(42))))
    assert (rec.reply_to_message_id, rec.reply_to_peer_id) == (7, -1000000000042)
    saved = tm.message_record(f.message(4, ME, "x", sender=ME, fwd_from=types.MessageFwdHeader(
        date=f.T0, from_id=types.PeerUser(ALICE.id), saved_from_peer=types.PeerChannel(1234567890))),
        {ALICE.id: ALICE, -1001234567890: DEV})
    assert (saved.forwarded_from, saved.saved_from) == ("Alice Smith", "Dev Chat")
    via = tm.message_record(f.message(5, DEV, "x", sender=ALICE, via_bot_id=BOT.id), {BOT.id: BOT})
    assert via.via_bot == "@helper_bot"


def test_dates_are_utc_aware_and_raw_is_json():
    naive = datetime(2024, 1, 2, 3, 4, 5)
    rec = tm.message_record(f.message(1, DEV, "x", sender=ALICE, date=naive, edit_date=naive + timedelta(hours=1),
                                      media=f.photo_media(3)))
    assert rec.date == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert rec.edit_date.tzinfo is not None
    json.dumps(rec.raw)  # bytes (file references) became base64, datetimes ISO strings
    assert rec.raw["media"]["photo"]["file_reference"] == "cmVm"
    assert rec.raw["date"].startswith("2024-01-02T03:04:05")
    assert tm.message_record(types.MessageEmpty(id=5, peer_id=None)) is None


def test_chat_and_user_records():
    assert [tm.chat_type(e) for e in (ALICE, BOT, ME, FAMILY, DEV, NEWS)] == [
        "private", "bot", "saved", "group", "supergroup", "channel"]
    rec = tm.chat_record(DEV, members_count=12)
    assert (rec.chat_id, rec.title, rec.username, rec.members_count, rec.source) == (
        -1001234567890, "Dev Chat", "devchat", 12, "telethon")
    assert tm.chat_record(ALICE).title == "Alice Smith" and tm.chat_record(FAMILY).members_count == 3
    user = tm.user_record(ALICE, bio="hi")
    assert (user.user_id, user.display_name, user.is_bot, user.bio) == (333, "Alice Smith", False, "hi")
    assert tm.user_record(GHOST).display_name is None


def test_username_from_the_usernames_list():
    """Accounts with collectible usernames have ``username=None`` and their names in ``usernames``: the first
    active one is the @username (it was left empty, so the web UI's username column stayed blank)."""
    user = types.User(id=777, first_name="Col", usernames=[types.Username("retired", active=False),
                                                            types.Username("collector", active=True)])
    assert tm.user_record(user).username == "collector"
    assert tm.user_record(types.User(id=778, first_name="No", usernames=[
        types.Username("gone", active=False)])).username is None
    channel = types.Channel(id=99, title="News", photo=types.ChatPhotoEmpty(), date=None, broadcast=True,
                            usernames=[types.Username("newsroom", editable=True, active=True)])
    assert tm.chat_record(channel).username == "newsroom"


def test_reactions_and_buttons_in_export_shape():
    reactions = types.MessageReactions(
        results=[types.ReactionCount(reaction=types.ReactionEmoji("🔥"), count=2)],
        recent_reactions=[types.MessagePeerReaction(peer_id=types.PeerUser(ALICE.id), date=f.T0,
                                                    reaction=types.ReactionEmoji("🔥"))])
    rec = tm.message_record(f.message(1, DEV, "x", sender=BOB, reactions=reactions), {ALICE.id: ALICE})
    assert rec.reactions == [{"type": "emoji", "count": 2, "emoji": "🔥", "recent": [
        {"from": "Alice Smith", "from_id": "user333", "date": "2024-03-01T09:00:00"}]}]
    markup = types.ReplyInlineMarkup(rows=[types.KeyboardInlineButtonRow(buttons=[
        types.KeyboardInlineButton(text="Login", type=types.InlineButtonTypeUrlAuth(url="https://a", button_id=9)),
        types.KeyboardInlineButton(text="Share", type=types.InlineButtonTypeSwitchInline(query="q", same_peer=True)),
    ])])
    rec = tm.message_record(f.message(2, DEV, "x", sender=BOB, reply_markup=markup))
    assert rec.inline_buttons == [[{"type": "auth", "text": "Login", "data": "https://a", "button_id": 9},
                                   {"type": "switch_inline_same", "text": "Share", "data": "q"}]]
