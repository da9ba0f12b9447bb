"""llm_calls: one row per LLM call (tokens, cost, latency, status; hashes instead of text)

Revision ID: 0003_llm_calls
Revises: 0001
Create Date: 2026-11-22 12:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003_llm_calls'
# Chained after the highest revision present when this was written; keep a single head.
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('llm_calls',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('endpoint', sa.Text(), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('response_model', sa.String(length=200), nullable=True),
    sa.Column('prompt_name', sa.String(length=100), nullable=False),
    sa.Column('prompt_version', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error_kind', sa.String(length=32), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('prompt_tokens', sa.Integer(), server_default='0', nullable=False),
    sa.Column('completion_tokens', sa.Integer(), server_default='0', nullable=False),
    sa.Column('total_tokens', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cost_usd', sa.Numeric(precision=14, scale=8), server_default='0', nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('rate_limit_wait_ms', sa.Integer(), server_default='0', nullable=False),
    sa.Column('response_format', sa.String(length=16), nullable=True),
    sa.Column('prompt_sha256', sa.String(length=64), nullable=False),
    sa.Column('prompt_chars', sa.Integer(), nullable=False),
    sa.Column('response_sha256', sa.String(length=64), nullable=True),
    sa.Column('response_chars', sa.Integer(), nullable=True),
    sa.Column('tags', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_llm_calls_created_at', 'llm_calls', ['created_at'], unique=False)
    op.create_index('ix_llm_calls_prompt_created', 'llm_calls', ['prompt_name', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_llm_calls_prompt_created', table_name='llm_calls')
    op.drop_index('ix_llm_calls_created_at', table_name='llm_calls')
    op.drop_table('llm_calls')
