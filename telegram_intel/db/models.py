"""SQLAlchemy 2 typed models. Natural Telegram ids are the keys (see lib/records.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text as sql_text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONB, list[Any]: JSONB, datetime: DateTime(timezone=True)}


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Chat(Timestamps, Base):
    __tablename__ = "telegram_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    members_count: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    is_left: Mapped[bool] = mapped_column(Boolean, server_default="false")
    source: Mapped[str] = mapped_column(String(16), server_default="export")
    last_scanned_at: Mapped[datetime | None]
    # A supergroup with topics: its messages outside any topic belong to General (topic 1).
    is_forum: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # Channel -> its discussion group, and the group -> its channel.
    linked_chat_id: Mapped[int | None] = mapped_column(BigInteger)


class User(Timestamps, Base):
    __tablename__ = "telegram_users"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    display_name: Mapped[str | None] = mapped_column(Text)
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    is_bot: Mapped[bool | None] = mapped_column(Boolean)
    bio: Mapped[str | None] = mapped_column(Text)
    language_code: Mapped[str | None] = mapped_column(String(16))
    is_owner: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # Opt-out: messages of ignored users never reach the AI side.
    is_ignored: Mapped[bool] = mapped_column(Boolean, server_default="false")
    first_seen_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]


class Message(Timestamps, Base):
    __tablename__ = "telegram_messages"
    __table_args__ = (
        Index("ix_telegram_messages_chat_date", "chat_id", "date"),
        Index("ix_telegram_messages_sender_date", "sender_id", "date"),
        Index("ix_telegram_messages_topic", "chat_id", "topic_id", "date",
              postgresql_where=sql_text("topic_id IS NOT NULL")),
        Index("ix_telegram_messages_post", "post_chat_id", "post_message_id",
              postgresql_where=sql_text("post_chat_id IS NOT NULL")),
    )

    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_chats.chat_id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(8), server_default="message")
    date: Mapped[datetime]
    edit_date: Mapped[datetime | None]
    # Marked peer id of the author: a user, or a channel posting as itself (no FK for that reason).
    sender_id: Mapped[int | None] = mapped_column(BigInteger)
    sender_name: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, server_default="")
    entities: Mapped[list[Any] | None]
    reply_to_message_id: Mapped[int | None] = mapped_column(BigInteger)
    reply_to_peer_id: Mapped[int | None] = mapped_column(BigInteger)
    forwarded_from: Mapped[str | None] = mapped_column(Text)
    forwarded_from_id: Mapped[int | None] = mapped_column(BigInteger)
    saved_from: Mapped[str | None] = mapped_column(Text)
    via_bot: Mapped[str | None] = mapped_column(Text)
    has_media: Mapped[bool] = mapped_column(Boolean, server_default="false")
    media_type: Mapped[str | None] = mapped_column(String(16))
    mime_type: Mapped[str | None] = mapped_column(String(128))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    grouped_id: Mapped[int | None] = mapped_column(BigInteger)
    reactions: Mapped[list[Any] | None]
    inline_buttons: Mapped[list[Any] | None]
    # The source's own JSON for the message: fields we do not model live here. `json`, not
    # `jsonb`: it keeps the source text as written and costs a third of jsonb's parse time on import.
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Tombstone: deletions seen by the live listener; rows are never removed.
    deleted_at: Mapped[datetime | None]
    ai_summary: Mapped[str | None] = mapped_column(Text)
    ai_keywords: Mapped[list[Any] | None]
    ai_processed: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # Forum topic (its creation message's id; 1 = General); NULL outside forums.
    topic_id: Mapped[int | None] = mapped_column(BigInteger)
    # The user's own accounts (telegram_accounts) that saw this message; NULL = unknown (no owner in the source).
    account_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))
    # A comment: the channel post it is under (the post's chat and message id; the post may not be stored).
    post_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    post_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # 64-bit hash of what the writer stores for the message (raw + modelled columns, not account_ids): a re-import
    # writes nothing for a message whose hash is unchanged (db/loader.py). NULL until the first write after 0017.
    content_hash: Mapped[int | None] = mapped_column(BigInteger)


class Topic(Timestamps, Base):
    """A forum topic: its current title and icon (the latest edit wins). General is topic 1."""

    __tablename__ = "telegram_topics"

    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_chats.chat_id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str | None] = mapped_column(Text)
    icon_emoji_id: Mapped[int | None] = mapped_column(BigInteger)
    icon_color: Mapped[int | None] = mapped_column(Integer)
    creator_id: Mapped[int | None] = mapped_column(BigInteger)
    created_date: Mapped[datetime | None]
    edited_date: Mapped[datetime | None]


class Account(Timestamps, Base):
    """One of the user's own Telegram accounts (its user id); ``name`` is the configured name, if any."""

    __tablename__ = "telegram_accounts"
    __table_args__ = (UniqueConstraint("name", name="uq_telegram_accounts_name"),)

    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str | None] = mapped_column(Text)


