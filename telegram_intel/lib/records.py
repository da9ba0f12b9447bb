"""Normalized records shared by every Telegram source.

The Desktop export parser and the Telethon mapper both produce these; the loader
writes them. Ids follow Telegram's "marked" peer ids (what ``telethon.utils.get_peer_id``
returns and the Bot API uses): users positive, basic groups ``-id``, supergroups and
channels ``-100…``. That makes a message from an export and the same message from
Telethon land on the same natural key ``(chat_id, message_id)``.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

# Chat types we store (normalized from export `type` strings and Telethon entities).
CHAT_TYPES = ("private", "bot", "saved", "group", "supergroup", "channel")

# Media types we store in messages.media_type.
MEDIA_TYPES = (
    "photo",
    "video",
    "animation",
    "video_note",
    "voice",
    "audio",
    "sticker",
    "document",
    "poll",
    "contact",
    "location",
    "venue",
    "game",
    "invoice",
    "dice",
    "todo_list",
    "giveaway",
    "other",
)

CHANNEL_ID_OFFSET = 1_000_000_000_000


def mark_channel_id(raw_id: int) -> int:
    """Supergroup/channel id -> marked peer id (-100…)."""
    return -(CHANNEL_ID_OFFSET + raw_id)


def mark_group_id(raw_id: int) -> int:
    """Basic group id -> marked peer id."""
    return -raw_id


@dataclass(slots=True)
class ChatRecord:
    chat_id: int
    type: str
    title: str | None = None
    username: str | None = None
    members_count: int | None = None
    is_left: bool = False
    source: str = "export"
    # A supergroup with topics; None = the source does not say (an export: topics then tell).
    is_forum: bool | None = None
    # Channel <-> its discussion group (Telethon's full_chat.linked_chat_id, marked).
    linked_chat_id: int | None = None


@dataclass(slots=True)
class UserRecord:
    user_id: int
    display_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    is_bot: bool | None = None
    bio: str | None = None
    language_code: str | None = None
    last_seen_at: datetime | None = None


@dataclass(slots=True)
class OwnerRecord(UserRecord):
    """The account that made the export ("me"); a UserRecord so writers store it as one.

    Built from ``personal_information`` without the phone number.
    """

    is_owner: ClassVar[bool] = True
    # The configured name of this account (TELEGRAM_ACCOUNTS), when the source knows it.
    account_name: str | None = None


#: Forum topics: every message of a forum outside a named topic belongs to General.
GENERAL_TOPIC_ID = 1


@dataclass(slots=True)
class TopicRecord:
    """A forum topic as a topic service message (or a topic listing) describes it.

    ``topic_id`` is the id of the topic's creation message (General: ``GENERAL_TOPIC_ID``). ``date`` is when this
    version was made (``edited``: a rename / new icon, else the creation); None = no date (fills blanks only). The
    store keeps, per field, the value of the newest version that set it.
    """

    chat_id: int
    topic_id: int
    title: str | None = None
    icon_emoji_id: int | None = None
    icon_color: int | None = None
    creator_id: int | None = None
    date: datetime | None = None
    edited: bool = False


@dataclass(slots=True)
class FileRecord:
    """A media file attached to a message.

    ``source_path`` is where the bytes are now (absolute path inside an export
    folder, or a download path); the loader copies them into storage and fills
    ``sha256``/``stored_path``. ``status`` is ``present`` when bytes exist,
    ``not_included`` when the export skipped them, ``missing`` when the export
    names a file that is not on disk, ``pending`` when not downloaded yet.
    """

    kind: str  # "photo", "file", "thumbnail"
    status: str
    source_path: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    duration_seconds: int | None = None
    sha256: str | None = None
    stored_path: str | None = None


@dataclass(slots=True)
class MessageRecord:
    chat_id: int
    message_id: int
    date: datetime
    kind: str = "message"  # "message" or "service"
    sender_id: int | None = None  # marked peer id of the author (user or channel)
    sender_name: str | None = None
    text: str = ""
    entities: list[dict[str, Any]] | None = None
    edit_date: datetime | None = None
    reply_to_message_id: int | None = None
    reply_to_peer_id: int | None = None  # set when the reply points into another chat
    forwarded_from: str | None = None
    forwarded_from_id: int | None = None
    saved_from: str | None = None
    via_bot: str | None = None
    media_type: str | None = None
    mime_type: str | None = None
    duration_seconds: int | None = None
    action: str | None = None  # service messages
    actor_id: int | None = None
    grouped_id: int | None = None
    reactions: list[dict[str, Any]] | None = None
    inline_buttons: list[Any] | None = None
    files: list[FileRecord] = field(default_factory=list)
    raw: dict[str, Any] | None = None
    # Forum topic (see TopicRecord); None outside forums.
    topic_id: int | None = None
    # A comment under a channel post: the post's (marked channel id, message id).
    post_chat_id: int | None = None
    post_message_id: int | None = None
    # The user's own account (its user id) that saw this message; None = unknown.
    account_id: int | None = None
    # Set by a source that hashes its own input (see StoredMessages; covering the state of the message's files as
    # the source found them): the stored content hash, and ``raw`` as the
    # JSON text that hash was made from, when it holds no escaped NUL (the writer stores it instead of serializing
    # ``raw`` again).
    content_hash: int | None = None
    raw_json: bytes | None = None


@dataclass(slots=True)
class UnchangedMessages:
    """``count`` messages of a chat that a source found stored exactly as it would write them (see
    ``StoredMessages``) and did not yield; the first and last one's dates."""

    chat_id: int
    count: int
    first_date: datetime | None = None
    last_date: datetime | None = None


