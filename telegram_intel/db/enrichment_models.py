"""Tables written by the enrichment assets. Derived rows are keyed by the message's
natural key plus the method/model that made them, so a new model is a backfill beside
the old rows, never an overwrite."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from telegram_intel.db.models import Base


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


