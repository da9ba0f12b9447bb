"""The deployment's process topology on one machine: PostgreSQL, a gRPC code server, the Dagster webserver and the
daemon as separate processes, all with ``deploy/dagster.yaml`` and ``deploy/workspace.yaml`` unchanged.

One topology per session (starting it costs most of the time); the checks read the instance's Postgres storage.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent
LOCATION = "telegram_intel"
SCHEDULE = "telegram_sync_schedule"
SENSOR = "telegram_export_inbox_sensor"
START_TIMEOUT = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixSocketRelay:
    """127.0.0.1 TCP → the embedded server's Unix socket (it opens no TCP port; the deploy config, like every
    deployment, reaches PostgreSQL by host and port)."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.socket_path)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop = True
        self.server.close()


def _tcp_endpoint(database_url: str) -> tuple[str, int, UnixSocketRelay | None]:
    url = make_url(database_url)
    host = url.query.get("host") or url.host or "/var/run/postgresql"
    if not str(host).startswith("/"):
        return str(host), int(url.port or 5432), None
    sockets = sorted(Path(host).glob(".s.PGSQL.*"))
    sockets = [s for s in sockets if not s.name.endswith(".lock")]
    assert sockets, f"no PostgreSQL socket in {host}"
    relay = UnixSocketRelay(str(sockets[0]))
    return "127.0.0.1", relay.port, relay


def _default_signals() -> None:
    # background processes here start with SIGINT/SIGTERM ignored; the servers must die on them like anywhere else
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Topology:
    def __init__(self, root: Path, env: dict[str, str], webserver_port: int) -> None:
        self.root, self.env, self.webserver_port = root, env, webserver_port
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: list = []

    def start(self, name: str, *args: str) -> None:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 (closed in stop())
        self._logs.append(log)
        self.procs[name] = subprocess.Popen(
            [str(BIN / args[0]), *args[1:]], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_default_signals)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (tail) ---\n" + p.read_text(errors="replace")[-3000:]
                         for p in sorted(self.root.glob("*.log")))

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}\n{self.logs()}")

    def wait_for(self, what: str, predicate, timeout: float = START_TIMEOUT, interval: float = 0.5):
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                value = predicate()
            except (requests.RequestException, OSError):
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.logs()}")
            time.sleep(interval)

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        r = requests.post(f"http://127.0.0.1:{self.webserver_port}/graphql",
                          json={"query": query, "variables": variables or {}}, timeout=60)
        r.raise_for_status()
        body = r.json()
        assert "errors" not in body, body
        return body["data"]

    def stop(self) -> None:
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group: run workers the code server started too
            except ProcessLookupError:
                pass
            proc.wait(timeout=30)
        for log in self._logs:
            log.close()


LOCATION_STATUS = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""

@pytest.fixture(scope="module")
def topology(database_url, migrated_engine, tmp_path_factory):
    """PostgreSQL (the test server), then the code server, the webserver and — after a run was queued and the sync
    schedule switched on six hours ago — the daemon."""
    from dagster import DagsterInstance, DagsterRunStatus
    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.scheduler.instigation import InstigatorState, InstigatorStatus, ScheduleInstigatorData
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster_graphql import DagsterGraphQLClient

    root = tmp_path_factory.mktemp("topology")
    db_name = f"ti_dagster_{uuid.uuid4().hex[:10]}"
    admin = migrated_engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))
    host, port, relay = _tcp_endpoint(database_url)
    url = make_url(database_url)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")  # the deploy file as it is
    ti_home = root / "ti_home"
    ti_home.mkdir()
    code_port, web_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": host, "DAGSTER_PG_PORT": str(port), "DAGSTER_PG_USERNAME": url.username or "postgres",
        "DAGSTER_PG_PASSWORD": url.password or "", "DAGSTER_PG_DB": db_name,
        "DAGSTER_CODE_SERVER_HOST": "127.0.0.1", "DAGSTER_CODE_SERVER_PORT": str(code_port),
        "TELEGRAM_INTEL_DATABASE_URL": database_url, "TELEGRAM_INTEL_HOME": str(ti_home),
        # few daily partitions, no persona training: the daemon's other work stays small on a CI machine
        "TELEGRAM_INTEL_PARTITIONS_START": (date.today() - timedelta(days=3)).isoformat(),
        "TELEGRAM_INTEL_RETRAIN_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TELEGRAM_FEATURE_ENABLED", None)
    old_env = {k: os.environ.get(k) for k in env}
    topo = Topology(root, env, web_port)
    instance = None
    try:
        topo.start("code-server", "dagster", "api", "grpc", "-h", "127.0.0.1", "-p", str(code_port),
                   "-m", "telegram_intel.definitions", "--location-name", LOCATION)
        topo.wait_for("the code server's port",
                      lambda: socket.create_connection(("127.0.0.1", code_port), 1).close() or True)
        topo.start("webserver", "dagster-webserver", "-h", "127.0.0.1", "-p", str(web_port),
                   "-w", str(DEPLOY / "workspace.yaml"))
        entries = topo.wait_for("the webserver to load the code location", lambda: [
            e for e in topo.graphql(LOCATION_STATUS)["workspaceOrError"]["locationEntries"]
            if e["loadStatus"] == "LOADED"])
        assert entries[0]["name"] == LOCATION
        assert entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation", entries

        os.environ.update(env)  # this process reads the same instance (the deploy dagster.yaml)
        instance = DagsterInstance.get()
        # The sync schedule runs by default (declared in code); record it as switched on six hours ago, so the
        # daemon's first pass catches up the cron tick it missed since.
        six_hours_ago = time.time() - 6 * 3600 - 60
        with WorkspaceProcessContext(instance, WorkspaceFileTarget([str(DEPLOY / "workspace.yaml")])) as ctx:
            repo = ctx.create_request_context().get_code_location(LOCATION).get_repository("__repository__")
            schedule = repo.get_schedule(SCHEDULE)
            instance.add_instigator_state(InstigatorState(
                schedule.get_remote_origin(), InstigatorType.SCHEDULE, InstigatorStatus.RUNNING,
                ScheduleInstigatorData(schedule.cron_schedule, start_timestamp=six_hours_ago)))

        client = DagsterGraphQLClient("127.0.0.1", port_number=web_port)
        partition = (date.today() - timedelta(days=1)).isoformat()
        run_id = client.submit_job_execution("__ASSET_JOB", repository_location_name=LOCATION,
                                             repository_name="__repository__", asset_selection=["chat_statistics"],
                                             tags={"dagster/partition": partition})
        status_before_daemon = instance.get_run_by_id(run_id).status

        topo.start("daemon", "dagster-daemon", "run", "-w", str(DEPLOY / "workspace.yaml"))
        finished = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
        topo.wait_for("the run to finish", lambda: instance.get_run_by_id(run_id).status in finished)

        def ticks(kind, name):
            for s in instance.all_instigator_state(instigator_type=kind):
                if s.name == name:
                    return instance.get_ticks(s.instigator_origin_id, s.selector_id)
            return []

        topo.wait_for("a schedule tick and a sensor tick", lambda: ticks(InstigatorType.SCHEDULE, SCHEDULE)
                      and ticks(InstigatorType.SENSOR, SENSOR), timeout=90)
        yield {
            "instance": instance, "run_id": run_id, "partition": partition, "status_before_daemon":
            status_before_daemon, "schedule_ticks": ticks(InstigatorType.SCHEDULE, SCHEDULE),
            "sensor_ticks": ticks(InstigatorType.SENSOR, SENSOR), "six_hours_ago": six_hours_ago,
            "dagster_url": url.set(drivername="postgresql+psycopg", database=db_name), "topology": topo,
        }
    finally:
        topo.stop()
        if instance is not None:
            instance.dispose()
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if relay is not None:
            relay.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))


