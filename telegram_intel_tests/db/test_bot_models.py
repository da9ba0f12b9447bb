from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import telegram_intel.db.bot_models  # noqa: F401
from telegram_intel.db.models import Base

BOT_TABLES = {"persona_feedback", "bot_persona_memory", "bot_persona_replies", "bot_users", "bot_voice_cache"}


def _tables(diff) -> set[str]:
    """The tables a compare_metadata diff is about (a diff is a tuple, or a list of tuples for column changes)."""
    import sqlalchemy as sa

    names = set()
    for part in diff[0] if isinstance(diff, list) else diff:
        if isinstance(part, sa.Table):
            names.add(part.name)
        elif getattr(part, "table", None) is not None:
            names.add(part.table.name)
        elif isinstance(part, str):
            names.add(part)
    return names


def test_bot_migration_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if _tables(d) & BOT_TABLES] == []


def test_persona_feedback_has_the_agreed_columns(engine):
    """The contract with the DPO training (pipeline/preferences.py): these columns, types and defaults."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        cols = conn.execute(sa.text(
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_name = 'persona_feedback' ORDER BY ordinal_position")).all()
        indexes = conn.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE tablename = 'persona_feedback'"))\
            .scalars().all()
    assert [(c.column_name, c.data_type, c.is_nullable) for c in cols] == [
        ("id", "bigint", "NO"), ("persona", "text", "NO"), ("bot_user_id", "bigint", "NO"), ("prompt", "jsonb", "NO"),
        ("reply", "text", "NO"), ("rating", "smallint", "NO"), ("correction", "text", "YES"),
        ("adapter", "text", "YES"), ("created_at", "timestamp with time zone", "NO")]
    defaults = {c.column_name: c.column_default for c in cols}
    assert defaults["id"].startswith("nextval(") and defaults["persona"] == "'owner'::text"
    assert defaults["created_at"] == "now()"
    assert any("(created_at)" in i for i in indexes)
