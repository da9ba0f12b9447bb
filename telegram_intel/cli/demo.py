"""The README's main command: sample export → import through Dagster → enrichment → Dagster UI.

What it sets up, so that a newcomer sees the project and nothing else:

* a Dagster instance of its own under ``$DAGSTER_HOME`` (default ``$TELEGRAM_INTEL_HOME/dagster``) with a
  ``dagster.yaml`` (SQLite storage, telemetry off) and a workspace file naming the one code location, served with
  ``dg dev`` (``dagster dev`` is superseded in Dagster 1.13) from that folder;
* a sample export that ends yesterday (its voice messages speak when espeak-ng is installed), imported through the
  ``import_telegram_export`` job and tagged with the file's version, so the inbox sensor does not import it again;
* ``TELEGRAM_INTEL_PARTITIONS_START`` = the first day of the data, so the daily partitions (and the backfill dialog)
  cover the demo's range and not every day since 2013, and the enrichment materialized over all of them;
* ``TELEGRAM_INTEL_RETRAIN_ENABLED=false``: persona training (minutes of CPU LoRA) is left to the user.

A value the user already set in the environment wins over each of these.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

import click

from telegram_intel.config import load_settings
from telegram_intel.db.embedded import EmbeddedPostgres

SAMPLE_KEY = "sample/result.json"
PARTITIONS_START_ENV = "TELEGRAM_INTEL_PARTITIONS_START"
RETRAIN_ENABLED_ENV = "TELEGRAM_INTEL_RETRAIN_ENABLED"

#: ``$DAGSTER_HOME/dagster.yaml`` of the demo, written when the folder has none (the repo root's dagster.yaml says
#: the same for `dg dev` run there without DAGSTER_HOME).
INSTANCE_YAML = """\
# The Dagster instance of `telegram-intel demo` (written when missing; edit freely).
# Run, event and schedule storage: SQLite under this folder (Dagster's default when no storage is set).
# Deployments use deploy/dagster.yaml (PostgreSQL storage via dagster-postgres).
telemetry:
  enabled: false
"""

#: The one code location, under the name the project's dg settings give it (pyproject.toml [tool.dg.project]).
WORKSPACE_YAML = """\
# Written by `telegram-intel demo`: the code location `dg dev` serves.
load_from:
  - python_module:
      module_name: telegram_intel.definitions
      location_name: telegram_intel
"""

# Console level of the demo's own runs: the asset bodies' INFO lines, not Dagster's DEBUG event stream (every event
# is still stored and shown in the UI).
_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def run_demo(*, messages: int, port: int, serve: bool) -> None:
    from telegram_intel.cli import search_service

    settings = load_settings()
    dagster_home = prepare_dagster_home(settings)
    # A warm search service may hold the embedded server it started (and stop it when idle): the demo owns it.
    if search_service.stop(settings) is not None:
        click.echo("stopped the running search service (the next `telegram-intel search` starts a new one)")

    # The embedded server stays up for the whole demo; runs and the UI find it running and leave it so.
    server = None
    url = settings.database_url
    if not url:
        server = EmbeddedPostgres(settings.home / "pg")
        url = server.url
        if not server.start():
            server = None  # someone else runs it; leave it alone
    try:
        sample_dir = ensure_sample(settings, messages)
        # Before the definitions load (in this process, then in `dg dev`): the partitions start is read at load.
        applied = {k: os.environ.setdefault(k, v) for k, v in demo_environment(sample_dir, url).items()}
        _materialize_sample(settings, messages, url)
        if serve:
            _serve(settings, dagster_home, port, applied)
    finally:
        if server is not None:
            server.stop()


# -- the demo's Dagster instance and environment -----------------------------------------------------------------


def prepare_dagster_home(settings) -> Path:
    """``$DAGSTER_HOME`` (set to ``$TELEGRAM_INTEL_HOME/dagster`` unless given) with a ``dagster.yaml`` (written when
    missing: telemetry off) and the workspace file ``dg dev`` serves (``$TELEGRAM_INTEL_HOME/workspace.yaml``)."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.home / "dagster"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    if not instance_yaml.exists():
        instance_yaml.write_text(INSTANCE_YAML)
    workspace_yaml(settings).write_text(WORKSPACE_YAML)
    return home


