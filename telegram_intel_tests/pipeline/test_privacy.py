"""Privacy the user can operate (``pipeline/privacy.py``), end to end on a real sample, real PostgreSQL and real
Dagster runs.

* Opt-out leaves nothing the person wrote in any derived row, page (the web UI's queries), prompt, dataset,
  storage file or Dagster run record — other people's reply summaries included, which used to quote them.
* Forget erases the person everywhere, the CLI-facing report says what went, and an old export re-imported later
  does not bring them back.

Words: the opted-out person's messages get a canary word appended (it occurs nowhere else), and every word of
theirs that no one else ever wrote is searched as well.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.lib.intents import INTENTS
from telegram_intel.lib.sft import SplitRecords
from telegram_intel.pipeline import contacts, privacy
from telegram_intel.pipeline.ingest import import_export
from telegram_intel.pipeline.search import search
from telegram_intel.pipeline.training import record_message_ids
from telegram_intel_tests.support import dagster
from telegram_intel_tests.support.fake_openai import FakeOpenAIServer, ok
from telegram_intel_tools.sample_data import iter_message_truth, load_ground_truth, write_sample_export

SECRET = "privacy-tests-pseudonym-secret-0123456789"
CANARY = "zanquokkavel"
RANGE = {"dagster/asset_partition_range_start": "2025-04-01", "dagster/asset_partition_range_end": "2025-06-30"}
#: The raw layer (kept for an opted-out person; erased by forget) and bookkeeping: everything else is derived.
RAW_TABLES = {"telegram_messages", "telegram_message_edits", "telegram_users", "telegram_chats", "telegram_files",
              "telegram_import_runs", "telegram_sync_cursors", "alembic_version", "erased_users",
              "telegram_topics", "telegram_accounts"}
WORD = re.compile(r"[^\W\d_]{6,}")


@pytest.fixture(scope="module")
def privacy_sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("privacy-sample")
    write_sample_export(out, messages=300, chats=2, users=6, seed=5)
    return out


@pytest.fixture
def instance():
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=shm) as tmp, dg.instance_for_test(temp_dir=tmp) as inst:
        yield inst


def _resources(database_url, storage_dir, llm=None) -> dict:
    from telegram_intel.defs.corpus.resources import CorpusResource
    from telegram_intel.defs.resources import TelegramIntelResource

    return {**dagster.resources(database_url, llm=llm, corpus=CorpusResource(pseudonym_secret=SECRET)),
            "telegram": TelegramIntelResource(database_url=database_url, storage_dir=str(storage_dir))}


def daily_assets() -> list:
    from telegram_intel.defs.corpus.assets import clean_messages
    from telegram_intel.defs.embeddings.assets import message_embeddings
    from telegram_intel.defs.graph.assets import entities
    from telegram_intel.defs.labels.assets import intent_labels, message_summaries
    from telegram_intel.defs.stats.assets import chat_statistics, user_activity

    return [clean_messages, message_embeddings, intent_labels, message_summaries, entities, user_activity,
            chat_statistics]


def enrich(instance, database_url, storage_dir) -> None:
    """The demo's enrichment (daily assets over the sample's range, then the whole-corpus ones) plus the SFT
    dataset; every step must succeed (the blocking opt-out checks included)."""
    from telegram_intel.defs.graph.assets import knowledge_graph
    from telegram_intel.defs.profiles.assets import user_message_corpus, user_profiles
    from telegram_intel.defs.training.assets import sft_dataset

    res = _resources(database_url, storage_dir)
    r = dg.materialize(daily_assets(), instance=instance, resources=res, tags=RANGE)
    assert r.success
    r = dg.materialize([knowledge_graph, user_message_corpus, user_profiles, sft_dataset], instance=instance,
                       resources=res, run_config={"ops": {"user_message_corpus": {"config": {"limit": 30}},
                                                          "user_profiles": {"config": {"force": True}}}})
    assert r.success


def imported(engine, sample, storage_dir) -> int:
    """Import the sample and give the opted-out person's messages the canary; returns their id."""
    uid = next(u["user_id"] for u in load_ground_truth(sample)["users"] if u["opt_out"])
    import_export(engine, sample / "result.json", storage_dir)
    with engine.begin() as conn:
        n = conn.execute(sa.text(f"UPDATE telegram_messages SET text = text || ' {CANARY}' WHERE sender_id = :u "
                                 "AND kind = 'message' AND text <> ''"), {"u": uid}).rowcount
    assert n > 20
    return uid


