"""corpus (clean_messages) changes

Revision ID: 0005_corpus
Revises: 0004_enrichment
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0005_corpus"
down_revision = "0004_enrichment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
