"""Where the daily partitions start (``$TELEGRAM_INTEL_PARTITIONS_START``, read when the definitions load) and how
the first partition covers the messages before it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
import sqlalchemy as sa

from telegram_intel.config import TELEGRAM_LAUNCH, load_settings, parse_partitions_start
from telegram_intel.pipeline.ingest import import_export

# Loads the root definitions the way a code server does (a fresh process, the setting in its environment), then
# materializes chat_statistics for the first partition.
_LOAD_AND_MATERIALIZE = """
import json
import dagster as dg
from telegram_intel.definitions import defs
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.stats.assets import chat_statistics

graph = defs.resolve_asset_graph()
firsts = {k.to_user_string(): graph.get(k).partitions_def.get_first_partition_key()
          for k in graph.get_all_asset_keys()
          if graph.get(k).partitions_def is not None and k.to_user_string() != "telegram_messages"
          and graph.get(k).group_name != "ingest"}
first = firsts["chat_statistics"]
with dg.instance_for_test() as instance:
    result = dg.materialize([chat_statistics], partition_key=first, instance=instance,
                            resources={"telegram": TelegramIntelResource()})
print(json.dumps({"firsts": firsts, "success": result.success}))
"""


def test_first_partition_is_the_configured_day_and_covers_older_messages(ti_env, engine, storage_dir, fixtures_dir):
    # messages from 2016-11 to 2019-09; the partitions start in 2019
    import_export(engine, fixtures_dir / "telegram_2020-01.result.json", storage_dir)
    env = {**os.environ, "TELEGRAM_INTEL_PARTITIONS_START": "2019-01-01"}
    out = subprocess.run([sys.executable, "-c", _LOAD_AND_MATERIALIZE], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(report["firsts"].values()) == {"2019-01-01"}, report["firsts"]  # every daily asset
    assert report["success"]

    with engine.connect() as conn:
        days, counted = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE day < '2019-01-01'), COALESCE(sum(messages), 0) FROM chat_statistics")).one()
        expected = conn.execute(sa.text(
            "SELECT count(*) FROM telegram_messages WHERE kind <> 'service' AND deleted_at IS NULL "
            "AND date < '2019-01-02'")).scalar_one()
    assert days > 0  # 2016-2018 are in the first partition, not skipped
    assert counted == expected > 0


def test_default_start_and_bad_values():
    assert load_settings({}).partitions_start == TELEGRAM_LAUNCH == date(2013, 8, 1)
    assert parse_partitions_start(" 2024-02-29 ") == date(2024, 2, 29)
    for bad in ("2024-13-01", "yesterday", "2012-12-31", "2999-01-01"):
        with pytest.raises(ValueError, match="TELEGRAM_INTEL_PARTITIONS_START"):
            parse_partitions_start(bad)
