"""Partitioning shared by the derived (enrichment) assets: daily by message date (UTC)."""

from datetime import datetime, timedelta, timezone

import dagster as dg

# From Telegram's launch; end_offset=1 makes today's partition available (refreshed during the day).
daily_message_partitions = dg.DailyPartitionsDefinition(start_date="2013-08-01", end_offset=1, timezone="UTC")

# Derived assets read all imported messages, whichever export or sync brought them in.
MESSAGES_DEP = dg.AssetDep("telegram_messages", partition_mapping=dg.AllPartitionMapping())

# Daily enrichment follows new data (an export import, a sync, an upstream asset): eager, over today's and
# yesterday's partitions, since a sync after midnight still brings the previous day's last messages.
DAILY_ENRICHMENT = dg.AutomationCondition.eager().replace(
    "in_latest_time_window", dg.AutomationCondition.in_latest_time_window(timedelta(days=1)))


def partition_bounds(context: dg.AssetExecutionContext) -> tuple[datetime, datetime]:
    """[start, end) of the partition (or of the whole backfill range when run as a single run)."""
    window = context.partition_time_window
    return window.start.astimezone(timezone.utc), window.end.astimezone(timezone.utc)

# Whole-corpus assets (knowledge graph, profiles) read every daily partition of their deps, most of which (days
# without messages since 2013) are never materialized: plain eager would wait for them forever.
WHOLE_CORPUS_ENRICHMENT = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
