"""Engine creation, schema upgrades and the embedded-default database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from telegram_intel.config import Settings, load_settings
from telegram_intel.db.embedded import embedded_server

if TYPE_CHECKING:
    from alembic.config import Config

_ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
_VERSIONS = _ALEMBIC_INI.parent / "migrations" / "versions"


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain URLs would pick psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config(str(_ALEMBIC_INI))
    cfg.set_main_option("script_location", str(_ALEMBIC_INI.parent / "migrations"))
    return cfg


def schema_head() -> str:
    """The newest migration's revision: its file name (the convention ``NNNN_name.py`` = revision ``NNNN_name``,
    checked by the tests), read without loading alembic."""
    return max(p.stem for p in _VERSIONS.glob("[0-9]*.py"))


def at_head(engine: Engine) -> bool:
    """Whether the database's schema is the newest migration's."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == schema_head()
    except sa.exc.ProgrammingError:  # no schema yet
        return False


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema (idempotent). A database already at the head is left without loading alembic
    and the migrations (a third of a short command's start-up, and ≈ 10 MiB)."""
    if revision == "head" and at_head(engine):
        return
    from alembic import command

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
