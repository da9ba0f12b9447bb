"""Checks on ``message_embeddings`` for the configured model."""


from datetime import datetime, timezone

import dagster as dg
import sqlalchemy as sa

from telegram_intel.defs.embeddings.assets import message_embeddings
from telegram_intel.defs.embeddings.resources import EmbedderResource
from telegram_intel.defs.corpus.checks import run_window
from telegram_intel.lib.vector_store import hnsw_index_name
from telegram_intel.defs.resources import TelegramIntelResource


@dg.asset_check(
    asset=message_embeddings,
    description="Every clean message of the run's partitions (all, when run alone) has a vector of the configured model; vectors have the "
    "model's dimension and unit length; the model's HNSW index exists.",
)
def message_embeddings_valid(
    context: dg.AssetCheckExecutionContext, telegram: TelegramIntelResource, embedder: EmbedderResource
) -> dg.AssetCheckResult:
    lo, hi = run_window(context) or (datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(9999, 1, 1, tzinfo=timezone.utc))
    emb = embedder.get()
    params = {"m": emb.name, "lo": lo, "hi": hi, "d": emb.dims}
    with telegram.connect() as conn:
        missing = conn.execute(sa.text(
            "SELECT count(*) FROM clean_messages c WHERE c.date >= :lo AND c.date < :hi AND c.text <> '' "
            "AND NOT EXISTS (SELECT 1 FROM message_embeddings e WHERE e.chat_id = c.chat_id "
            "AND e.message_id = c.message_id AND e.model = :m)"
        ), params).scalar_one()
        bad = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE dims <> :d OR vector_dims(embedding) <> :d), "
            "count(*) FILTER (WHERE abs(vector_norm(embedding) - 1) > 1e-3), count(*) "
            "FROM message_embeddings WHERE model = :m AND date >= :lo AND date < :hi"
        ), params).one()
        has_index = conn.execute(sa.text("SELECT to_regclass(:n) IS NOT NULL"),
                                 {"n": hnsw_index_name(emb.name)}).scalar_one()
    wrong_dims, not_unit, rows = bad
    return dg.AssetCheckResult(
        passed=missing == 0 and wrong_dims == 0 and not_unit == 0 and (has_index or rows == 0),
        metadata={"model": emb.name, "rows": rows, "clean_rows_without_vector": missing,
                  "wrong_dims": wrong_dims, "not_unit_length": not_unit, "hnsw_index_exists": bool(has_index)},
    )
