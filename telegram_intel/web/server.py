"""The web UI on uvicorn (h11): a real HTTP server with timeouts, in the foreground (the CLI) or a thread (tests).

Timeouts and limits, each answering something the standard-library server it replaced did not:

* a malformed ``Content-Length`` (or any broken request line/header) → h11 answers 400 and closes;
* a request's headers must arrive within ``header_timeout`` seconds and a form's body within ``body_timeout``
  (:mod:`telegram_intel.web.security`), else the connection is closed (headers) or answered 408 (body);
* an idle keep-alive connection is closed after ``keep_alive`` seconds; at most ``max_connections`` at once (503
  past that); headers larger than 16 KiB are refused.

Requests run as asyncio tasks and the database work in Starlette's thread pool, so a slow client holds no thread.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from pathlib import Path

import uvicorn
from sqlalchemy.engine import Engine
from uvicorn.protocols.http.h11_impl import H11Protocol

from telegram_intel.web.app import create_app
from telegram_intel.web.security import BODY_TIMEOUT_S, LOOPBACK_HOSTS

HEADER_TIMEOUT_S = 10.0
KEEP_ALIVE_S = 5
MAX_CONNECTIONS = 64


class InsecureBindError(ValueError):
    """Listening beyond loopback without an access token."""


def _h11_with_header_timeout(seconds: float) -> type[H11Protocol]:
    class HeaderTimeoutH11Protocol(H11Protocol):
        """uvicorn's h11 protocol plus a deadline for a request's headers (uvicorn has none: a client sending
        half a request line would keep its connection open for ever)."""

        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_header_timer()

        def _arm_header_timer(self) -> None:
            self._cancel_header_timer()
            waiting_for = self.cycle
            self._header_timer = self.loop.call_later(seconds, self._headers_overdue, waiting_for)

        def _cancel_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_overdue(self, waiting_for: object) -> None:
            self._header_timer = None
            if self.cycle is waiting_for and not self.transport.is_closing():  # no new request began
                self.transport.close()

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:
                self._cancel_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_header_timer()  # the next request on this keep-alive connection

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_timer()
            super().connection_lost(exc)

    return HeaderTimeoutH11Protocol


class UvicornServer:
    """A uvicorn server on a socket bound at construction (``port=0`` picks a free one, so :attr:`url` is known
    before :meth:`start`): ``serve_forever`` in the foreground, or ``start``/``stop`` in a thread. Subclasses
    build the ``uvicorn.Config`` and may extend :meth:`stop`."""

    name = "telegram-intel-http"
    path = ""

    def _bind(self, host: str, port: int, backlog: int) -> None:
        family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host.strip("[]"), port))
        self.sock.listen(backlog)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}{self.path}"

    def serve_forever(self) -> None:
        """Serve until Ctrl+C / SIGTERM (in the main thread) or :meth:`stop`."""
        self.server.run(sockets=[self.sock])

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        for _ in range(1000):
            if self.server.started or not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not self.server.started:
            raise RuntimeError(f"{self.name} did not start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread:
            self._thread.join(timeout=10)
        self.sock.close()


class WebServer(UvicornServer):
    """The contacts UI served by uvicorn."""

    name = "telegram-intel-web"

    def __init__(self, engine: Engine, host: str = "127.0.0.1", port: int = 8765, *, token: str | None = None,
                 quiet: bool = False, search_model: str | None = None, search_model_key: str | None = None,
                 storage_dir: Path | None = None, body_timeout: float = BODY_TIMEOUT_S,
                 header_timeout: float = HEADER_TIMEOUT_S, keep_alive: int = KEEP_ALIVE_S,
                 max_connections: int = MAX_CONNECTIONS, ask_local_model: str | None = "") -> None:
        if host not in LOOPBACK_HOSTS and not token:
            raise InsecureBindError(
                f"listening on {host} would show your contacts to anyone who can reach it: give an access token "
                "(--token, $TELEGRAM_INTEL_WEB_TOKEN or --generate-token), or listen on 127.0.0.1")
        self.host = host
        self.app = create_app(engine, token=token, bind_host=host, search_model=search_model,
                              search_model_key=search_model_key, storage_dir=storage_dir,
                              body_timeout=body_timeout, log_requests=not quiet, ask_local_model=ask_local_model)
        self._bind(host, port, 128)
        config = uvicorn.Config(
            self.app,
            http=_h11_with_header_timeout(header_timeout),
            ws="none",
            lifespan="off",
            interface="asgi3",
            access_log=False,  # the app's own request log redacts the token
            log_config=None,
            log_level=logging.ERROR if quiet else logging.WARNING,
            timeout_keep_alive=keep_alive,
            limit_concurrency=max_connections,
            h11_max_incomplete_event_size=16 * 1024,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)

    def stop(self) -> None:
        super().stop()
        self.app.state.ui.close()  # the Ask tab's local LLM server, when it started one
