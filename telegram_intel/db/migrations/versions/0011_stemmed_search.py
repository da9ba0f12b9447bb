"""Stemmed full text per language: ``clean_messages.text_tsv_stem`` is ``to_tsvector`` with the PostgreSQL
configuration of the message's detected language (``russian``, ``english``, ``turkish``; ``simple`` otherwise),
GIN-indexed. ``text_tsv`` (``simple``, unstemmed) stays for word statistics.

Revision ID: 0011_stemmed_search
Revises: 0010_drop_telegram_statistics
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011_stemmed_search"
down_revision = "0010_drop_telegram_statistics"
branch_labels = None
depends_on = None

STEMMED = (
    "to_tsvector(CASE lang WHEN 'ru' THEN 'russian'::regconfig WHEN 'en' THEN 'english'::regconfig "
    "WHEN 'tr' THEN 'turkish'::regconfig ELSE 'simple'::regconfig END, text)"
)


def upgrade() -> None:
    op.add_column("clean_messages", sa.Column(
        "text_tsv_stem", postgresql.TSVECTOR(), sa.Computed(STEMMED, persisted=True), nullable=False))
    op.create_index("ix_clean_messages_tsv_stem", "clean_messages", ["text_tsv_stem"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_clean_messages_tsv_stem", table_name="clean_messages")
    op.drop_column("clean_messages", "text_tsv_stem")