def test_run_submitted_through_graphql_is_queued_then_launched_by_the_daemon(topology):
    from dagster import DagsterRunStatus

    run = topology["instance"].get_run_by_id(topology["run_id"])
    assert topology["status_before_daemon"] == DagsterRunStatus.QUEUED  # nothing launches runs but the daemon
    assert run.status == DagsterRunStatus.SUCCESS, topology["topology"].logs()
    assert run.tags["dagster/partition"] == topology["partition"]


def test_run_events_are_in_postgres(topology):
    from dagster import DagsterEventType as E

    engine = sa.create_engine(topology["dagster_url"])
    try:
        with engine.connect() as conn:
            events = dict(conn.execute(sa.text(
                "SELECT dagster_event_type, count(*) FROM event_logs WHERE run_id = :r GROUP BY 1"),
                {"r": topology["run_id"]}).all())
            materialized = conn.execute(sa.text(
                "SELECT partition FROM event_logs WHERE run_id = :r AND dagster_event_type = 'ASSET_MATERIALIZATION' "
                "AND asset_key LIKE '%chat_statistics%'"), {"r": topology["run_id"]}).scalars().all()
    finally:
        engine.dispose()
    for kind in (E.RUN_ENQUEUED, E.RUN_STARTING, E.RUN_START, E.STEP_SUCCESS, E.RUN_SUCCESS):
        assert events.get(kind.value), (kind, sorted(events))  # stored under the enum value (PIPELINE_* for runs)
    assert materialized == [topology["partition"]]


def test_schedule_tick_caught_up_by_the_daemon(topology):
    from dagster._core.scheduler.instigation import TickStatus

    tick = topology["schedule_ticks"][0]
    # the 6-hourly cron time that passed since the schedule was switched on, evaluated by the real schedule code
    assert tick.timestamp >= topology["six_hours_ago"] and int(tick.timestamp) % (6 * 3600) == 0
    assert tick.status == TickStatus.SKIPPED
    assert tick.skip_reason == "TELEGRAM_FEATURE_ENABLED is not true"


def test_sensor_tick_evaluated_by_the_daemon(topology):
    from dagster._core.scheduler.instigation import TickStatus

    tick = topology["sensor_ticks"][0]
    assert tick.status in (TickStatus.SKIPPED, TickStatus.SUCCESS), tick
    assert tick.timestamp > datetime.now(timezone.utc).timestamp() - 600


def test_instance_uses_the_deploy_limits(topology):
    cfg = topology["instance"].get_concurrency_config()
    assert cfg.pool_config.default_pool_limit == 1
    limits = {(t["key"], t.get("value")): t["limit"] for t in cfg.run_queue_config.tag_concurrency_limits}
    assert limits[("telegram_intel/source", "telethon")] == 1
    assert topology["instance"].run_retries_enabled and topology["instance"].run_retries_max_retries == 2
