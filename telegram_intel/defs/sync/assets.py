"""Incremental sync of the live account's whitelisted chats (Telethon), every 6 hours."""

# No `from __future__ import annotations`: Dagster checks the `context` annotation as an object.
import os

import dagster as dg

from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.sync.resources import TelethonSourceResource
from telegram_intel.sources.telethon.config import TelegramConfigError, parse_flag
from telegram_intel.sources.telethon.source import (
    TelegramNotAuthorized,
    TelegramRetryLater,
)

TELEGRAM_SYNC = dg.AssetKey("telegram_sync")


def _chat_table(results) -> str:
    lines = ["| chat | title | new | updated | files | cursor |", "|---|---|---:|---:|---:|---|"]
    for r in results:
        title = (r.title or "").replace("|", "/")
        lines.append(f"| {r.chat_id} | {title} | {r.messages_new} | {r.messages_updated} | {r.files_downloaded} "
                     f"| {r.cursor_before} → {r.cursor_after} |")
    return "\n".join(lines)


@dg.asset(
    key=TELEGRAM_SYNC,
    group_name="ingest",
    kinds={"telegram", "postgres"},
    retry_policy=dg.RetryPolicy(max_retries=3, delay=60, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS),
    description=(
        "Live account → `telegram_chats`, `telegram_users`, `telegram_messages`, `telegram_files`: whitelisted "
        "chats (TELEGRAM_ALLOWED_CHATS), their members and new messages above each chat's `telegram_sync_cursors` "
        "high-water mark, in committed batches of 100. A long FloodWait or a takeout awaiting approval requests "
        "a retry after the seconds Telegram asks for."
    ),
)
def telegram_sync(context: dg.AssetExecutionContext, telegram: TelegramIntelResource,
                  telethon: TelethonSourceResource) -> dg.MaterializeResult:
    try:
        results = telethon.sync(telegram.engine, telegram.settings().storage_dir, context.log)
    except TelegramRetryLater as exc:
        # Telegram said how long to wait: retry then (not on the generic policy's schedule).
        raise dg.RetryRequested(max_retries=5, seconds_to_wait=exc.seconds) from exc
    except (TelegramConfigError, TelegramNotAuthorized) as exc:
        raise dg.Failure(str(exc), allow_retries=False) from exc
    per_chat = {
        str(r.chat_id): {"title": r.title, "new_messages": r.messages_new, "updated_messages": r.messages_updated,
                         "files_downloaded": r.files_downloaded, "cursor_before": r.cursor_before,
                         "cursor": r.cursor_after, "participants": r.participants}
        for r in results
    }
    return dg.MaterializeResult(
        metadata={
            "chats": len(results),
            "new_messages": sum(r.messages_new for r in results),
            "updated_messages": sum(r.messages_updated for r in results),
            "files_downloaded": sum(r.files_downloaded for r in results),
            "per_chat": dg.MetadataValue.json(per_chat),
            "per_chat_table": dg.MetadataValue.md(_chat_table(results)),
        }
    )


telegram_sync_job = dg.define_asset_job(
    "telegram_sync_job", selection=dg.AssetSelection.assets(TELEGRAM_SYNC),
    description="Sync the whitelisted chats of the live Telegram account.",
)


@dg.schedule(
    cron_schedule="0 */6 * * *",
    job=telegram_sync_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,  # sync_and_enrich schedule (automation) runs sync too
    description="Every 6 hours; skipped while TELEGRAM_FEATURE_ENABLED is not true.",
)
def telegram_sync_schedule(context: dg.ScheduleEvaluationContext):
    try:
        enabled = parse_flag(os.environ, "TELEGRAM_FEATURE_ENABLED", False)
    except TelegramConfigError as exc:
        return dg.SkipReason(str(exc))
    if not enabled:
        return dg.SkipReason("TELEGRAM_FEATURE_ENABLED is not true: live Telegram sync is off")
    return dg.RunRequest()
