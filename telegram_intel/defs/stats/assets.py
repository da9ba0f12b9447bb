"""``chat_statistics``, ``user_activity``, ``reaction_statistics`` and ``user_reactions``: daily counts per chat and
per user, with plots in the metadata."""

import dagster as dg

from telegram_intel.defs.metadata import materialize_result
from telegram_intel.defs.partitions import (
    DAILY_ENRICHMENT,
    MESSAGES_DEP,
    daily_message_partitions,
    partition_bounds,
)
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.pipeline import stats as work

USERS_DEP = dg.AssetDep("telegram_users", partition_mapping=dg.AllPartitionMapping())


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[MESSAGES_DEP],
    group_name="stats",
    kinds={"postgres"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=DAILY_ENRICHMENT,
    check_specs=[
        dg.AssetCheckSpec("chat_statistics_match_messages", asset="chat_statistics",
                          description="The partition's message and service counts equal those in telegram_messages."),
    ],
)
def chat_statistics(context: dg.AssetExecutionContext, telegram: TelegramIntelResource) -> dg.MaterializeResult:
    """Messages, service messages, media messages, active senders and replies per chat and UTC day:
    `chat_statistics`. Counts include opted-out users' messages (totals only, no content or identity).
    Re-running a day rewrites only changed rows and removes rows of days that no longer have messages."""
    return materialize_result(work.chat_statistics(telegram.engine, *partition_bounds(context)))


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[MESSAGES_DEP, USERS_DEP],
    group_name="stats",
    kinds={"postgres"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=DAILY_ENRICHMENT,
    check_specs=[
        dg.AssetCheckSpec("user_activity_no_opted_out_users", asset="user_activity", blocking=True,
                          description="No row belongs to a user who opted out (is_ignored)."),
    ],
)
def user_activity(context: dg.AssetExecutionContext, telegram: TelegramIntelResource) -> dg.MaterializeResult:
    """Messages, replies sent and replies received per user, chat and UTC day: `user_activity`. Users who
    opted out have no rows. Users appear in the metadata by pseudonym or id, never by name or text."""
    return materialize_result(work.user_activity(telegram.engine, *partition_bounds(context)))


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[MESSAGES_DEP],
    group_name="stats",
    kinds={"postgres"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=DAILY_ENRICHMENT,
    check_specs=[
        dg.AssetCheckSpec("reaction_statistics_match_messages", asset="reaction_statistics",
                          description="The partition's reaction total equals the reactions on its messages."),
    ],
)
def reaction_statistics(context: dg.AssetExecutionContext, telegram: TelegramIntelResource) -> dg.MaterializeResult:
    """Messages carrying each reaction (emoji, custom emoji, paid) and its total count per chat and UTC day of the
    reacted message: `reaction_statistics`."""
    return materialize_result(work.reaction_statistics(telegram.engine, *partition_bounds(context)))


@dg.asset(
    partitions_def=daily_message_partitions,
    deps=[MESSAGES_DEP, USERS_DEP],
    group_name="stats",
    kinds={"postgres"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=DAILY_ENRICHMENT,
    check_specs=[
        dg.AssetCheckSpec("user_reactions_no_opted_out_users", asset="user_reactions", blocking=True,
                          description="No row belongs to a user who opted out (is_ignored)."),
    ],
)
def user_reactions(context: dg.AssetExecutionContext, telegram: TelegramIntelResource) -> dg.MaterializeResult:
    """Reactions received on a user's messages and given by the user (where Telegram names who reacted) per user,
    chat and UTC day of the reacted message: `user_reactions`. Users who opted out have no rows."""
    return materialize_result(work.user_reactions(telegram.engine, *partition_bounds(context)))
