import dagster as dg

from telegram_intel.defs.stats.assets import chat_statistics, user_activity

defs = dg.Definitions(assets=[chat_statistics, user_activity])
