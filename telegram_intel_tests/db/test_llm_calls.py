from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from telegram_intel.db.llm_calls import LLMCall
from telegram_intel.db.models import Base


def test_llm_calls_migration_matches_the_model(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)

    def touches_llm_calls(diff) -> bool:
        text = repr(diff)
        return LLMCall.__tablename__ in text

    assert [d for d in diffs if touches_llm_calls(d)] == []
