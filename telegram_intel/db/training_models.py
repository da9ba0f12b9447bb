"""Tables written by the persona-training assets (``sft_dataset``, ``lora_adapter``, ``persona_eval``).

Datasets are versioned by their data watermark: the largest ``(date, chat_id, message_id)`` of the messages they
were built from. Files live under the storage folder; these tables say which version is where, what it holds and
how it scored, so the retrain sensor and the ``reply`` command find the latest one without scanning folders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from telegram_intel.db.models import Base, Message


class SftDataset(Base):
    """One built SFT dataset (train/val/test JSONL files under ``path``)."""

    __tablename__ = "sft_datasets"
    __table_args__ = (Index("ix_sft_datasets_created", "created_at"),)

    version: Mapped[str] = mapped_column(String(96), primary_key=True)
    owner_ids: Mapped[list[Any]]
    watermark: Mapped[str] = mapped_column(String(64))
    watermark_date: Mapped[datetime | None]
    watermark_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    watermark_message_id: Mapped[int | None] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]]
    stats: Mapped[dict[str, Any]]
    examples: Mapped[int] = mapped_column(Integer)
    dagster_run_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class PersonaAdapter(Base):
    """One trained LoRA adapter (and its merged model, when asked for)."""

    __tablename__ = "persona_adapters"
    __table_args__ = (
        Index("ix_persona_adapters_watermark", "watermark_date", "watermark_chat_id", "watermark_message_id"),
        Index("ix_persona_adapters_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dataset_version: Mapped[str] = mapped_column(String(96), ForeignKey("sft_datasets.version", ondelete="CASCADE"))
    watermark: Mapped[str] = mapped_column(String(64))
    watermark_date: Mapped[datetime | None]
    watermark_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    watermark_message_id: Mapped[int | None] = mapped_column(BigInteger)
    base_model: Mapped[str] = mapped_column(Text)
    base_model_path: Mapped[str] = mapped_column(Text)
    trainer: Mapped[str] = mapped_column(String(16))  # peft | axolotl
    path: Mapped[str] = mapped_column(Text)
    merged_path: Mapped[str | None] = mapped_column(Text)
    metrics: Mapped[dict[str, Any]]
    dagster_run_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class PersonaEvaluation(Base):
    """Held-out scores of one adapter against its base model."""

    __tablename__ = "persona_evaluations"
    __table_args__ = (Index("ix_persona_evaluations_adapter", "adapter_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    adapter_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("persona_adapters.id", ondelete="CASCADE"))
    split: Mapped[str] = mapped_column(String(8))
    examples: Mapped[int] = mapped_column(Integer)
    base_perplexity: Mapped[float] = mapped_column(Float)
    adapter_perplexity: Mapped[float] = mapped_column(Float)
    style_score_adapter: Mapped[float | None] = mapped_column(Float)
    style_score_base: Mapped[float | None] = mapped_column(Float)
    metrics: Mapped[dict[str, Any]]
    dagster_run_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


# The retrain sensor counts messages newer than the last trained watermark, ``(date, chat_id, message_id) > (...)``
# over non-service messages: this partial index answers that row comparison with an index-only range scan.
# Declared here (not in models.py) so the migration that creates it and the metadata agree.
ix_telegram_messages_watermark = Index(
    "ix_telegram_messages_watermark",
    Message.date,
    Message.chat_id,
    Message.message_id,
    postgresql_where=Message.kind != "service",
)
