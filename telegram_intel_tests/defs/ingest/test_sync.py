"""The Dagster side of the live sync: the ingest assets materialized for the live partition with the client double,
retries, the one sync schedule."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.defs.ingest.assets import (
    LIVE_PARTITION,
    telegram_exports_partitions,
    telegram_ingest,
)
from telegram_intel.defs.ingest.resources import TelethonSourceResource
from telegram_intel.defs.ingest.schedules import telegram_sync_schedule
from telegram_intel.defs.ingest.sensors import import_telegram_export_job
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel_tests.support import telethon_fakes as f
from telegram_intel_tests.support.dagster import check_results, metadata
from telegram_intel_tests.support.telethon import ALLOWED, DEV_ID, build_client

HASH = "0123456789abcdef0123456789abcdef"
CLIENTS: dict[str, f.FakeTelegramClient] = {}


class SnapshotTelethonResource(TelethonSourceResource):
    """The real resource with the client double behind ``make_client`` (picked by ``session``)."""

    def make_client(self, config):
        return CLIENTS[self.session]


def resources(tmp_path, database_url, name: str, api_hash: str = HASH) -> dict:
    session = tmp_path / f"{name}.session"
    session.touch()
    CLIENTS[str(session)] = build_client(dev_count=120)
    telethon = SnapshotTelethonResource(api_id="12345", api_hash=api_hash, session=str(session), allowed_chats=ALLOWED,
                                        feature_enabled="true", media_types="photo", participants="false")
    return {"telegram": TelegramIntelResource(database_url=database_url, home=str(tmp_path / "home")),
            "telethon": telethon}


def sync(res) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(telegram_exports_partitions.name, [LIVE_PARTITION])
        return dg.materialize([telegram_ingest], resources=res, instance=instance, partition_key=LIVE_PARTITION)


def test_sync_materializes_the_ingest_assets_with_per_chat_metadata(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.delenv("TELEGRAM_INTEL_STORAGE_DIR", raising=False)
    res = resources(tmp_path, database_url, "a")
    result = sync(res)
    assert result.success
    assert {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()} == {
        "telegram_chats", "telegram_users", "telegram_messages"}
    meta = metadata(result, "telegram_messages")
    assert meta["chats"] == 3 and meta["new_messages"] == 120 + 13 + 30
    per_chat = meta["per_chat"][str(DEV_ID)]
    assert per_chat["new_messages"] == 120 and per_chat["cursor"] == 120 and per_chat["cursor_before"] == 0
    assert "→ 120" in meta["per_chat_table"]
    assert check_results(result) == {"telegram_messages_match_source": True,
                                     "telegram_messages_dates_in_range": True,
                                     "telegram_messages_replies_resolve": True}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_messages")).scalar() == 163

    again = sync(res)
    meta = metadata(again, "telegram_messages")
    assert meta["new_messages"] == 0 and meta["per_chat"][str(DEV_ID)]["cursor"] == 120


def test_long_flood_wait_requests_a_retry_after_telegrams_delay(database_url, tmp_path, engine):
    res = resources(tmp_path, database_url, "b")
    CLIENTS[res["telethon"].session].fail("iter_messages", f.flood(7200), after=10)
    with dg.build_asset_context(resources=res, partition_key=LIVE_PARTITION) as context:
        with pytest.raises(dg.RetryRequested) as info:
            list(telegram_ingest(context))
    assert info.value.seconds_to_wait == 7200


def test_bad_configuration_fails_without_retries(database_url, tmp_path, engine):
    res = resources(tmp_path, database_url, "c", api_hash="nope")
    with dg.build_asset_context(resources=res, partition_key=LIVE_PARTITION) as context:
        with pytest.raises(dg.Failure) as info:
            list(telegram_ingest(context))
    assert "TELEGRAM_API_HASH" in str(info.value) and info.value.allow_retries is False


def _tick(instance, database_url):
    # as a context manager: the resource's setup (engine, migrations) and teardown run like in the daemon
    with dg.build_schedule_context(instance=instance, resources={
            "telegram": TelegramIntelResource(database_url=database_url)}) as context:
        return telegram_sync_schedule(context)


def test_one_sync_schedule_every_six_hours_for_the_live_partition(monkeypatch, engine, database_url):
    assert telegram_sync_schedule.cron_schedule == "0 */6 * * *"
    assert telegram_sync_schedule.job_name == import_telegram_export_job.name
    monkeypatch.delenv("TELEGRAM_FEATURE_ENABLED", raising=False)
    with dg.instance_for_test() as instance:
        assert isinstance(_tick(instance, database_url), dg.SkipReason)
    monkeypatch.setenv("TELEGRAM_FEATURE_ENABLED", "true")
    with dg.instance_for_test() as instance:
        request = _tick(instance, database_url)
        assert request.partition_key == LIVE_PARTITION
        assert instance.get_dynamic_partitions(telegram_exports_partitions.name) == [LIVE_PARTITION]
        _tick(instance, database_url)  # the next tick adds nothing
        assert instance.get_dynamic_partitions(telegram_exports_partitions.name) == [LIVE_PARTITION]


def test_sync_schedule_obeys_the_settings_switch(monkeypatch, engine, database_url):
    """The web UI's Settings page stores "Telegram sync" off: the schedule skips, and runs again once it is on."""
    from telegram_intel.db.app_settings import set_settings

    monkeypatch.setenv("TELEGRAM_FEATURE_ENABLED", "true")
    set_settings(engine, {"sync_enabled": "false"})
    with dg.instance_for_test() as instance:
        skip = _tick(instance, database_url)
        assert isinstance(skip, dg.SkipReason) and "Settings" in skip.skip_message
        set_settings(engine, {"sync_enabled": "on"})
        assert _tick(instance, database_url).partition_key == LIVE_PARTITION


