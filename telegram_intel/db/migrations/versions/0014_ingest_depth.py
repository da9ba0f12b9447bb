"""forum topics, accounts, channel comments, reactions, import resume (issue 14)

* ``telegram_messages.topic_id``: the forum topic a message belongs to (the id of the topic's creation message;
  1 = General), NULL outside forums. ``telegram_topics`` holds each topic's current title and icon.
* ``telegram_accounts`` and ``telegram_messages.account_ids``: which of the user's own Telegram accounts saw a
  message. Existing rows are backfilled to the one owner account found in the data (``telegram_users.is_owner``);
  with no owner, or several, they stay NULL (unknown) rather than being guessed.
* ``telegram_sync_cursors.account_id``: each account reads a chat's history from its own high-water mark (a second
  account must still see, and record, the messages the first one already stored). Existing cursors go to the one
  owner account, like the messages; else to account 0 (unknown), which no live account reads.
* ``telegram_messages.post_chat_id``/``post_message_id``: the channel post a comment (a message of the channel's
  discussion group) belongs to; ``telegram_chats.linked_chat_id``: channel ↔ discussion group.
* ``telegram_message_reactions`` / ``telegram_reaction_senders``: views over ``telegram_messages.reactions`` (the
  normalized list every source writes), so reaction rows can never drift from the message they belong to and the
  import writes nothing extra. ``reaction_statistics`` (per chat, day and reaction) and ``user_reactions`` (per
  user, chat and day: reactions received on their messages, reactions they gave where Telegram names who reacted)
  are the statistics assets' tables.

Revision ID: 0014_ingest_depth
Revises: 0013_message_versions
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014_ingest_depth"
down_revision = "0013_message_versions"
branch_labels = None
depends_on = None

# "user123" / "chat123" / "channel123" (the export's peer reference) -> marked peer id.
_PEER = """CASE
    WHEN {v} ~ '^user[0-9]{{1,18}}$' THEN substr({v}, 5)::bigint
    WHEN {v} ~ '^chat[0-9]{{1,18}}$' THEN -substr({v}, 5)::bigint
    WHEN {v} ~ '^channel[0-9]{{1,15}}$' THEN -1000000000000 - substr({v}, 8)::bigint
END"""

# emoji: the emoji itself; custom_emoji: its document id; paid: "paid" (Telegram Stars).
_REACTION_KEY = """CASE r->>'type' WHEN 'emoji' THEN r->>'emoji' WHEN 'custom_emoji' THEN r->>'document_id'
    ELSE r->>'type' END"""

REACTIONS_VIEW = f"""
CREATE VIEW telegram_message_reactions AS
SELECT m.chat_id, m.message_id, m.date, m.sender_id, m.topic_id,
       r->>'type' AS reaction_type, {_REACTION_KEY} AS reaction,
       CASE WHEN jsonb_typeof(r->'count') = 'number' THEN (r->>'count')::numeric::bigint END AS count
FROM telegram_messages m CROSS JOIN LATERAL jsonb_array_elements(m.reactions) AS r
WHERE jsonb_typeof(m.reactions) = 'array' AND jsonb_typeof(r) = 'object' AND m.deleted_at IS NULL
"""

# Who reacted, where Telegram exposes it (small chats, the message's author): the export's/mapper's "recent" list.
# Dates are UTC without zone in the mapper's output and the exporter's local time in exports (taken as UTC).
SENDERS_VIEW = f"""
CREATE VIEW telegram_reaction_senders AS
SELECT m.chat_id, m.message_id, m.date AS message_date, r->>'type' AS reaction_type, {_REACTION_KEY} AS reaction,
       {_PEER.format(v="(p->>'from_id')")} AS user_id,
       CASE WHEN p->>'date' ~ '^\\d{{4}}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d$'
            THEN (p->>'date')::timestamp AT TIME ZONE 'UTC' END AS reacted_at
FROM telegram_messages m
CROSS JOIN LATERAL jsonb_array_elements(m.reactions) AS r
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r->'recent') = 'array' THEN r->'recent'
                                             ELSE '[]'::jsonb END) AS p
WHERE jsonb_typeof(m.reactions) = 'array' AND jsonb_typeof(r) = 'object' AND jsonb_typeof(p) = 'object'
  AND m.deleted_at IS NULL
