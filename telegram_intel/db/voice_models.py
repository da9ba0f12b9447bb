"""Tables written by the voice assets (``telegram_intel/defs/voice``).

``voice_transcripts`` sits beside ``telegram_messages`` (raw layer: the transcript is the voice message's text as
spoken, unmasked); ``clean_messages`` reads it through its transcript hook and masks it like any other text.
``voice_insights`` holds the LLM / offline analyses of a transcript, one row per (message, mode); their input is
the PII-masked transcript.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from telegram_intel.db.models import Base


class VoiceTranscript(Base):
    """One transcript per (message, whisper model); a failed file is a row with ``status='error'``."""

    __tablename__ = "voice_transcripts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["chat_id", "message_id"],
            ["telegram_messages.chat_id", "telegram_messages.message_id"],
            ondelete="CASCADE",
        ),
        Index("ix_voice_transcripts_date", "date"),
        Index("ix_voice_transcripts_model_date", "model", "date"),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The configured model: a packaged name ("tiny.en", "base"), a faster-whisper name or a local path.
    model: Mapped[str] = mapped_column(String(256), primary_key=True)
    date: Mapped[datetime]  # the message's date (partitions)
    media_type: Mapped[str | None] = mapped_column(String(16))
    file_path: Mapped[str | None] = mapped_column(Text)
    # The file's sha256 when transcribed: a re-downloaded or replaced file is transcribed again.
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))  # ok | error
    text: Mapped[str | None] = mapped_column(Text)  # NULL when status = error; '' when no speech was found
    language: Mapped[str | None] = mapped_column(String(8))
    language_probability: Mapped[float | None] = mapped_column(Float)
    language_source: Mapped[str | None] = mapped_column(String(16))  # forced | chat | detected | model
    # [{"start": s, "end": s, "text": ..., "avg_logprob": ..., "no_speech_prob": ...}, ...]
    segments: Mapped[list[Any] | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    processing_s: Mapped[float | None] = mapped_column(Float)
    device: Mapped[str | None] = mapped_column(String(16))
    compute_type: Mapped[str | None] = mapped_column(String(32))
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Newest row per message wins in clean_messages' transcript hook.
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class VoiceInsight(Base):
    """One analysis per (message, mode): DEFAULT (summary, key points, actions), TONE (hidden intent, dominant
    emotion, how best to answer), or a mode added by configuration."""

    __tablename__ = "voice_insights"
    __table_args__ = (
        ForeignKeyConstraint(
            ["chat_id", "message_id"],
            ["telegram_messages.chat_id", "telegram_messages.message_id"],
            ondelete="CASCADE",
        ),
        Index("ix_voice_insights_date", "date"),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mode: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[datetime]
    transcript_model: Mapped[str] = mapped_column(String(256))  # which voice_transcripts row was analysed
    transcript_sha256: Mapped[str] = mapped_column(String(64))  # of the text analysed; a new transcript re-runs
    # What made the row: llm:<model>:<prompt>@<version>, offline:extractive@1, or …+llm-fallback.
    method: Mapped[str] = mapped_column(String(200))
    llm_model: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(8))  # ok | error
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    # Wall-clock span of the analysis (shows the modes of one message running side by side).
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    latency_s: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
