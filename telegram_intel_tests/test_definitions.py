"""The root definitions: they load (also through `dg`), and the asset graph (keys, deps, partitions, automation,
checks, jobs, sensors, schedules) changes only on purpose."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from telegram_intel.definitions import defs

SNAPSHOT = Path(__file__).with_name("asset_graph_snapshot.json")


def graph_snapshot() -> dict:
    """Keys, deps, partitions, checks and automation of every asset: changes only on purpose."""
    graph = defs.resolve_asset_graph()
    out = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        out[key.to_user_string()] = {
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "group": node.group_name,
            "partitions": type(node.partitions_def).__name__ if node.partitions_def else None,
            "automation": str(node.automation_condition.get_label()) if node.automation_condition else None,
            "checks": sorted(c.name for c in node.check_keys),
        }
    out["_jobs"] = sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__"))
    out["_sensors"] = sorted(s.name for s in defs.sensors or [])
    out["_schedules"] = sorted(s.name for s in defs.schedules or [])
    return out


def test_asset_graph_matches_snapshot():
    current = graph_snapshot()
    if os.environ.get("UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), "asset graph changed: rerun with UPDATE_SNAPSHOT=1 if intended"


def test_definitions_validate():
    dg.Definitions.validate_loadable(defs)


def test_graph_orders_enrichment_after_ingest_and_profiles_after_embeddings():
    graph = defs.resolve_asset_graph()
    parents = {k.to_user_string(): {p.to_user_string() for p in graph.get(k).parent_keys}
               for k in graph.get_all_asset_keys()}
    assert "telegram_messages" in parents["clean_messages"]
    assert "message_embeddings" in parents["user_profiles"]
    assert "telegram_sync" not in parents  # the live sync materializes the ingest assets themselves
    schedules = {s.name: s for s in defs.schedules}
    assert sorted(schedules) == ["retry_failed_actions_schedule", "telegram_sync_schedule"]
    assert schedules["retry_failed_actions_schedule"].default_status == dg.DefaultScheduleStatus.STOPPED
    automated = {k for k in parents if graph.get(dg.AssetKey(k)).automation_condition is not None}
    assert {"clean_messages", "message_embeddings", "intent_labels", "user_profiles"} <= automated
    assert not automated & {"telegram_messages", "sft_dataset", "lora_adapter", "persona_eval"}
    # the conditions are evaluated from the start (Dagster's default automation sensor would start stopped)
    sensor = defs.resolve_sensor_def("enrichment_automation_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert automated <= {k.to_user_string() for k in sensor.asset_selection.resolve(graph)}


def test_code_location_loads_like_the_webserver_does(tmp_path):
    """`dagster definitions validate` loads the workspace the way `dagster dev` does."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", str(repo / "workspace.yaml")],
        cwd=repo, env=env, capture_output=True, text=True, timeout=180,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "All code locations passed validation" in out.stdout + out.stderr


def test_an_ingest_run_triggers_the_daily_enrichment_through_automation_conditions():
    """Declarative automation orders enrichment after an ingest (export or live sync): with the three ingest assets
    materialized, the daemon's evaluation requests the daily enrichment chain and nothing of persona training."""
    with dg.instance_for_test() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert first.total_requested == 0  # nothing ingested, nothing to do
        instance.add_dynamic_partitions("telegram_exports", ["telethon:live"])
        for key in ("telegram_chats", "telegram_users", "telegram_messages"):
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition="telethon:live"))
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    requested = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()
                 if result.get_num_requested(k)}
    assert {"clean_messages", "message_embeddings", "intent_labels", "message_summaries", "entities",
            "chat_statistics", "user_activity", "voice_transcripts"} <= requested
    assert not requested & {"telegram_messages", "sft_dataset", "lora_adapter", "persona_eval"}
