"""Inbox sensor: every new or changed export file becomes a partition and is imported."""


import json
from pathlib import Path

import dagster as dg

from telegram_intel.config import load_settings
from telegram_intel.defs.ingest.assets import telegram_exports_partitions

import_telegram_export_job = dg.define_asset_job(
    "import_telegram_export",
    selection=dg.AssetSelection.assets("telegram_chats", "telegram_users", "telegram_messages"),
    description="Import one Telegram Desktop export file (partition = path under the inbox).",
)


def scan_inbox(inbox: Path) -> dict[str, str]:
    """Export files under ``inbox`` → a version string that changes when the file changes."""
    found: dict[str, str] = {}
    if not inbox.is_dir():
        return found
    for path in sorted(inbox.rglob("*.json")):
        if path.name == "ground_truth.json" or any(part.startswith(".") for part in path.relative_to(inbox).parts):
            continue
        st = path.stat()
        found[path.relative_to(inbox).as_posix()] = f"{st.st_size}-{st.st_mtime_ns}"
    return found


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
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=key, run_key=f"{key}@{version}", tags={"telegram_intel/export": key})
            for key, version in sorted(changed.items())
        ],
        dynamic_partitions_requests=[telegram_exports_partitions.build_add_request(new_keys)] if new_keys else [],
        cursor=json.dumps({**seen, **current}, sort_keys=True),
    )
