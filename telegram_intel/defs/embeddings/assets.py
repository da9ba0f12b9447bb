"""``message_embeddings``: one vector per (message, model) in pgvector, with a per-model HNSW index."""


import dagster as dg
import sqlalchemy as sa

from telegram_intel.defs.corpus.assets import clean_messages
from telegram_intel.defs.embeddings.embedding import embed_range
from telegram_intel.defs.embeddings.resources import EmbedderResource
from telegram_intel.defs.partitions import daily_message_partitions, partition_bounds
from telegram_intel.defs.resources import TelegramIntelResource


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[clean_messages],
    group_name="embeddings",
    kinds={"postgres", "pgvector"},
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=31),
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
    with telegram.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM message_embeddings WHERE model = :m"), {"m": emb.name}).scalar()
        models = conn.execute(sa.text("SELECT model, count(*) FROM message_embeddings GROUP BY 1 ORDER BY 1")).all()
    context.log.info(
        f"{stats.embedded:,} rows embedded ({stats.sentences_per_second:,.0f} sent/s), {stats.up_to_date:,} already "
        f"up to date, {stats.removed_orphans:,} orphaned vectors removed in {stats.seconds:.1f}s"
    )
    return dg.MaterializeResult(
        metadata={
            "model": emb.name,
            "dims": emb.dims,
            "rows_in_window": stats.rows_in_window,
            "rows_embedded": stats.embedded,
            "rows_up_to_date": stats.up_to_date,
            "rows_removed_orphans": stats.removed_orphans,
            "rows_for_model_total": int(total or 0),
            "vectors_by_model": dg.MetadataValue.json({m: n for m, n in models}),
            "throughput_sent_per_s": round(stats.sentences_per_second, 1),
            "embed_seconds": round(stats.embed_seconds, 3),
            "write_seconds": round(stats.write_seconds, 3),
            "hnsw_index": stats.index_name,
            "hnsw_index_built_now": stats.index_created,
            "hnsw_build_seconds": round(stats.index_seconds, 3),
            "duration_s": round(stats.seconds, 3),
        }
    )