@dataclass(slots=True)
class StoredSpan:
    """A run of ``count`` messages of a chat (ids ``first_id``..``last_id``) that a source read as ``length`` bytes
    hashing to ``digest`` (xxh3 with the store's ``seed``), each message hashed as the store holds it (see
    ``StoredMessages``). The writer stores it with the last of the run's messages it writes; a later import skips
    the same bytes unsplit (``StoredMessages.stored_spans``)."""

    chat_id: int
    account_id: int | None
    first_id: int
    last_id: int
    count: int
    length: int
    digest: int
    seed: int


class StoredMessages(Protocol):
    """What the store holds, for a source that can skip unchanged messages before building them.

    A source hashes each message's own input (its JSON text, and whatever else of the source decides its stored row)
    with ``seed`` (which changes whenever the code that derives rows changes); when the store holds that hash for the
    message's key, seen by ``account_id`` (None: any), the source yields an ``UnchangedMessages`` count instead of
    the record. Otherwise the record carries the hash (``MessageRecord.content_hash``) and the writer stores it."""

    seed: int

    def unchanged(self, chat_id: int, account_id: int | None, message_id: int, content_hash: int) -> bool: ...

    def stored_hashes(self, chat_id: int, account_id: int | None, first_id: int, last_id: int,
                      count: int) -> AbstractSet[int] | None:
        """The stored hashes (unsigned) of at least the chat's messages ``first_id``..``last_id`` seen by
        ``account_id``, for a run of ``count`` messages; None when the store does not say (the source then asks
        ``unchanged`` per message)."""
        ...

    def stored_spans(self, chat_id: int, account_id: int | None, first_id: int) -> Sequence[tuple[int, int, int]]:
        """(length, digest, count) of the stored spans (``StoredSpan``) of the chat, seen by ``account_id``, that
        start at ``first_id``: a source finding ``length`` bytes that hash to ``digest`` where a run starts with that
        id skips those ``count`` messages unsplit. The store holds a span only while its messages are stored as
        they were."""
        ...


#: What a source yields (an ``OwnerRecord`` is a ``UserRecord``).
Record = ChatRecord | UserRecord | MessageRecord | TopicRecord | UnchangedMessages | StoredSpan


class TelegramDataError(ValueError):
    """Input that is not what a Telegram source should produce.

    The message names the input (file) and where in it (JSON path, message id).
    """

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        super().__init__(f"{source}: {where}: {problem}")
