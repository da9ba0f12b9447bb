"""A small imported sample export plus a ``clean_messages`` table filled directly with SQL.

The corpus is made here with the library cleaner (``telegram_intel.lib.cleaning``) and a Pseudonymizer, so these
tests do not depend on the ``clean_messages`` asset; one integration test runs that asset instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tests.support.clean_messages import fill_clean_messages
from telegram_intel_tools.sample_data import load_ground_truth, write_sample_export

SECRET = "graph-tests-pseudonym-secret-0123456789"


@dataclass
class Sample:
    path: Path
    truth: dict
    owner_id: int
    opt_out_id: int


@pytest.fixture(scope="session")
def sample_export(tmp_path_factory) -> Sample:
    out = tmp_path_factory.mktemp("graph-sample")
    write_sample_export(out, messages=1500, chats=3, users=12, seed=7, media=False)
    truth = load_ground_truth(out)
    opt_out = next(u["user_id"] for u in truth["users"] if u["opt_out"])
    return Sample(out / "result.json", truth, truth["owner"]["user_id"], opt_out)


@pytest.fixture
def graph_sample(engine, sample_export, storage_dir) -> Sample:
    """The sample imported, its opted-out user marked ``is_ignored``, ``clean_messages`` filled."""
    import_export(engine, sample_export.path, storage_dir)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = :u"),
                     {"u": sample_export.opt_out_id})
    fill_clean_messages(engine, SECRET)
    return sample_export


def busiest_days(engine, n: int = 3) -> list[str]:
    """Partition keys of the days with the most replies in the corpus (reply edges need replies)."""
    with engine.connect() as conn:
        return [d.isoformat() for (d,) in conn.execute(sa.text(
            "SELECT (date AT TIME ZONE 'UTC')::date AS d FROM clean_messages GROUP BY 1"
            " ORDER BY count(*) FILTER (WHERE reply_to_message_id IS NOT NULL) DESC, 1 LIMIT :n"), {"n": n})]
