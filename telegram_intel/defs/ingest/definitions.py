import dagster as dg

from telegram_intel.defs.ingest.assets import telegram_export_import
from telegram_intel.defs.ingest.checks import telegram_chats_valid, telegram_messages_valid, telegram_users_valid
from telegram_intel.defs.ingest.sensors import import_telegram_export_job, telegram_export_inbox_sensor

defs = dg.Definitions(
    assets=[telegram_export_import],
    asset_checks=[telegram_messages_valid, telegram_users_valid, telegram_chats_valid],
    jobs=[import_telegram_export_job],
    sensors=[telegram_export_inbox_sensor],
)
