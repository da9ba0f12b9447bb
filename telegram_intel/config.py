"""Settings read from the environment at call time (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None
    storage_dir: Path

    @property
    def media_dir(self) -> Path:
        return self.storage_dir / "telegram" / "media"

    @property
    def inbox_dir(self) -> Path:
        return self.home / "inbox"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    home = Path(env.get("TELEGRAM_INTEL_HOME") or ".telegram_intel").expanduser().resolve()
    storage = env.get("TELEGRAM_INTEL_STORAGE_DIR")
    return Settings(
        home=home,
        database_url=env.get("TELEGRAM_INTEL_DATABASE_URL") or None,
        storage_dir=Path(storage).expanduser().resolve() if storage else home / "storage",
    )
