"""The web UI's guard: one ASGI middleware in front of every route (pages, partials and static files alike).

In order, for each HTTP request:

1. **Host check** — while the server listens on a loopback address, a request must name a loopback host (a page
   on another site cannot reach it through DNS rebinding): otherwise 421.
2. **Access token** (when configured) — ``Authorization: Bearer <token>``, the HttpOnly ``ti_token`` cookie, or
   ``?token=`` on a GET, which sets the cookie and redirects to the same address without it (so the token leaves
   the address bar and the history). Compared in constant time. Otherwise 401.
3. **Address check** — query names and values with control, text-direction (U+202E …) or other invisible
   characters are refused (400) before any page sees them (``?job=%00`` used to reach PostgreSQL: 500).
4. **Body limits** — a POST must say its length (411), at most ``max_body`` bytes (413), be a urlencoded form (415)
   and arrive within ``body_timeout`` seconds (408: a client that sends a short body no longer holds anything).
   A malformed ``Content-Length`` never gets here: uvicorn's h11 answers 400.
5. **Same origin** — a POST whose ``Origin`` names another site is refused (403). The CSRF token itself is checked
   where the form is read (``app.read_form``), for every POST route.
6. **Headers** — a strict Content-Security-Policy (scripts, styles, connections only from this server; no framing),
   ``nosniff``, ``no-referrer``, ``no-store`` unless the response caches on purpose (static files); the random
   CSRF cookie (SameSite=Strict, HttpOnly) is set on the first response to a browser.
7. **Request log** — method, path, status, time; the query's ``token`` is written as ``[redacted]`` and no header
   is logged (the request log used to carry the valid token).
8. An exception in a page becomes a plain 500 page with the same headers; the traceback goes to the log only.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from telegram_intel.lib.text_safety import describe_characters, invisible_characters

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
CSRF_COOKIE, TOKEN_COOKIE = "ti_csrf", "ti_token"
MAX_BODY = 64 * 1024
BODY_TIMEOUT_S = 10.0

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
       "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}

access_log = logging.getLogger("telegram_intel.web.access")
error_log = logging.getLogger("telegram_intel.web")

#: Renders an error page: (request, status, title, message) -> response. The app passes its template renderer.
ErrorPage = Callable[[Request, int, str, str], Response]


def plain_error(request: Request, status: int, title: str, message: str) -> Response:
    return PlainTextResponse(f"{title}: {message}", status_code=status)


def host_name(host_header: str) -> str:
    """``127.0.0.1`` for ``127.0.0.1:8765``, ``[::1]`` for ``[::1]:8765``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def redacted_query(query: str) -> str:
    """The query string with every ``token`` value replaced (for the request log)."""
    if "token" not in query:
        return query
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=100)
    except ValueError:
        return "[unparsable]"
    return urlencode([(k, "[redacted]" if k == "token" else v) for k, v in pairs], safe="[]")


