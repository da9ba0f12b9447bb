import dagster as dg

from telegram_intel.defs.sync.assets import telegram_sync, telegram_sync_job, telegram_sync_schedule
from telegram_intel.defs.sync.resources import TelethonSourceResource

defs = dg.Definitions(
    assets=[telegram_sync],
    jobs=[telegram_sync_job],
    schedules=[telegram_sync_schedule],
    resources={"telethon": TelethonSourceResource()},
)
