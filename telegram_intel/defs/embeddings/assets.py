"""``message_embeddings``: one vector per (message, model) in pgvector, with a per-model HNSW index."""


import dagster as dg

from telegram_intel.defs.corpus.assets import clean_messages
from telegram_intel.defs.embeddings.resources import EmbedderResource
from telegram_intel.defs.metadata import materialize_result
from telegram_intel.defs.partitions import (
    DAILY_ENRICHMENT,
    daily_message_partitions,
    partition_bounds,
)
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.pipeline.embeddings import embed_range, embeddings_report


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[clean_messages],
    group_name="embeddings",
    kinds={"postgres", "pgvector"},
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
    automation_condition=DAILY_ENRICHMENT,
    pool="heavy_ml",
)
def message_embeddings(
    context: dg.AssetExecutionContext, telegram: TelegramIntelResource, embedder: EmbedderResource
) -> dg.MaterializeResult:
    """Sentence embeddings of `clean_messages`: `message_embeddings`, one row per (message, model), daily
    partitions by message date.

    Only rows without a vector for the configured model, or whose clean text changed since, are embedded; writes
    are binary COPY + upsert per chunk of 2,048 rows. The model's partial HNSW index (cosine, on
    `embedding::vector(dims)` where `model = '<model>'`) is created after the first bulk load. Another model is a
    backfill beside the existing vectors, never an overwrite."""
    lo, hi = partition_bounds(context)
    emb = embedder.get()
    context.log.info(f"embedding clean messages dated [{lo:%Y-%m-%d}, {hi:%Y-%m-%d}) with {emb.name} ({emb.dims}-d)")
    stats = embed_range(telegram.engine, emb, lo, hi, log=context.log.info)
    context.log.info(f"{stats.embedded:,} rows embedded ({stats.sentences_per_second:,.0f} sent/s), "
                     f"{stats.up_to_date:,} already up to date in {stats.seconds:.1f}s")
    return materialize_result(embeddings_report(telegram.engine, emb, stats))
