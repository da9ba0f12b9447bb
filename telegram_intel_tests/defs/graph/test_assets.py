"""``entities`` and ``knowledge_graph`` materialized for real on PostgreSQL with a sample export."""

from __future__ import annotations

import base64
import re
from datetime import date, timedelta

import dagster as dg
import sqlalchemy as sa

from telegram_intel.defs.graph.assets import entities, knowledge_graph
from telegram_intel.defs.resources import LLMResource
from telegram_intel.lib.pseudonyms import pseudonym
from telegram_intel.pipeline.expertise import user_connections, user_expertise
from telegram_intel_tests.support import dagster
from telegram_intel_tests.support.clean_messages import fill_clean_messages
from telegram_intel_tests.support.dagster import check_results as checks
from telegram_intel_tests.support.dagster import metadata
from telegram_intel_tests.support.graph import SECRET, busiest_days

RANGE = {"dagster/asset_partition_range_start": "2025-03-30", "dagster/asset_partition_range_end": "2025-06-30"}


def resources(**llm):
    return dagster.resources(llm=LLMResource(**(llm or {"enabled": False})))


def snapshot(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {
            "entities": conn.execute(sa.text(
                "SELECT id, kind, key, name, user_id, mention_count, first_seen_at, last_seen_at FROM entities"
                " ORDER BY id")).all(),
            "mentions": conn.execute(sa.text(
                "SELECT chat_id, message_id, entity_id, method, date, sender_id FROM entity_mentions"
                " ORDER BY 1, 2, 3, 4")).all(),
            "edges": conn.execute(sa.text("SELECT * FROM graph_edges ORDER BY 1, 2, 3, 4, 5")).all(),
        }


def assert_user_absent(engine, user_id: int) -> None:
    with engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM entity_mentions WHERE sender_id = :u)"
            " + (SELECT count(*) FROM entities WHERE user_id = :u OR key = 'user:' || :u OR name = :p)"
            " + (SELECT count(*) FROM graph_edges WHERE (src_kind = 'user' AND src_id = :u)"
            "    OR (dst_kind = 'user' AND dst_id = :u))"), {"u": user_id, "p": pseudonym(user_id, SECRET)}
        ).scalar_one() == 0


