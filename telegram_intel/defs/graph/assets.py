"""``entities`` (daily partitions) and ``knowledge_graph`` (one rebuild over every partition)."""


import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa

from telegram_intel.defs.graph import store
from telegram_intel.lib.plots.graph import graph_picture_markdown, markdown_table
from telegram_intel.defs.partitions import MESSAGES_DEP, daily_message_partitions, partition_bounds
from telegram_intel.lib.entities import ENTITY_KINDS, EXTRACTOR_VERSION, EntityExtractor, EntityHit, entity_key
from telegram_intel.defs.resources import LLMResource
from telegram_intel.defs.resources import TelegramIntelResource

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
OFFLINE_METHOD = f"offline:rules@{EXTRACTOR_VERSION}"
ENTITY_EXTRACTION_PROMPT = "entity_extraction"

ENTITY_EXTRACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["entities"],
    "properties": {
        "entities": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "name"],
                "properties": {
                    "kind": {"type": "string", "enum": list(ENTITY_KINDS)},
                    "name": {"type": "string", "minLength": 1, "maxLength": 80},
                },
            },
        }
    },
}

USERS_DEP = dg.AssetDep("telegram_users", partition_mapping=dg.AllPartitionMapping())


class EntitiesConfig(dg.Config):
    max_topics_per_message: int = 12
    # Ask the LLM too (only when the llm resource is configured); offline rows are written either way.
    use_llm: bool = False
    llm_max_messages: int = 200  # per run: LLM extraction is slow and costs money
    write_batch_rows: int = 50_000  # days are written together until this many mention rows


class KnowledgeGraphConfig(dg.Config):
    min_entity_mentions: int = 2  # entities mentioned fewer times stay out of co-mention edges
    min_pair_evidence: int = 1  # co-mention edges need this many messages/threads
    thread_top_entities: int = 15  # per thread, pairs among its most mentioned entities only
    min_user_topic_messages: int = 1
    picture_nodes: int = 36
    picture_users: int = 10
    top_entities_per_kind: int = 10


def _days(lo: datetime, hi: datetime):
    day = lo
    while day < hi:
        nxt = min(day + timedelta(days=1), hi)
        yield day, nxt
        day = nxt


