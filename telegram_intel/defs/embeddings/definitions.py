import dagster as dg

from telegram_intel.defs.embeddings.assets import message_embeddings
from telegram_intel.defs.embeddings.checks import message_embeddings_valid
from telegram_intel.defs.embeddings.resources import EmbedderResource

defs = dg.Definitions(
    assets=[message_embeddings],
    asset_checks=[message_embeddings_valid],
    resources={"embedder": EmbedderResource()},
)
