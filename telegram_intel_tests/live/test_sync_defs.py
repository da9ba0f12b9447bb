"""The Dagster side: the sync asset materialized with the client double, retries, the schedule."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.sync.assets import (
    telegram_sync,
    telegram_sync_job,
    telegram_sync_schedule,
)
from telegram_intel.defs.sync.resources import TelethonSourceResource
from telegram_intel_tests.live import fakes as f
from telegram_intel_tests.live.conftest import ALLOWED, DEV_ID, build_client

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


def test_sync_asset_materializes_with_per_chat_metadata(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.delenv("TELEGRAM_INTEL_STORAGE_DIR", raising=False)
    res = resources(tmp_path, database_url, "a")
    result = dg.materialize([telegram_sync], resources=res)
    assert result.success
    (mat,) = result.asset_materializations_for_node("telegram_sync")
    meta = mat.metadata
    assert meta["chats"].value == 3 and meta["new_messages"].value == 120 + 13 + 30
    per_chat = meta["per_chat"].value[str(DEV_ID)]
    assert per_chat["new_messages"] == 120 and per_chat["cursor"] == 120 and per_chat["cursor_before"] == 0
    assert "→ 120" in meta["per_chat_table"].value
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_messages")).scalar() == 163

    again = dg.materialize([telegram_sync], resources=res)
    (mat,) = again.asset_materializations_for_node("telegram_sync")
    assert mat.metadata["new_messages"].value == 0 and mat.metadata["per_chat"].value[str(DEV_ID)]["cursor"] == 120


def test_long_flood_wait_requests_a_retry_after_telegrams_delay(database_url, tmp_path, engine):
    res = resources(tmp_path, database_url, "b")
    CLIENTS[res["telethon"].session].fail("iter_messages", f.flood(7200), after=10)
    with dg.build_asset_context(resources=res) as context:
        with pytest.raises(dg.RetryRequested) as info:
            telegram_sync(context)
    assert info.value.seconds_to_wait == 7200


def test_bad_configuration_fails_without_retries(database_url, tmp_path, engine):
    res = resources(tmp_path, database_url, "c", api_hash="nope")
    with dg.build_asset_context(resources=res) as context:
        with pytest.raises(dg.Failure) as info:
            telegram_sync(context)
    assert "TELEGRAM_API_HASH" in str(info.value) and info.value.allow_retries is False


def test_schedule_every_six_hours_skips_while_the_feature_is_off(monkeypatch):
    assert telegram_sync_schedule.cron_schedule == "0 */6 * * *"
    assert telegram_sync_schedule.job_name == telegram_sync_job.name
    monkeypatch.delenv("TELEGRAM_FEATURE_ENABLED", raising=False)
    assert isinstance(telegram_sync_schedule(dg.build_schedule_context()), dg.SkipReason)
    monkeypatch.setenv("TELEGRAM_FEATURE_ENABLED", "true")
    assert isinstance(telegram_sync_schedule(dg.build_schedule_context()), dg.RunRequest)


def test_sync_defs_merge_with_the_project_definitions(monkeypatch):
    for var in ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION"):
        monkeypatch.delenv(var, raising=False)  # loading must not read or need them
    from telegram_intel.definitions import defs as merged

    dg.Definitions.validate_loadable(merged)  # no key clashes with the export import's assets
    graph = merged.resolve_asset_graph()
    node = graph.get(dg.AssetKey("telegram_sync"))
    assert node.parent_keys == set() and node.group_name == "ingest"
    assert {"telegram_chats", "telegram_users", "telegram_messages", "telegram_sync"} <= {
        k.to_user_string() for k in graph.get_all_asset_keys()}
    assert telegram_sync.op.retry_policy.max_retries == 3