class File(Timestamps, Base):
    __tablename__ = "telegram_files"
    __table_args__ = (
        ForeignKeyConstraint(
            ["chat_id", "message_id"],
            ["telegram_messages.chat_id", "telegram_messages.message_id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("chat_id", "message_id", "kind", name="uq_telegram_files_message_kind"),
        Index("ix_telegram_files_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    # present | not_included | missing | pending
    status: Mapped[str] = mapped_column(String(16))
    file_type: Mapped[str | None] = mapped_column(String(16))
    file_name: Mapped[str | None] = mapped_column(Text)
    file_path: Mapped[str | None] = mapped_column(Text)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(128))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    ai_caption: Mapped[str | None] = mapped_column(Text)
    ai_tags: Mapped[list[Any] | None]


class ImportRun(Base):
    """One import of one source (an export file, a sync). Written on success and on failure."""

    __tablename__ = "telegram_import_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    source_kind: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), server_default="running")
    messages_seen: Mapped[int] = mapped_column(BigInteger, server_default="0")
    messages_new: Mapped[int] = mapped_column(BigInteger, server_default="0")
    messages_updated: Mapped[int] = mapped_column(BigInteger, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    # Resume bookkeeping (pipeline/ingest.py): the file's identity, the interrupted run this one continued, and the
    # byte offset its parsing started at (0: from the start).
    source_fingerprint: Mapped[str | None] = mapped_column(Text)
    resumed_from: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("telegram_import_runs.id", ondelete="SET NULL"))
    resume_offset: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ImportCheckpoint(Base):
    """Where the parser stood after one committed message batch of an import run (written in the batch's own
    transaction), so an interrupted run resumes after the last batch below which every batch committed."""

    __tablename__ = "telegram_import_checkpoints"

    run_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_import_runs.id", ondelete="CASCADE"), primary_key=True)
    batch: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    byte_offset: Mapped[int | None] = mapped_column(BigInteger)
    # The parser's resume point (lib/export_parser.py), NULL when the batch ended at no resumable position.
    position: Mapped[dict[str, Any] | None]
    messages: Mapped[int] = mapped_column(Integer)
    committed_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ImportSpan(Base):
    """A run of messages an import read from an export and stored (migration 0018): the xxh3 of its bytes, so a
    later import skips the same bytes unsplit (``loader.StoredMessageIndex``). Ids and digests only. Deleting
    messages deletes the spans that meet them (trigger); whatever changes a stored ``content_hash`` must delete the
    spans that cover it (``loader``'s upsert does)."""

    __tablename__ = "telegram_import_spans"

    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_chats.chat_id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, server_default="0")  # 0: no account
    first_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    digest: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    length: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)




class ErasedUser(Base):
    """Tombstone of a person erased with ``people forget``: the id only, never a name or any content. Imports drop
    every record of an id listed here (see ``loader.TelegramWriter``)."""

    __tablename__ = "erased_users"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    erased_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # When the Dagster sensor removed the id from the run records (None: not yet).
    run_records_scrubbed_at: Mapped[datetime | None]
