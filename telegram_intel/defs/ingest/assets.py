"""The ingest assets ``telegram_chats`` / ``telegram_users`` / ``telegram_messages``, materialized by either source:
a Telegram Desktop export (one dynamic partition per file in the inbox) or the live account's incremental sync
(the partition ``LIVE_PARTITION``). The work is in ``pipeline/ingest.py``."""

from pathlib import Path

import dagster as dg

from telegram_intel.defs.ingest.resources import TelethonSourceResource
from telegram_intel.defs.metadata import materialize_result
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.pipeline import ingest as work
from telegram_intel.sources.telethon.config import TelegramConfigError
from telegram_intel.sources.telethon.source import (
    TelegramNotAuthorized,
    TelegramRetryLater,
)

telegram_exports_partitions = dg.DynamicPartitionsDefinition(name="telegram_exports")

#: The partition of the live Telegram account (Telethon); every other key is an export file.
LIVE_PARTITION = "telethon:live"

CHATS = dg.AssetKey("telegram_chats")
USERS = dg.AssetKey("telegram_users")
MESSAGES = dg.AssetKey("telegram_messages")
KEYS = {"telegram_chats": CHATS, "telegram_users": USERS, "telegram_messages": MESSAGES}


def export_path(telegram: TelegramIntelResource, partition_key: str) -> Path:
    """Partition keys are paths relative to the inbox folder; absolute keys are allowed too."""
    key_path = Path(partition_key)
    path = key_path if key_path.is_absolute() else telegram.settings().inbox_dir / key_path
    if path.is_dir():
        path = path / "result.json"
    return path


@dg.multi_asset(
    specs=[
        dg.AssetSpec(CHATS, description="Chats (groups, supergroups, channels, private chats): `telegram_chats`.",
                     group_name="ingest", kinds={"postgres"}),
        dg.AssetSpec(USERS, description="People seen in the chats: `telegram_users` (incl. the `is_ignored` opt-out).",
                     group_name="ingest", kinds={"postgres"}),
        dg.AssetSpec(MESSAGES, description="Messages incl. service messages, replies, forwards, edits, media and raw "
                     "JSON: `telegram_messages`, `telegram_message_edits`, `telegram_files`.",
                     group_name="ingest", kinds={"postgres"}),
    ],
    check_specs=[
        dg.AssetCheckSpec("telegram_messages_match_source", asset=MESSAGES, blocking=True,
                          description="Every message the source yielded is stored in its chat."),
        dg.AssetCheckSpec("telegram_messages_dates_in_range", asset=MESSAGES, blocking=True,
                          description="The written chats' messages are dated between Aug 2013 and tomorrow, and the "
                                      "source's first and last dates are stored."),
        dg.AssetCheckSpec("telegram_messages_replies_resolve", asset=MESSAGES,
                          description="Replies point at stored messages of their chat (warns above 50 %: exports "
                                      "start somewhere, so some replies point before the first message)."),
    ],
    partitions_def=telegram_exports_partitions,
    can_subset=False,
    pool="telegram_api",
)
def telegram_ingest(context: dg.AssetExecutionContext, telegram: TelegramIntelResource,
                    telethon: TelethonSourceResource):
    """Stream one source into PostgreSQL, idempotently: an export file (partition = its path under the inbox), or
    the whitelisted chats of the live account above each chat's high-water mark (partition `telethon:live`)."""
    if context.partition_key == LIVE_PARTITION:
        yield from _sync(context, telegram, telethon)
        return
    path = export_path(telegram, context.partition_key)
    if not path.exists():
        raise dg.Failure(f"export file {path} for partition {context.partition_key!r} does not exist",
                         allow_retries=False)
    stats = work.import_export(telegram.engine, path, telegram.settings().storage_dir,
                               on_batch=lambda s: context.log.debug(f"{s.messages_seen:,} messages written"))
    context.log.info(f"imported {stats.messages_seen:,} messages from {path} in {stats.seconds:.1f}s")
    for name, report in work.export_reports(telegram.engine, stats, path).items():
        yield materialize_result(report, asset_key=KEYS[name])


def _sync(context: dg.AssetExecutionContext, telegram: TelegramIntelResource, telethon: TelethonSourceResource):
    try:
        results = telethon.sync(telegram.engine, telegram.settings().storage_dir, context.log)
    except TelegramRetryLater as exc:  # Telegram said how long to wait: retry then
        raise dg.RetryRequested(max_retries=5, seconds_to_wait=exc.seconds) from exc
    except (TelegramConfigError, TelegramNotAuthorized) as exc:
        raise dg.Failure(str(exc), allow_retries=False) from exc
    except (OSError, ConnectionError) as exc:  # the network: try again later
        raise dg.RetryRequested(max_retries=3, seconds_to_wait=60) from exc
    for name, report in work.sync_reports(telegram.engine, results).items():
        yield materialize_result(report, asset_key=KEYS[name])
