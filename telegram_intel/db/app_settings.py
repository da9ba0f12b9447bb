"""Settings a person changes from the web UI (``app_settings`` table): read by the pipeline at run time.

| key | type | default | read by |
|---|---|---|---|
| ``sync_enabled`` | bool | true | ``telegram_sync_schedule`` (``sync_enabled(engine)``): off → every tick skips |
| ``profile_min_messages`` | int 1–1000 | 5 | ``user_profiles``: fewer usable messages → "insufficient data" |
| ``profile_daily_max`` | int 0–100000 | 200 | ``user_profiles``: analyses per UTC day (0 = none) |

A change of the profile settings starts ``user_profiles`` (``profile_settings_sensor``, through ``changed_at``).

Missing rows mean the default; unreadable values fall back to the default too (a bad row never stops a run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class SettingSpec:
    key: str
    kind: type
    default: Any
    label: str
    minimum: int | None = None
    maximum: int | None = None

    def parse(self, raw: Any) -> Any:
        """The value from form or JSON input; ``ValueError`` with a message a person can act on."""
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "on", "yes"):
                return True
            if text in ("0", "false", "off", "no", ""):
                return False
            raise ValueError(f"{self.label}: expected on/off")
        text = str(raw).strip()
        if not text or len(text) > 9 or not text.lstrip("-").isdigit():
            raise ValueError(f"{self.label}: enter a whole number between {self.minimum} and {self.maximum}")
        value = int(text)
        if value < self.minimum or value > self.maximum:
            raise ValueError(f"{self.label}: enter a whole number between {self.minimum} and {self.maximum}")
        return value


SETTINGS: dict[str, SettingSpec] = {
    s.key: s
    for s in (
        SettingSpec("sync_enabled", bool, True, "Telegram sync"),
        SettingSpec("profile_min_messages", int, 5, "Minimum messages for a job guess", 1, 1000),
        SettingSpec("profile_daily_max", int, 200, "Maximum user analyses per day", 0, 100_000),
    )
}


def get_settings(engine: Engine) -> dict[str, Any]:
    """Every setting (defaults filled in)."""
    out = {k: s.default for k, s in SETTINGS.items()}
    with engine.connect() as conn:
        for key, value in conn.execute(sa.text("SELECT key, value FROM app_settings")):
            spec = SETTINGS.get(key)
            if spec is None:
                continue
            try:
                out[key] = spec.parse(json.loads(value))
            except (ValueError, TypeError):
                pass
    return out


def get_setting(engine: Engine, key: str) -> Any:
    return get_settings(engine)[key]


def set_settings(engine: Engine, values: dict[str, Any]) -> dict[str, Any]:
    """Validate all, then write all in one transaction (nothing is written when any value is bad)."""
    parsed = {}
    for key, raw in values.items():
        spec = SETTINGS.get(key)
        if spec is None:
            raise ValueError(f"unknown setting {key!r}")
        parsed[key] = spec.parse(raw)
    with engine.begin() as conn:
        for key, value in parsed.items():
            conn.execute(sa.text(
                "INSERT INTO app_settings (key, value, updated_at) VALUES (:k, :v, now()) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now() "
                "WHERE app_settings.value IS DISTINCT FROM EXCLUDED.value"
            ), {"k": key, "v": json.dumps(value)})
    return parsed


def changed_at(engine: Engine, keys: tuple[str, ...]) -> datetime | None:
    """When any of ``keys`` last changed value (None while all are at their defaults, never saved)."""
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT max(updated_at) FROM app_settings WHERE key = ANY(:k)"),
                            {"k": list(keys)}).scalar()


def sync_enabled(engine: Engine) -> bool:
    """Whether the Telegram sync should run (Settings page switch)."""
    return bool(get_setting(engine, "sync_enabled"))
