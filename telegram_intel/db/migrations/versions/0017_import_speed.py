"""import speed and resume: ``telegram_messages.content_hash``, import-run checkpoints (issue 14, parts 5–6)

* ``telegram_messages.content_hash``: a 64-bit hash of everything the writer stores for a message (``raw`` and
  every modelled column; not the accounts that saw it, which are merged). A re-import compares it with the new
  version's hash and writes nothing for an unchanged message (no COPY, no upsert). NULL for rows stored before:
  their first re-import goes through the upsert, which fills it in.
* ``telegram_import_runs.source_fingerprint`` (file size, mtime and a hash of its first and last bytes),
  ``resumed_from`` (the interrupted run this one continued) and ``resume_offset`` (the byte offset this run's
  parsing started at; 0 for a run from the start).
* ``telegram_import_checkpoints``: one row per committed message batch, written in the batch's own transaction:
  where the parser stood after it (byte offset, chat, message position), so an interrupted import resumes after
  the last batch below which every batch committed.

Revision ID: 0017_import_speed
Revises: 0016_decisions
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017_import_speed"
down_revision = "0016_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("telegram_messages", sa.Column("content_hash", sa.BigInteger(), nullable=True))
    op.add_column("telegram_import_runs", sa.Column("source_fingerprint", sa.Text(), nullable=True))
    op.add_column("telegram_import_runs", sa.Column(
        "resumed_from", sa.BigInteger(), sa.ForeignKey("telegram_import_runs.id", ondelete="SET NULL"),
        nullable=True))
    op.add_column("telegram_import_runs", sa.Column("resume_offset", sa.BigInteger(), server_default="0",
                                                    nullable=False))
    op.create_table(
        "telegram_import_checkpoints",
        sa.Column("run_id", sa.BigInteger(), sa.ForeignKey("telegram_import_runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("byte_offset", sa.BigInteger(), nullable=True),
        sa.Column("position", postgresql.JSONB(), nullable=True),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "batch"),
    )


def downgrade() -> None:
    op.drop_table("telegram_import_checkpoints")
    op.drop_column("telegram_import_runs", "resume_offset")
    op.drop_column("telegram_import_runs", "resumed_from")
    op.drop_column("telegram_import_runs", "source_fingerprint")
    op.drop_column("telegram_messages", "content_hash")