def their_words(engine, uid) -> set[str]:
    """The canary and every word (6+ letters) the person wrote that nobody else wrote anywhere."""
    mine, others = set(), set()
    with engine.connect() as conn:
        for sender, text in conn.execute(sa.text(
                "SELECT sender_id, text FROM telegram_messages UNION ALL SELECT m.sender_id, e.text "
                "FROM telegram_message_edits e JOIN telegram_messages m USING (chat_id, message_id) "
                "UNION ALL SELECT NULL, coalesce(title, '') FROM telegram_chats "
                "UNION ALL SELECT NULL, concat_ws(' ', display_name, username, bio) FROM telegram_users")):
            (mine if sender == uid else others).update(w.lower() for w in WORD.findall(text or ""))
    # The intent labels are the system's own words ("feedback"), whoever else wrote them or not; and a word that
    # starts another person's word may be the stem the stemmed search column keeps of it ("клиент" of "клиенту").
    stems = {w for w in mine if any(o.startswith(w) for o in others)}
    words = (mine - others - stems - set(INTENTS)) | {CANARY}
    assert len(words) > 5
    return words


def _found(text: str, words: set[str]) -> set[str]:
    return {w for w in WORD.findall((text or "").lower()) if w in words}


def leaks_in_tables(engine, words: set[str]) -> dict[str, set[str]]:
    """Derived table (or ``telegram_messages.ai_*``) → the person's words found in its rows."""
    out: dict[str, set[str]] = {}
    with engine.connect() as conn:
        tables = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        assert {"message_summaries", "clean_messages", "sft_datasets", "entities", "llm_calls"} <= set(tables)
        for table in sorted(set(tables) - RAW_TABLES):
            for (row,) in conn.execute(sa.text(f"SELECT x::text FROM {table} x")):
                if hit := _found(row, words):
                    out.setdefault(table, set()).update(hit)
        for row in conn.execute(sa.text("SELECT concat_ws(' ', ai_summary, ai_keywords::text) FROM telegram_messages"
                                        " WHERE ai_summary IS NOT NULL OR ai_keywords IS NOT NULL")).scalars():
            if hit := _found(row, words):
                out.setdefault("telegram_messages.ai_summary/ai_keywords", set()).update(hit)
    return out


def leaks_in_storage(storage_dir: Path, words: set[str]) -> dict[str, set[str]]:
    out = {}
    for path in storage_dir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".txt", ".yaml", ".md", ".csv"):
            if hit := _found(path.read_text(encoding="utf-8", errors="replace"), words):
                out[str(path.relative_to(storage_dir))] = hit
    return out


def run_record_texts(instance, since: float = 0.0):
    """(run id, serialized tags / config / every event) of the runs created at or after ``since``."""
    for record in instance.get_run_records():
        if record.create_timestamp.timestamp() < since:
            continue
        run = record.dagster_run
        yield run.run_id, dg.serialize_value(run.tags) + dg.serialize_value(run.run_config)
        for entry in instance.all_logs(run.run_id):
            yield run.run_id, dg.serialize_value(entry)


def dagster_vocabulary(database_url, storage_dir, assets=None, **materialize) -> set[str]:
    """Words Dagster and our assets write into run records whatever the data ("finished", "pipeline", metadata
    labels such as "llm_endpoint"): the records of the same assets over a day with no messages."""
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test(temp_dir=tmp) as empty:
        r = dg.materialize(assets or daily_assets(), instance=empty, partition_key="2025-01-01",
                           **{"resources": _resources(database_url, storage_dir), **materialize})
        assert r.success
        return {w.lower() for _, text in run_record_texts(empty) for w in WORD.findall(text)}


def leaks_in_runs(instance, words: set[str], since: float) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for run_id, text in run_record_texts(instance, since):
        if hit := _found(text, words):
            out.setdefault(run_id, set()).update(hit)
    return out


