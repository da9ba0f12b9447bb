"""The one sync schedule: the live account into the ingest assets every 6 hours (enrichment follows through the
downstream assets' automation conditions)."""

import os

import dagster as dg

from telegram_intel.defs.ingest.assets import (
    LIVE_PARTITION,
    telegram_exports_partitions,
)
from telegram_intel.defs.ingest.sensors import import_telegram_export_job
from telegram_intel.sources.telethon.config import TelegramConfigError, parse_flag


@dg.schedule(
    cron_schedule="0 */6 * * *",
    job=import_telegram_export_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 6 hours: sync the live account's whitelisted chats (partition `telethon:live` of the ingest "
                "assets); skipped while TELEGRAM_FEATURE_ENABLED is not true.",
)
def telegram_sync_schedule(context: dg.ScheduleEvaluationContext):
    try:
        enabled = parse_flag(os.environ, "TELEGRAM_FEATURE_ENABLED", False)
    except TelegramConfigError as exc:
        return dg.SkipReason(str(exc))
    if not enabled:
        return dg.SkipReason("TELEGRAM_FEATURE_ENABLED is not true")
    # The live partition exists from the first sync on (schedules cannot return partition requests).
    if not context.instance.has_dynamic_partition(telegram_exports_partitions.name, LIVE_PARTITION):
        context.instance.add_dynamic_partitions(telegram_exports_partitions.name, [LIVE_PARTITION])
    return dg.RunRequest(partition_key=LIVE_PARTITION, tags={"telegram_intel/source": "telethon"})
