"""privacy: tombstones of erased people, stale persona adapters, and the reply-context leak cleaned up

``erased_users`` keeps only the Telegram id of a person erased with ``telegram-intel people forget`` (never a name
or any content): every import checks it, so an old export cannot bring the person back, and the Dagster sensor
``erased_people_run_records_sensor`` notes when it has removed the id from Dagster's run records.

``persona_adapters.stale_at`` / ``stale_reason`` mark adapters trained on data of a person who opted out or was
erased (their files are deleted; the retrain sensor trains a replacement).

Data fix: summaries and intent labels of messages that reply to an opted-out user's message were computed with
that user's text as reply context and were never recomputed after the opt-out (the replied-to text vanished from
``clean_messages``, so nothing looked newer). They are deleted here; the next enrichment run recomputes them
without the context.

Revision ID: 0012_privacy
Revises: 0011_stemmed_search
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_privacy"
down_revision = "0011_stemmed_search"
branch_labels = None
depends_on = None

_REPLIES_TO_OPTED_OUT = """
    SELECT r.chat_id, r.message_id FROM telegram_messages r
    JOIN telegram_messages p ON p.chat_id = r.chat_id AND p.message_id = r.reply_to_message_id
    JOIN telegram_users u ON u.user_id = p.sender_id AND u.is_ignored
    WHERE r.reply_to_message_id IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "erased_users",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("run_records_scrubbed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.add_column("persona_adapters", sa.Column("stale_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("persona_adapters", sa.Column("stale_reason", sa.String(length=64), nullable=True))
    for table in ("message_summaries", "intent_labels"):
        op.execute(f"DELETE FROM {table} d USING ({_REPLIES_TO_OPTED_OUT}) k "
                   "WHERE d.chat_id = k.chat_id AND d.message_id = k.message_id")
    op.execute("UPDATE telegram_messages t SET ai_summary = NULL, ai_keywords = NULL, ai_processed = false "
               f"FROM ({_REPLIES_TO_OPTED_OUT}) k WHERE t.chat_id = k.chat_id AND t.message_id = k.message_id "
               "AND (t.ai_summary IS NOT NULL OR t.ai_keywords IS NOT NULL OR t.ai_processed)")


def downgrade() -> None:
    op.drop_column("persona_adapters", "stale_reason")
    op.drop_column("persona_adapters", "stale_at")
    op.drop_table("erased_users")