def workspace_yaml(settings) -> Path:
    return settings.home / "workspace.yaml"


def demo_environment(sample_dir: Path, url: str) -> dict[str, str]:
    """The settings the demo runs with (the user's own values win, see :func:`run_demo`):
    partitions from the first day of the data (the sample's, or an earlier stored message's), automatic retraining
    off."""
    return {
        PARTITIONS_START_ENV: data_start(sample_dir, url).isoformat(),
        RETRAIN_ENABLED_ENV: "false",
    }


def data_start(sample_dir: Path, url: str) -> date:
    """The first day of the sample, or of any message already stored, whichever is earlier."""
    from telegram_intel.db.engine import make_engine, upgrade
    from telegram_intel.pipeline.ingest import message_date_range
    from telegram_intel_tools.sample_data import SPAN_DAYS, load_ground_truth

    truth = load_ground_truth(sample_dir)
    first_t = (int(truth["end_unixtime"]) - int(truth.get("span_days", SPAN_DAYS)) * 86400) // 86400 * 86400
    first = datetime.fromtimestamp(first_t, timezone.utc).date()
    engine = make_engine(url)
    try:
        upgrade(engine)
        stored, _ = message_date_range(engine)
    finally:
        engine.dispose()
    if stored is not None:
        first = min(first, stored.astimezone(timezone.utc).date())
    return first


def ensure_sample(settings, messages: int) -> Path:
    """The sample export under the inbox, written (ending now) unless it is there already."""
    from telegram_intel_tools.sample_data import write_sample_export

    sample_dir = settings.inbox_dir / "sample"
    if not (sample_dir / "result.json").exists():
        info = write_sample_export(sample_dir, messages=messages, end=int(time.time()))
        voice = "spoken by espeak-ng" if shutil.which("espeak-ng") else "tones (install espeak-ng for speech)"
        click.echo(f"sample export: {info.result_json} ({info.messages} messages over the 90 days up to yesterday; "
                   f"voice messages {voice})")
    return sample_dir


# -- import and enrichment ---------------------------------------------------------------------------------------


def _materialize_sample(settings, messages: int, url: str) -> None:
    import dagster as dg

    from telegram_intel.definitions import defs
    from telegram_intel.pipeline.inbox import EXPORT_VERSION_TAG, export_version

    sample_dir = ensure_sample(settings, messages)
    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def("import_telegram_export")
    instance.add_dynamic_partitions(job.partitions_def.name, [SAMPLE_KEY])
    # Tagged like the inbox sensor's runs: the sensor then knows this version of the file is imported.
    tags = {"telegram_intel/export": SAMPLE_KEY, EXPORT_VERSION_TAG: export_version(sample_dir / "result.json")}
    result = job.execute_in_process(instance=instance, partition_key=SAMPLE_KEY, tags=tags, run_config=_RUN_CONFIG)
    if not result.success:
        raise click.ClickException("importing the sample export failed; see the run in the Dagster UI")
    click.echo(f"imported {SAMPLE_KEY} (run {result.run_id})")
    apply_sample_opt_outs(sample_dir, url)
    _materialize_enrichment(instance, defs, url)


