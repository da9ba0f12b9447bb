"""``sync_and_enrichment_schedule``: every 6 hours, sync the live account and enrich the day's messages.

The job selects ``telegram_sync`` and whichever enrichment assets exist when the code location loads (by key, so a
domain that is not deployed is simply left out). Each tick runs the current UTC day's partition of the daily
assets (``dagster/partition``), the unpartitioned ones (``telegram_sync``, ``knowledge_graph``) with it.

Two details:

* The enrichment assets do not depend on ``telegram_sync`` (they read ``telegram_messages``), so within one run
  they may start before the sync has committed. Whatever a tick misses, the next tick of the same day picks up;
  for the end of a day, the first tick after the day's first one (06:00 UTC) also re-runs the previous day's
  partition, enrichment only — the 00:00 sync has finished by then.
* With ``TELEGRAM_FEATURE_ENABLED`` not true the live sync is off: the tick then runs the enrichment alone (for
  exports imported by hand), instead of a run whose sync step fails.
"""

import os
from datetime import datetime, time, timedelta, timezone

import dagster as dg

from telegram_intel.defs.partitions import daily_message_partitions

SYNC_ASSET = "telegram_sync"
ENRICHMENT_ASSETS = (
    "voice_transcripts",
    "voice_insights",
    "clean_messages",
    "message_embeddings",
    "intent_labels",
    "message_summaries",
    "entities",
    "knowledge_graph",
    "chat_statistics",
    "user_activity",
    "user_message_corpus",
    "user_profiles",
)
CRON = "0 */6 * * *"
INTERVAL = timedelta(hours=6)

# A key: filter matches only assets that exist, so a missing domain does not break loading.
# Intersected with all(): a key that exists only as an upstream dependency (an external asset when its domain
# is not loaded) is not materializable and must not be selected.
sync_and_enrichment_selection = dg.AssetSelection.from_string(
    " or ".join(f'key:"{k}"' for k in (SYNC_ASSET, *ENRICHMENT_ASSETS))) & dg.AssetSelection.all()

sync_and_enrichment_job = dg.define_asset_job(
    "sync_and_enrichment_job",
    selection=sync_and_enrichment_selection,
    description="Live Telegram sync plus the enrichment assets (clean corpus, embeddings, labels, summaries, "
                "entities, knowledge graph, statistics) for one day.",
)


def _sync_enabled() -> bool:
    from telegram_intel.sources.telethon.config import TelegramConfigError, parse_flag

    try:
        return parse_flag(os.environ, "TELEGRAM_FEATURE_ENABLED", False)
    except TelegramConfigError:
        return False


def _job_keys(context: dg.ScheduleEvaluationContext) -> list[dg.AssetKey] | None:
    """The asset keys the job resolved to in this code location (None when evaluated without one)."""
    repo = context.repository_def
    if repo is None:
        return None
    job = repo.get_job(sync_and_enrichment_job.name)
    return sorted(job.asset_layer.selected_asset_keys, key=lambda k: k.to_user_string())


def _tick_time(context: dg.ScheduleEvaluationContext) -> datetime:
    tick = context.scheduled_execution_time or datetime.now(timezone.utc)
    return tick.astimezone(timezone.utc)


def sync_and_enrichment_requests(tick: datetime, keys: list[dg.AssetKey] | None, sync_enabled: bool):
    """The RunRequests of one tick (also used by the tests)."""
    day = tick.date()
    sync_key = dg.AssetKey(SYNC_ASSET)
    enrichment = [k for k in keys if k != sync_key] if keys is not None else None
    today_selection = None
    if keys is not None:
        today_selection = keys if sync_enabled and sync_key in keys else enrichment
    stamp = f"{tick:%Y%m%dT%H%M}"
    requests = [dg.RunRequest(
        run_key=f"sync-enrich-{stamp}-{day.isoformat()}",
        partition_key=daily_message_partitions.get_partition_key_for_timestamp(
            datetime.combine(day, time(), tzinfo=timezone.utc).timestamp()),
        asset_selection=today_selection,
        tags={"telegram_intel/tick": stamp, "telegram_intel/sync": str(sync_enabled).lower()},
    )]
    since_midnight = tick - datetime.combine(day, time(), tzinfo=timezone.utc)
    if timedelta(0) < since_midnight <= INTERVAL and enrichment:
        previous = day - timedelta(days=1)
        requests.append(dg.RunRequest(
            run_key=f"sync-enrich-{stamp}-{previous.isoformat()}",
            partition_key=previous.isoformat(),
            asset_selection=enrichment,
            tags={"telegram_intel/tick": stamp, "telegram_intel/sync": "false",
                  "telegram_intel/catch_up": previous.isoformat()},
        ))
    return requests


@dg.schedule(
    cron_schedule=CRON,
    job=sync_and_enrichment_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 6 hours: live sync (when TELEGRAM_FEATURE_ENABLED) + enrichment of the current day's "
                "partition; at 06:00 UTC also the previous day's enrichment.",
)
def sync_and_enrichment_schedule(context: dg.ScheduleEvaluationContext):
    keys = _job_keys(context)
    if keys is not None and not keys:
        return dg.SkipReason("none of the sync/enrichment assets is defined in this code location")
    requests = sync_and_enrichment_requests(_tick_time(context), keys, _sync_enabled())
    if keys is not None and not requests[0].asset_selection:
        return dg.SkipReason("the live sync is off and no enrichment asset is defined")
    return requests
