"""message history keeps every modelled field: ``telegram_message_edits.previous``

A row of ``telegram_message_edits`` was the previous text of a message whose text a newer version replaced. A
newer (or same-date) version that changed anything else, e.g. a re-export that no longer has the photo, overwrote
the row with no trace. Now every replacing write adds a history row: ``text``/``entities``/``edit_date`` as before
(the previous values), and ``previous`` holds the previous values of the other columns that changed (column →
value; ``raw`` is the previous source JSON, so unmodelled fields are kept too). Older rows have ``previous`` NULL.

Revision ID: 0013_message_versions
Revises: 0012_privacy
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013_message_versions"
down_revision = "0012_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("telegram_message_edits", sa.Column("previous", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("telegram_message_edits", "previous")
