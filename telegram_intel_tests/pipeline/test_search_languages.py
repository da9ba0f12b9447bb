"""Search across languages with the default embedder (EmbeddingGemma): score fusion, stemmed full text, real names."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from telegram_intel.lib.cleaning import CleaningConfig
from telegram_intel.ml.embedders import load_embedder
from telegram_intel.pipeline.corpus import clean_range
from telegram_intel.pipeline.embeddings import embed_range
from telegram_intel.pipeline.ingest import import_export
from telegram_intel.pipeline.search import search
from telegram_intel_tests.conftest import truncate_all
from telegram_intel_tests.support.corpus import ALL_TIME, SECRET

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)
# (sender, text): the answer to the Russian query is in Turkish and shares no word with it; the distractors share
# the query's words ("машина" as a car) but mean something else.
POOL = [
    ("Ayşe Demir", "Çamaşır makinem bozuldu, servis geldi ve pompayı değiştirdi, şimdi sorunsuz çalışıyor"),
    ("Олег Петров", "Машина опять не заводится, аккумулятор сел на морозе"),
    ("Олег Петров", "Продаю машину, 2012 год, пробег небольшой, пишите в личку"),
    ("John Smith", "Parking near the office is a nightmare, my car got a ticket again"),
    ("Марина Ким", "Купила новые шторы в гостиную, оказалось, стиральные порошки тоже в акции"),
]


@pytest.fixture(scope="module")
def pool(migrated_engine, tmp_path_factory):
    engine = migrated_engine
    truncate_all(engine)
    folder = tmp_path_factory.mktemp("xling")
    messages = []
    for i, (name, text) in enumerate(POOL, 1):
        t = T0 + timedelta(minutes=i)
        messages.append({"id": i, "type": "message", "date": t.strftime("%Y-%m-%dT%H:%M:%S"),
                         "date_unixtime": str(int(t.timestamp())), "from": name, "from_id": f"user{500 + i}",
                         "text": text})
    export = {"name": "Neighbours", "type": "private_supergroup", "id": 77, "messages": messages}
    (folder / "result.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    import_export(engine, folder / "result.json", folder / "storage")
    clean_range(engine, *ALL_TIME, CleaningConfig(), secret=SECRET)
    embedder = load_embedder("embeddinggemma")
    embed_range(engine, embedder, *ALL_TIME)
    yield engine, embedder
    truncate_all(engine)


def test_meaning_in_another_language_beats_shared_words(pool):
    engine, embedder = pool
    hits = search(engine, embedder, "ремонт стиральной машины", limit=5)
    assert hits[0].message_id == 1, [(h.message_id, h.score) for h in hits]
    # reciprocal rank fusion puts every message that shares a word above the answer
    rrf = search(engine, embedder, "ремонт стиральной машины", limit=5, fusion="rrf")
    assert rrf[0].message_id != 1


def test_stemmed_full_text_matches_other_word_forms(pool):
    engine, _ = pool
    # "машины" (plural/genitive) finds "машина" and "машину" only through the Russian stemmer
    hits = search(engine, None, "машины", limit=5)
    assert {h.message_id for h in hits} == {2, 3}
    assert all(h.matched == ["text"] for h in hits)


def test_hits_show_real_names_and_chat_titles(pool):
    engine, embedder = pool
    hit = search(engine, embedder, "washing machine repair", limit=1)[0]
    assert hit.message_id == 1
    assert hit.sender_name == "Ayşe Demir" and hit.chat_title == "Neighbours"
