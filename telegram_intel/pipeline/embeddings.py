"""The work behind ``message_embeddings``, without Dagster (the benchmark and tests call it directly)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from telegram_intel.db.vectors import (
    ensure_hnsw_index,
    hnsw_index_exists,
    hnsw_index_name,
    write_embeddings,
)
from telegram_intel.lib.report import CheckOutcome, Report
from telegram_intel.ml.embedders import Embedder

__all__ = ["EmbedStats", "embed_range"]


@dataclass
class EmbedStats:
    model: str
    dims: int
    rows_in_window: int = 0
    embedded: int = 0  # new or re-embedded (text changed) rows
    up_to_date: int = 0
    removed_orphans: int = 0  # vectors whose clean row is gone
    embed_seconds: float = 0.0
    write_seconds: float = 0.0
    index_name: str = ""
    index_created: bool = False
    index_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def sentences_per_second(self) -> float:
        return self.embedded / self.embed_seconds if self.embed_seconds else 0.0


_PENDING_ROWS = """
SELECT c.chat_id, c.message_id, c.date, c.text FROM clean_messages c
LEFT JOIN message_embeddings e ON e.chat_id = c.chat_id AND e.message_id = c.message_id AND e.model = :model
WHERE c.date >= :lo AND c.date < :hi AND c.text <> ''
  AND (e.chat_id IS NULL OR e.updated_at < c.updated_at OR e.date <> c.date)
