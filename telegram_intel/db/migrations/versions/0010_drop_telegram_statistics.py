"""Drop ``telegram_statistics``: created by the first schema and never written or read (``chat_statistics`` and
``user_activity`` hold the statistics).

Revision ID: 0010_drop_telegram_statistics
Revises: 0009_voice
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_drop_telegram_statistics"
down_revision = "0009_voice"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_telegram_statistics_metric", table_name="telegram_statistics")
    op.drop_table("telegram_statistics")


def downgrade() -> None:
    op.create_table(
        "telegram_statistics",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("metric_name", sa.String(length=64), nullable=False),
        sa.Column("metric_value", sa.BigInteger(), nullable=False),
        sa.Column("calculated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["telegram_chats.chat_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_telegram_statistics_metric", "telegram_statistics", ["metric_name", "calculated_at"])
