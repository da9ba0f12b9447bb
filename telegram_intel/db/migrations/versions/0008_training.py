"""persona training datasets and adapters

Revision ID: 0008_training
Revises: 0007_profiles
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_training"
down_revision = "0007_profiles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sft_datasets",
        sa.Column("version", sa.String(length=96), nullable=False),
        sa.Column("owner_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("watermark", sa.String(length=64), nullable=False),
        sa.Column("watermark_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("watermark_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("watermark_message_id", sa.BigInteger(), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("stats", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("dagster_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_index("ix_sft_datasets_created", "sft_datasets", ["created_at"], unique=False)
    op.create_table(
        "persona_adapters",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("dataset_version", sa.String(length=96), nullable=False),
        sa.Column("watermark", sa.String(length=64), nullable=False),
        sa.Column("watermark_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("watermark_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("watermark_message_id", sa.BigInteger(), nullable=True),
        sa.Column("base_model", sa.Text(), nullable=False),
        sa.Column("base_model_path", sa.Text(), nullable=False),
        sa.Column("trainer", sa.String(length=16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("merged_path", sa.Text(), nullable=True),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("dagster_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["dataset_version"], ["sft_datasets.version"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_persona_adapters_created", "persona_adapters", ["created_at"], unique=False)
    op.create_index("ix_persona_adapters_watermark", "persona_adapters",
                    ["watermark_date", "watermark_chat_id", "watermark_message_id"], unique=False)
    op.create_table(
        "persona_evaluations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("adapter_id", sa.BigInteger(), nullable=False),
        sa.Column("split", sa.String(length=8), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("base_perplexity", sa.Float(), nullable=False),
        sa.Column("adapter_perplexity", sa.Float(), nullable=False),
        sa.Column("style_score_adapter", sa.Float(), nullable=True),
        sa.Column("style_score_base", sa.Float(), nullable=True),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("dagster_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["adapter_id"], ["persona_adapters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_persona_evaluations_adapter", "persona_evaluations", ["adapter_id"], unique=False)
    # The retrain sensor's "new messages since the last trained watermark" count (see pipeline/training.py: count_messages_after).
    op.create_index(
        "ix_telegram_messages_watermark", "telegram_messages", ["date", "chat_id", "message_id"], unique=False,
        postgresql_where=sa.text("kind <> 'service'"),
    )


def downgrade() -> None:
    op.drop_index("ix_telegram_messages_watermark", table_name="telegram_messages")
    op.drop_index("ix_persona_evaluations_adapter", table_name="persona_evaluations")
    op.drop_table("persona_evaluations")
    op.drop_index("ix_persona_adapters_watermark", table_name="persona_adapters")
    op.drop_index("ix_persona_adapters_created", table_name="persona_adapters")
    op.drop_table("persona_adapters")
    op.drop_index("ix_sft_datasets_created", table_name="sft_datasets")
    op.drop_table("sft_datasets")
