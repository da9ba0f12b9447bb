"""The ``llm_calls`` table, its recorder for ``LLMClient`` and usage totals: one row per ``LLMClient.complete_json`` call (all its attempts).

No prompt or answer text is stored (prompts carry group messages); only their SHA-256 and size,
which is enough to spot repeats and size-driven costs without keeping personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, Index, Integer, Numeric, String, Text, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from telegram_intel.db.models import Base

if TYPE_CHECKING:  # the record type only: importing telegram_intel.llm loads the OpenAI client (≈ 2 s, 25 MiB),
    # which every command that opens the database would pay through the migrations' env
    from telegram_intel.llm.accounting import LLMCallRecord

log = logging.getLogger(__name__)


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


class SqlCallRecorder:
    """Inserts one ``llm_calls`` row per call in its own transaction.

    A failure to record is logged and swallowed: the answer was paid for already, and losing
    the asset's work because accounting failed would cost twice.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, call: LLMCallRecord) -> int | None:
        try:
            with self.engine.begin() as conn:
                return conn.execute(sa.insert(LLMCall).values(**call.as_row()).returning(LLMCall.id)).scalar_one()
        except Exception as error:  # noqa: BLE001 - see the class docstring
            log.warning("could not record LLM call for prompt %r: %s", call.prompt_name, type(error).__name__)
            return None


def usage_summary(engine: Engine, *, since: datetime | None = None, tags: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Totals for asset metadata: calls, errors, tokens and cost, optionally since a time and
    for calls whose tags contain ``tags`` (e.g. ``{"run_id": context.run_id}``)."""
    query = sa.select(
        sa.func.count(),
        sa.func.count().filter(LLMCall.status != "ok"),
        sa.func.coalesce(sa.func.sum(LLMCall.prompt_tokens), 0),
        sa.func.coalesce(sa.func.sum(LLMCall.completion_tokens), 0),
        sa.func.coalesce(sa.func.sum(LLMCall.cost_usd), 0),
        sa.func.coalesce(sa.func.sum(LLMCall.attempts), 0),
    )
    if since is not None:
        query = query.where(LLMCall.created_at >= since)
    if tags:
        query = query.where(LLMCall.tags.contains(dict(tags)))
    with engine.connect() as conn:
        calls, errors, prompt_tokens, completion_tokens, cost, attempts = conn.execute(query).one()
    return {
        "llm_calls": int(calls),
        "llm_errors": int(errors),
        "llm_attempts": int(attempts),
        "llm_prompt_tokens": int(prompt_tokens),
        "llm_completion_tokens": int(completion_tokens),
        "llm_cost_usd": float(cost),
    }
