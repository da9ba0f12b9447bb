"""The project's one database/storage resource."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy.engine import Engine

from telegram_intel.config import Settings, load_settings
from telegram_intel.db.embedded import EmbeddedPostgres
from telegram_intel.db.engine import make_engine, upgrade


class TelegramIntelResource(dg.ConfigurableResource):
    """PostgreSQL (+pgvector) and file storage for every asset.

    Each field may be given as ``dg.EnvVar(...)`` in a deployment; a field left unset
    falls back to the same environment variable read at run time
    (``TELEGRAM_INTEL_DATABASE_URL``, ``TELEGRAM_INTEL_HOME``, ``TELEGRAM_INTEL_STORAGE_DIR``),
    and with no database URL at all the embedded PostgreSQL under the home folder is used:
    started for the run if it is not running, stopped after the run if this run started it.
    """

    database_url: str | None = None
    home: str | None = None
    storage_dir: str | None = None

    _engine: Engine | None = PrivateAttr(default=None)
    _server: EmbeddedPostgres | None = PrivateAttr(default=None)

    def settings(self) -> Settings:
        import os

        env = dict(os.environ)
        for field, var in (
            ("database_url", "TELEGRAM_INTEL_DATABASE_URL"),
            ("home", "TELEGRAM_INTEL_HOME"),
            ("storage_dir", "TELEGRAM_INTEL_STORAGE_DIR"),
        ):
            value = getattr(self, field)
            if value:
                env[var] = value
        return load_settings(env)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        settings = self.settings()
        url = settings.database_url
        if not url:
            server = EmbeddedPostgres(settings.home / "pg")
            if server.start():
                self._server = server
            url = server.url
        self._engine = make_engine(url)
        upgrade(self._engine)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self._server is not None:
            self._server.stop()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("TelegramIntelResource used outside a run")
        return self._engine

    @contextlib.contextmanager
    def connect(self) -> Iterator:
        with self.engine.connect() as conn:
            yield conn
