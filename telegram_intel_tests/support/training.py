"""Fixtures for the persona-training tests: one small sample export (generated once per session) imported and
cleaned into the real PostgreSQL, and resources for the training assets (tiny random model, one torch thread)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tools.sample_data import write_sample_export

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SECRET = "test-pseudonym-secret-0123456789"
ALL_TIME = (datetime(2013, 8, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def training_sample_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("training-sample")
    write_sample_export(out, messages=2000, media=False, seed=11)
    return out


@pytest.fixture
def cleaned(engine, training_sample_dir, storage_dir):
    """The sample imported and cleaned (clean_messages filled with the corpus' own code)."""
    from telegram_intel.lib.cleaning import CleaningConfig
    from telegram_intel.pipeline.corpus import clean_range

    import_export(engine, training_sample_dir / "result.json", storage_dir)
    clean_range(engine, *ALL_TIME, CleaningConfig(), secret=SECRET)
    return engine


def training_resources(database_url: str, storage_dir: Path, **persona) -> dict:
    from telegram_intel.defs.resources import TelegramIntelResource
    from telegram_intel.defs.training.resources import PersonaTrainingResource

    return {
        "telegram": TelegramIntelResource(database_url=database_url, storage_dir=str(storage_dir)),
        "persona_training": PersonaTrainingResource(**{"base_model": "tiny-random", "torch_threads": 1, **persona}),
    }


#: Small enough for a few seconds on 2 cores, large enough that the adapter beats the random base.
FAST_TRAINING = {
    "lora_adapter": {"config": {"max_steps": 12, "batch_size": 4, "learning_rate": 0.02, "max_seq_len": 160}},
    "persona_eval": {"config": {"max_examples": 40, "style_examples": 6, "samples": 3, "max_new_tokens": 8}},
}