def test_entities_and_knowledge_graph(ti_env, engine, graph_sample):
    first = dg.materialize([entities], resources=resources(), tags=RANGE)
    assert first.success
    meta = metadata(first, "entities")
    with engine.connect() as conn:
        n_clean = conn.execute(sa.text("SELECT count(*) FROM clean_messages")).scalar_one()
    assert meta["messages"] == n_clean
    assert meta["mentions"] == meta["mentions_stored"] == meta["rows_inserted"] > 1000
    assert meta["method"].startswith("offline:rules@")
    assert set(meta["mentions_by_kind"]) >= {"person", "topic", "project"}
    assert "offline:reply@1" in meta["mentions_by_method"]
    assert checks(first) == {"entities_no_opted_out_users": True}

    graph = dg.materialize([knowledge_graph], resources=resources())
    assert graph.success
    gmeta = metadata(graph, "knowledge_graph")
    assert checks(graph) == {"knowledge_graph_no_opted_out_users": True, "knowledge_graph_edges_resolve": True}
    for rel in ("discusses", "replied_to", "mentioned", "co_mentioned", "co_mentioned_thread"):
        assert gmeta[f"edges_{rel}"] > 0, rel
    assert "| replied_to |" in gmeta["edges_by_relation"]
    assert "| kind | name | messages | users |" in gmeta["top_entities"]
    png = re.search(r"!\[[^\]]*\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", gmeta["graph"]).group(1)
    assert base64.b64decode(png).startswith(b"\x89PNG")
    assert gmeta["picture_nodes"] > 10 and gmeta["picture_edges"] > 10

    with engine.connect() as conn:
        # every reply between two different users who have not opted out is a replied_to edge, with its count
        expected = dict(((a, b), n) for a, b, n in conn.execute(sa.text(
            """
            SELECT c.sender_id, t.sender_id, count(*) FROM clean_messages c
            JOIN telegram_messages t ON t.chat_id = c.chat_id AND t.message_id = c.reply_to_message_id
            JOIN telegram_users su ON su.user_id = c.sender_id AND NOT su.is_ignored
            JOIN telegram_users tu ON tu.user_id = t.sender_id AND NOT tu.is_ignored
            WHERE c.sender_id <> t.sender_id GROUP BY 1, 2
            """)))
        edges = dict(((a, b), n) for a, b, n in conn.execute(sa.text(
            "SELECT src_id, dst_id, evidence_count FROM graph_edges WHERE relation = 'replied_to'")))
        assert expected and edges == expected
        # raw @username mentions of known users are mentioned edges
        raw = set(conn.execute(sa.text(
            """
            SELECT DISTINCT m.sender_id, u.user_id FROM clean_messages c
            JOIN telegram_messages m ON m.chat_id = c.chat_id AND m.message_id = c.message_id
            CROSS JOIN LATERAL jsonb_array_elements(m.entities) e
            JOIN telegram_users u ON lower(u.username) = lower(ltrim(e->>'text', '@')) AND NOT u.is_ignored
            WHERE jsonb_typeof(m.entities) = 'array' AND e->>'type' = 'mention' AND u.user_id <> m.sender_id
            """)).all())
        mentioned = set(conn.execute(sa.text(
            "SELECT src_id, dst_id FROM graph_edges WHERE relation = 'mentioned' AND dst_kind = 'user'")).all())
        assert raw and raw <= mentioned
        # tf-idf weights: positive, and a user's most frequent topic is not weighted below one used once
        assert conn.execute(sa.text(
            "SELECT min(weight) > 0 FROM graph_edges WHERE relation = 'discusses'")).scalar_one()
    assert_user_absent(engine, graph_sample.opt_out_id)

    # expertise: a user's top topics are their profession's vocabulary (sample users talk about their work)
    architect = next(u for u in graph_sample.truth["users"] if u["profession_key"] == "interior_architect")
    top = user_expertise(engine, architect["user_id"], top=10)
    assert len(top) == 10 and top == sorted(top, key=lambda i: -i.weight)
    names = " ".join(i.name.lower() for i in top)
    assert any(w in names for w in ("autocad", "sketchup", "revit", "archicad", "3ds max", "v-ray", "гостин",
                                    "плитк", "замер", "kitchen", "render", "mutfak", "interior", "интерьер"))
    assert user_expertise(engine, graph_sample.opt_out_id) == []
    conns = user_connections(engine, graph_sample.owner_id)
    assert conns and all(c.user_id != graph_sample.opt_out_id for c in conns)

    # rerunning both changes nothing
    before = snapshot(engine)
    again = dg.materialize([entities], resources=resources(), tags=RANGE)
    again_meta = metadata(again, "entities")
    assert (again_meta["rows_inserted"], again_meta["rows_updated"], again_meta["rows_deleted"]) == (0, 0, 0)
    graph2 = dg.materialize([knowledge_graph], resources=resources())
    g2 = metadata(graph2, "knowledge_graph")
    assert (g2["edges_inserted"], g2["edges_updated"], g2["edges_deleted"]) == (0, 0, 0)
    assert snapshot(engine) == before

    # a user who opts out later disappears from the graph on the next rebuild
    gone = conns[0].user_id
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = :u"), {"u": gone})
    graph3 = dg.materialize([knowledge_graph], resources=resources())
    assert metadata(graph3, "knowledge_graph")["opted_out_rows_purged"] > 0
    assert_user_absent(engine, gone)