def test_sync_is_part_of_the_project_graph(monkeypatch):
    for var in ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION"):
        monkeypatch.delenv(var, raising=False)  # loading must not read or need them
    from telegram_intel.definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert "telegram_sync" not in keys and {"telegram_chats", "telegram_users", "telegram_messages"} <= keys
    # enrichment orders after a sync: clean_messages reads the messages the sync writes
    assert dg.AssetKey("telegram_messages") in graph.get(dg.AssetKey("clean_messages")).parent_keys
    # one schedule syncs Telegram; the other schedule of the project retries failed decision-engine actions
    assert [s.name for s in defs.schedules if s.job_name == import_telegram_export_job.name] == ["telegram_sync_schedule"]


class AccountsTelethonResource(TelethonSourceResource):
    """The real resource with a client double per account session."""

    def make_client(self, config):
        return CLIENTS[config.session]


def test_a_sync_reads_every_configured_account(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.delenv("TELEGRAM_INTEL_STORAGE_DIR", raising=False)
    second = f.user(888, "Second", None, "second", is_self=True)
    for name, me in (("work", None), ("home", second)):
        session = tmp_path / f"{name}.session"
        session.touch()
        client = build_client(dev_count=20)
        if me is not None:
            client.me = me
        CLIENTS[str(session.resolve())] = client
        monkeypatch.setenv(f"TELEGRAM_{name.upper()}_SESSION", str(session))
    monkeypatch.setenv("TELEGRAM_ACCOUNTS", "work,home")
    monkeypatch.setenv("TELEGRAM_HOME_ALLOWED_CHATS", str(DEV_ID))  # home syncs one chat only
    telethon = AccountsTelethonResource(api_id="12345", api_hash=HASH, allowed_chats=ALLOWED, feature_enabled="true",
                                        media_types="none", participants="false")
    res = {"telegram": TelegramIntelResource(database_url=database_url, home=str(tmp_path / "home")),
           "telethon": telethon}
    assert sync(res).success
    with engine.connect() as conn:
        seen = conn.execute(sa.text(
            "SELECT chat_id = :dev, account_ids, count(*) FROM telegram_messages GROUP BY 1, 2 ORDER BY 1"),
            {"dev": DEV_ID}).all()
        names = conn.execute(sa.text("SELECT name FROM telegram_accounts ORDER BY account_id")).scalars().all()
    assert seen == [(False, [111], 13 + 30), (True, [111, 888], 20)]
    assert names == ["work", "home"]
