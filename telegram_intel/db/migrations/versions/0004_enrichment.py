"""enrichment tables

Revision ID: 0004_enrichment
Revises: 0003_llm_calls
Create Date: 2026-11-21 20:26:20.975611
"""
import pgvector.sqlalchemy
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004_enrichment'
down_revision = '0003_llm_calls'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_statistics',
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('service_messages', sa.Integer(), nullable=False),
    sa.Column('media_messages', sa.Integer(), nullable=False),
    sa.Column('active_users', sa.Integer(), nullable=False),
    sa.Column('replies', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'day')
    )
    op.create_table('clean_messages',
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sender_id', sa.BigInteger(), nullable=True),
    sa.Column('sender_pseudonym', sa.String(length=32), nullable=True),
    sa.Column('reply_to_message_id', sa.BigInteger(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_tsv', postgresql.TSVECTOR(), sa.Computed("to_tsvector('simple', text)", persisted=True), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=True),
    sa.Column('is_transcript', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('pii_counts', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('cleaner_version', sa.String(length=32), nullable=False),
    sa.Column('source_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'message_id')
    )
    op.create_index('ix_clean_messages_date', 'clean_messages', ['date'], unique=False)
    op.create_index('ix_clean_messages_sender_date', 'clean_messages', ['sender_id', 'date'], unique=False)
    op.create_index('ix_clean_messages_tsv', 'clean_messages', ['text_tsv'], unique=False, postgresql_using='gin')
    op.create_table('entities',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('mention_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'key', name='uq_entities_kind_key')
    )
    op.create_table('entity_mentions',
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('entity_id', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=128), nullable=False),
    sa.Column('date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sender_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('chat_id', 'message_id', 'entity_id', 'method')
    )
    op.create_index('ix_entity_mentions_date', 'entity_mentions', ['date'], unique=False)
    op.create_index('ix_entity_mentions_entity', 'entity_mentions', ['entity_id'], unique=False)
    op.create_table('graph_edges',
    sa.Column('src_kind', sa.String(length=16), nullable=False),
    sa.Column('src_id', sa.BigInteger(), nullable=False),
    sa.Column('relation', sa.String(length=32), nullable=False),
    sa.Column('dst_kind', sa.String(length=16), nullable=False),
    sa.Column('dst_id', sa.BigInteger(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('evidence_count', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('src_kind', 'src_id', 'relation', 'dst_kind', 'dst_id')
    )
    op.create_index('ix_graph_edges_dst', 'graph_edges', ['dst_kind', 'dst_id'], unique=False)
    op.create_table('intent_labels',
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=128), nullable=False),
    sa.Column('date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('confidences', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'message_id', 'method')
    )
    op.create_index('ix_intent_labels_date', 'intent_labels', ['date'], unique=False)
    op.create_index('ix_intent_labels_label', 'intent_labels', ['label'], unique=False)
    op.create_table('message_embeddings',
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dims', sa.Integer(), nullable=False),
    sa.Column('embedding', pgvector.sqlalchemy.vector.VECTOR(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'message_id', 'model')
    )
    op.create_index('ix_message_embeddings_model_date', 'message_embeddings', ['model', 'date'], unique=False)
    op.create_table('message_summaries',
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=128), nullable=False),
    sa.Column('date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('keywords', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', 'message_id', 'method')
    )
    op.create_index('ix_message_summaries_date', 'message_summaries', ['date'], unique=False)
    op.create_table('user_activity',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('replies_sent', sa.Integer(), nullable=False),
    sa.Column('replies_received', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('user_id', 'chat_id', 'day')
    )
    op.create_index('ix_user_activity_user', 'user_activity', ['user_id', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_user_activity_user', table_name='user_activity')
    op.drop_table('user_activity')
    op.drop_index('ix_message_summaries_date', table_name='message_summaries')
    op.drop_table('message_summaries')
    op.drop_index('ix_message_embeddings_model_date', table_name='message_embeddings')
    op.drop_table('message_embeddings')
    op.drop_index('ix_intent_labels_label', table_name='intent_labels')
    op.drop_index('ix_intent_labels_date', table_name='intent_labels')
    op.drop_table('intent_labels')
    op.drop_index('ix_graph_edges_dst', table_name='graph_edges')
    op.drop_table('graph_edges')
    op.drop_index('ix_entity_mentions_entity', table_name='entity_mentions')
    op.drop_index('ix_entity_mentions_date', table_name='entity_mentions')
    op.drop_table('entity_mentions')
    op.drop_table('entities')
    op.drop_index('ix_clean_messages_tsv', table_name='clean_messages', postgresql_using='gin')
    op.drop_index('ix_clean_messages_sender_date', table_name='clean_messages')
    op.drop_index('ix_clean_messages_date', table_name='clean_messages')
    op.drop_table('clean_messages')
    op.drop_table('chat_statistics')
