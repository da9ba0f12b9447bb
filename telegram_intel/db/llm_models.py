"""The ``llm_calls`` table: one row per ``LLMClient.complete_json`` call (all its attempts).

No prompt or answer text is stored (prompts carry group messages); only their SHA-256 and size,
which is enough to spot repeats and size-driven costs without keeping personal data.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, Numeric, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from telegram_intel.db.models import Base


class LLMCall(Base):
    __tablename__ = "llm_calls"
    __table_args__ = (
        Index("ix_llm_calls_created_at", "created_at"),
        Index("ix_llm_calls_prompt_created", "prompt_name", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Scheme, host and path of the server; never credentials.
    endpoint: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    # The model name the server reported, when it differs (aliases, Ollama tags).
    response_model: Mapped[str | None] = mapped_column(String(200))
    prompt_name: Mapped[str] = mapped_column(String(100))
    prompt_version: Mapped[str | None] = mapped_column(String(64))
    # ok | error
    status: Mapped[str] = mapped_column(String(16))
    # The error class on failure (rate_limited, unavailable, invalid_response, request_error).
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    # Summed over every attempt that returned usage: a malformed answer still costs tokens.
    prompt_tokens: Mapped[int] = mapped_column(Integer, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(Integer, server_default="0")
    total_tokens: Mapped[int] = mapped_column(Integer, server_default="0")
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 8), server_default="0")
    latency_ms: Mapped[int] = mapped_column(Integer)
    rate_limit_wait_ms: Mapped[int] = mapped_column(Integer, server_default="0")
    response_format: Mapped[str | None] = mapped_column(String(16))
    prompt_sha256: Mapped[str] = mapped_column(String(64))
    prompt_chars: Mapped[int] = mapped_column(Integer)
    response_sha256: Mapped[str | None] = mapped_column(String(64))
    response_chars: Mapped[int | None] = mapped_column(Integer)
    # Caller's context, e.g. {"run_id": ..., "asset": "message_summaries", "partition": "2024-05-01"}.
    tags: Mapped[dict[str, Any] | None]