def leaks_in_pages(engine, words: set[str], uid: int) -> dict[str, set[str]]:
    """What the web UI's Telegram and People tabs and search would show (the queries behind the pages)."""
    out: dict[str, set[str]] = {}

    def check(where: str, value) -> None:
        if hit := _found(str(value), words):
            out.setdefault(where, set()).update(hit)

    for chat in contacts.chats(engine):
        for m in contacts.messages(engine, chat["chat_id"], limit=5000):
            check(f"chat {chat['chat_id']} list", m)
            check(f"chat {chat['chat_id']} message {m['message_id']}",
                  contacts.message(engine, m["chat_id"], m["message_id"]))
    with engine.connect() as conn:
        others = conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE user_id <> :u"), {"u": uid}).scalars()
        others = list(others)
    for other in others:
        check(f"person {other}", contacts.person(engine, other))
    check(f"person {uid}", contacts.person(engine, uid))
    check("search", [h.to_dict() for h in search(engine, None, CANARY, limit=50)])
    return out


@pytest.mark.slow
def test_opted_out_words_appear_in_no_derived_row_page_prompt_dataset_or_run_record(
        engine, privacy_sample, storage_dir, database_url, instance):
    uid = imported(engine, privacy_sample, storage_dir)
    words = their_words(engine, uid)
    enrich(instance, database_url, storage_dir)
    # Before the opt-out their words are everywhere, other people's reply summaries included: the leak this guards.
    before = leaks_in_tables(engine, {CANARY})
    assert {"clean_messages", "message_summaries"} <= set(before), before
    with engine.connect() as conn:
        quoting = conn.execute(sa.text(
            "SELECT count(*) FROM message_summaries s JOIN telegram_messages m USING (chat_id, message_id) "
            "WHERE m.sender_id <> :u AND strpos(s.summary || s.keywords::text, :c) > 0"),
            {"u": uid, "c": CANARY}).scalar_one()
    assert quoting > 0
    assert leaks_in_storage(storage_dir, {CANARY})  # the SFT dataset quotes them as context

    opted_out_at = time.time()
    privacy.set_ignored(engine, uid, True)
    # At once: no derived row, page or dataset file holds their words any more.
    leaks = leaks_in_tables(engine, words)
    print({k: sorted(v) for k, v in leaks.items()})
    assert leaks == {}
    assert leaks_in_pages(engine, words, uid) == {}
    assert leaks_in_storage(storage_dir, words) == {}

    # The full enrichment again (what the issue found leaking: 9 reply summaries in the 3,000-message sample).
    enrich(instance, database_url, storage_dir)
    assert leaks_in_tables(engine, words) == {}
    assert leaks_in_pages(engine, words, uid) == {}
    assert leaks_in_storage(storage_dir, words) == {}
    run_words = words - dagster_vocabulary(database_url, storage_dir)
    assert CANARY in run_words
    assert leaks_in_runs(instance, run_words, opted_out_at) == {}
    with engine.connect() as conn:  # the replies to them were summarized again, without their text
        missing, n_clean = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE s.chat_id IS NULL), count(*) FROM clean_messages c "
            "LEFT JOIN message_summaries s USING (chat_id, message_id)")).one()
    assert missing == 0

    # Prompts: an LLM summarizes every message again (a new method); no request carries their words.
    from telegram_intel.defs.labels.assets import message_summaries
    from telegram_intel.defs.resources import LLMResource

    server = FakeOpenAIServer(default=ok({"summary": "A short summary.", "keywords": ["one", "two", "three"]}))
    server.start()
    try:
        llm = LLMResource(base_url=server.url, model="test-model", max_retries=0, timeout_s=5, per_minute=100_000,
                          per_hour=1_000_000)
        with_llm = {"resources": _resources(database_url, storage_dir, llm=llm),
                    "run_config": {"ops": {"message_summaries": {"config": {"method": "llm"}}}}}
        r = dg.materialize([message_summaries], instance=instance, tags=RANGE, **with_llm)
        assert r.success
        run_words -= dagster_vocabulary(database_url, storage_dir, [message_summaries], **with_llm)
    finally:
        server.stop()
    assert len(server.requests) >= n_clean > 0
    assert [_found(str(req["body"]), words) for req in server.requests if _found(str(req["body"]), words)] == []
    assert leaks_in_runs(instance, run_words, opted_out_at) == {}

    # Opting back in: the next enrichment run recomputes their rows.
    privacy.set_ignored(engine, uid, False)
    enrich(instance, database_url, storage_dir)
    with engine.connect() as conn:
        back = conn.execute(sa.text(
            "SELECT count(*) FROM clean_messages c JOIN message_summaries s USING (chat_id, message_id) "
            "WHERE c.sender_id = :u"), {"u": uid}).scalar_one()
    assert back > 20 and "clean_messages" in leaks_in_tables(engine, {CANARY})


