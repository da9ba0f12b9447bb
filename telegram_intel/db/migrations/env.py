from alembic import context

import telegram_intel.db.bot_models  # noqa: F401  (registers tables on Base.metadata)
import telegram_intel.db.decision_models  # noqa: F401
import telegram_intel.db.enrichment_models  # noqa: F401
import telegram_intel.db.llm_calls  # noqa: F401
import telegram_intel.db.voice_models  # noqa: F401
from telegram_intel.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through telegram_intel.db.engine.upgrade() or `telegram-intel db upgrade`")

context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
