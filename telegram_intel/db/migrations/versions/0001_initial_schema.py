"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 20:00:49.475412
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # pgvector is used by the enrichment tables; create it with the base schema.
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table('telegram_chats',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('members_count', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('is_left', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('source', sa.String(length=16), server_default='export', nullable=False),
    sa.Column('last_scanned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('chat_id')
    )
    op.create_index(op.f('ix_telegram_chats_username'), 'telegram_chats', ['username'], unique=False)
    op.create_table('telegram_import_runs',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('source_kind', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='running', nullable=False),
    sa.Column('messages_seen', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('messages_new', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('messages_updated', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('telegram_users',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('first_name', sa.Text(), nullable=True),
    sa.Column('last_name', sa.Text(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('is_bot', sa.Boolean(), nullable=True),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('language_code', sa.String(length=16), nullable=True),
    sa.Column('is_owner', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('is_ignored', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_index(op.f('ix_telegram_users_username'), 'telegram_users', ['username'], unique=False)
    op.create_table('telegram_messages',
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=8), server_default='message', nullable=False),
    sa.Column('date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edit_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sender_id', sa.BigInteger(), nullable=True),
    sa.Column('sender_name', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), server_default='', nullable=False),
    sa.Column('entities', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('reply_to_message_id', sa.BigInteger(), nullable=True),
    sa.Column('reply_to_peer_id', sa.BigInteger(), nullable=True),
    sa.Column('forwarded_from', sa.Text(), nullable=True),
    sa.Column('forwarded_from_id', sa.BigInteger(), nullable=True),
    sa.Column('saved_from', sa.Text(), nullable=True),
    sa.Column('via_bot', sa.Text(), nullable=True),
    sa.Column('has_media', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('media_type', sa.String(length=16), nullable=True),
    sa.Column('mime_type', sa.String(length=128), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=True),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('grouped_id', sa.BigInteger(), nullable=True),
    sa.Column('reactions', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('inline_buttons', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('raw', postgresql.JSON(astext_type=sa.Text()), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ai_summary', sa.Text(), nullable=True),
    sa.Column('ai_keywords', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('ai_processed', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['telegram_chats.chat_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('chat_id', 'message_id')
    )
    op.create_index('ix_telegram_messages_chat_date', 'telegram_messages', ['chat_id', 'date'], unique=False)
    op.create_index('ix_telegram_messages_sender_date', 'telegram_messages', ['sender_id', 'date'], unique=False)
    op.create_table('telegram_statistics',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=True),
    sa.Column('metric_name', sa.String(length=64), nullable=False),
    sa.Column('metric_value', sa.BigInteger(), nullable=False),
    sa.Column('calculated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['telegram_chats.chat_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_telegram_statistics_metric', 'telegram_statistics', ['metric_name', 'calculated_at'], unique=False)
    op.create_table('telegram_sync_cursors',
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('last_message_id', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['telegram_chats.chat_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('chat_id')
    )
    op.create_table('telegram_files',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('file_type', sa.String(length=16), nullable=True),
    sa.Column('file_name', sa.Text(), nullable=True),
    sa.Column('file_path', sa.Text(), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('mime_type', sa.String(length=128), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('ai_caption', sa.Text(), nullable=True),
    sa.Column('ai_tags', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['chat_id', 'message_id'], ['telegram_messages.chat_id', 'telegram_messages.message_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chat_id', 'message_id', 'kind', name='uq_telegram_files_message_kind')
    )
    op.create_index('ix_telegram_files_sha256', 'telegram_files', ['sha256'], unique=False)
    op.create_table('telegram_message_edits',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('edit_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('entities', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['chat_id', 'message_id'], ['telegram_messages.chat_id', 'telegram_messages.message_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_telegram_message_edits_msg', 'telegram_message_edits', ['chat_id', 'message_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_telegram_message_edits_msg', table_name='telegram_message_edits')
    op.drop_table('telegram_message_edits')
    op.drop_index('ix_telegram_files_sha256', table_name='telegram_files')
    op.drop_table('telegram_files')
    op.drop_table('telegram_sync_cursors')
    op.drop_index('ix_telegram_statistics_metric', table_name='telegram_statistics')
    op.drop_table('telegram_statistics')
    op.drop_index('ix_telegram_messages_sender_date', table_name='telegram_messages')
    op.drop_index('ix_telegram_messages_chat_date', table_name='telegram_messages')
    op.drop_table('telegram_messages')
    op.drop_index(op.f('ix_telegram_users_username'), table_name='telegram_users')
    op.drop_table('telegram_users')
    op.drop_table('telegram_import_runs')
    op.drop_index(op.f('ix_telegram_chats_username'), table_name='telegram_chats')
    op.drop_table('telegram_chats')
