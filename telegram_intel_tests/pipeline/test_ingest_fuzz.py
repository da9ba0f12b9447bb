"""Property-based fuzzing of the import (see ``support/fuzz_exports.py``): every mutated real export ends in an import
or a ``TelegramDataError`` naming the file and where, and the rows committed before stay exactly as they were.

A modest, fixed (derandomized) sample runs here; ``bench/fuzz_import.py`` runs thousands of random ones.
``TELEGRAM_INTEL_FUZZ_EXAMPLES`` changes the count.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from telegram_intel_tests.support.fuzz_exports import baseline_rows, import_baseline, import_case, mutated_exports


@pytest.fixture
def baseline(engine, storage_dir):
    chats = import_baseline(engine, storage_dir)
    return chats, baseline_rows(engine, chats)


@settings(max_examples=int(os.environ.get("TELEGRAM_INTEL_FUZZ_EXAMPLES", "150")), deadline=None, database=None,
          derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                   HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(case=mutated_exports())
def test_mutated_exports_import_or_fail_with_a_data_error(case, engine, storage_dir, tmp_path, baseline):
    what, data = case
    path = tmp_path / "result.json"
    path.write_bytes(data)
    import_case(engine, storage_dir, path)  # raises on anything but an import or a TelegramDataError
    chats, before = baseline
    assert baseline_rows(engine, chats) == before, f"committed rows changed by: {what}"
