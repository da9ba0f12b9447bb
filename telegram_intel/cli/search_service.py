"""A small local query service that keeps `telegram-intel search` warm.

A cold search pays for a Python start, the database (the embedded server starts and stops) and the embedding model
(seconds to load). The first `telegram-intel search` starts this service in the background; it holds the database
connection (and keeps the embedded server running), loads each embedding model on its first query and then answers
every later search over a Unix socket in ``$TELEGRAM_INTEL_HOME/run/`` (owner-only). It stops after
``$TELEGRAM_INTEL_SEARCH_SERVICE_IDLE_MINUTES`` (15) minutes without a query, on `telegram-intel search-service stop`,
or when its database goes away (the next search starts a fresh one); an embedded server it started stops with it
(`telegram-intel demo` stops a running service first, so the demo owns its database).

Protocol: one JSON object per line each way. ``{"op": "search", ...search arguments...}`` →
``{"ok": true, "hits": [...], "notes": [...], "timing": {...}}`` or ``{"ok": false, "error": "...", "kind": ...}``;
``{"op": "ping"}`` → the service's pid, database, models and query count; ``{"op": "stop"}``.

The client side (:func:`request`) is light on purpose: no SQL, model or numpy import in the CLI process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

IDLE_ENV = "TELEGRAM_INTEL_SEARCH_SERVICE_IDLE_MINUTES"
SWITCH_ENV = "TELEGRAM_INTEL_SEARCH_SERVICE"  # "off": every search runs in its own process
DEFAULT_IDLE_MINUTES = 15.0
START_TIMEOUT_S = 180.0  # the first query includes the database start and the model load
_SUN_PATH_MAX = 100


class ServiceError(RuntimeError):
    """The service could not be reached or started; ``kind`` is "unavailable" or "search" (bad arguments)."""

    def __init__(self, message: str, kind: str = "unavailable") -> None:
        super().__init__(message)
        self.kind = kind


def enabled(env: dict[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return (env.get(SWITCH_ENV) or "on").strip().lower() not in ("off", "0", "false", "no")


def idle_seconds(env: dict[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    raw = (env.get(IDLE_ENV) or "").strip()
    try:
        minutes = float(raw) if raw else DEFAULT_IDLE_MINUTES
    except ValueError:
        raise ServiceError(f"{IDLE_ENV} must be a number of minutes, not {raw!r}", kind="search") from None
    return max(0.1, minutes) * 60


# -- where the service lives ---------------------------------------------------------------------------------------


def _identity(settings) -> str:
    """The database a service answers for: one service per home and database."""
    return settings.database_url or f"embedded:{settings.home / 'pg'}"


def run_dir(settings) -> Path:
    return settings.home / "run"


def socket_path(settings) -> Path:
    digest = hashlib.sha256(_identity(settings).encode()).hexdigest()[:12]
    path = run_dir(settings) / f"search-{digest}.sock"
    if len(str(path)) > _SUN_PATH_MAX:  # a deep home: the socket goes to a private folder under /tmp
        path = Path(tempfile.gettempdir()) / f"telegram-intel-{os.getuid()}" / f"search-{digest}.sock"
    return path


def log_path(settings) -> Path:
    return run_dir(settings) / "search-service.log"


# -- client ---------------------------------------------------------------------------------------------------------


def _exchange(path: Path, message: dict[str, Any], timeout: float) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps(message, ensure_ascii=False).encode() + b"\n")
        buf = bytearray()
        while not buf.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
    if not buf:
        raise ConnectionError("the search service closed the connection")
    return json.loads(buf)


def ping(settings, timeout: float = 2.0) -> dict[str, Any] | None:
    """The running service's status, or None when none answers."""
    path = socket_path(settings)
    if not path.exists():
        return None
    try:
        return _exchange(path, {"op": "ping"}, timeout)
    except (OSError, ValueError):
        return None


