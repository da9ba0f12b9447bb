import dagster as dg

from telegram_intel.defs.profiles.assets import user_message_corpus, user_profiles

defs = dg.Definitions(assets=[user_message_corpus, user_profiles])