"""


def upgrade() -> None:
    op.add_column("telegram_messages", sa.Column("topic_id", sa.BigInteger(), nullable=True))
    op.add_column("telegram_messages", sa.Column("account_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True))
    op.add_column("telegram_messages", sa.Column("post_chat_id", sa.BigInteger(), nullable=True))
    op.add_column("telegram_messages", sa.Column("post_message_id", sa.BigInteger(), nullable=True))
    # Partial: only forum messages and comments pay for these on import.
    op.create_index("ix_telegram_messages_topic", "telegram_messages", ["chat_id", "topic_id", "date"],
                    postgresql_where=sa.text("topic_id IS NOT NULL"))
    op.create_index("ix_telegram_messages_post", "telegram_messages", ["post_chat_id", "post_message_id"],
                    postgresql_where=sa.text("post_chat_id IS NOT NULL"))

    op.add_column("telegram_chats", sa.Column("is_forum", sa.Boolean(), server_default="false", nullable=False))
    op.add_column("telegram_chats", sa.Column("linked_chat_id", sa.BigInteger(), nullable=True))

    op.create_table(
        "telegram_topics",
        sa.Column("chat_id", sa.BigInteger(), sa.ForeignKey("telegram_chats.chat_id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("topic_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("icon_emoji_id", sa.BigInteger(), nullable=True),
        sa.Column("icon_color", sa.Integer(), nullable=True),
        sa.Column("creator_id", sa.BigInteger(), nullable=True),
        sa.Column("created_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("edited_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "topic_id"),
    )

    op.create_table(
        "telegram_accounts",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
        sa.UniqueConstraint("name", name="uq_telegram_accounts_name"),
    )
    # Single-account data: the one owner found is the account that saw everything stored so far.
    op.execute("""
        INSERT INTO telegram_accounts (account_id)
        SELECT min(user_id) FROM telegram_users WHERE is_owner HAVING count(*) = 1
    """)
    op.execute("""
        UPDATE telegram_messages SET account_ids = ARRAY[a.account_id]
        FROM telegram_accounts a WHERE telegram_messages.account_ids IS NULL
    """)

    op.add_column("telegram_sync_cursors",
                  sa.Column("account_id", sa.BigInteger(), server_default="0", nullable=False))
    op.execute("UPDATE telegram_sync_cursors SET account_id = a.account_id FROM telegram_accounts a")
    op.drop_constraint("telegram_sync_cursors_pkey", "telegram_sync_cursors", type_="primary")
    op.create_primary_key("telegram_sync_cursors_pkey", "telegram_sync_cursors", ["chat_id", "account_id"])

    op.execute(REACTIONS_VIEW)
    op.execute(SENDERS_VIEW)

    op.create_table(
        "reaction_statistics",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reaction", sa.Text(), nullable=False),
        sa.Column("reaction_type", sa.String(16), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "day", "reaction"),
    )
    op.create_table(
        "user_reactions",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("given", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "chat_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("user_reactions")
    op.drop_table("reaction_statistics")
    op.execute("DROP VIEW IF EXISTS telegram_reaction_senders")
    op.execute("DROP VIEW IF EXISTS telegram_message_reactions")
    op.execute("DELETE FROM telegram_sync_cursors c USING telegram_sync_cursors d WHERE c.chat_id = d.chat_id"
               " AND (c.last_message_id, c.account_id) < (d.last_message_id, d.account_id)")
    op.drop_constraint("telegram_sync_cursors_pkey", "telegram_sync_cursors", type_="primary")
    op.drop_column("telegram_sync_cursors", "account_id")
    op.create_primary_key("telegram_sync_cursors_pkey", "telegram_sync_cursors", ["chat_id"])
    op.drop_table("telegram_accounts")
    op.drop_table("telegram_topics")
    op.drop_column("telegram_chats", "linked_chat_id")
    op.drop_column("telegram_chats", "is_forum")
    op.drop_index("ix_telegram_messages_post", table_name="telegram_messages")
    op.drop_index("ix_telegram_messages_topic", table_name="telegram_messages")
    op.drop_column("telegram_messages", "post_message_id")
    op.drop_column("telegram_messages", "post_chat_id")
    op.drop_column("telegram_messages", "account_ids")
    op.drop_column("telegram_messages", "topic_id")