ORDER BY c.date, c.chat_id, c.message_id
"""


def embed_range(
    engine: Engine,
    embedder: Embedder,
    lo: datetime,
    hi: datetime,
    *,
    chunk_rows: int = 2048,
    build_index: bool = True,
    log: Callable[[str], None] | None = None,
    log_every_s: float = 10.0,
) -> EmbedStats:
    """Embed the ``clean_messages`` rows dated in ``[lo, hi)`` that have no vector for this model yet, or whose
    text changed after their vector was made; each chunk commits on its own (COPY + upsert), so an interrupted
    backfill resumes where it stopped. Vectors of rows that left the corpus are deleted. The model's partial HNSW
    index is created after the first bulk load (later rows are added to it as they are written)."""
    started = time.perf_counter()
    model, dims = embedder.name, int(embedder.dims)
    stats = EmbedStats(model=model, dims=dims, index_name=hnsw_index_name(model))
    params = {"model": model, "lo": lo, "hi": hi}
    with engine.begin() as conn:
        other = conn.execute(sa.text(
            "SELECT dims FROM message_embeddings WHERE model = :model AND dims <> :dims LIMIT 1"
        ), {"model": model, "dims": dims}).scalar()
        if other is not None:
            raise ValueError(f"model key {model!r} already holds {other}-d vectors; this embedder makes {dims}-d: "
                             "give it another name")
        stats.removed_orphans = conn.execute(sa.text(
            "DELETE FROM message_embeddings e WHERE e.model = :model AND e.date >= :lo AND e.date < :hi "
            "AND NOT EXISTS (SELECT 1 FROM clean_messages c WHERE c.chat_id = e.chat_id "
            "AND c.message_id = e.message_id AND c.text <> '')"
        ), params).rowcount
        stats.rows_in_window = conn.execute(sa.text(
            "SELECT count(*) FROM clean_messages WHERE date >= :lo AND date < :hi AND text <> ''"), params).scalar_one()

    last_log = time.perf_counter()
    with engine.connect() as reader:
        result = reader.execution_options(stream_results=True, yield_per=chunk_rows).execute(sa.text(_PENDING_ROWS), params)
        while True:
            rows = result.fetchmany(chunk_rows)
            if not rows:
                break
            t = time.perf_counter()
            vectors = embedder.encode([r.text for r in rows])
            stats.embed_seconds += time.perf_counter() - t
            t = time.perf_counter()
            with engine.begin() as conn:
                write_embeddings(conn, model, [(r.chat_id, r.message_id, r.date) for r in rows], vectors)
            stats.write_seconds += time.perf_counter() - t
            stats.embedded += len(rows)
            if log and time.perf_counter() - last_log >= log_every_s:
                last_log = time.perf_counter()
                log(f"{model}: embedded {stats.embedded:,} rows ({stats.sentences_per_second:,.0f} sent/s)")
    stats.up_to_date = stats.rows_in_window - stats.embedded
    if stats.embedded or stats.removed_orphans:
        # fresh row counts per model let the planner pick the model's HNSW index (not a scan of the model's rows)
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE message_embeddings"))

    if build_index:
        t = time.perf_counter()
        with engine.begin() as conn:
            # one builder at a time: partitions of a backfill may finish together
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('telegram_intel:hnsw:' || :m))"), {"m": model})
            has_rows = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM message_embeddings WHERE model = :m)"),
                                    {"m": model}).scalar_one()
            if has_rows:
                _, stats.index_created = ensure_hnsw_index(conn, model, dims)
        if stats.index_created:
            stats.index_seconds = time.perf_counter() - t
            if log:
                log(f"built HNSW index {stats.index_name} in {stats.index_seconds:.1f}s")
    stats.seconds = time.perf_counter() - started
    return stats


def embeddings_report(engine: Engine, emb: Embedder, stats: EmbedStats) -> Report:
    """What an ``embed_range`` run did, with the stored totals per model."""
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM message_embeddings WHERE model = :m"),
                             {"m": emb.name}).scalar()
        models = conn.execute(sa.text("SELECT model, count(*) FROM message_embeddings GROUP BY 1 ORDER BY 1")).all()
    return Report(values={
        "model": emb.name, "dims": emb.dims, "rows_in_window": stats.rows_in_window, "rows_embedded": stats.embedded,
        "rows_up_to_date": stats.up_to_date, "rows_removed_orphans": stats.removed_orphans,
        "rows_for_model_total": int(total or 0), "throughput_sent_per_s": round(stats.sentences_per_second, 1),
        "embed_seconds": round(stats.embed_seconds, 3), "write_seconds": round(stats.write_seconds, 3),
        "hnsw_index": stats.index_name, "hnsw_index_built_now": stats.index_created,
        "hnsw_build_seconds": round(stats.index_seconds, 3), "duration_s": round(stats.seconds, 3),
    }, json={"vectors_by_model": {m: n for m, n in models}})


def embeddings_check(engine: Engine, emb: Embedder, lo: datetime, hi: datetime) -> CheckOutcome:
    """Every non-empty clean message of ``[lo, hi)`` has a vector of ``emb``; vectors have its dimension and unit
    length; its HNSW index exists once it has vectors."""
    params = {"m": emb.name, "lo": lo, "hi": hi, "d": emb.dims}
    with engine.connect() as conn:
        missing = conn.execute(sa.text(
            "SELECT count(*) FROM clean_messages c WHERE c.date >= :lo AND c.date < :hi AND c.text <> '' "
            "AND NOT EXISTS (SELECT 1 FROM message_embeddings e WHERE e.chat_id = c.chat_id "
            "AND e.message_id = c.message_id AND e.model = :m)"
        ), params).scalar_one()
        wrong_dims, not_unit, rows = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE dims <> :d OR vector_dims(embedding) <> :d), "
            "count(*) FILTER (WHERE abs(vector_norm(embedding) - 1) > 1e-3), count(*) "
            "FROM message_embeddings WHERE model = :m AND date >= :lo AND date < :hi"
        ), params).one()
        has_index = hnsw_index_exists(conn, emb.name)
    return CheckOutcome(
        missing == 0 and wrong_dims == 0 and not_unit == 0 and (has_index or rows == 0),
        {"model": emb.name, "rows": rows, "clean_rows_without_vector": missing, "wrong_dims": wrong_dims,
         "not_unit_length": not_unit, "hnsw_index_exists": bool(has_index)})