def apply_sample_opt_outs(sample_dir, url: str) -> list[int]:
    """Opt out the people the sample's ground truth marks ``opt_out`` (what `people ignore` does), before any
    enrichment runs: the demo then shows an opted-out person as such."""
    from telegram_intel.db.engine import make_engine
    from telegram_intel.pipeline.privacy import UnknownUser, set_ignored
    from telegram_intel_tools.sample_data import load_ground_truth

    ids = [u["user_id"] for u in load_ground_truth(sample_dir)["users"] if u.get("opt_out")]
    engine = make_engine(url)
    try:
        for uid in ids:
            try:
                set_ignored(engine, uid, True)
            except UnknownUser:
                continue
            click.echo(f"opted out user {uid} (the sample's ground truth marks them opt_out)")
    finally:
        engine.dispose()
    return ids


# Persona training is left to the user (it takes minutes on a CPU): the UI's Jobs page launches it.
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


def enrichment_range(defs, first_message: datetime) -> tuple[str, str]:
    """Partition keys the demo materializes: from the first message's day (or the first partition, which covers
    earlier days) to the last partition (today), i.e. every partition the UI shows for the demo's data."""
    daily, _ = _enrichment_selections(defs)
    partitions_def = defs.resolve_asset_graph().get(next(iter(daily))).partitions_def
    first_key = partitions_def.get_first_partition_key()
    day = first_message.astimezone(timezone.utc).date().isoformat()
    return max(first_key, day), partitions_def.get_last_partition_key()


def _materialize_enrichment(instance, defs, url: str) -> None:
    from telegram_intel.db.engine import make_engine
    from telegram_intel.pipeline.ingest import message_date_range

    engine = make_engine(url)
    try:
        first, _ = message_date_range(engine)
    finally:
        engine.dispose()
    if first is None:
        return
    job = defs.resolve_implicit_global_asset_job_def()
    start, end = enrichment_range(defs, first)
    tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
    daily, whole = _enrichment_selections(defs)
    for keys, run_tags, what in (
        (daily, tags, f"enrichment {start}..{end}"),
        (whole, {}, "knowledge graph and profiles"),
    ):
        subset = job.get_subset(asset_selection=keys)
        click.echo(f"materializing the {what} …")
        result = subset.execute_in_process(instance=instance, tags=run_tags, raise_on_error=False,
                                           run_config=_RUN_CONFIG)
        if not result.success:
            raise click.ClickException(f"materializing the {what} failed; see run {result.run_id} in the Dagster UI")
        click.echo(f"materialized {what} (run {result.run_id})")


# -- the UI ------------------------------------------------------------------------------------------------------


def serve_command(workspace: Path, port: int) -> list[str]:
    """`dg dev` (webserver + daemon sharing one code server) on the demo's workspace, bound to localhost."""
    dg_script = Path(sys.executable).with_name("dg")
    prefix = [str(dg_script)] if dg_script.exists() else [
        sys.executable, "-c", "import sys; from dagster_dg_cli.cli import main; sys.argv[0] = 'dg'; sys.exit(main())"]
    return [*prefix, "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)]


def _serve(settings, dagster_home: Path, port: int, applied: dict[str, str]) -> None:
    click.echo(
        f"\nDagster UI on http://127.0.0.1:{port} (Ctrl+C stops it and the embedded database)\n"
        f"  daily partitions from {applied[PARTITIONS_START_ENV]} (${PARTITIONS_START_ENV})\n"
        f"  persona training is not started by the demo"
        + (" (automatic retraining is off): launch persona_training_job from the UI's Jobs page, or start the demo "
           f"with {RETRAIN_ENABLED_ENV}=true\n"
           if applied[RETRAIN_ENABLED_ENV].strip().lower() in ("0", "false", "no", "off") else
           f"; the retrain sensor is on ({RETRAIN_ENABLED_ENV}={applied[RETRAIN_ENABLED_ENV]})\n")
        + f"  drop more exports into {settings.inbox_dir}: the inbox sensor imports each new or changed file once\n")
    # Run from the instance folder: `dg dev` warns about a dagster.yaml in the working directory that is not
    # DAGSTER_HOME's (the repo root has one).
    proc = subprocess.Popen(serve_command(workspace_yaml(settings), port), cwd=dagster_home)
    try:
        proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=30)