def _llm_hits(client, text: str, lang: str | None, extractor: EntityExtractor, sender_id: int | None):
    """Entities the LLM names, keyed like the offline ones; people only when they resolve to a known user."""
    result = client.complete_json(ENTITY_EXTRACTION_PROMPT, {"message": text, "lang": lang or ""},
                                  ENTITY_EXTRACTION_SCHEMA)
    hits: list[EntityHit] = []
    for item in result.data["entities"]:
        kind, name = item["kind"], " ".join(item["name"].split())
        if kind == "person":
            uid = extractor.resolve_pseudonym(name.strip())
            if uid is None:
                uid = extractor.usernames.get(name.lstrip("@").lower()) if name.startswith("@") else None
            if uid is not None:
                if uid != sender_id:
                    hits.append(extractor.user_hit(uid, "llm"))
                continue
            if extractor.is_pseudonym(name.strip()) or name.startswith("@"):
                continue  # an unresolvable pseudonym may be an opted-out user
        key = entity_key(kind, name, lang)
        if key:
            hits.append(EntityHit(kind, key, name, "llm"))
    return result.method, hits


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=["clean_messages", MESSAGES_DEP, USERS_DEP],
    group_name="graph",
    kinds={"postgres"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec(
            "entities_no_opted_out_users", asset="entities", blocking=True,
            description="No mention in the partition comes from, or names, a user who opted out (is_ignored).",
        )
    ],
)
def entities(
    context: dg.AssetExecutionContext,
    config: EntitiesConfig,
    telegram: TelegramIntelResource,
    llm: LLMResource,
) -> dg.MaterializeResult:
    """People, topics, organizations and projects mentioned in `clean_messages`: `entities` (one row per
    kind and normalized key) and `entity_mentions` (message × entity × method), for the partition's days.

    Offline rules in ru/en/tr (`telegram_intel/lib/entities.py`): @mentions and pseudonyms resolved to users,
    reply targets, capitalized names, legal-form and quoted names, CamelCase products, hashtags, acronyms and
    keyword phrases. With `use_llm` and a configured LLM, LLM-found entities are added under their own method.
    Re-running a partition rewrites only what changed."""
    engine = telegram.engine
    lo, hi = partition_bounds(context)
    started = time.perf_counter()
    with engine.connect() as conn:
        people = store.load_people(conn)
    extractor = EntityExtractor(usernames=people.usernames, pseudonyms=people.pseudonyms,
                                user_labels=people.labels, max_topics=config.max_topics_per_message)

    client = None
    if config.use_llm:
        if llm.is_enabled():
            client = llm.get_client(engine, tags={"asset": "entities", "run_id": context.run.run_id})
            client.prompts_dir = PROMPTS_DIR
        else:
            context.log.warning("use_llm is set but no LLM is configured: offline rules only")
    llm_budget = config.llm_max_messages
    llm_method = None
    llm_failures = 0

    messages = 0
    by_kind: Counter[str] = Counter()
    by_method: Counter[str] = Counter()
    top: Counter[tuple[str, str]] = Counter()
    shown: dict[tuple[str, str], str] = {}
    totals = store.MentionWrite()
    names: dict[tuple[str, str], tuple[str, int | None]] = {}
    rows: list[tuple] = []
    llm_done: set[tuple[int, int]] = set()

    def flush(win_lo: datetime, win_hi: datetime) -> None:
        # One transaction per window of whole days: the rows of those days become exactly `rows`.
        scopes = [store.MethodScope("offline:%")]
        if client is not None:
            scopes.append(store.MethodScope(f"llm:{client.model}:{ENTITY_EXTRACTION_PROMPT}@%",
                                            frozenset(llm_done)))
        written = store.write_mentions(
            engine, win_lo, win_hi, [(k, key, n, uid) for (k, key), (n, uid) in sorted(names.items())], rows, scopes
        )
        totals.inserted += written.inserted
        totals.updated += written.updated
        totals.deleted += written.deleted
        totals.entities_new += written.entities_new
        names.clear()
        rows.clear()
        llm_done.clear()

    window_lo = lo
    for day_lo, day_hi in _days(lo, hi):
        with engine.connect() as conn:
            for msg in store.iter_partition_messages(conn, day_lo, day_hi):
                messages += 1
                mentioned = store.mentioned_user_ids(msg.mention_entities, people)
                found = [(h.method, h) for h in extractor.extract(
                    msg.text, lang=msg.lang, sender_id=msg.sender_id, reply_to_user_id=msg.reply_to_user_id,
                    mentioned_user_ids=mentioned)]
                if client is not None and llm_budget > 0:
                    llm_budget -= 1
                    try:
                        method, hits = _llm_hits(client, msg.text, msg.lang, extractor, msg.sender_id)
                        llm_method = method
                        found += [(method, h) for h in hits]
                        llm_done.add((msg.chat_id, msg.message_id))
                    except Exception as exc:  # one bad answer must not lose the partition's offline rows
                        llm_failures += 1
                        context.log.warning(f"LLM entity extraction failed for {msg.chat_id}/{msg.message_id}: {exc}")
                seen: set[tuple[str, str, str]] = set()
                for method, h in found:
                    if (h.kind, h.key, method) in seen:
                        continue
                    seen.add((h.kind, h.key, method))
                    prev = names.get((h.kind, h.key))
                    if prev is None or (h.user_id is None and h.name < prev[0]):
                        names[(h.kind, h.key)] = (h.name, h.user_id)
                    rows.append((msg.chat_id, msg.message_id, h.kind, h.key, method, msg.date, msg.sender_id))
                    by_kind[h.kind] += 1
                    by_method[method] += 1
                    top[(h.kind, h.key)] += 1
                    if (h.kind, h.key) not in shown or h.name < shown[(h.kind, h.key)]:
                        shown[(h.kind, h.key)] = h.name
        if len(rows) >= config.write_batch_rows:
            flush(window_lo, day_hi)
            window_lo = day_hi
    if window_lo < hi:
        flush(window_lo, hi)
    duration = time.perf_counter() - started

    with engine.connect() as conn:
        leaked = conn.execute(sa.text(
            """
            SELECT count(*) FROM entity_mentions m
            LEFT JOIN entities e ON e.id = m.entity_id
            JOIN telegram_users u ON u.user_id = m.sender_id OR u.user_id = e.user_id
            WHERE m.date >= :lo AND m.date < :hi AND u.is_ignored
            """
        ), {"lo": lo, "hi": hi}).scalar_one()
        stored = conn.execute(sa.text("SELECT count(*) FROM entity_mentions WHERE date >= :lo AND date < :hi"),
                              {"lo": lo, "hi": hi}).scalar_one()

    top_rows = [(kind, shown[(kind, key)], n) for (kind, key), n in top.most_common(15)]
    context.log.info(f"{messages} messages, {sum(by_kind.values())} mentions in {duration:.1f}s")
    return dg.MaterializeResult(
        metadata={
            "method": OFFLINE_METHOD + (f" + {llm_method}" if llm_method else ""),
            "llm": dg.MetadataValue.json(llm.describe() if config.use_llm else {"enabled": False}),
            "llm_failures": llm_failures,
            "messages": messages,
            "mentions": sum(by_kind.values()),
            "mentions_stored": stored,
            "rows_inserted": totals.inserted,
            "rows_updated": totals.updated,
            "rows_deleted": totals.deleted,
            "entities_new": totals.entities_new,
            "mentions_by_kind": dg.MetadataValue.json(dict(sorted(by_kind.items()))),
            "mentions_by_method": dg.MetadataValue.json(dict(sorted(by_method.items()))),
            "top_entities": dg.MetadataValue.md(markdown_table(["kind", "name", "mentions"], top_rows)),
            "messages_per_second": round(messages / duration) if duration > 0 else 0,
            "duration_s": round(duration, 3),
        },
        check_results=[
            dg.AssetCheckResult(check_name="entities_no_opted_out_users", passed=leaked == 0,
                                metadata={"rows_with_opted_out_users": leaked})
        ],
    )


