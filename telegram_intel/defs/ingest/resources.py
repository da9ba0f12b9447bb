"""The live Telegram source as a Dagster resource (one class; configured by EnvVar or the environment)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import dagster as dg
from sqlalchemy.engine import Engine

from telegram_intel.db.sync_state import DatabaseSyncStore
from telegram_intel.sources.telethon.config import (
    TelegramConfig,
    account_names,
    load_telegram_config,
    make_client,
)
from telegram_intel.sources.telethon.source import ChatSyncResult, run_sync

# resource field -> environment variable it stands for
_FIELDS = {
    "api_id": "TELEGRAM_API_ID",
    "api_hash": "TELEGRAM_API_HASH",
    "session": "TELEGRAM_SESSION",
    "allowed_chats": "TELEGRAM_ALLOWED_CHATS",
    "feature_enabled": "TELEGRAM_FEATURE_ENABLED",
    "media_types": "TELEGRAM_MEDIA_TYPES",
    "media_max_mb": "TELEGRAM_MEDIA_MAX_MB",
    "sync_since": "TELEGRAM_SYNC_SINCE",
    "takeout": "TELEGRAM_TAKEOUT",
    "flood_sleep_threshold": "TELEGRAM_FLOOD_SLEEP_THRESHOLD",
    "participants": "TELEGRAM_SYNC_PARTICIPANTS",
    "fetch_bios": "TELEGRAM_FETCH_BIOS",
}


class TelethonSourceResource(dg.ConfigurableResource):
    """Telethon (MTProto) access to the owner's account for the history sync.

    Every field is a string so it can be given as ``dg.EnvVar("…")``; a field left unset falls back
    to its ``TELEGRAM_*`` variable, read when a run starts (never at import). Values are checked
    before any network call. ``make_client`` is the seam tests replace with a client double.
    With several accounts (``TELEGRAM_ACCOUNTS``), a sync reads each in turn (``account``: only that one).
    """

    api_id: str | None = None
    api_hash: str | None = None
    session: str | None = None
    allowed_chats: str | None = None
    feature_enabled: str | None = None
    media_types: str | None = None
    media_max_mb: str | None = None
    sync_since: str | None = None
    takeout: str | None = None
    flood_sleep_threshold: str | None = None
    participants: str | None = None
    fetch_bios: str | None = None
    account: str | None = None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        for field, var in _FIELDS.items():
            value = getattr(self, field)
            if value is not None:
                env[var] = value
        return env

    def telegram_config(self) -> TelegramConfig:
        return load_telegram_config(self._env(), account=self.account)

    def telegram_configs(self) -> list[TelegramConfig]:
        """One configuration per account a sync reads (all checked before any network call)."""
        env = self._env()
        names = [self.account] if self.account else account_names(env)
        return [load_telegram_config(env, account=n) for n in names] or [load_telegram_config(env)]

    def make_client(self, config: TelegramConfig) -> Any:
        return make_client(config)

    def sync(self, engine: Engine, storage_dir: Path, logger: Any = None, on_batch=None) -> list[ChatSyncResult]:
        results: list[ChatSyncResult] = []
        for config in self.telegram_configs():
            results += asyncio.run(run_sync(config, DatabaseSyncStore(engine, storage_dir),
                                            client=self.make_client(config), logger=logger, on_batch=on_batch))
        return results
