from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.definitions import defs
from telegram_intel.defs.ingest.assets import (
    telegram_exports_partitions,
    telegram_ingest,
)
from telegram_intel.defs.ingest.resources import TelethonSourceResource
from telegram_intel.defs.ingest.sensors import telegram_export_inbox_sensor
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.lib.export_parser import iter_export
from telegram_intel.lib.records import ChatRecord


def _copy_fixture(fixtures_dir: Path, name: str, inbox: Path, key: str) -> str:
    target = inbox / key
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixtures_dir / name, target)
    return key


def _run_import(instance, key: str, resource: TelegramIntelResource):
    job = defs.resolve_job_def("import_telegram_export")
    return job.execute_in_process(instance=instance, partition_key=key, raise_on_error=False)


def _mat_metadata(result, asset: str) -> dict:
    mats = [
        e.event_specific_data.materialization
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
        and e.event_specific_data.materialization.asset_key.to_user_string() == asset
    ]
    assert len(mats) == 1
    return {k: v.value for k, v in mats[0].metadata.items()}


def test_import_job_materializes_with_metadata_and_checks(ti_env, engine, fixtures_dir):
    inbox = ti_env / "inbox"
    key = _copy_fixture(fixtures_dir, "telegram_2020-01.result.json", inbox, "old/result.json")
    resource = TelegramIntelResource()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(telegram_exports_partitions.name, [key])
        first = _run_import(instance, key, resource)
        assert first.success
        meta = _mat_metadata(first, "telegram_messages")
        expected = sum(len(c["messages"]) for c in json.loads((inbox / key).read_text())["chats"]["list"])
        assert meta["messages_in_export"] == expected
        assert meta["rows_new"] == expected and meta["rows_updated"] == 0
        assert meta["first_message_at"] <= meta["last_message_at"]
        assert "data:image/png;base64" in meta["messages_per_day"]
        checks = {e.check_name: e.passed for e in first.get_asset_check_evaluations()}
        assert checks == {"telegram_messages_match_source": True, "telegram_messages_dates_in_range": True,
                          "telegram_messages_replies_resolve": True}

        second = _run_import(instance, key, resource)
        assert second.success
        meta2 = _mat_metadata(second, "telegram_messages")
        assert (meta2["rows_new"], meta2["rows_updated"]) == (0, 0)
        assert meta2["messages_total"] == expected


def test_blocking_check_stops_downstream(ti_env, engine, fixtures_dir):
    inbox = ti_env / "inbox"
    key = _copy_fixture(fixtures_dir, "telegram_2023-01.result.json", inbox, "e/result.json")
    chat = next(r for r in iter_export(inbox / key) if isinstance(r, ChatRecord))
    with engine.begin() as conn:  # a message with an impossible date already stored in one of the export's chats
        conn.execute(sa.text("INSERT INTO telegram_chats (chat_id, type) VALUES (:c, 'private')"), {"c": chat.chat_id})
        conn.execute(sa.text("INSERT INTO telegram_messages (chat_id, message_id, date) "
                             "VALUES (:c, 999999, '1970-01-01T00:00:00Z')"), {"c": chat.chat_id})

    ran = []

    @dg.asset(deps=["telegram_messages"])
    def downstream_model() -> None:
        ran.append(True)

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(telegram_exports_partitions.name, [key])
        result = dg.materialize(
            [telegram_ingest, downstream_model], instance=instance, partition_key=key,
            resources={"telegram": TelegramIntelResource(), "telethon": TelethonSourceResource()},
            raise_on_error=False,
        )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["telegram_messages_dates_in_range"].passed is False
    assert evaluations["telegram_messages_dates_in_range"].metadata["outside_telegram_lifetime"].value == 1
    assert evaluations["telegram_messages_match_source"].passed is True
    assert not ran, "downstream asset ran although a blocking check failed"
    assert not result.success


def test_inbox_sensor_registers_partitions_and_requests_runs_once(ti_env, fixtures_dir):
    inbox = ti_env / "inbox"
    _copy_fixture(fixtures_dir, "telegram_2021-06_supergroup.result.json", inbox, "a/result.json")
    _copy_fixture(fixtures_dir, "telegram_2024-01_inline-bot-buttons.result.json", inbox, "b.json")
    (inbox / "a" / "ground_truth.json").write_text("{}")  # not an export: ignored

    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance)
        result = telegram_export_inbox_sensor(ctx)
        assert sorted(r.partition_key for r in result.run_requests) == ["a/result.json", "b.json"]
        (add,) = result.dynamic_partitions_requests
        assert sorted(add.partition_keys) == ["a/result.json", "b.json"]

        instance.add_dynamic_partitions(telegram_exports_partitions.name, list(add.partition_keys))
        again = telegram_export_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor))
        assert again.run_requests == [] and again.dynamic_partitions_requests == []

        # A newer export written over an old one is imported again (same partition, new run key).
        target = inbox / "b.json"
        target.write_text(target.read_text() + "\n")
        changed = telegram_export_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=again.cursor))
        assert [r.partition_key for r in changed.run_requests] == ["b.json"]
        assert changed.run_requests[0].run_key != result.run_requests[1].run_key
        assert changed.dynamic_partitions_requests == []


@pytest.mark.parametrize("missing", ["nope/result.json"])
def test_missing_export_file_fails_clearly(ti_env, engine, missing):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(telegram_exports_partitions.name, [missing])
        result = _run_import(instance, missing, TelegramIntelResource())
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "does not exist" in str(failure.event_specific_data.error)
