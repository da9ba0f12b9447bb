"""The one root Definitions: merges each domain's defs and the shared resources.

Domain modules are imported as modules (not their `defs` objects) so that this module
holds exactly one Definitions object at module scope, as Dagster's loader requires.
"""

import dagster as dg

from telegram_intel.defs.ingest import definitions as ingest
from telegram_intel.defs.sync import definitions as sync
from telegram_intel.llm.resource import LLMResource
from telegram_intel.resources import TelegramIntelResource

defs = dg.Definitions.merge(
    ingest.defs,
    sync.defs,
    dg.Definitions(resources={"telegram": TelegramIntelResource(), "llm": LLMResource()}),
)
