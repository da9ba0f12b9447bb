"""Inbox sensor: every new or changed export file becomes a partition and is imported — once per version of the
file, whoever imported it (the sensor itself, or `telegram-intel demo`, which tags its run the same way)."""


import json

import dagster as dg

from telegram_intel.config import load_settings
from telegram_intel.defs.ingest.assets import telegram_exports_partitions
from telegram_intel.pipeline.inbox import EXPORT_VERSION_TAG, scan_inbox

__all__ = ["import_telegram_export_job", "scan_inbox", "telegram_export_inbox_sensor", "imported_version"]

import_telegram_export_job = dg.define_asset_job(
    "import_telegram_export",
    selection=dg.AssetSelection.assets("telegram_chats", "telegram_users", "telegram_messages"),
    description="Import one Telegram Desktop export file (partition = path under the inbox).",
)


def imported_version(instance: dg.DagsterInstance, key: str) -> str | None:
    """The export version (run tag) that the latest materialization of ``telegram_messages`` in partition ``key``
    imported; None when there is none or its run did not say (a run launched by hand from the UI)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("telegram_messages"), asset_partitions=[key]), limit=1)
    if not records.records:
        return None
    run = instance.get_run_by_id(records.records[0].run_id)
    return run.tags.get(EXPORT_VERSION_TAG) if run is not None else None


@dg.sensor(
    job=import_telegram_export_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches $TELEGRAM_INTEL_HOME/inbox for Telegram Desktop exports (result.json and other *.json).",
)
def telegram_export_inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    inbox = load_settings().inbox_dir
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current = scan_inbox(inbox)
    changed = {key: version for key, version in current.items() if seen.get(key) != version}
    known = set(context.instance.get_dynamic_partitions(telegram_exports_partitions.name))
    new_keys = sorted(k for k in changed if k not in known)
    # A file whose current version some run already imported (e.g. the demo's sample) is not imported again.
    to_import = {key: version for key, version in changed.items()
                 if key not in known or imported_version(context.instance, key) != version}
    for key in sorted(set(changed) - set(to_import)):
        context.log.info(f"{key}: this version ({changed[key]}) is already imported")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=key, run_key=f"{key}@{version}",
                          tags={"telegram_intel/export": key, EXPORT_VERSION_TAG: version})
            for key, version in sorted(to_import.items())
        ],
        dynamic_partitions_requests=[telegram_exports_partitions.build_add_request(new_keys)] if new_keys else [],
        cursor=json.dumps({**seen, **current}, sort_keys=True),
    )
