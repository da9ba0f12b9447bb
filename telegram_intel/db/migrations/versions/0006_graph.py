"""knowledge graph changes

Revision ID: 0006_graph
Revises: 0005_corpus
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0006_graph"
down_revision = "0005_corpus"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
