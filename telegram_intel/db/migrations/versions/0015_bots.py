"""bot service: persona memory, preference feedback, voice insight cache (issue 15)

Revision ID: 0015_bots
Revises: 0014_ingest_depth
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015_bots"
down_revision = "0014_ingest_depth"
branch_labels = None
depends_on = None

_NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "persona_feedback",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),  # bigserial
        sa.Column("persona", sa.Text(), server_default=sa.text("'owner'"), nullable=False),
        sa.Column("bot_user_id", sa.BigInteger(), nullable=False),
        sa.Column("prompt", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("correction", sa.Text(), nullable=True),
        sa.Column("adapter", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.CheckConstraint("rating IN (-1, 1)", name="ck_persona_feedback_rating"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_persona_feedback_created_at", "persona_feedback", ["created_at"])

    op.create_table(
        "bot_persona_memory",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),  # bigserial
        sa.Column("persona", sa.Text(), server_default=sa.text("'owner'"), nullable=False),
        sa.Column("bot_user_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bot_persona_memory_user", "bot_persona_memory", ["persona", "bot_user_id", "id"])

    op.create_table(
        "bot_persona_replies",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),  # bigserial
        sa.Column("persona", sa.Text(), server_default=sa.text("'owner'"), nullable=False),
        sa.Column("bot_user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("prompt", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("adapter", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("feedback_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bot_persona_replies_user", "bot_persona_replies", ["bot_user_id"])
    op.create_index("ix_bot_persona_replies_created_at", "bot_persona_replies", ["created_at"])

    op.create_table(
        "bot_users",
        sa.Column("bot_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("awaiting_correction", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("bot_user_id"),
    )

    op.create_table(
        "bot_voice_cache",
        sa.Column("audio_sha256", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("bot_user_id", sa.BigInteger(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("audio_sha256", "variant"),
    )
    op.create_index("ix_bot_voice_cache_expires_at", "bot_voice_cache", ["expires_at"])
    op.create_index("ix_bot_voice_cache_user", "bot_voice_cache", ["bot_user_id"])


def downgrade() -> None:
    for table in ("bot_voice_cache", "bot_users", "bot_persona_replies", "bot_persona_memory", "persona_feedback"):
        op.drop_table(table)
