"""``decision_log`` and ``action_outcomes``: the decision engine's audit tables, shown per day."""

import dagster as dg

from telegram_intel.defs.metadata import materialize_result
from telegram_intel.defs.partitions import daily_message_partitions, partition_bounds
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.pipeline.decisions import report as R

DECISION_LOG = dg.AssetKey("decision_log")
ACTION_OUTCOMES = dg.AssetKey("action_outcomes")

NO_ACTION_RAN_TWICE = dg.AssetCheckSpec(
    "no_action_ran_twice", asset=ACTION_OUTCOMES, blocking=False,
    description="No action succeeded twice for one message or album (decisions sharing a message id or media "
                "group), and no product id / spreadsheet row was created by two runs.")

# The bot writes these tables as messages arrive; the day's partition is refreshed every hour.
HOURLY_TODAY = dg.AutomationCondition.on_cron("0 * * * *") & dg.AutomationCondition.in_latest_time_window()


@dg.asset(partitions_def=daily_message_partitions, group_name="decisions", kinds={"postgres"},
          automation_condition=HOURLY_TODAY)
def decision_log(context: dg.AssetExecutionContext, telegram: TelegramIntelResource) -> dg.MaterializeResult:
    """The decision engine's audit table `decisions` for one day (UTC, by decision time): one row per incoming
    message or album — action, confidence, arguments, rationale, provider (primary / fallback LLM endpoint or the
    offline rules), tokens and cost. Metadata: decisions per action / status / method, a confidence histogram plot,
    follow-ups asked, cost."""
    start, end = partition_bounds(context)
    return materialize_result(R.decision_log_report(telegram.engine, start, end))


@dg.asset(partitions_def=daily_message_partitions, group_name="decisions", kinds={"postgres"},
          deps=[DECISION_LOG], check_specs=[NO_ACTION_RAN_TWICE], automation_condition=HOURLY_TODAY)
def action_outcomes(context: dg.AssetExecutionContext, telegram: TelegramIntelResource) -> dg.MaterializeResult:
    """What the decisions of one day did: `decision_outcomes` rows (WooCommerce draft products, spreadsheet rows,
    LLM chains) with attempts, results and errors. Metadata: outcomes per status and action, failure rate, retried
    runs, the latest failed actions (the `retry_failed_actions` job runs them again)."""
    start, end = partition_bounds(context)
    report = R.action_outcomes_report(telegram.engine, start, end)
    report.checks["no_action_ran_twice"] = R.actions_ran_twice(telegram.engine, start, end)
    return materialize_result(report)
