"""The one root Definitions: every domain folder under ``defs/`` (discovered by ``load_from_defs_folder``) plus the
shared resources."""

from pathlib import Path

import dagster as dg

from telegram_intel.defs.resources import LLMResource, TelegramIntelResource

defs = dg.Definitions.merge(
    dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
    dg.Definitions(resources={"telegram": TelegramIntelResource(), "llm": LLMResource()}),
)
