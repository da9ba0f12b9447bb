"""Import of Telegram Desktop exports: one dynamic partition per export file in the inbox."""


import time
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.pipeline.ingest import import_export

telegram_exports_partitions = dg.DynamicPartitionsDefinition(name="telegram_exports")

CHATS = dg.AssetKey("telegram_chats")
USERS = dg.AssetKey("telegram_users")
MESSAGES = dg.AssetKey("telegram_messages")


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
    partitions_def=telegram_exports_partitions,
    can_subset=False,
)
def telegram_export_import(context: dg.AssetExecutionContext, telegram: TelegramIntelResource):
    """Stream one Telegram Desktop export (result.json) into PostgreSQL, idempotently."""
    path = export_path(telegram, context.partition_key)
    if not path.exists():
        raise dg.Failure(f"export file {path} for partition {context.partition_key!r} does not exist")
    started = time.perf_counter()
    last_log = [0.0]

    def progress(stats) -> None:
        now = time.perf_counter()
        if now - last_log[0] > 2:
            last_log[0] = now
            context.log.info(f"{path.name}: {stats.messages_seen:,} messages written ({stats.messages_per_second:,.0f}/s)")

    stats = import_export(telegram.engine, path, telegram.settings().storage_dir, on_batch=progress)
    duration = time.perf_counter() - started
    context.log.info(f"imported {stats.messages_seen:,} messages from {path} in {duration:.1f}s")

    with telegram.connect() as conn:
        chats = conn.execute(sa.text("SELECT count(*) FROM telegram_chats")).scalar_one()
        users = conn.execute(sa.text("SELECT count(*) FROM telegram_users")).scalar_one()
        total = conn.execute(sa.text("SELECT count(*) FROM telegram_messages")).scalar_one()
        per_day = conn.execute(
            sa.text(
                "SELECT date_trunc('day', date)::date AS day, count(*) FROM telegram_messages "
                "WHERE date BETWEEN :lo AND :hi GROUP BY 1 ORDER BY 1"
            ),
            {"lo": stats.min_date, "hi": stats.max_date},
        ).all() if stats.min_date else []

    common = {"export_file": dg.MetadataValue.path(str(path)), "duration_s": round(duration, 3)}
    yield dg.MaterializeResult(
        asset_key=CHATS, metadata={**common, "chats_in_export": len(stats.chats), "chats_total": chats}
    )
    yield dg.MaterializeResult(
        asset_key=USERS, metadata={**common, "users_in_export": stats.users_seen, "users_total": users}
    )
    yield dg.MaterializeResult(
        asset_key=MESSAGES,
        metadata={
            **common,
            "messages_in_export": stats.messages_seen,
            "rows_new": stats.messages_new,
            "rows_updated": stats.messages_updated,
            "edits_recorded": stats.edits_recorded,
            "files_stored": stats.files_stored,
            "messages_total": total,
            "first_message_at": stats.min_date.isoformat() if stats.min_date else "",
            "last_message_at": stats.max_date.isoformat() if stats.max_date else "",
            "messages_per_second": round(stats.messages_per_second),
            "chat_fk_check": "per_batch" if stats.fk_checked_per_batch else "per_row",
            "messages_per_day": dg.MetadataValue.md(
                bar_chart_markdown([str(d) for d, _ in per_day], [n for _, n in per_day],
                                   title=f"Messages per day in {path.name}")
            ),
        },
    )
