"""Partitioning shared by the derived (enrichment) assets: daily by message date (UTC).

Where the partitions start
--------------------------
At ``$TELEGRAM_INTEL_PARTITIONS_START`` (``YYYY-MM-DD``, read through ``telegram_intel.config``; unset: 2013-08-01,
Telegram's launch). Set it to the first day of your data, and the UI lists only days that can hold messages, instead
of ≈ 4,800 "missing" days since 2013. ``telegram-intel demo`` sets it to the sample's first day for the processes it
starts, so the UI shows exactly the demo's range.

A partitions definition is part of the asset graph, and Dagster needs the graph when a code location loads (the
webserver, the daemon and every run load the same code location). So this one setting is read once, when this module
is imported, and not per run: it is a value, not a branch — every setting gives the same assets, resources and
automation, only the first partition moves. Set it in the environment of whatever serves the code location (the
demo passes it to `dg dev`); changing it later adds or removes partitions in the UI and leaves every row in place.

Messages older than the start are never skipped: the first partition covers them. Its window, as the assets see it
through :func:`partition_bounds`, begins at Telegram's launch, not at the configured day, so materializing the first
partition enriches everything before it too (the UI still names it by its own day). Nothing refuses or drops older
messages; they are only grouped into one, bigger, first partition.
"""

from datetime import date, datetime, time, timedelta, timezone

import dagster as dg

from telegram_intel.config import TELEGRAM_LAUNCH, load_settings

#: The configured first day (see the module docstring): read once, when the code location loads.
PARTITIONS_START: date = load_settings().partitions_start

#: Where the first partition's window really begins: nothing in Telegram is older.
COVER_FROM = datetime.combine(TELEGRAM_LAUNCH, time.min, tzinfo=timezone.utc)


def build_daily_message_partitions(start: date) -> dg.DailyPartitionsDefinition:
    """Daily partitions from ``start``; end_offset=1 makes today's partition available (refreshed during the day)."""
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), end_offset=1, timezone="UTC")


daily_message_partitions = build_daily_message_partitions(PARTITIONS_START)

# Derived assets read all imported messages, whichever export or sync brought them in.
MESSAGES_DEP = dg.AssetDep("telegram_messages", partition_mapping=dg.AllPartitionMapping())

# Daily enrichment follows new data (an export import, a sync, an upstream asset): eager, over today's and
# yesterday's partitions, since a sync after midnight still brings the previous day's last messages.
DAILY_ENRICHMENT = dg.AutomationCondition.eager().replace(
    "in_latest_time_window", dg.AutomationCondition.in_latest_time_window(timedelta(days=1)))


def covered_bounds(start: datetime, end: datetime,
                   partitions_def: dg.TimeWindowPartitionsDefinition = daily_message_partitions,
                   ) -> tuple[datetime, datetime]:
    """[start, end) in UTC, widened to Telegram's launch when ``start`` is the first partition's start: the first
    partition covers every message older than the configured start."""
    lo, hi = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    first = partitions_def.start.astimezone(timezone.utc)
    if lo <= first:
        lo = min(lo, COVER_FROM)
    return lo, hi


def partition_bounds(context: dg.AssetExecutionContext) -> tuple[datetime, datetime]:
    """[start, end) of the partition (or of the whole backfill range when run as a single run); the first partition
    starts at Telegram's launch (see the module docstring)."""
    window = context.partition_time_window
    partitions_def = context.assets_def.partitions_def if context.has_assets_def else None
    if not isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        partitions_def = daily_message_partitions
    return covered_bounds(window.start, window.end, partitions_def)


def partition_key_for_day(day: str | date, partitions_def: dg.TimeWindowPartitionsDefinition = daily_message_partitions,
                          ) -> str | None:
    """The partition holding messages of ``day`` (``YYYY-MM-DD``): its own, the first one for days before the start,
    None for days the partitions do not reach yet (after today)."""
    key = day.isoformat() if isinstance(day, date) else str(day)
    first = partitions_def.start.astimezone(timezone.utc).date().isoformat()
    if key < first:
        return first
    try:
        return key if partitions_def.has_partition_key(key) else None
    except Exception:  # noqa: BLE001 - not a date of this partitioning
        return None


# Whole-corpus assets (knowledge graph, profiles) read every daily partition of their deps, some of which (days
# without messages) are never materialized: plain eager would wait for them forever.
WHOLE_CORPUS_ENRICHMENT = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