def stop(settings) -> dict[str, Any] | None:
    """Ask the service to stop; its last status, or None when none was running."""
    status = ping(settings)
    if status is None:
        return None
    with contextlib.suppress(OSError, ValueError):
        _exchange(socket_path(settings), {"op": "stop"}, 5.0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and socket_path(settings).exists():
        time.sleep(0.05)
    return status


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def _spawn(settings) -> subprocess.Popen:
    _private_dir(run_dir(settings))
    sock = socket_path(settings)
    _private_dir(sock.parent)
    with open(log_path(settings), "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "telegram_intel.cli.search_service", str(sock)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
            env=os.environ.copy(),
        )


def ensure_running(settings, on_start=None, timeout: float = START_TIMEOUT_S) -> None:
    """Start the service unless one answers (one starter at a time: a lock file in the run folder)."""
    if ping(settings) is not None:
        return
    _private_dir(run_dir(settings))
    with open(run_dir(settings) / "search-service.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ping(settings) is not None:
            return
        if on_start is not None:
            on_start()
        proc = _spawn(settings)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ping(settings, timeout=5.0) is not None:
                return
            if proc.poll() is not None:
                raise ServiceError(f"the search service exited at start (status {proc.returncode}): "
                                   f"{_log_tail(settings)}")
            time.sleep(0.1)
    raise ServiceError(f"the search service did not start within {timeout:.0f}s; see {log_path(settings)}")


def _log_tail(settings, lines: int = 3) -> str:
    try:
        tail = log_path(settings).read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return f"see {log_path(settings)}"
    return " | ".join(tail) + f" (log: {log_path(settings)})"


def request(settings, payload: dict[str, Any], *, on_start=None, timeout: float = START_TIMEOUT_S) -> dict[str, Any]:
    """Send one search to the service (started first when none runs); retried once on a fresh service when the
    running one went stale (its database stopped)."""
    for attempt in (1, 2):
        ensure_running(settings, on_start=on_start)
        try:
            reply = _exchange(socket_path(settings), {"op": "search", **payload}, timeout)
        except (OSError, ValueError) as exc:
            if attempt == 2:
                raise ServiceError(f"the search service did not answer: {exc}; see {log_path(settings)}") from exc
            continue
        if reply.get("ok"):
            return reply
        if reply.get("kind") == "stale" and attempt == 1:
            stop(settings)
            continue
        raise ServiceError(reply.get("error") or "search failed", kind=reply.get("kind") or "search")
    raise ServiceError("the search service is unavailable")


# -- server ---------------------------------------------------------------------------------------------------------


class _Service:
    def __init__(self, engine, identity: str, names) -> None:
        self.engine = engine
        self.names = names  # pipeline.names.PseudonymNames
        self.identity = identity
        self.queries = 0
        self.started = time.time()
        self.models: dict[tuple[str, str | None], Any] = {}
        self.stop_requested = False

    def embedder(self, model: str, model_key: str | None):
        from telegram_intel.ml.embedders import load_embedder

        key = (model, model_key)
        if key not in self.models:
            self.models[key] = load_embedder(model, name=model_key)
            _one_thread()
        return self.models[key]

    def status(self) -> dict[str, Any]:
        return {"ok": True, "pid": os.getpid(), "database": self.identity, "queries": self.queries,
                "models": sorted(m.name for m in self.models.values()), "started": self.started}

    def search(self, msg: dict[str, Any]) -> dict[str, Any]:
        import sqlalchemy.exc

        from telegram_intel.ml.embedders import EmbedderError
        from telegram_intel.pipeline.search import SearchError, has_vectors, search

        t0 = time.perf_counter()
        notes: list[str] = []
        try:
            embedder = None
            if not msg.get("text_only"):
                embedder = self.embedder(msg.get("model") or "embeddinggemma", msg.get("model_key"))
                if not has_vectors(self.engine, embedder.name):
                    notes.append(f"no vectors for model {embedder.name!r} yet (materialize message_embeddings); "
                                 "showing full-text matches only")
            t1 = time.perf_counter()
            hits = search(self.engine, embedder, msg.get("query") or "", chat=msg.get("chat") or None,
                          user=msg.get("user") or None, since=msg.get("since"), topic=msg.get("topic") or None,
                          limit=int(msg.get("limit") or 10))
        except (SearchError, EmbedderError) as exc:
            return {"ok": False, "error": str(exc), "kind": "search"}
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError) as exc:
            # The database went away (e.g. the embedded server was stopped): a fresh service will start it.
            return {"ok": False, "error": f"database unavailable: {exc.orig or exc}", "kind": "stale"}
        self.queries += 1
        out = [h.to_dict() for h in hits]
        keys = [(h["chat_id"], h["message_id"]) for h in out]
        for h, text in zip(out, self.names.restore(self.engine, [h["text"] for h in out], keys)):
            h["text"] = text
        return {"ok": True, "hits": out, "notes": notes, "pid": os.getpid(),
                "timing": {"model_s": round(t1 - t0, 4), "search_s": round(time.perf_counter() - t1, 4)}}


def _one_thread() -> None:
    """One query is one short text: a single torch thread encodes it in ≈ 0.07-0.1 s (EmbeddingGemma, 2-core box),
    while two threads waiting on each other and on other work took 0.5-1.6 s (bench/README.md)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def serve(sock_path: Path, idle_s: float) -> int:
    """Run the service on ``sock_path`` until idle for ``idle_s`` seconds, told to stop, or its database is gone."""
    from telegram_intel.config import load_settings
    from telegram_intel.db.engine import open_engine
    from telegram_intel.pipeline.names import PseudonymNames, pseudonym_secret

    stopping = False

    def _stop(signum, frame):  # noqa: ARG001 - signal handler signature
        nonlocal stopping
        stopping = True

    # Background processes may start with SIGINT/SIGTERM ignored: handle them explicitly.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    settings = load_settings()
    _private_dir(sock_path.parent)
    if sock_path.exists():
        if ping(settings) is not None:
            print(f"another search service answers on {sock_path}; exiting", flush=True)
            return 0
        sock_path.unlink()

    # An embedded server this service starts is stopped when it stops; one already running is left alone.
    with open_engine(settings) as engine:
        service = _Service(engine, _identity(settings), PseudonymNames(pseudonym_secret(settings)))
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket: owner only
        try:
            server.bind(str(sock_path))
        finally:
            os.umask(old_umask)
        server.listen(16)
        server.settimeout(1.0)
        print(f"search service {os.getpid()} on {sock_path} (database {service.identity}; idle stop after "
              f"{idle_s / 60:.1f} min)", flush=True)
        last = time.monotonic()
        try:
            while not stopping and time.monotonic() - last < idle_s:
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                except InterruptedError:
                    continue
                with conn:
                    stale = _handle(service, conn)
                last = time.monotonic()
                if stale or service.stop_requested:
                    break
        finally:
            server.close()
            with contextlib.suppress(FileNotFoundError):
                sock_path.unlink()
            print(f"search service {os.getpid()} stopped after {service.queries} queries", flush=True)
    return 0


def _handle(service: _Service, conn: socket.socket) -> bool:
    """Answer one request; True when the service should stop because its database is gone."""
    conn.settimeout(30.0)
    buf = bytearray()
    try:
        while not buf.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
        msg = json.loads(buf or b"{}")
    except (OSError, ValueError):
        return False
    op = msg.get("op")
    if op == "ping":
        reply = service.status()
    elif op == "stop":
        service.stop_requested = True
        reply = service.status()
    elif op == "search":
        try:
            reply = service.search(msg)
        except Exception as exc:  # noqa: BLE001 - the client shows the error; the service stays up
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "kind": "search"}
    else:
        reply = {"ok": False, "error": f"unknown op {op!r}", "kind": "search"}
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(reply, ensure_ascii=False, default=str).encode() + b"\n")
    return reply.get("kind") == "stale"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m telegram_intel.cli.search_service SOCKET_PATH", file=sys.stderr)
        return 2
    return serve(Path(args[0]), idle_seconds())


if __name__ == "__main__":
    sys.exit(main())
