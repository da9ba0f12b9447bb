"""Engine creation, schema upgrades and the embedded-default database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from telegram_intel.config import Settings, load_settings
from telegram_intel.db.embedded import embedded_server

_ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain URLs would pick psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def alembic_config() -> Config:
    cfg = Config(str(_ALEMBIC_INI))
    cfg.set_main_option("script_location", str(_ALEMBIC_INI.parent / "migrations"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema (idempotent)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        # Serialize concurrent upgrades (several Dagster runs may start at once).
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7244516601)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@contextlib.contextmanager
def database_url(settings: Settings | None = None, *, keep_running: bool = False) -> Iterator[str]:
    """The configured database, or the embedded one (started for the block if needed)."""
    settings = settings or load_settings()
    if settings.database_url:
        yield settings.database_url
        return
    with embedded_server(settings.home / "pg", keep_running=keep_running) as server:
        yield server.url


@contextlib.contextmanager
def open_engine(settings: Settings | None = None, *, keep_running: bool = False, migrate: bool = True) -> Iterator[Engine]:
    with database_url(settings, keep_running=keep_running) as url:
        engine = make_engine(url)
        try:
            if migrate:
                upgrade(engine)
            yield engine
        finally:
            engine.dispose()