@dg.asset(
    deps=["entities", "clean_messages"],
    group_name="graph",
    kinds={"postgres"},
    check_specs=[
        dg.AssetCheckSpec(
            "knowledge_graph_no_opted_out_users", asset="knowledge_graph", blocking=True,
            description="No edge, entity or mention involves a user who opted out (is_ignored).",
        ),
        dg.AssetCheckSpec(
            "knowledge_graph_edges_resolve", asset="knowledge_graph",
            description="Every entity end of an edge is a stored entity of that kind.",
        ),
    ],
)
def knowledge_graph(
    context: dg.AssetExecutionContext, config: KnowledgeGraphConfig, telegram: TelegramIntelResource
) -> dg.MaterializeResult:
    """Edges between users and entities in `graph_edges`, rebuilt from every `entity_mentions` row:
    `discusses` (user → topic/project/organization, tf-idf-like weight), `replied_to` and `mentioned`
    (user → user, weight = count), `co_mentioned` (entities in one message) and `co_mentioned_thread`
    (entities in one reply thread), both weighted by the Ochiai coefficient. Also removes what opted-out users
    left behind, fixes entity counters and prunes entities no longer mentioned. Metadata: top entities per kind,
    edge counts by relation and a picture of the most connected part of the graph."""
    engine = telegram.engine
    started = time.perf_counter()
    built = store.rebuild_graph(
        engine,
        min_user_topic=config.min_user_topic_messages,
        min_support=config.min_entity_mentions,
        min_pair=config.min_pair_evidence,
        thread_top=config.thread_top_entities,
    )
    with engine.connect() as conn:
        tops = store.top_entities(conn, config.top_entities_per_kind)
        nodes, edges = store.picture_data(conn, max_users=config.picture_users, max_nodes=config.picture_nodes)
        n_entities = dict(conn.execute(sa.text("SELECT kind, count(*) FROM entities GROUP BY kind")).all())
        leaked = conn.execute(sa.text(
            """
            SELECT (SELECT count(*) FROM graph_edges g JOIN telegram_users u
                      ON u.is_ignored AND ((g.src_kind = 'user' AND g.src_id = u.user_id)
                                           OR (g.dst_kind = 'user' AND g.dst_id = u.user_id)))
                 + (SELECT count(*) FROM entities e JOIN telegram_users u ON u.user_id = e.user_id AND u.is_ignored)
                 + (SELECT count(*) FROM entity_mentions m JOIN telegram_users u
                      ON u.user_id = m.sender_id AND u.is_ignored)
            """
        )).scalar_one()
        dangling = conn.execute(sa.text(
            """
            SELECT count(*) FROM graph_edges g WHERE
              (g.src_kind <> 'user' AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = g.src_id
                                                    AND e.kind = g.src_kind))
              OR (g.dst_kind <> 'user' AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = g.dst_id
                                                       AND e.kind = g.dst_kind))
            """
        )).scalar_one()
    picture = graph_picture_markdown(nodes, edges, title="Knowledge graph: most connected users and entities")
    duration = time.perf_counter() - started
    relation_rows = [(rel, built.edges_by_relation.get(rel, 0)) for rel in store.RELATIONS]
    return dg.MaterializeResult(
        metadata={
            "edges_total": sum(built.edges_by_relation.values()),
            "edges_by_relation": dg.MetadataValue.md(markdown_table(["relation", "edges"], relation_rows)),
            **{f"edges_{rel}": n for rel, n in relation_rows},
            "edges_inserted": built.edges_inserted,
            "edges_updated": built.edges_updated,
            "edges_deleted": built.edges_deleted,
            "entities_by_kind": dg.MetadataValue.json({k: n_entities.get(k, 0) for k in ENTITY_KINDS}),
            "entities_pruned": built.entities_pruned,
            "opted_out_rows_purged": built.mentions_purged + built.entities_purged,
            "top_entities": dg.MetadataValue.md(markdown_table(["kind", "name", "messages", "users"], tops)),
            "graph": dg.MetadataValue.md(picture),
            "picture_nodes": len(nodes),
            "picture_edges": len(edges),
            "duration_s": round(duration, 3),
        },
        check_results=[
            dg.AssetCheckResult(check_name="knowledge_graph_no_opted_out_users", passed=leaked == 0,
                                metadata={"rows_with_opted_out_users": leaked}),
            dg.AssetCheckResult(check_name="knowledge_graph_edges_resolve", passed=dangling == 0,
                                metadata={"dangling_edges": dangling}),
        ],
    )
