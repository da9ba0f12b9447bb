"""Tables of the bot service (``telegram-intel bot``, ``telegram_intel/bot``).

``persona_feedback`` is the preference data the DPO training reads (``pipeline/preferences.py``): one row per 👍 /
👎 on a persona reply, with the chat messages the model was given, its reply and the owner-style correction when one
was sent. The other tables are the service's working state: a bounded per-user conversation memory, the persona
replies awaiting feedback, per-user state, and the voice-insight results cached by audio hash until they expire.
``/forget`` deletes every row of a user in all of them (``pipeline/bot_state.forget_user``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, SmallInteger, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from telegram_intel.db.models import Base


class PersonaFeedback(Base):
    """A rating of one generated persona reply: +1 "I'd answer like that", -1 "not like me" (+ a correction)."""

    __tablename__ = "persona_feedback"
    __table_args__ = (
        CheckConstraint("rating IN (-1, 1)", name="ck_persona_feedback_rating"),
        Index("ix_persona_feedback_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    persona: Mapped[str] = mapped_column(Text, server_default=text("'owner'"))
    bot_user_id: Mapped[int] = mapped_column(BigInteger)  # the Telegram user chatting with the bot
    # The chat messages given to the model: [{"role": ..., "content": ...}, ...]
    prompt: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    reply: Mapped[str] = mapped_column(Text)  # the generated reply
    rating: Mapped[int] = mapped_column(SmallInteger)  # +1 / -1
    correction: Mapped[str | None] = mapped_column(Text)  # the reply the owner would give (after 👎)
    adapter: Mapped[str | None] = mapped_column(Text)  # the adapter version/path (or model) that generated it
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class BotPersonaMemory(Base):
    """One conversation turn; at most ``memory_turns`` newest rows are kept per (persona, user)."""

    __tablename__ = "bot_persona_memory"
    __table_args__ = (Index("ix_bot_persona_memory_user", "persona", "bot_user_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    persona: Mapped[str] = mapped_column(Text, server_default=text("'owner'"))
    bot_user_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class BotPersonaReply(Base):
    """A generated reply the user may still rate; its feedback row, once given, is ``feedback_id``."""

    __tablename__ = "bot_persona_replies"
    __table_args__ = (
        Index("ix_bot_persona_replies_user", "bot_user_id"),
        Index("ix_bot_persona_replies_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    persona: Mapped[str] = mapped_column(Text, server_default=text("'owner'"))
    bot_user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # the bot's message carrying the buttons
    prompt: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    reply: Mapped[str] = mapped_column(Text)
    adapter: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    feedback_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class BotUser(Base):
    """Per-user state of the bot: when seen, and the 👎 whose correction the next text is."""

    __tablename__ = "bot_users"

    bot_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(server_default=func.now())
    awaiting_correction: Mapped[int | None] = mapped_column(BigInteger)  # persona_feedback.id


class BotVoiceCache(Base):
    """A voice insight (transcript + mode results) by audio SHA-256 and settings variant, kept until
    ``expires_at`` (seed 004: 24 h, no permanent copy of bot users' texts)."""

    __tablename__ = "bot_voice_cache"
    __table_args__ = (
        Index("ix_bot_voice_cache_expires_at", "expires_at"),
        Index("ix_bot_voice_cache_user", "bot_user_id"),
    )

    audio_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    # whisper model, language and the modes' models/prompts: a change of any of them is a different result
    variant: Mapped[str] = mapped_column(String(64), primary_key=True)
    bot_user_id: Mapped[int | None] = mapped_column(BigInteger)  # who asked last (for /forget)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
