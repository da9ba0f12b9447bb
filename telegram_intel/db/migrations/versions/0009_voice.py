"""voice transcripts and insights

Revision ID: 0009_voice
Revises: 0008_training
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401
from sqlalchemy.dialects import postgresql

revision = "0009_voice"
down_revision = "0008_training"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_transcripts",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("media_type", sa.String(length=16), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("language_probability", sa.Float(), nullable=True),
        sa.Column("language_source", sa.String(length=16), nullable=True),
        sa.Column("segments", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("processing_s", sa.Float(), nullable=True),
        sa.Column("device", sa.String(length=16), nullable=True),
        sa.Column("compute_type", sa.String(length=32), nullable=True),
        sa.Column("error_kind", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id", "message_id"], ["telegram_messages.chat_id", "telegram_messages.message_id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "message_id", "model"),
    )
    op.create_index("ix_voice_transcripts_date", "voice_transcripts", ["date"])
    op.create_index("ix_voice_transcripts_model_date", "voice_transcripts", ["model", "date"])

    op.create_table(
        "voice_insights",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(length=32), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transcript_model", sa.String(length=256), nullable=False),
        sa.Column("transcript_sha256", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=False),
        sa.Column("llm_model", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("latency_s", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id", "message_id"], ["telegram_messages.chat_id", "telegram_messages.message_id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "message_id", "mode"),
    )
    op.create_index("ix_voice_insights_date", "voice_insights", ["date"])


def downgrade() -> None:
    op.drop_index("ix_voice_insights_date", table_name="voice_insights")
    op.drop_table("voice_insights")
    op.drop_index("ix_voice_transcripts_model_date", table_name="voice_transcripts")
    op.drop_index("ix_voice_transcripts_date", table_name="voice_transcripts")
    op.drop_table("voice_transcripts")
