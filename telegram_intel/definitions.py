"""The one root Definitions: merges each domain's defs and the shared resources.

Domain modules are imported as modules (not their `defs` objects) so that this module
holds exactly one Definitions object at module scope, as Dagster's loader requires.
"""

import dagster as dg

from telegram_intel.defs.automation import definitions as automation
from telegram_intel.defs.corpus import definitions as corpus
from telegram_intel.defs.embeddings import definitions as embeddings
from telegram_intel.defs.graph import definitions as graph
from telegram_intel.defs.ingest import definitions as ingest
from telegram_intel.defs.labels import definitions as labels
from telegram_intel.defs.profiles import definitions as profiles
from telegram_intel.defs.stats import definitions as stats
from telegram_intel.defs.sync import definitions as sync
from telegram_intel.defs.training import definitions as training
from telegram_intel.defs.voice import definitions as voice
from telegram_intel.llm.resource import LLMResource
from telegram_intel.resources import TelegramIntelResource

defs = dg.Definitions.merge(
    ingest.defs,
    sync.defs,
    corpus.defs,
    embeddings.defs,
    labels.defs,
    graph.defs,
    profiles.defs,
    stats.defs,
    voice.defs,
    training.defs,
    automation.defs,
    dg.Definitions(resources={"telegram": TelegramIntelResource(), "llm": LLMResource()}),
)
