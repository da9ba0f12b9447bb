"""The README's main command: sample export → import through Dagster → Dagster UI."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from telegram_intel.config import load_settings
from telegram_intel.db.embedded import EmbeddedPostgres

SAMPLE_KEY = "sample/result.json"


def run_demo(*, messages: int, port: int, serve: bool) -> None:
    settings = load_settings()
    os.environ.setdefault("DAGSTER_HOME", str(settings.home / "dagster"))
    os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)

    # The embedded server stays up for the whole demo; runs and the UI find it running and leave it so.
    server = None
    url = settings.database_url
    if not url:
        server = EmbeddedPostgres(settings.home / "pg")
        url = server.url
        if not server.start():
            server = None  # someone else runs it; leave it alone
    try:
        _materialize_sample(settings, messages, url)
        if serve:
            click.echo(f"Dagster UI on http://127.0.0.1:{port} (Ctrl+C stops it and the embedded database)")
            cmd = [sys.executable, "-m", "dagster", "dev", "-m", "telegram_intel.definitions", "-h", "127.0.0.1",
                   "-p", str(port)]
            proc = subprocess.Popen(cmd)
            try:
                proc.wait()
            except KeyboardInterrupt:
                proc.terminate()
                proc.wait(timeout=30)
    finally:
        if server is not None:
            server.stop()


def _materialize_sample(settings, messages: int, url: str) -> None:
    import dagster as dg

    from telegram_intel.definitions import defs
    from telegram_intel_tools.sample_data import write_sample_export

    sample_dir = settings.inbox_dir / "sample"
    if not (sample_dir / "result.json").exists():
        info = write_sample_export(sample_dir, messages=messages)
        click.echo(f"sample export: {info.result_json} ({info.messages} messages)")
    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def("import_telegram_export")
    instance.add_dynamic_partitions(job.partitions_def.name, [SAMPLE_KEY])
    result = job.execute_in_process(instance=instance, partition_key=SAMPLE_KEY)
    if not result.success:
        raise click.ClickException("importing the sample export failed; see the run in the Dagster UI")
    click.echo(f"imported {SAMPLE_KEY} (run {result.run_id})")
    _materialize_enrichment(instance, defs, url)


# Persona training is left to the UI (or the retrain sensor): it takes minutes on a CPU.
NOT_IN_DEMO_GROUPS = ("ingest", "training")


def _enrichment_selections(defs) -> tuple[set, set]:
    """The daily-partitioned enrichment assets, and the whole-corpus ones built on them (by the asset graph)."""
    graph = defs.resolve_asset_graph()
    daily, whole = set(), set()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.group_name in NOT_IN_DEMO_GROUPS or not node.is_executable:
            continue
        (daily if node.partitions_def is not None else whole).add(key)
    return daily, whole


def _materialize_enrichment(instance, defs, url: str) -> None:
    from telegram_intel.db.engine import make_engine
    from telegram_intel.pipeline.ingest import message_date_range

    engine = make_engine(url)
    try:
        first, last = message_date_range(engine)
    finally:
        engine.dispose()
    if first is None:
        return
    job = defs.resolve_implicit_global_asset_job_def()
    tags = {
        "dagster/asset_partition_range_start": first.strftime("%Y-%m-%d"),
        "dagster/asset_partition_range_end": last.strftime("%Y-%m-%d"),
    }
    daily, whole = _enrichment_selections(defs)
    for keys, run_tags, what in (
        (daily, tags, f"enrichment {tags['dagster/asset_partition_range_start']}..{tags['dagster/asset_partition_range_end']}"),
        (whole, {}, "knowledge graph and profiles"),
    ):
        subset = job.get_subset(asset_selection=keys)
        result = subset.execute_in_process(instance=instance, tags=run_tags, raise_on_error=False)
        if not result.success:
            raise click.ClickException(f"materializing the {what} failed; see run {result.run_id} in the Dagster UI")
        click.echo(f"materialized {what} (run {result.run_id})")
