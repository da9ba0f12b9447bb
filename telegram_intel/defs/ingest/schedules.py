"""The one sync schedule: the live account into the ingest assets every 6 hours (enrichment follows through the
downstream assets' automation conditions), while the Settings page's "Telegram sync" switch is on."""

import os

import dagster as dg

from telegram_intel.db.app_settings import sync_enabled
from telegram_intel.defs.ingest.assets import (
    LIVE_PARTITION,
    telegram_exports_partitions,
)
from telegram_intel.defs.ingest.sensors import import_telegram_export_job
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.sources.telethon.config import TelegramConfigError, parse_flag


@dg.schedule(
    cron_schedule="0 */6 * * *",
    job=import_telegram_export_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 6 hours: sync the live account's whitelisted chats (partition `telethon:live` of the ingest "
                "assets); skipped while TELEGRAM_FEATURE_ENABLED is not true or the web UI's 'Telegram sync' "
                "setting is off.",
)
def telegram_sync_schedule(context: dg.ScheduleEvaluationContext, telegram: TelegramIntelResource):
    try:
        enabled = parse_flag(os.environ, "TELEGRAM_FEATURE_ENABLED", False)
    except TelegramConfigError as exc:
        return dg.SkipReason(str(exc))
    if not enabled:
        return dg.SkipReason("TELEGRAM_FEATURE_ENABLED is not true")
    if not sync_enabled(telegram.engine):
        return dg.SkipReason("Telegram sync is switched off on the web UI's Settings page")
    # The live partition exists from the first sync on (schedules cannot return partition requests).
    if not context.instance.has_dynamic_partition(telegram_exports_partitions.name, LIVE_PARTITION):
        context.instance.add_dynamic_partitions(telegram_exports_partitions.name, [LIVE_PARTITION])
    return dg.RunRequest(partition_key=LIVE_PARTITION, tags={"telegram_intel/source": "telethon"})