def test_partition_backfill_matches_single_run(ti_env, engine, graph_sample):
    start = date.fromisoformat(min(busiest_days(engine, 3)))
    keys = [(start + timedelta(days=i)).isoformat() for i in range(4)]  # consecutive days: a range
    for key in keys:  # one run per partition, as a multi-run backfill does
        assert dg.materialize([entities], partition_key=key, resources=resources()).success
    per_partition = snapshot(engine)
    with engine.connect() as conn:
        days = {d.isoformat() for (d,) in conn.execute(sa.text(
            "SELECT DISTINCT (date AT TIME ZONE 'UTC')::date FROM entity_mentions"))}
    assert days and days <= set(keys)

    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE entities, entity_mentions RESTART IDENTITY"))
    # the same days as one ranged run (a single-run backfill), in reverse order of creation
    for start, end in ((keys[-1], keys[-1]), (keys[0], keys[-1])):
        tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
        assert dg.materialize([entities], resources=resources(), tags=tags).success
    single = snapshot(engine)

    def by_key(snap):  # ids differ with the order of creation; keys and counts must not
        ids = {row[0]: (row[1], row[2]) for row in snap["entities"]}
        ents = sorted(row[1:] for row in snap["entities"])
        ments = sorted((r[0], r[1], ids[r[2]], r[3], r[4], r[5]) for r in snap["mentions"])
        return ents, ments

    assert by_key(single) == by_key(per_partition)


def test_stale_corpus_rows_of_opted_out_users_are_skipped(ti_env, engine, graph_sample):
    fill_clean_messages(engine, SECRET, include_ignored=True)  # a corpus not yet purged
    key = busiest_days(engine, 1)[0]
    day = date.fromisoformat(key)
    window = {"dagster/asset_partition_range_start": (day - timedelta(days=6)).isoformat(),
              "dagster/asset_partition_range_end": key}
    with engine.connect() as conn:  # the window does hold the opted-out user's messages
        assert conn.execute(sa.text(
            "SELECT count(*) FROM clean_messages WHERE sender_id = :u AND date >= :lo AND date < :hi"),
            {"u": graph_sample.opt_out_id, "lo": day - timedelta(days=6), "hi": day + timedelta(days=1)}).scalar_one()
    result = dg.materialize([entities], resources=resources(), tags=window)
    assert result.success and checks(result)["entities_no_opted_out_users"]
    assert dg.materialize([knowledge_graph], resources=resources()).success
    assert_user_absent(engine, graph_sample.opt_out_id)
    # a partition whose messages disappear from the corpus loses its mentions on the next run
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM clean_messages WHERE (date AT TIME ZONE 'UTC')::date = :d"), {"d": key})
    rerun = dg.materialize([entities], partition_key=key, resources=resources())
    assert metadata(rerun, "entities")["rows_deleted"] > 0
    with engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT count(*) FROM entity_mentions WHERE (date AT TIME ZONE 'UTC')::date = :d"), {"d": key}
        ).scalar_one() == 0


def test_llm_mode_adds_rows_beside_offline_ones(ti_env, engine, graph_sample):
    from telegram_intel_tests.support.fake_openai import FakeOpenAIServer, error, ok

    key = busiest_days(engine, 1)[0]
    server = FakeOpenAIServer(default=ok({"entities": [{"kind": "project", "name": "Atlas Platform"},
                                                       {"kind": "topic", "name": "квартальный отчёт"},
                                                       {"kind": "person", "name": "user_00000000"}]})).start()
    try:
        server.script.append(error(400, "bad request"))  # the first message fails: offline rows stay
        llm = {"base_url": server.url, "model": "test-model", "max_retries": 0, "record_calls": False}
        result = dg.materialize(
            [entities], partition_key=key, resources=resources(**llm),
            run_config={"ops": {"entities": {"config": {"use_llm": True, "llm_max_messages": 3}}}},
        )
    finally:
        server.stop()
    assert result.success
    meta = metadata(result, "entities")
    assert meta["llm_failures"] == 1
    assert "llm:test-model:entity_extraction@" in meta["method"]
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT e.kind, e.key, count(*) FROM entity_mentions m JOIN entities e ON e.id = m.entity_id"
            " WHERE m.method LIKE 'llm:%' GROUP BY 1, 2 ORDER BY 1, 2")).all()
        offline = conn.execute(sa.text(
            "SELECT count(*) FROM entity_mentions WHERE method LIKE 'offline:%'")).scalar_one()
    # two messages answered; the unresolvable pseudonym is dropped; topic keys match the offline keys
    assert rows == [("project", "atlas platform", 2), ("topic", "квартальн отчет", 2)]
    assert offline > 0
