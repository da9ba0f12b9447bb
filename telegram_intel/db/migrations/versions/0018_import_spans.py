"""stored spans of an export: a re-import skips stored runs without splitting them (issue 14, part 5)

``telegram_import_spans``: one row per run of messages an import read from an export (~65 messages, ~32 KiB) and
stored, each as its source hash says: the chat, the account that read it (0: none), the run's first and last message
id, its length in bytes and the xxh3 of those bytes (seeded like the content hashes), how many messages. A later
import that finds the same bytes where a run of that chat starts with that id skips them unsplit. Ids and digests
only: nothing a person wrote.

A span holds only while its messages are stored as they were: deleting messages (any statement, or TRUNCATE)
deletes the spans whose id range meets theirs, by trigger; the writer, the one writer of ``content_hash``, deletes
those of the messages it writes over (``db/loader.py``).

Revision ID: 0018_import_spans
Revises: 0017_import_speed
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_import_spans"
down_revision = "0017_import_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_import_spans",
        sa.Column("chat_id", sa.BigInteger(), sa.ForeignKey("telegram_chats.chat_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("account_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "account_id", "first_id", "digest"),
    )
    # Per chat, the id range of the deleted rows: a few scattered deletions may take more spans than needed (the
    # next import reads those runs again and stores them anew), never fewer.
    op.execute("""
        CREATE FUNCTION telegram_import_spans_forget_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM telegram_import_spans s
            USING (SELECT chat_id, min(message_id) AS lo, max(message_id) AS hi FROM gone GROUP BY chat_id) r
            WHERE s.chat_id = r.chat_id AND s.last_id >= r.lo AND s.first_id <= r.hi;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE FUNCTION telegram_import_spans_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM telegram_import_spans;
            RETURN NULL;
        END $$
    """)
    op.execute("CREATE TRIGGER telegram_messages_forget_spans AFTER DELETE ON telegram_messages "
               "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT "
               "EXECUTE FUNCTION telegram_import_spans_forget_deleted()")
    op.execute("CREATE TRIGGER telegram_messages_truncate_spans AFTER TRUNCATE ON telegram_messages "
               "FOR EACH STATEMENT EXECUTE FUNCTION telegram_import_spans_forget_all()")
    # Also where session_replication_role = replica (the writer's COPY of new rows).
    op.execute("ALTER TABLE telegram_messages ENABLE ALWAYS TRIGGER telegram_messages_forget_spans")
    op.execute("ALTER TABLE telegram_messages ENABLE ALWAYS TRIGGER telegram_messages_truncate_spans")


def downgrade() -> None:
    op.execute("DROP TRIGGER telegram_messages_truncate_spans ON telegram_messages")
    op.execute("DROP TRIGGER telegram_messages_forget_spans ON telegram_messages")
    op.execute("DROP FUNCTION telegram_import_spans_forget_all()")
    op.execute("DROP FUNCTION telegram_import_spans_forget_deleted()")
    op.drop_table("telegram_import_spans")
