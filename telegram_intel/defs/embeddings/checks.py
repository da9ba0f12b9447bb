"""Checks on ``message_embeddings`` for the configured model."""


from datetime import datetime, timezone

import dagster as dg

from telegram_intel.defs.corpus.checks import run_window
from telegram_intel.defs.embeddings.assets import message_embeddings
from telegram_intel.defs.embeddings.resources import EmbedderResource
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.pipeline.embeddings import embeddings_check


@dg.asset_check(
    asset=message_embeddings,
    description="Every clean message of the run's partitions (all, when run alone) has a vector of the configured model; vectors have the "
    "model's dimension and unit length; the model's HNSW index exists.",
)
def message_embeddings_valid(
    context: dg.AssetCheckExecutionContext, telegram: TelegramIntelResource, embedder: EmbedderResource
) -> dg.AssetCheckResult:
    lo, hi = run_window(context) or (datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(9999, 1, 1, tzinfo=timezone.utc))
    outcome = embeddings_check(telegram.engine, embedder.get(), lo, hi)
    return dg.AssetCheckResult(passed=outcome.passed, metadata=outcome.metadata)
