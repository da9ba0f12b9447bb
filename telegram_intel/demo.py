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

    server = None
    if not settings.database_url:
        server = EmbeddedPostgres(settings.home / "pg")
        started = server.start()
        if not started:
            server = None  # someone else runs it; leave it alone
        os.environ["TELEGRAM_INTEL_DATABASE_URL"] = EmbeddedPostgres(settings.home / "pg").url
    try:
        _materialize_sample(settings, messages)
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


def _materialize_sample(settings, messages: int) -> None:
    import dagster as dg

    from telegram_intel.definitions import defs
    from telegram_intel.defs.ingest.assets import telegram_exports_partitions
    from telegram_intel.lib.sample_data import write_sample_export

    sample_dir = settings.inbox_dir / "sample"
    if not (sample_dir / "result.json").exists():
        info = write_sample_export(sample_dir, messages=messages)
        click.echo(f"sample export: {info.result_json} ({info.messages} messages)")
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions(telegram_exports_partitions.name, [SAMPLE_KEY])
    job = defs.resolve_job_def("import_telegram_export")
    result = job.execute_in_process(instance=instance, partition_key=SAMPLE_KEY)
    if not result.success:
        raise click.ClickException("importing the sample export failed; see the run in the Dagster UI")
    click.echo(f"imported {SAMPLE_KEY} (run {result.run_id})")