# ---------------------------------------------------------------------------------------------------------------
# Forget


def _id_pattern(uid: int) -> re.Pattern:
    return re.compile(rf"(?<!\d){uid}(?!\d)")


def rows_naming(engine, uid: int, words: set[str]) -> dict[str, int]:
    """Table → rows that hold the person's id (as a whole number) or one of their words; every table but the
    tombstone."""
    pattern, out = _id_pattern(uid), {}
    with engine.connect() as conn:
        tables = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        for table in sorted(set(tables) - {"erased_users", "alembic_version"}):
            n = sum(1 for (row,) in conn.execute(sa.text(f"SELECT x::text FROM {table} x"))
                    if pattern.search(row) or _found(row, words))
            if n:
                out[table] = n
    return out


@pytest.mark.slow
def test_forget_erases_everywhere_prints_what_went_and_an_old_export_does_not_bring_them_back(
        engine, privacy_sample, storage_dir, database_url, instance, ti_env, monkeypatch):
    from click.testing import CliRunner

    from telegram_intel.cli.main import main
    from telegram_intel.defs.automation.sensors import decide_retrain
    from telegram_intel.defs.privacy.sensors import erased_people_run_records_sensor
    from telegram_intel.defs.training.assets import lora_adapter, persona_eval, sft_dataset
    from telegram_intel.defs.training.resources import PersonaTrainingResource
    from telegram_intel.lib.pseudonyms import Pseudonymizer
    from telegram_intel_tests.support.training import FAST_TRAINING

    import_export(engine, privacy_sample / "result.json", storage_dir)
    with engine.connect() as conn:  # the most active person with media files of their own
        uid = conn.execute(sa.text(
            "SELECT m.sender_id FROM telegram_messages m JOIN telegram_files f USING (chat_id, message_id) "
            "JOIN telegram_users u ON u.user_id = m.sender_id WHERE f.status = 'present' AND NOT u.is_owner "
            "AND NOT u.is_ignored GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")).scalar_one()
        name = conn.execute(sa.text("SELECT display_name FROM telegram_users WHERE user_id = :u"), {"u": uid}).scalar()
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE telegram_messages SET text = text || ' {CANARY}' WHERE sender_id = :u "
                             "AND kind = 'message' AND text <> ''"), {"u": uid})
        # an edit history row (an older version of one of their messages)
        conn.execute(sa.text(
            "INSERT INTO telegram_message_edits (chat_id, message_id, edit_date, text) SELECT chat_id, message_id, "
            f"date, 'first draft {CANARY}' FROM telegram_messages WHERE sender_id = :u AND kind = 'message' LIMIT 1"),
            {"u": uid})
        files = conn.execute(sa.text(
            "SELECT f.file_path, EXISTS (SELECT 1 FROM telegram_files o JOIN telegram_messages om "
            "USING (chat_id, message_id) WHERE o.file_path = f.file_path AND om.sender_id <> :u) AS shared "
            "FROM telegram_files f JOIN telegram_messages m USING (chat_id, message_id) "
            "WHERE m.sender_id = :u AND f.file_path IS NOT NULL"), {"u": uid}).all()
    own_files = [storage_dir / p for p, shared in files if not shared]
    shared_files = [storage_dir / p for p, shared in files if shared]
    assert own_files and all(p.is_file() for p in own_files + shared_files)
    words = their_words(engine, uid)

    enrich(instance, database_url, storage_dir)
    training = {**_resources(database_url, storage_dir),
                "persona_training": PersonaTrainingResource(base_model="tiny-random", torch_threads=1)}
    r = dg.materialize([sft_dataset, lora_adapter, persona_eval], instance=instance, resources=training,
                       run_config={"ops": FAST_TRAINING})
    assert r.success
    with engine.connect() as conn:
        adapter = dict(conn.execute(sa.text("SELECT * FROM persona_adapters ORDER BY id DESC LIMIT 1")).one()._mapping)
        dataset_path = Path(conn.execute(sa.text("SELECT path FROM sft_datasets WHERE version = :v"),
                                         {"v": adapter["dataset_version"]}).scalar_one())
    assert Path(adapter["path"]).is_dir() and leaks_in_storage(storage_dir, {CANARY})
    before = rows_naming(engine, uid, words)
    assert {"telegram_messages", "clean_messages", "message_summaries", "telegram_users"} <= set(before), before
    pseudonym = Pseudonymizer(SECRET, {}).pseudonym(uid)
    mention = re.compile(rf"(?<!\d){uid}(?!\d)|{pseudonym}")
    assert any(mention.search(text) for _, text in run_record_texts(instance))  # e.g. most active users

    # The CLI: by name (exports carry no usernames of others), confirmed by --yes; prints counts per table, never
    # message text or phone numbers.
    monkeypatch.setenv("TELEGRAM_INTEL_STORAGE_DIR", str(storage_dir))
    result = CliRunner().invoke(main, ["people", "forget", name.lower(), "--yes"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"erased user {uid}" in out and "telegram_messages" in out and "media files on disk" in out
    assert "adapters marked stale" in out and "SFT datasets rebuilt" in out
    print(out)
    phones = {p["value"] for row in iter_message_truth(privacy_sample) for p in row.get("pii") or []
              if p["type"] == "PHONE"} | {load_ground_truth(privacy_sample)["owner"]["phone_number"]}
    assert not _found(out, words) and not any(p in out for p in phones)

    # Nothing of them in any table (their id, their words), on disk, or in the training data.
    assert rows_naming(engine, uid, words) == {}
    assert not any(p.exists() for p in own_files) and all(p.is_file() for p in shared_files)
    assert leaks_in_storage(storage_dir, words) == {}
    with engine.connect() as conn:
        stale = conn.execute(sa.text("SELECT id, stale_reason FROM persona_adapters WHERE stale_at IS NOT NULL"
                                     )).all()
        assert [(a.id, a.stale_reason) for a in stale] == [(adapter["id"], "erasure")]
        assert conn.execute(sa.text("SELECT count(*) FROM persona_evaluations")).scalar_one() == 0
        assert dict(conn.execute(sa.text("SELECT * FROM erased_users")).one()._mapping).keys() == {
            "user_id", "erased_at", "run_records_scrubbed_at"}  # the id, never a name or content
    assert not Path(adapter["path"]).exists() and (dataset_path / "train.jsonl").is_file()
    keys = {(c, m) for s in SplitRecords.load(dataset_path).as_dict().values() for rec in s
            for c, m in record_message_ids(rec)}
    with engine.connect() as conn:
        assert not conn.execute(sa.text(
            "SELECT count(*) FROM unnest(CAST(:c AS bigint[]), CAST(:m AS bigint[])) k(chat_id, message_id) "
            "LEFT JOIN telegram_messages t USING (chat_id, message_id) WHERE t.chat_id IS NULL"),
            {"c": [k[0] for k in keys], "m": [k[1] for k in keys]}).scalar_one()
        # the adapter trained on their words is replaced: the retrain sensor asks for a run at once
        request, _ = decide_retrain(conn, None, threshold=10**6, min_interval=timedelta(days=1),
                                    now=datetime.now(timezone.utc))
    assert isinstance(request, dg.RunRequest) and request.tags["telegram_intel/retrain_reason"] == "stale_adapter"

    # Dagster: the sensor deletes the runs whose records name them (id or pseudonym), then notes it.
    from telegram_intel.defs.corpus.resources import CorpusResource

    with dg.build_sensor_context(instance=instance, resources={
            "telegram": training["telegram"], "corpus": CorpusResource(pseudonym_secret=SECRET)}) as context:
        erased_people_run_records_sensor(context)
    assert not any(mention.search(text) for _, text in run_record_texts(instance))
    assert privacy.erased_awaiting_run_record_scrub(engine) == []

    # An old export imported again does not bring them back.
    stats = import_export(engine, privacy_sample / "result.json", storage_dir)
    assert stats.erased_skipped > 0
    assert rows_naming(engine, uid, words) == {} and not any(p.exists() for p in own_files)
    assert privacy.resolve_users(engine, str(uid)) == [] and privacy.resolve_users(engine, name) == []
