from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import telegram_intel.db.training_models  # noqa: F401
from telegram_intel.db.models import Base

MINE = ("sft_datasets", "persona_adapters", "persona_evaluations", "ix_telegram_messages_watermark")


def test_training_migration_matches_the_models(engine):
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if any(name in repr(d) for name in MINE)] == []
