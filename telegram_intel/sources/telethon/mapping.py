"""Telethon TL objects → normalized records (pure: no network, no Dagster, no database).

The target is what Telegram Desktop's JSON export writes for the same message, so that a
message imported from an export and the same message fetched by Telethon land as identical
rows. The rules below follow Telegram Desktop's exporter (``export_data_types.cpp`` /
``export_output_json.cpp``):

* the author is ``from_id`` or, when absent (channel posts, incoming private messages), the chat;
* ``text_entities`` are built by the exporter's ``ParseText``: runs in message order, an entity that
  starts inside the previous one is dropped, gaps become ``plain`` runs. The ``entities`` column holds
  the non-plain runs with their UTF-16 ``offset``/``length`` (the export parser's shape), or None;
* a document's media type is decided in the order sticker → round video → voice → animation →
  video → audio, and its duration is the last non-zero duration attribute, truncated to seconds;
* web page previews are not media; forwarded names come from the original author's peer, else from
  the header's ``from_name``; ``via_bot`` is ``@username``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from telethon import utils
from telethon.tl import types

from telegram_intel.lib.records import (
    GENERAL_TOPIC_ID,
    ChatRecord,
    FileRecord,
    MessageRecord,
    OwnerRecord,
    TopicRecord,
    UserRecord,
)

# Telethon entity objects by marked peer id (what the caller has seen: dialogs, participants, senders).
Peers = Mapping[int, Any]

_ENTITY_TYPES: dict[type, str] = {
    types.MessageEntityMention: "mention",
    types.MessageEntityHashtag: "hashtag",
    types.MessageEntityBotCommand: "bot_command",
    types.MessageEntityUrl: "link",
    types.MessageEntityEmail: "email",
    types.MessageEntityBold: "bold",
    types.MessageEntityItalic: "italic",
    types.MessageEntityCode: "code",
    types.MessageEntityPre: "pre",
    types.MessageEntityTextUrl: "text_link",
    types.MessageEntityMentionName: "mention_name",
    types.InputMessageEntityMentionName: "mention_name",
    types.MessageEntityPhone: "phone",
    types.MessageEntityCashtag: "cashtag",
    types.MessageEntityUnderline: "underline",
    types.MessageEntityStrike: "strikethrough",
    types.MessageEntityBlockquote: "blockquote",
    types.MessageEntityBankCard: "bank_card",
    types.MessageEntitySpoiler: "spoiler",
    types.MessageEntityCustomEmoji: "custom_emoji",
}

# Service actions as Telegram Desktop names them in exports. Actions it does not export
# fall back to the TL name in snake_case (MessageActionFooBar → "foo_bar").
_ACTIONS: dict[type, str] = {
    types.MessageActionChatCreate: "create_group",
    types.MessageActionChatEditTitle: "edit_group_title",
    types.MessageActionChatEditPhoto: "edit_group_photo",
    types.MessageActionChatDeletePhoto: "delete_group_photo",
    types.MessageActionChatAddUser: "invite_members",
    types.MessageActionChatDeleteUser: "remove_members",
    types.MessageActionChatJoinedByLink: "join_group_by_link",
    types.MessageActionChannelCreate: "create_channel",
    types.MessageActionChatMigrateTo: "migrate_to_supergroup",
    types.MessageActionChannelMigrateFrom: "migrate_from_group",
    types.MessageActionPinMessage: "pin_message",
    types.MessageActionHistoryClear: "clear_history",
    types.MessageActionGameScore: "score_in_game",
    types.MessageActionPaymentSent: "send_payment",
    types.MessageActionPhoneCall: "phone_call",
    types.MessageActionScreenshotTaken: "take_screenshot",
    types.MessageActionSecureValuesSent: "send_passport_values",
    types.MessageActionContactSignUp: "joined_telegram",
    types.MessageActionGeoProximityReached: "proximity_reached",
    types.MessageActionGroupCall: "group_call",
    types.MessageActionInviteToGroupCall: "invite_to_group_call",
    types.MessageActionSetMessagesTTL: "set_messages_ttl",
    types.MessageActionGroupCallScheduled: "group_call_scheduled",
    types.MessageActionSetChatTheme: "edit_chat_theme",
    types.MessageActionChatJoinedByRequest: "join_group_by_request",
    types.MessageActionWebViewDataSent: "send_webview_data",
    types.MessageActionGiftPremium: "send_premium_gift",
    types.MessageActionTopicCreate: "topic_created",
    types.MessageActionTopicEdit: "topic_edit",
    types.MessageActionSuggestProfilePhoto: "suggest_profile_photo",
    types.MessageActionRequestedPeer: "requested_peer",
    types.MessageActionGiftCode: "gift_code_prize",
    types.MessageActionGiveawayLaunch: "giveaway_launch",
    types.MessageActionGiveawayResults: "giveaway_results",
    types.MessageActionBoostApply: "boost_apply",
    types.MessageActionPaymentRefunded: "refunded_payment",
    types.MessageActionGiftStars: "send_stars_gift",
    types.MessageActionPrizeStars: "stars_prize",
    types.MessageActionStarGift: "send_star_gift",
}

# Actions whose export carries no "from"/"actor" (Telegram Desktop writes no actor_id for them).
_NO_ACTOR = (
    types.MessageActionPaymentSent,
    types.MessageActionSecureValuesSent,
    types.MessageActionGeoProximityReached,
    types.MessageActionWebViewDataSent,
    types.MessageActionBotAllowed,
    types.MessageActionGiftCode,
    types.MessageActionGiveawayLaunch,
    types.MessageActionGiveawayResults,
    types.MessageActionPaymentRefunded,
)

_INLINE_BUTTONS: dict[str, str] = {
    "InlineButtonTypeUrl": "url",
    "InlineButtonTypeCallback": "callback",
    "InlineButtonTypeSwitchInline": "switch_inline",
    "InlineButtonTypeGame": "game",
    "InlineButtonTypeBuy": "buy",
    "InlineButtonTypeUrlAuth": "auth",
    "InlineButtonTypeUserProfile": "user_profile",
    "InlineButtonTypeWebView": "web_view",
    "InlineButtonTypeCopy": "copy_text",
}


# -- small helpers -----------------------------------------------------------------------------
def utc(value: datetime | None) -> datetime | None:
    """Telethon dates are UTC; make sure they are tz-aware (naive ones are UTC by Telethon's contract)."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def marked_id(peer_or_entity: Any) -> int | None:
    if peer_or_entity is None:
        return None
    return utils.get_peer_id(peer_or_entity)


def display_name(entity: Any) -> str | None:
    """The name Telegram Desktop exports: "First Last" for users, the title for chats; None when empty."""
    if entity is None:
        return None
    if isinstance(entity, types.User):
        first, last = entity.first_name or "", entity.last_name or ""
        name = f"{first} {last}" if first and last else (first or last)
        return name or None
    return getattr(entity, "title", None) or None


def first_username(entity: Any) -> str | None:
    """The public @username: ``username``, or for an account with several (collectible usernames bought on
    Fragment, where Telegram leaves ``username`` empty) the first active one of ``usernames``."""
    name = getattr(entity, "username", None)
    if name:
        return name
    for u in getattr(entity, "usernames", None) or ():
        if getattr(u, "active", False) and getattr(u, "username", None):
            return u.username
    return None


def json_safe(value: Any) -> Any:
    """A Telethon ``to_dict()`` as JSON: bytes → base64, datetimes → ISO 8601; None fields dropped
    (they are the bulk of every TL dict and carry no information)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return utc(value).isoformat()
    return value


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# -- text --------------------------------------------------------------------------------------
def text_parts(text: str, entities: Iterable[Any] | None) -> list[dict[str, Any]]:
    """Telegram Desktop's ``ParseText``: the message as a list of runs (``text_entities`` in exports).

    Offsets are UTF-16 code units. Empty runs are dropped: the exporter emits a trailing empty
    ``plain`` run only as an artefact of mixing UTF-8 and UTF-16 lengths, and it carries nothing.
    """
    units = text.encode("utf-16-le")
    total = len(units) // 2
    # The exporter bounds-checks against the UTF-8 byte length (a quirk we keep for identical output).
    size = len(text.encode("utf-8"))

    def mid(start: int, length: int) -> str:
        return units[2 * start: 2 * min(start + length, total)].decode("utf-16-le", errors="replace")

    parts: list[dict[str, Any]] = []
    offset = 0

    def add_plain(till: int) -> None:
        nonlocal offset
        if till > offset:
            if piece := mid(offset, till - offset):
                parts.append({"type": "plain", "text": piece})
            offset = till

    for entity in entities or ():
        start, length = entity.offset, entity.length
        if start < offset or length <= 0 or start + length > size:
            continue  # nested/overlapping or out of range: the exporter skips these too
        add_plain(start)
        part: dict[str, Any] = {"type": _ENTITY_TYPES.get(type(entity), "unknown"), "text": mid(start, length)}
        if isinstance(entity, types.MessageEntityPre):
            part["language"] = entity.language or ""
        elif isinstance(entity, types.MessageEntityTextUrl):
            part["href"] = entity.url
        elif isinstance(entity, (types.MessageEntityMentionName, types.InputMessageEntityMentionName)):
            part["user_id"] = getattr(entity.user_id, "user_id", entity.user_id)  # InputUser or int
        elif isinstance(entity, types.MessageEntityCustomEmoji):
            part["document_id"] = str(entity.document_id)
        if isinstance(entity, types.MessageEntityBlockquote) and entity.collapsed:
            part["collapsed"] = True
        if part["text"]:
            parts.append(part)
        offset = min(start + length, total)
    add_plain(total)
    return parts


def entities_column(parts: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Runs → the ``entities`` column: non-plain runs plus their UTF-16 ``offset``/``length``."""
    out = []
    offset = 0
    for part in parts:
        n = len(part["text"].encode("utf-16-le")) // 2
        if part["type"] != "plain":
            out.append({**part, "offset": offset, "length": n})
        offset += n
    return out or None


# -- media -------------------------------------------------------------------------------------
def _largest_photo_size(photo: Any) -> tuple[int | None, int | None, int | None]:
    best: tuple[int, int | None, int | None, int | None] = (0, None, None, None)
    for size in getattr(photo, "sizes", None) or ():
        w, h = getattr(size, "w", None), getattr(size, "h", None)
        if not w or not h or isinstance(size, (types.PhotoStrippedSize, types.PhotoPathSize)):
            continue
        if isinstance(size, types.PhotoSizeProgressive):
            nbytes = size.sizes[-1] if size.sizes else None
        elif isinstance(size, types.PhotoCachedSize):
            nbytes = len(size.bytes)
        else:
            nbytes = getattr(size, "size", None)
        if w * h > best[0]:
            best = (w * h, w, h, nbytes)
    return best[1], best[2], best[3]


def _document_info(doc: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"sticker": False, "round": False, "voice": False, "animated": False,
                            "video": False, "audio": False, "duration": 0, "width": None, "height": None,
                            "file_name": None}
    for attr in doc.attributes or ():
        if isinstance(attr, types.DocumentAttributeImageSize):
            info["width"], info["height"] = attr.w, attr.h
        elif isinstance(attr, types.DocumentAttributeAnimated):
            info["animated"] = True
        elif isinstance(attr, (types.DocumentAttributeSticker, types.DocumentAttributeCustomEmoji)):
            info["sticker"] = True
        elif isinstance(attr, types.DocumentAttributeVideo):
            info["round" if attr.round_message else "video"] = True
            info["width"], info["height"] = attr.w, attr.h
            info["duration"] = int(attr.duration or 0)
        elif isinstance(attr, types.DocumentAttributeAudio):
            info["voice" if attr.voice else "audio"] = True
            info["duration"] = int(attr.duration or 0)
        elif isinstance(attr, types.DocumentAttributeFilename):
            info["file_name"] = attr.file_name
    return info


def _document_media_type(info: dict[str, Any]) -> str:
    for flag, name in (("sticker", "sticker"), ("round", "video_note"), ("voice", "voice"),
                       ("animated", "animation"), ("video", "video"), ("audio", "audio")):
        if info[flag]:
            return name
    return "document"


def media_fields(media: Any) -> tuple[str | None, str | None, int | None, list[FileRecord]]:
    """(media_type, mime_type, duration_seconds, files) for a message's media.

    Files start as ``pending``; the sync fills them in when it downloads them.
    """
    if media is None or isinstance(media, (types.MessageMediaEmpty, types.MessageMediaWebPage)):
        return None, None, None, []
    if isinstance(media, types.MessageMediaPhoto):
        files = []
        if isinstance(media.photo, types.Photo):
            w, h, size = _largest_photo_size(media.photo)
            files.append(FileRecord(kind="photo", status="pending", size=size, width=w, height=h))
        return "photo", None, None, files
    if isinstance(media, types.MessageMediaDocument):
        doc = media.document
        if not isinstance(doc, types.Document):
            return "document", None, None, []
        info = _document_info(doc)
        duration = info["duration"] or None
        file = FileRecord(kind="file", status="pending", file_name=info["file_name"], mime_type=doc.mime_type or None,
                          size=doc.size, width=info["width"], height=info["height"], duration_seconds=duration)
        return _document_media_type(info), doc.mime_type or None, duration, [file]
    simple = {
        types.MessageMediaContact: "contact",
        types.MessageMediaGeo: "location",
        types.MessageMediaGeoLive: "location",
        types.MessageMediaVenue: "venue",
        types.MessageMediaGame: "game",
        types.MessageMediaInvoice: "invoice",
        types.MessageMediaPoll: "poll",
        types.MessageMediaDice: "dice",
        types.MessageMediaToDo: "todo_list",
        types.MessageMediaGiveaway: "giveaway",
        types.MessageMediaGiveawayResults: "giveaway",
    }
    return simple.get(type(media), "other"), None, None, []


# -- the other columns -------------------------------------------------------------------------
def export_peer_ref(pid: int) -> str:
    """Marked id → the exporter's ``user123``/``chat123``/``channel123`` form."""
    real, kind = utils.resolve_id(pid)
    return {types.PeerUser: "user", types.PeerChat: "chat", types.PeerChannel: "channel"}[kind] + str(real)


def reactions_list(reactions: Any, name_of) -> list[dict[str, Any]] | None:
    """Reactions as the export writes them; ``recent`` dates in UTC (the exporter uses its local zone)."""
    if not isinstance(reactions, types.MessageReactions) or not reactions.results:
        return None
    out = []
    for rc in reactions.results:
        r = rc.reaction
        if isinstance(r, types.ReactionEmoji):
            item: dict[str, Any] = {"type": "emoji", "count": rc.count, "emoji": r.emoticon}
        elif isinstance(r, types.ReactionCustomEmoji):
            item = {"type": "custom_emoji", "count": rc.count, "document_id": str(r.document_id)}
        elif isinstance(r, types.ReactionPaid):
            item = {"type": "paid", "count": rc.count}
        else:
            continue
        recent = [
            {"from": name_of(marked_id(p.peer_id)), "from_id": export_peer_ref(marked_id(p.peer_id)),
             "date": utc(p.date).replace(tzinfo=None).isoformat()}
            for p in reactions.recent_reactions or ()
            if p.reaction == r
        ]
        if recent:
            item["recent"] = recent
        out.append(item)
    return out or None


def inline_buttons(markup: Any) -> list[list[dict[str, Any]]] | None:
    if not isinstance(markup, types.ReplyInlineMarkup):
        return None
    rows = []
    for row in markup.rows:
        out = []
        for button in row.buttons:
            kind = getattr(button, "type", None)
            name = _INLINE_BUTTONS.get(type(kind).__name__, "default")
            item: dict[str, Any] = {"type": name}
            if getattr(button, "text", None):
                item["text"] = button.text
            if isinstance(kind, types.InlineButtonTypeCallback):
                if kind.requires_password:
                    item["type"] = "callback_with_password"
                if kind.data:
                    item["dataBase64"] = base64.urlsafe_b64encode(kind.data).decode().rstrip("=")
                    item["data"] = ""
            elif isinstance(kind, types.InlineButtonTypeSwitchInline):
                if kind.same_peer:
                    item["type"] = "switch_inline_same"
                if kind.query:
                    item["data"] = kind.query
            elif isinstance(kind, (types.InlineButtonTypeUrl, types.InlineButtonTypeWebView)):
                item["data"] = kind.url
            elif isinstance(kind, types.InlineButtonTypeUrlAuth):
                item["data"] = kind.url
                if kind.fwd_text:
                    item["forward_text"] = kind.fwd_text
                item["button_id"] = kind.button_id
            elif isinstance(kind, types.InlineButtonTypeUserProfile):
                item["data"] = str(kind.user_id)
            elif isinstance(kind, types.InlineButtonTypeCopy):
                item["data"] = kind.copy_text
            out.append(item)
        if out:
            rows.append(out)
    return rows or None


def action_name(action: Any) -> str | None:
    if action is None or isinstance(action, types.MessageActionEmpty):
        return None
    if isinstance(action, types.MessageActionBotAllowed):
        if action.attach_menu:
            return "attach_menu_bot_allowed"
        return "web_app_bot_allowed" if action.from_request else "allow_sending_messages"
    if isinstance(action, types.MessageActionSetChatWallPaper):
        return "set_same_chat_wallpaper" if action.same else "set_chat_wallpaper"
    if isinstance(action, types.MessageActionCustomAction):
        return "custom_action"
    name = _ACTIONS.get(type(action))
    return name or _snake(type(action).__name__.removeprefix("MessageAction"))


def _known_entities(msg: Any, peers: Peers | None) -> dict[int, Any]:
    """Entities Telethon attached to the message (after ``_finish_init``) plus the caller's cache."""
    known: dict[int, Any] = dict(peers or {})
    candidates = [getattr(msg, "_sender", None), getattr(msg, "_chat", None), getattr(msg, "_via_bot", None)]
    fwd = getattr(msg, "_forward", None)
    if fwd is not None:
        candidates += [getattr(fwd, "_sender", None), getattr(fwd, "_chat", None)]
    candidates += [e for e in getattr(msg, "_action_entities", None) or () if e is not None]
    for entity in candidates:
        if isinstance(entity, (types.User, types.Chat, types.Channel, types.ChatForbidden, types.ChannelForbidden)):
            known.setdefault(utils.get_peer_id(entity), entity)
    return known


def is_forum(entity: Any) -> bool:
    return isinstance(entity, types.Channel) and bool(entity.megagroup) and bool(getattr(entity, "forum", False))


def topic_id(msg: Any, known: Mapping[int, Any]) -> int | None:
    """The forum topic of a message: the topic's creation message id; General (1) for the rest of a forum."""
    if isinstance(msg, types.MessageService) and isinstance(msg.action, types.MessageActionTopicCreate):
        return msg.id
    reply = msg.reply_to if isinstance(msg.reply_to, types.MessageReplyHeader) else None
    if reply is not None and reply.forum_topic and reply.reply_to_peer_id is None:
        # A message opening the topic's thread replies to the creation message itself (no top id).
        return reply.reply_to_top_id or reply.reply_to_msg_id
    return GENERAL_TOPIC_ID if is_forum(known.get(marked_id(msg.peer_id))) else None


def general_topic(chat_id: int) -> TopicRecord:
    """General: every forum has it, without a creation message (the export parser yields the same)."""
    return TopicRecord(chat_id, GENERAL_TOPIC_ID, title="General")


def topic_record(msg: Any) -> TopicRecord | None:
    """A topic creation / edit service message → its TopicRecord (the export parser's fields)."""
    if not isinstance(msg, types.MessageService):
        return None
    action = msg.action
    if isinstance(action, types.MessageActionTopicCreate):
        return TopicRecord(marked_id(msg.peer_id), msg.id, title=action.title or None,
                           icon_emoji_id=action.icon_emoji_id, icon_color=action.icon_color,
                           creator_id=marked_id(msg.from_id), date=utc(msg.date))
    if isinstance(action, types.MessageActionTopicEdit):
        topic = topic_id(msg, {}) or GENERAL_TOPIC_ID  # an edit outside any thread is General's
        return TopicRecord(marked_id(msg.peer_id), topic, title=action.title or None,
                           icon_emoji_id=action.icon_emoji_id or None, date=utc(msg.date), edited=True)
    return None


def post_of(msg: Any) -> tuple[int, int] | None:
    """A discussion group's copy of a channel post (Telegram forwards each post there automatically) → the post's
    key (marked channel id, message id)."""
    fwd = getattr(msg, "fwd_from", None)
    if fwd is None or not fwd.channel_post or not isinstance(fwd.saved_from_peer, types.PeerChannel):
        return None
    if not fwd.saved_from_msg_id or not isinstance(msg.peer_id, types.PeerChannel):
        return None
    return marked_id(fwd.saved_from_peer), fwd.saved_from_msg_id


def message_record(msg: Any, peers: Peers | None = None) -> MessageRecord | None:
    """One Telethon ``Message``/``MessageService`` → MessageRecord (None for ``MessageEmpty``)."""
    if not isinstance(msg, (types.Message, types.MessageService)):
        return None
    known = _known_entities(msg, peers)

    def name_of(pid: int | None) -> str | None:
        return display_name(known.get(pid)) if pid is not None else None

    chat_id = marked_id(msg.peer_id)
    author = marked_id(msg.from_id) if msg.from_id is not None else chat_id
    service = isinstance(msg, types.MessageService)
    rec = MessageRecord(
        chat_id=chat_id,
        message_id=msg.id,
        date=utc(msg.date),
        kind="service" if service else "message",
        raw=json_safe(msg.to_dict()),
    )
    reply = msg.reply_to if isinstance(msg.reply_to, types.MessageReplyHeader) else None
    if reply is not None and reply.reply_to_msg_id:
        rec.reply_to_message_id = reply.reply_to_msg_id
        reply_peer = marked_id(reply.reply_to_peer_id)
        rec.reply_to_peer_id = reply_peer if reply_peer != chat_id else None
    rec.topic_id = topic_id(msg, known)

    if service:
        action = msg.action
        rec.action = action_name(action)
        if not isinstance(action, _NO_ACTOR):
            rec.sender_id = rec.actor_id = author
            rec.sender_name = name_of(author)
        if isinstance(action, types.MessageActionPhoneCall) and action.duration:
            rec.duration_seconds = action.duration  # the export writes it as duration_seconds
        photo = getattr(action, "photo", None)
        if isinstance(photo, types.Photo):  # new group photo / suggested profile photo
            w, h, size = _largest_photo_size(photo)
            rec.files.append(FileRecord(kind="photo", status="pending", size=size, width=w, height=h))
        return rec

    rec.sender_id = author
    rec.sender_name = name_of(author)
    rec.edit_date = utc(msg.edit_date)
    rec.text = msg.message or ""
    rec.entities = entities_column(text_parts(rec.text, msg.entities))
    if msg.fwd_from is not None:
        fwd_id = marked_id(msg.fwd_from.from_id)
        if fwd_id is not None:
            # "" (not None) when the origin's name is unknown: still a forward, as the export parser keeps it.
            rec.forwarded_from, rec.forwarded_from_id = name_of(fwd_id) or "", fwd_id
        elif msg.fwd_from.from_name:
            rec.forwarded_from = msg.fwd_from.from_name
        if msg.fwd_from.saved_from_peer is not None:
            rec.saved_from = name_of(marked_id(msg.fwd_from.saved_from_peer))
    if msg.via_bot_id:
        bot = known.get(msg.via_bot_id)
        if getattr(bot, "username", None):
            rec.via_bot = "@" + bot.username
    rec.media_type, rec.mime_type, rec.duration_seconds, rec.files = media_fields(msg.media)
    rec.grouped_id = msg.grouped_id
    post = post_of(msg)
    if post is not None:
        rec.post_chat_id, rec.post_message_id = post
    rec.reactions = reactions_list(msg.reactions, name_of)
    rec.inline_buttons = inline_buttons(msg.reply_markup)
    return rec


# -- chats and users ---------------------------------------------------------------------------
def chat_type(entity: Any) -> str:
    if isinstance(entity, types.User):
        return "saved" if entity.is_self else ("bot" if entity.bot else "private")
    if isinstance(entity, (types.Chat, types.ChatForbidden, types.ChatEmpty)):
        return "group"
    if isinstance(entity, (types.Channel, types.ChannelForbidden)):
        return "supergroup" if entity.megagroup else "channel"
    raise TypeError(f"not a chat entity: {type(entity).__name__}")


def chat_record(entity: Any, *, members_count: int | None = None, linked_chat_id: int | None = None) -> ChatRecord:
    if isinstance(entity, types.User):
        title = "Saved Messages" if entity.is_self else display_name(entity)
    else:
        title = getattr(entity, "title", None)
    count = members_count if members_count is not None else getattr(entity, "participants_count", None)
    return ChatRecord(
        chat_id=utils.get_peer_id(entity),
        type=chat_type(entity),
        title=title,
        username=first_username(entity),
        members_count=count,
        is_left=bool(getattr(entity, "left", False)),
        source="telethon",
        is_forum=is_forum(entity),
        linked_chat_id=linked_chat_id,
    )


def user_record(user: types.User, *, bio: str | None = None) -> UserRecord:
    return UserRecord(
        user_id=user.id,
        display_name=display_name(user),
        first_name=user.first_name,
        last_name=user.last_name,
        username=first_username(user),
        is_bot=bool(user.bot),
        bio=bio,
        language_code=user.lang_code,
    )


def owner_record(me: types.User, *, account_name: str | None = None) -> OwnerRecord:
    """The logged-in account (``get_me()``) as the export's ``personal_information`` gives it: no phone number."""
    return OwnerRecord(user_id=me.id, display_name=display_name(me), first_name=me.first_name,
                       last_name=me.last_name, username=first_username(me), is_bot=bool(me.bot),
                       language_code=me.lang_code, account_name=account_name)


def entities_of(msg: Any) -> list[Any]:
    """Users/chats Telethon attached to a message (senders, forward origins, via bots, action users)."""
    return list(_known_entities(msg, None).values())
