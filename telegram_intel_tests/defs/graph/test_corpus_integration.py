"""The graph on top of the real ``clean_messages`` asset (skipped where the corpus domain is absent)."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from telegram_intel.defs.corpus.assets import clean_messages
from telegram_intel.defs.corpus.resources import CorpusResource
from telegram_intel.defs.graph.assets import entities, knowledge_graph
from telegram_intel.defs.resources import LLMResource, TelegramIntelResource
from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tests.defs.graph.test_assets import assert_user_absent
from telegram_intel_tests.support.graph import SECRET


def test_graph_from_clean_messages_asset(ti_env, engine, sample_export, storage_dir):
    import_export(engine, sample_export.path, storage_dir)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = :u"),
                     {"u": sample_export.opt_out_id})
    resources = {"telegram": TelegramIntelResource(), "llm": LLMResource(enabled=False),
                 "corpus": CorpusResource(pseudonym_secret=SECRET)}
    window = {"dagster/asset_partition_range_start": "2025-06-01", "dagster/asset_partition_range_end": "2025-06-14"}
    # two runs: the corpus and the graph assets have different backfill policies
    assert dg.materialize([clean_messages], resources=resources, tags=window).success
    assert dg.materialize([entities], resources=resources, tags=window).success
    assert dg.materialize([knowledge_graph], resources=resources).success

    with engine.connect() as conn:
        in_corpus = conn.execute(sa.text("SELECT count(*) FROM clean_messages")).scalar_one()
        with_mentions = conn.execute(sa.text(
            "SELECT count(DISTINCT (chat_id, message_id)) FROM entity_mentions")).scalar_one()
        people = conn.execute(sa.text(
            "SELECT count(*) FROM entities WHERE kind = 'person' AND user_id IS NOT NULL AND name LIKE 'user\\_%'"
        )).scalar_one()
        replies = conn.execute(sa.text(
            "SELECT count(*) FROM graph_edges WHERE relation = 'replied_to'")).scalar_one()
    assert in_corpus > 100 and with_mentions > in_corpus // 2
    assert people > 3  # people resolved through the corpus' pseudonyms, shown by pseudonym
    assert replies > 0
    assert_user_absent(engine, sample_export.opt_out_id)
