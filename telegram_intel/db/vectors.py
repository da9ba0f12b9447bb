"""Writing ``message_embeddings`` rows and their per-model HNSW indexes (SQL only, no Dagster).

The ``embedding`` column is an untyped ``vector`` because each model has its own dimension. Each model gets a
partial HNSW index on ``(embedding::vector(dims))`` restricted to ``model = '<model>'``; a query uses it when it
orders by the same expression and repeats the predicate with the model as a literal (see ``pipeline/search.py``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "hnsw_index_name",
    "model_literal",
    "ensure_hnsw_index",
    "hnsw_index_exists",
    "write_embeddings",
    "stored_vectors",
]

_MODEL_OK = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")


def model_literal(model: str) -> str:
    """``model`` as a SQL string literal. Partial-index matching needs a literal, not a bind parameter."""
    if not _MODEL_OK.match(model):
        raise ValueError(f"invalid model key {model!r}")
    return "'" + model.replace("'", "''") + "'"


def hnsw_index_name(model: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")[:24]
    digest = hashlib.sha1(model.encode("utf-8")).hexdigest()[:8]
    return f"ix_message_embeddings_hnsw_{slug}_{digest}"  # <= 63 characters


def hnsw_index_exists(conn: Connection, model: str) -> bool:
    return conn.execute(sa.text("SELECT to_regclass(:n) IS NOT NULL"), {"n": hnsw_index_name(model)}).scalar_one()


def ensure_hnsw_index(
    conn: Connection,
    model: str,
    dims: int,
    *,
    m: int = 16,
    ef_construction: int = 64,
    maintenance_work_mem: str | None = "1GB",
) -> tuple[str, bool]:
    """Create the model's partial HNSW index (cosine) if missing; returns (index name, created now).

    Called after a bulk load: building once over loaded rows is much faster than maintaining the graph row by
    row during the load. ``maintenance_work_mem`` should hold the graph (about rows × (dims × 4 + 200) bytes),
    otherwise the build slows down a lot once it spills.
    """
    name = hnsw_index_name(model)
    if hnsw_index_exists(conn, model):
        return name, False
    dims = int(dims)
    if maintenance_work_mem:
        if not re.fullmatch(r"\d+\s*[kMG]B", maintenance_work_mem):
            raise ValueError(f"bad maintenance_work_mem {maintenance_work_mem!r}")
        conn.execute(sa.text(f"SET LOCAL maintenance_work_mem = '{maintenance_work_mem}'"))
    conn.execute(sa.text(
        f"CREATE INDEX IF NOT EXISTS {name} ON message_embeddings "
        f"USING hnsw ((embedding::vector({dims})) vector_cosine_ops) WITH (m = {int(m)}, "
        f"ef_construction = {int(ef_construction)}) WHERE model = {model_literal(model)}"
    ))
    return name, True


def write_embeddings(
    conn: Connection,
    model: str,
    keys: Sequence[tuple[int, int, datetime]],
    vectors: np.ndarray,
) -> int:
    """Upsert one batch of vectors in the caller's transaction: binary COPY into a temp table, then
    ``INSERT … SELECT … ON CONFLICT DO UPDATE``. ``keys`` are (chat_id, message_id, date) per row."""
    if len(keys) != len(vectors):
        raise ValueError("keys and vectors differ in length")
    if not keys:
        return 0
    from pgvector.psycopg import register_vector

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dims = int(vectors.shape[1])
    raw = conn.connection.driver_connection
    register_vector(raw)
    conn.execute(sa.text(
        "CREATE TEMP TABLE IF NOT EXISTS _embedding_load (chat_id bigint, message_id bigint, date timestamptz, "
        "embedding vector) ON COMMIT DELETE ROWS"
    ))
    conn.execute(sa.text("TRUNCATE _embedding_load"))
    with raw.cursor() as cur:
        with cur.copy("COPY _embedding_load (chat_id, message_id, date, embedding) FROM STDIN WITH (FORMAT BINARY)") as cp:
            cp.set_types(["int8", "int8", "timestamptz", "vector"])
            for (chat_id, message_id, date), vec in zip(keys, vectors):
                cp.write_row((chat_id, message_id, date, vec))
    result = conn.execute(sa.text(
        "INSERT INTO message_embeddings AS e (chat_id, message_id, model, date, dims, embedding, updated_at) "
        "SELECT chat_id, message_id, :model, date, :dims, embedding, clock_timestamp() FROM _embedding_load "
        "ON CONFLICT (chat_id, message_id, model) DO UPDATE SET date = EXCLUDED.date, dims = EXCLUDED.dims, "
        "embedding = EXCLUDED.embedding, updated_at = EXCLUDED.updated_at"
    ), {"model": model, "dims": dims})
    return result.rowcount


def stored_vectors(engine: Engine, keys: Sequence[tuple[int, int]], model: str, *,
                   dims: int | None = None) -> dict[tuple[int, int], np.ndarray]:
    """The ``model`` vectors ``message_embeddings`` holds for these ``(chat_id, message_id)`` keys, only those made
    from the current clean text (embedded at or after its last change) and, when given, of ``dims`` dimensions:
    callers reuse them instead of embedding again."""
    if not keys:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT e.chat_id, e.message_id, e.embedding::float4[] AS v FROM message_embeddings e"
            " JOIN unnest(CAST(:chats AS bigint[]), CAST(:ids AS bigint[])) AS k(chat_id, message_id)"
            " ON e.chat_id = k.chat_id AND e.message_id = k.message_id"
            " JOIN clean_messages c ON c.chat_id = e.chat_id AND c.message_id = e.message_id"
            " WHERE e.model = :m AND e.updated_at >= c.updated_at AND (CAST(:d AS int) IS NULL OR e.dims = :d)"
        ), {"chats": [k[0] for k in keys], "ids": [k[1] for k in keys], "m": model, "d": dims}).all()
    return {(r.chat_id, r.message_id): np.asarray(r.v, dtype=np.float32) for r in rows}
