"""Migration 0014 (ingest depth): schema matches the models; existing single-account data is backfilled."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from telegram_intel.db.engine import alembic_config, make_engine, upgrade
from telegram_intel.db.models import Account, Base, Topic

_NEW = {"telegram_topics", "telegram_accounts", "topic_id", "account_ids", "post_chat_id", "post_message_id",
        "is_forum", "linked_chat_id", "ix_telegram_messages_topic", "ix_telegram_messages_post"}


def test_new_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if any(name in repr(d) for name in _NEW)] == []
    assert {Topic.__tablename__, Account.__tablename__} <= set(sa.inspect(engine).get_table_names())


def downgrade(engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


@pytest.fixture
def scratch_db(migrated_engine, database_url):
    """A database of its own: this test walks the migration chain from 0013."""
    name = f"ti_mig_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_engine(database_url).url.set(database=name)
    eng = make_engine(url.render_as_string(hide_password=False))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _seed(eng, owners: list[int]) -> None:
    with eng.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_chats (chat_id, type) VALUES (-1001, 'supergroup')"))
        for uid in owners:
            conn.execute(sa.text("INSERT INTO telegram_users (user_id, is_owner) VALUES (:u, true)"), {"u": uid})
        conn.execute(sa.text("INSERT INTO telegram_users (user_id) VALUES (99)"))
        conn.execute(sa.text(
            "INSERT INTO telegram_messages (chat_id, message_id, date, text, reactions) VALUES "
            "(-1001, 1, '2024-01-01Z', 'a', '[{\"type\": \"emoji\", \"count\": 2, \"emoji\": \"👍\"}]'),"
            "(-1001, 2, '2024-01-02Z', 'b', NULL)"))
        conn.execute(sa.text("INSERT INTO telegram_sync_cursors (chat_id, last_message_id) VALUES (-1001, 2)"))


def test_backfills_existing_rows_to_the_one_owner_and_never_guesses(scratch_db):
    upgrade(scratch_db, "0013_message_versions")
    _seed(scratch_db, [42])
    upgrade(scratch_db, "0014_ingest_depth")
    with scratch_db.connect() as conn:
        assert conn.execute(sa.text("SELECT account_id FROM telegram_accounts")).scalars().all() == [42]
        rows = conn.execute(sa.text("SELECT message_id, account_ids, topic_id FROM telegram_messages ORDER BY 1"))
        assert rows.all() == [(1, [42], None), (2, [42], None)]
        # the sync goes on from where that account stopped
        assert conn.execute(sa.text("SELECT chat_id, account_id, last_message_id FROM telegram_sync_cursors")).all() \
            == [(-1001, 42, 2)]
        # The reactions stored before the migration are readable through the new view.
        assert conn.execute(sa.text("SELECT message_id, reaction, count FROM telegram_message_reactions")).all() == [
            (1, "👍", 2)]

    # Back down (the cursors keep their chat), then data with two owners: which account saw what is unknown.
    downgrade(scratch_db, "0013_message_versions")
    with scratch_db.begin() as conn:
        assert conn.execute(sa.text("SELECT chat_id, last_message_id FROM telegram_sync_cursors")).all() == [(-1001, 2)]
        conn.execute(sa.text("TRUNCATE telegram_chats, telegram_users, telegram_sync_cursors CASCADE"))
    _seed(scratch_db, [42, 43])
    upgrade(scratch_db, "0014_ingest_depth")
    with scratch_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_accounts")).scalar() == 0
        unknown = conn.execute(sa.text("SELECT count(*) FROM telegram_messages WHERE account_ids IS NULL")).scalar()
        assert unknown == 2
