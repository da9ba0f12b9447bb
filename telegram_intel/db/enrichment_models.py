"""Tables written by the enrichment assets. Derived rows are keyed by the message's
natural key plus the method/model that made them, so a new model is a backfill beside
the old rows, never an overwrite."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from telegram_intel.db.models import Base


class CleanMessage(Base):
    """PII-masked, pseudonymized text of every usable message (opted-out users never appear)."""

    __tablename__ = "clean_messages"
    __table_args__ = (
        Index("ix_clean_messages_date", "date"),
        Index("ix_clean_messages_sender_date", "sender_id", "date"),
        Index("ix_clean_messages_tsv", "text_tsv", postgresql_using="gin"),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    date: Mapped[datetime]
    sender_id: Mapped[int | None] = mapped_column(BigInteger)
    sender_pseudonym: Mapped[str | None] = mapped_column(String(32))
    reply_to_message_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    # 'simple' config: no language-specific stemming, works the same for ru/en/tr.
    text_tsv: Mapped[Any] = mapped_column(TSVECTOR, Computed("to_tsvector('simple', text)", persisted=True))
    lang: Mapped[str | None] = mapped_column(String(8))
    is_transcript: Mapped[bool] = mapped_column(Boolean, server_default="false")
    pii_counts: Mapped[dict[str, Any] | None]
    cleaner_version: Mapped[str] = mapped_column(String(32))
    source_updated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class MessageEmbedding(Base):
    """One vector per (message, model). Dimension varies by model, so the column is untyped
    and each model gets its own partial HNSW index on ``embedding::vector(dims)``."""

    __tablename__ = "message_embeddings"
    __table_args__ = (Index("ix_message_embeddings_model_date", "model", "date"),)

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    date: Mapped[datetime]
    dims: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[Any] = mapped_column(Vector())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class IntentLabel(Base):
    __tablename__ = "intent_labels"
    __table_args__ = (Index("ix_intent_labels_label", "label"), Index("ix_intent_labels_date", "date"))

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    method: Mapped[str] = mapped_column(String(128), primary_key=True)  # "offline:<model>@<ver>" or "llm:<model>:..."
    date: Mapped[datetime]
    label: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    confidences: Mapped[dict[str, Any]]  # {label: probability} over all six labels
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class MessageSummary(Base):
    __tablename__ = "message_summaries"
    __table_args__ = (Index("ix_message_summaries_date", "date"),)

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    method: Mapped[str] = mapped_column(String(128), primary_key=True)
    date: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[Any]]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Entity(Base):
    __tablename__ = "entities"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_entities_kind_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # person | topic | organization | project
    key: Mapped[str] = mapped_column(Text)  # normalized name, or the user id for people we know
    name: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    mention_count: Mapped[int] = mapped_column(Integer, server_default="0")
    first_seen_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]


class EntityMention(Base):
    __tablename__ = "entity_mentions"
    __table_args__ = (Index("ix_entity_mentions_entity", "entity_id"), Index("ix_entity_mentions_date", "date"))

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entity_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    method: Mapped[str] = mapped_column(String(128), primary_key=True)
    date: Mapped[datetime]
    sender_id: Mapped[int | None] = mapped_column(BigInteger)


class GraphEdge(Base):
    """Knowledge-graph edges: user–topic, user–user interaction (replies, mentions), co-mention."""

    __tablename__ = "graph_edges"
    __table_args__ = (Index("ix_graph_edges_dst", "dst_kind", "dst_id"),)

    src_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    src_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    relation: Mapped[str] = mapped_column(String(32), primary_key=True)
    dst_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    dst_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    evidence_count: Mapped[int] = mapped_column(Integer)
    last_seen_at: Mapped[datetime | None]


class ChatDailyStat(Base):
    __tablename__ = "chat_statistics"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer)
    service_messages: Mapped[int] = mapped_column(Integer)
    media_messages: Mapped[int] = mapped_column(Integer)
    active_users: Mapped[int] = mapped_column(Integer)
    replies: Mapped[int] = mapped_column(Integer)


class UserDailyActivity(Base):
    __tablename__ = "user_activity"
    __table_args__ = (Index("ix_user_activity_user", "user_id", "day"),)

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer)
    replies_sent: Mapped[int] = mapped_column(Integer)
    replies_received: Mapped[int] = mapped_column(Integer)
