"""user profiles and settings

Revision ID: 0007_profiles
Revises: 0004_enrichment
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_profiles"
down_revision = "0004_enrichment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_user_ai_profiles",
        sa.Column("user_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("status", sa.String(length=24), nullable=True),
        sa.Column("job_label", sa.Text(), nullable=True),
        sa.Column("sector", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("evidence_keywords", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("evidence_message_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("alternatives", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("method", sa.String(length=160), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=True),
        sa.Column("corpus_last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_analyzed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expertise", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("interests", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("manual_override", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("manual_job_label", sa.Text(), nullable=True),
        sa.Column("manual_sector", sa.Text(), nullable=True),
        sa.Column("manual_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("confidence IS NULL OR (confidence BETWEEN 0 AND 100)", name="ck_profiles_confidence"),
        sa.ForeignKeyConstraint(["user_id"], ["telegram_users.user_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index("ix_profiles_job", "telegram_user_ai_profiles", ["job_label"], unique=False)
    op.create_index("ix_profiles_sector", "telegram_user_ai_profiles", ["sector"], unique=False)
    op.create_table(
        "user_message_corpus",
        sa.Column("user_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("selected_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "chat_id", "message_id"),
    )
    op.create_index("ix_user_message_corpus_user_date", "user_message_corpus", ["user_id", "date"], unique=False)
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("app_settings")
    op.drop_index("ix_user_message_corpus_user_date", table_name="user_message_corpus")
    op.drop_table("user_message_corpus")
    op.drop_index("ix_profiles_sector", table_name="telegram_user_ai_profiles")
    op.drop_index("ix_profiles_job", table_name="telegram_user_ai_profiles")
    op.drop_table("telegram_user_ai_profiles")
