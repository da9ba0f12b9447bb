"""``retry_failed_actions``: run failed decision actions again."""

import dagster as dg
from pydantic import Field

from telegram_intel.defs.decisions.resources import DecisionsResource
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.pipeline.decisions.service import build_engine


class RetryFailedActionsConfig(dg.Config):
    limit: int = Field(default=100, description="At most this many failed actions per run, oldest first.")


@dg.op(description="Run failed decision actions again (each with its own retries and backoff); an outcome is "
                   "claimed before it runs, so the bot and this job never run one twice.")
def retry_failed_actions_op(context: dg.OpExecutionContext, config: RetryFailedActionsConfig,
                            telegram: TelegramIntelResource, decisions: DecisionsResource) -> dict:
    engine = build_engine(telegram.engine, decisions.settings(str(telegram.settings().storage_dir)))
    try:
        stats = engine.retry_failed(limit=config.limit)
    finally:
        engine.chain.close()
    context.log.info(f"retried {stats['retried']} failed action(s): {stats['succeeded']} succeeded, "
                     f"{stats['failed_again']} failed again")
    context.add_output_metadata(stats)
    return stats


@dg.job(tags={"telegram_intel/kind": "maintenance"})
def retry_failed_actions():
    """Retry the decision engine's failed actions (WooCommerce, spreadsheet, LLM chain) — e.g. after the shop was
    down. Run config: `{limit: 100}`. Failures stay visible in `action_outcomes` and the `decision_outcomes` table."""
    retry_failed_actions_op()


retry_failed_actions_schedule = dg.ScheduleDefinition(
    job=retry_failed_actions, cron_schedule="*/30 * * * *", default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every 30 minutes once turned on: retry failed decision actions.")
