"""Real PostgreSQL + pgvector for tests.

Uses $TELEGRAM_INTEL_TEST_DATABASE_URL when set (a disposable database: tables are
truncated between tests); otherwise starts the embedded server in a temp folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from telegram_intel.db.embedded import EmbeddedPostgres
from telegram_intel.db.engine import make_engine, upgrade

# Fixtures of the test folders that share them (the test tree mirrors the package, so one domain's tests sit in
# several folders).
pytest_plugins = [
    "telegram_intel_tests.support.ask",
    "telegram_intel_tests.support.bot",
    "telegram_intel_tests.support.corpus",
    "telegram_intel_tests.support.decisions",
    "telegram_intel_tests.support.graph",
    "telegram_intel_tests.support.labels",
    "telegram_intel_tests.support.llm",
    "telegram_intel_tests.support.profiles",
    "telegram_intel_tests.support.telethon",
    "telegram_intel_tests.support.training",
    "telegram_intel_tests.support.voice",
]

# Real Telegram Desktop exports (MIT; LICENSE and provenance beside them).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "telegram-desktop-exports"


@pytest.fixture(scope="session")
def database_url():
    url = os.environ.get("TELEGRAM_INTEL_TEST_DATABASE_URL")
    if url:
        yield url
        return
    root = Path(tempfile.mkdtemp(prefix="ti-pg-"))
    root.chmod(0o711)  # the embedded server's system user (when run as root) must traverse it
    server = EmbeddedPostgres(root / "pg")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def truncate_all(engine) -> None:
    with engine.begin() as conn:
        tables = conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
        ).scalars().all()
        if tables:
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def engine(migrated_engine):
    truncate_all(migrated_engine)
    return migrated_engine


@pytest.fixture
def storage_dir(tmp_path):
    path = tmp_path / "storage"
    path.mkdir()
    return path


@pytest.fixture
def ti_env(tmp_path, database_url, monkeypatch):
    """Environment for code that reads settings (CLI, Dagster resource)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("TELEGRAM_INTEL_HOME", str(home))
    monkeypatch.setenv("TELEGRAM_INTEL_DATABASE_URL", database_url)
    monkeypatch.delenv("TELEGRAM_INTEL_STORAGE_DIR", raising=False)
    return home


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert FIXTURES.is_dir(), f"fixtures not found at {FIXTURES}"
    return FIXTURES


@pytest.fixture(autouse=True)
def no_llm_env(monkeypatch):
    """Tests start offline: no LLM endpoint, voice modes file or whisper model from the developer's environment."""
    for name in ("TELEGRAM_INTEL_LLM_ENABLED", "TELEGRAM_INTEL_LLM_BASE_URL", "TELEGRAM_INTEL_LLM_API_KEY",
                 "TELEGRAM_INTEL_LLM_MODEL", "TELEGRAM_INTEL_VOICE_MODES_FILE", "TELEGRAM_INTEL_WHISPER_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def search_in_process(monkeypatch):
    """`telegram-intel search` answers in its own process in tests: the warm search service (a background process
    that outlives the command) is tested on its own, in telegram_intel_tests/cli/test_search_service.py."""
    monkeypatch.setenv("TELEGRAM_INTEL_SEARCH_SERVICE", "off")
