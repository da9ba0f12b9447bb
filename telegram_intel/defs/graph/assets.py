"""``entities`` (daily partitions) and ``knowledge_graph`` (one rebuild over every partition); the work is in
``pipeline/graph.py``."""

import dagster as dg

from telegram_intel.defs.metadata import as_json, materialize_result
from telegram_intel.defs.partitions import (
    DAILY_ENRICHMENT,
    MESSAGES_DEP,
    WHOLE_CORPUS_ENRICHMENT,
    daily_message_partitions,
    partition_bounds,
)
from telegram_intel.defs.resources import LLMResource, TelegramIntelResource
from telegram_intel.pipeline import graph as work

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


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=["clean_messages", MESSAGES_DEP, USERS_DEP],
    group_name="graph",
    kinds={"postgres"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=DAILY_ENRICHMENT,
    pool="llm",
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
    client = None
    if config.use_llm and llm.is_enabled():
        client = llm.get_client(telegram.engine, tags={"asset": "entities", "run_id": context.run.run_id})
    elif config.use_llm:
        context.log.warning("use_llm is set but no LLM is configured: offline rules only")
    report = work.extract_entities(
        telegram.engine, *partition_bounds(context), max_topics=config.max_topics_per_message, llm_client=client,
        llm_max_messages=config.llm_max_messages, write_batch_rows=config.write_batch_rows)
    return materialize_result(report, llm=as_json(llm.describe() if config.use_llm else {"enabled": False}))


@dg.asset(
    deps=["entities", "clean_messages"],
    group_name="graph",
    kinds={"postgres"},
    automation_condition=WHOLE_CORPUS_ENRICHMENT,
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
    return materialize_result(work.build_knowledge_graph(
        telegram.engine, min_user_topic=config.min_user_topic_messages, min_support=config.min_entity_mentions,
        min_pair=config.min_pair_evidence, thread_top=config.thread_top_entities,
        top_per_kind=config.top_entities_per_kind, picture_users=config.picture_users,
        picture_nodes=config.picture_nodes))
