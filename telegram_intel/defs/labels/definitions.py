import dagster as dg

from telegram_intel.defs.labels.assets import intent_labels, message_summaries
from telegram_intel.defs.labels.jobs import reprocess_recent_messages

# Resources "telegram" and "llm" come from the root definitions.
defs = dg.Definitions(
    assets=[intent_labels, message_summaries],
    jobs=[reprocess_recent_messages],
)
