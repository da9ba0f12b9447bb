"""decision engine: decisions audit, action outcomes (issue 16)

``decisions`` (one row per incoming message or album, unique idempotency key), ``decision_outcomes`` (one row per
action of a decision, unique per (decision, action)), ``decision_album_parts`` (album parts as they arrive) and
``decision_conversations`` (the follow-up a chat is expected to answer). Models: ``telegram_intel/db/decision_models.py``.

Revision ID: 0016_decisions
Revises: 0015_bots
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016_decisions"
down_revision = "0015_bots"
branch_labels = None
depends_on = None

JSONB = postgresql.JSONB(astext_type=sa.Text())


def _stamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_ids", JSONB, nullable=False),
        sa.Column("media_group_id", sa.String(64), nullable=True),
        sa.Column("sender_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("arguments", JSONB, nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("method", sa.String(200), nullable=True),
        sa.Column("providers", JSONB, nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completion_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cost_usd", sa.Numeric(14, 8), server_default="0", nullable=False),
        sa.Column("unit", JSONB, nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        *_stamps(),
        sa.UniqueConstraint("idempotency_key", name="uq_decisions_idempotency_key"),
    )
    op.create_index("ix_decisions_created_at", "decisions", ["created_at"])
    op.create_index("ix_decisions_chat", "decisions", ["chat_id", "created_at"])

    op.create_table(
        "decision_outcomes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("decision_id", sa.BigInteger(), sa.ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("payload", JSONB, nullable=True),
        sa.Column("result", JSONB, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        *_stamps(),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("decision_id", "action", name="uq_decision_outcomes_decision_action"),
    )
    op.create_index("ix_decision_outcomes_status", "decision_outcomes", ["status"])
    op.create_index("ix_decision_outcomes_created_at", "decision_outcomes", ["created_at"])

    op.create_table(
        "decision_album_parts",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("media_group_id", sa.String(64), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("part", JSONB, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "media_group_id", "message_id"),
    )

    op.create_table(
        "decision_conversations",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("decision_id", sa.BigInteger(), sa.ForeignKey("decisions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("options", JSONB, nullable=True),
        sa.Column("context", JSONB, nullable=True),
        *_stamps(),
    )


def downgrade() -> None:
    op.drop_table("decision_conversations")
    op.drop_table("decision_album_parts")
    op.drop_index("ix_decision_outcomes_created_at", table_name="decision_outcomes")
    op.drop_index("ix_decision_outcomes_status", table_name="decision_outcomes")
    op.drop_table("decision_outcomes")
    op.drop_index("ix_decisions_chat", table_name="decisions")
    op.drop_index("ix_decisions_created_at", table_name="decisions")
    op.drop_table("decisions")
