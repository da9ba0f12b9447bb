"""The one root Definitions: merges each domain's defs and the shared resource."""

import dagster as dg

from telegram_intel.defs.ingest.definitions import defs as ingest_defs
from telegram_intel.defs.sync.definitions import defs as sync_defs
from telegram_intel.llm.resource import LLMResource
from telegram_intel.resources import TelegramIntelResource

defs = dg.Definitions.merge(
    ingest_defs,
    sync_defs,
    dg.Definitions(resources={"telegram": TelegramIntelResource(), "llm": LLMResource()}),
)