def _same_site_path(path: str) -> str:
    # "//evil.example/x" would be a protocol-relative redirect to another site
    return "/" + path.lstrip("/\\")


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, *, token: str | None, bind_host: str, error_page: ErrorPage = plain_error,
                 max_body: int = MAX_BODY, body_timeout: float = BODY_TIMEOUT_S, log_requests: bool = True) -> None:
        self.app = app
        self.token = token or None
        self.check_host = bind_host in LOOPBACK_HOSTS
        self.error_page = error_page
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.log_requests = log_requests

    # ------------------------------------------------------------------------------------------------- checks
    def _authorized(self, request: Request) -> tuple[bool, bool]:
        """(authorized, came with ?token= on a GET: to be turned into the cookie)."""
        if not self.token:
            return True, False
        supplied = []
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            supplied.append(auth[7:].strip())
        if TOKEN_COOKIE in request.cookies:
            supplied.append(request.cookies[TOKEN_COOKIE])
        expected = self.token.encode()
        ok = any(hmac.compare_digest(s.encode("utf-8", "replace"), expected) for s in supplied)
        query_ok = (request.method in ("GET", "HEAD") and "token" in request.query_params
                    and hmac.compare_digest(request.query_params["token"].encode("utf-8", "replace"), expected))
        return ok or query_ok, query_ok

    @staticmethod
    def _bad_query(request: Request) -> str | None:
        try:
            pairs = parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True,
                              max_num_fields=50)
        except ValueError:
            return "the address has too many parameters"
        for key, value in pairs:
            bad = invisible_characters(key + value)
            if bad:
                return (f"the address contains control, text-direction or invisible characters "
                        f"({describe_characters(bad)}) in {key!r}; remove them and try again")
        bad = invisible_characters(request.url.path)
        if bad:
            return (f"the address contains control, text-direction or invisible characters "
                    f"({describe_characters(bad)}) in its path")
        return None

    @staticmethod
    def _foreign_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin or origin == "null":  # Chromium sends "null" for our own forms under Referrer-Policy no-referrer
            return False
        return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()

    async def _read_body(self, receive: Receive) -> tuple[bytes | None, int | None, str]:
        """(body, error status, error message): the whole body, within the size and time limits."""
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.body_timeout
        while True:
            left = deadline - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, left))
            except asyncio.TimeoutError:
                return None, 408, f"the form did not arrive within {self.body_timeout:g} seconds"
            if message["type"] == "http.disconnect":
                return None, 400, "the connection closed before the form arrived"
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body:
                return None, 413, f"the form is larger than {self.max_body // 1024} KiB"
            chunks.append(body)
            if not message.get("more_body", False):
                return b"".join(chunks), None, ""

    # ------------------------------------------------------------------------------------------------ the call
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        request = Request(scope)
        csrf = request.cookies.get(CSRF_COOKIE, "")
        new_csrf = None
        if not csrf or len(csrf) > 100:
            new_csrf = csrf = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = csrf
        status_seen: list[int] = []
        response_started = False

        async def send_secured(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_seen.append(message["status"])
                headers = [(k, v) for k, v in message.get("headers", [])]
                names = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in names:
                        headers.append((name.encode(), value.encode()))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if new_csrf:
                    headers.append((b"set-cookie",
                                    f"{CSRF_COOKIE}={new_csrf}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": headers}
            await send(message)

        def reply(response: Response) -> Awaitable[None]:
            return response(scope, receive, send_secured)

        try:
            refusal = self._refusal(request)
            if refusal is not None:
                await reply(refusal)
                return
            ok, to_cookie = self._authorized(request)
            if not ok:
                await reply(self.error_page(
                    request, 401, "Access token required",
                    "This server needs its access token: open the link printed by `telegram-intel web` "
                    "(…?token=…) or send Authorization: Bearer <token>."))
                return
            if to_cookie:
                query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                location = _same_site_path(request.url.path) + ("?" + urlencode(query) if query else "")
                response = RedirectResponse(location, status_code=303)
                response.set_cookie(TOKEN_COOKIE, self.token or "", path="/", httponly=True, samesite="strict")
                await reply(response)
                return
            bad = self._bad_query(request)
            if bad:
                await reply(self.error_page(request, 400, "Bad request", bad))
                return
            if request.method not in ("GET", "HEAD"):
                body, status, why = await self._gate_body(request, receive)
                if body is None:
                    response = self.error_page(request, status or 400, "Form rejected", why)
                    response.headers["connection"] = "close"  # the rest of the body is not read: end the connection
                    await reply(response)
                    return
                receive = _replay(body, receive)
            await self.app(scope, receive, send_secured)
        except Exception:  # noqa: BLE001 - the page says so; the server keeps running
            error_log.exception("error handling %s %s", request.method, request.url.path)
            if not response_started:
                await reply(self.error_page(request, 500, "Server error",
                                            "Something went wrong on the server; the log has the details."))
        finally:
            if self.log_requests:
                client = scope.get("client") or ("-", 0)
                query = redacted_query(scope.get("query_string", b"").decode("latin-1"))
                access_log.info('%s "%s %s%s" %s %.0fms', client[0], request.method, request.url.path,
                                "?" + query if query else "", status_seen[0] if status_seen else "-",
                                (time.monotonic() - started) * 1000)

    def _refusal(self, request: Request) -> Response | None:
        if self.check_host and host_name(request.headers.get("host", "")) not in LOOPBACK_HOSTS:
            return PlainTextResponse("unexpected Host header", status_code=421)
        return None

    async def _gate_body(self, request: Request, receive: Receive) -> tuple[bytes | None, int | None, str]:
        headers = Headers(scope=request.scope)
        length = headers.get("content-length")
        if length is None and "chunked" not in headers.get("transfer-encoding", "").lower():
            return None, 411, "the form must say its length (Content-Length)"
        if length is not None and int(length) > self.max_body:  # h11 has checked that it is a number
            return None, 413, f"the form is larger than {self.max_body // 1024} KiB"
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("application/x-www-form-urlencoded", ""):
            return None, 415, "send a form (application/x-www-form-urlencoded)"
        if self._foreign_origin(request):
            return None, 403, ("the form came from another site (Origin header), so nothing was saved; "
                               "use this server's own pages")
        return await self._read_body(receive)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def csrf_matches(request: Request, sent: str | None) -> bool:
    """The double-submit check: the form's ``csrf_token`` equals this browser's CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie and sent) and hmac.compare_digest(cookie.encode("utf-8", "replace"),
                                                         str(sent).encode("utf-8", "replace"))
