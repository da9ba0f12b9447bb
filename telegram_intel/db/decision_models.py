"""Tables of the decision engine (migration ``0016_decisions``).

* ``decisions`` — the audit table: one row per incoming unit (a message or a whole album), keyed by its idempotency
  key (``lib.decisions.idempotency_key``) under a unique constraint, so a re-delivered update or a second part of an
  album can never start a second decision. Holds what was decided, by which provider, at what cost — never the
  message text (its SHA-256 and length only).
* ``decision_outcomes`` — one row per action a decision runs, unique per (decision, action): an action cannot run
  twice for one unit. Attempts, the payload sent, the external result (product id, row index) or the error.
* ``decision_album_parts`` — album parts as they arrive (Telegram delivers one update per photo), so a restart
  between parts loses nothing.
* ``decision_conversations`` — the follow-up question a chat was asked and is expected to answer.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from telegram_intel.db.models import Base


class DecisionRow(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_decisions_idempotency_key"),
        Index("ix_decisions_created_at", "created_at"),
        Index("ix_decisions_chat", "chat_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_ids: Mapped[list[Any]]
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    sender_id: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))  # bot | listener
    # deciding | needs_followup | awaiting_approval | dry_run | acting | done | failed | rejected | refused
    status: Mapped[str] = mapped_column(String(24))
    mode: Mapped[str] = mapped_column(String(16))  # act | dry_run | approve
    action: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    arguments: Mapped[dict[str, Any] | None]
    rationale: Mapped[str | None] = mapped_column(Text)
    # offline:rules@1 | llm:<provider>:<model>
    method: Mapped[str | None] = mapped_column(String(200))
    # [{"provider": "primary", "model": ..., "status": "ok" | "error", "error_kind": ..., "llm_call_id": ...}]
    providers: Mapped[list[Any] | None]
    prompt_tokens: Mapped[int] = mapped_column(Integer, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(Integer, server_default="0")
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 8), server_default="0")
    # {"messages": n, "text_chars": n, "media": [{kind, mime, size}]} — never the text
    unit: Mapped[dict[str, Any]]
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DecisionOutcome(Base):
    __tablename__ = "decision_outcomes"
    __table_args__ = (
        UniqueConstraint("decision_id", "action", name="uq_decision_outcomes_decision_action"),
        Index("ix_decision_outcomes_status", "status"),
        Index("ix_decision_outcomes_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    decision_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("decisions.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(64))
    # dry_run | pending | running | succeeded | failed
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    payload: Mapped[dict[str, Any] | None]  # what the action sends (product fields, row values) — no credentials
    result: Mapped[dict[str, Any] | None]  # external ids: product id, media ids, row index, file path
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]


class DecisionAlbumPart(Base):
    __tablename__ = "decision_album_parts"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    media_group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    part: Mapped[dict[str, Any]]  # lib.decisions.MessagePart.as_dict()
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())


class DecisionConversation(Base):
    __tablename__ = "decision_conversations"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    decision_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("decisions.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(32))  # awaiting_choice | awaiting_approval
    question: Mapped[str | None] = mapped_column(Text)
    options: Mapped[list[Any] | None]
    # The unit being asked about (text, file facts, stored media paths): kept only while the question is open, so a
    # restart does not lose the conversation; deleted with the row when it is answered.
    context: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
