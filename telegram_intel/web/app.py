"""The contacts web UI: server-rendered pages on the standard library's HTTP server and Jinja2 templates.

Security model (a personal tool on localhost):
* binds to 127.0.0.1 by default; when bound to a loopback address, requests must name a loopback host (blocks
  DNS-rebinding pages from reaching it);
* optional access token (``--token`` / ``TELEGRAM_INTEL_WEB_TOKEN``): every request must carry it, as
  ``Authorization: Bearer …``, or the ``ti_token`` cookie that ``?token=…`` sets once;
* every POST needs the CSRF token (double-submit: a random ``ti_csrf`` cookie, SameSite=Strict, echoed in a hidden
  form field) and, when the browser sends one, a same-origin ``Origin`` header;
* Jinja2 autoescaping on every template, a strict Content-Security-Policy (no inline script), form values
  validated before any write (a bad value changes nothing and says why);
* text written by users who opted out (``is_ignored``) is never rendered (see ``queries.py``).
"""

from __future__ import annotations

import hmac
import html
import json
import mimetypes
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2
from sqlalchemy.engine import Engine

from telegram_intel.db.app_settings import SETTINGS, get_settings, set_settings
from telegram_intel.lib.profession_taxonomy import SECTORS
from telegram_intel.pipeline import contacts as Q
from telegram_intel.pipeline import profiles as store

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
MAX_BODY = 64 * 1024
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
CSRF_COOKIE, TOKEN_COOKIE = "ti_csrf", "ti_token"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]
    cookies: dict[str, str]

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, default)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)


def redirect(location: str, status: int = HTTPStatus.SEE_OTHER) -> Response:
    return Response(status=status, headers={"Location": location})


class BadRequest(Exception):
    def __init__(self, message: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


def _int_arg(value: str, name: str, *, lo: int | None = None, hi: int | None = None, default: int | None = None
             ) -> int | None:
    value = (value or "").strip()
    if not value:
        return default
    if len(value) > 20 or not value.lstrip("-").isdigit():
        raise BadRequest(f"{name} must be a whole number")
    n = int(value)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise BadRequest(f"{name} must be between {lo} and {hi}")
    return n


def _fmt_dt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


class WebApp:
    """Routes requests to pages; independent of the HTTP server (tests may call :meth:`handle` directly)."""

    def __init__(self, engine: Engine, *, token: str | None = None, bind_host: str = "127.0.0.1") -> None:
        self.engine = engine
        self.token = token or None
        self.bind_host = bind_host
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=jinja2.select_autoescape(("html",), default=True),
            undefined=jinja2.StrictUndefined,
        )
        self.env.filters["dt"] = _fmt_dt
        self.env.globals["sector_names"] = sorted(SECTORS)
        self.routes: list[tuple[str, str, Callable[..., Response]]] = [
            ("GET", "/", lambda r: redirect("/people", HTTPStatus.FOUND)),
            ("GET", "/healthz", lambda r: Response(body=b"ok", content_type="text/plain")),
            ("GET", "/telegram", self.telegram_page),
            ("GET", "/people", self.people_page),
            ("POST", "/people/override", self.save_override),
            ("POST", "/people/override/clear", self.clear_override),
            ("GET", "/settings", self.settings_page),
            ("POST", "/settings", self.save_settings),
        ]

    # ---------------------------------------------------------------- plumbing
    def render(self, template: str, req: Request, status: int = 200, **ctx: Any) -> Response:
        ctx.setdefault("error", None)
        ctx.setdefault("tab", "")
        ctx.setdefault("notice", None)
        ctx["csrf_token"] = req.cookies.get(CSRF_COOKIE) or ""
        ctx["request_path"] = req.path
        body = self.env.get_template(template).render(**ctx).encode("utf-8")
        return Response(status=status, body=body)

    def _host_ok(self, req: Request) -> bool:
        if self.bind_host not in LOOPBACK_HOSTS:
            return True
        host = req.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        return name in LOOPBACK_HOSTS

    def _authorized(self, req: Request) -> tuple[bool, bool]:
        """(authorized, came with ?token= to be turned into a cookie)."""
        if not self.token:
            return True, False
        supplied = []
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            supplied.append(auth[7:].strip())
        if TOKEN_COOKIE in req.cookies:
            supplied.append(req.cookies[TOKEN_COOKIE])
        via_query = "token" in req.query
        if via_query:
            supplied.append(req.query["token"])
        ok = any(hmac.compare_digest(s.encode(), self.token.encode()) for s in supplied)
        return ok, ok and via_query

    def _csrf_ok(self, req: Request) -> bool:
        cookie, sent = req.cookies.get(CSRF_COOKIE, ""), req.form.get("csrf_token", "")
        if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
            return False
        origin = req.headers.get("origin")
        if origin and origin != "null":
            host = req.headers.get("host", "")
            if urlsplit(origin).netloc != host:
                return False
        return True

    def handle(self, req: Request) -> Response:
        if not self._host_ok(req):
            return Response(status=HTTPStatus.MISDIRECTED_REQUEST, body=b"unexpected Host header",
                            content_type="text/plain; charset=utf-8")
        ok, set_cookie = self._authorized(req)
        if not ok:
            return self.render("message.html", req, status=HTTPStatus.UNAUTHORIZED, title="Access token required",
                               error="This server needs its access token: open the link printed by "
                                     "`telegram-intel web` (…?token=…) or send Authorization: Bearer <token>.")
        if set_cookie:
            query = {k: v for k, v in req.query.items() if k != "token"}
            resp = redirect(req.path + ("?" + urlencode(query) if query else ""))
            resp.cookies.append(f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict")
            return resp
        new_csrf = None
        if not req.cookies.get(CSRF_COOKIE):
            new_csrf = secrets.token_urlsafe(32)
            req.cookies[CSRF_COOKIE] = new_csrf
        if req.method == "GET" and req.path.startswith("/static/"):
            resp = self.static(req.path[len("/static/"):])
        else:
            handler = next((h for m, p, h in self.routes if m == req.method and p == req.path), None)
            if handler is None:
                known = any(p == req.path for _, p, _ in self.routes)
                status = HTTPStatus.METHOD_NOT_ALLOWED if known else HTTPStatus.NOT_FOUND
                resp = self.render("message.html", req, status=status, title="Not found",
                                   error=f"No page at {req.method} {req.path}.")
            elif req.method == "POST" and not self._csrf_ok(req):
                resp = self.render("message.html", req, status=HTTPStatus.FORBIDDEN, title="Form rejected",
                                   error="The form's security token is missing or wrong (CSRF check failed), so "
                                         "nothing was saved. Reload the page and submit the form again.")
            else:
                try:
                    resp = handler(req)
                except BadRequest as exc:
                    resp = self.render("message.html", req, status=exc.status, title="Bad request", error=str(exc))
        if new_csrf:
            resp.cookies.append(f"{CSRF_COOKIE}={new_csrf}; Path=/; HttpOnly; SameSite=Strict")
        return resp

    def static(self, name: str) -> Response:
        path = (STATIC / name).resolve()
        if STATIC not in path.parents or not path.is_file():
            return Response(status=404, body=b"not found", content_type="text/plain")
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(body=path.read_bytes(), content_type=ctype,
                        headers={"Cache-Control": "max-age=300"})

    # ---------------------------------------------------------------- Telegram tab
    def telegram_page(self, req: Request) -> Response:
        kind = req.arg("filter", "all")
        if kind not in Q.MESSAGE_FILTERS:
            raise BadRequest(f"unknown filter {kind!r}; use one of {', '.join(Q.MESSAGE_FILTERS)}")
        chats = Q.chats(self.engine)
        chat_id = _int_arg(req.arg("chat"), "chat")
        if chat_id is None and chats:
            chat_id = chats[0]["chat_id"]
        current = Q.chat(self.engine, chat_id) if chat_id is not None else None
        if chat_id is not None and current is None:
            raise BadRequest(f"unknown chat {chat_id}", HTTPStatus.NOT_FOUND)
        msgs = Q.messages(self.engine, chat_id, kind=kind) if current else []
        msg_id = _int_arg(req.arg("msg"), "msg")
        detail = Q.message(self.engine, chat_id, msg_id) if (current and msg_id is not None) else None
        if msg_id is not None and detail is None:
            raise BadRequest(f"unknown message {msg_id} in this chat", HTTPStatus.NOT_FOUND)
        return self.render("telegram.html", req, tab="telegram", chats=chats, current=current, messages=msgs,
                           kind=kind, filters=Q.MESSAGE_FILTERS, detail=detail)

    # ---------------------------------------------------------------- People tab
    def _people_filter(self, req: Request) -> Q.PeopleFilter:
        q = req.arg("q").strip()
        if len(q) > 100:
            raise BadRequest("search text is too long (at most 100 characters)")
        return Q.PeopleFilter(job=req.arg("job").strip() or None, sector=req.arg("sector").strip() or None,
                              min_confidence=_int_arg(req.arg("min_confidence"), "min_confidence", lo=0, hi=100,
                                                      default=0),
                              q=q or None)

    def people_page(self, req: Request, *, status: int = 200, error: str | None = None,
                    form: dict[str, str] | None = None, user_id: int | None = None) -> Response:
        f = self._people_filter(req)
        jobs, sectors = Q.filter_options(self.engine)
        rows = Q.people(self.engine, f)
        if user_id is None:
            user_id = _int_arg(req.arg("user"), "user")
        detail = Q.person(self.engine, user_id) if user_id is not None else None
        if user_id is not None and detail is None and error is None:
            raise BadRequest(f"unknown user id {user_id}", HTTPStatus.NOT_FOUND)
        keep = {k: v for k, v in (("job", f.job), ("sector", f.sector), ("q", f.q),
                                  ("min_confidence", str(f.min_confidence) if f.min_confidence else None)) if v}
        notice = {"saved": "Correction saved.", "cleared": "Correction removed; the AI guess shows again."}.get(
            req.arg("done"))
        return self.render("people.html", req, status=status, tab="people", rows=rows, jobs=jobs, sectors=sectors,
                           f=f, detail=detail, filter_query=urlencode(keep), keep=keep, error=error, notice=notice,
                           form=form or {}, max_label=store.MAX_LABEL)

    def _back(self, req: Request, user_id: int | None, done: str | None = None) -> str:
        keep = {}
        try:
            back = parse_qs(req.form.get("back", ""), max_num_fields=10)
        except ValueError:
            back = {}
        for key in ("job", "sector", "q", "min_confidence"):
            if back.get(key):
                keep[key] = back[key][0][:100]
        if user_id is not None:
            keep["user"] = str(user_id)
        if done:
            keep["done"] = done
        return "/people?" + urlencode(keep)

    def _form_user(self, req: Request) -> int:
        raw = req.form.get("user_id", "")
        uid = _int_arg(raw, "user id")
        if uid is None:
            raise BadRequest("user id is missing")
        return uid

    def _with_back(self, req: Request) -> Request:
        """The request as if the People page had been loaded with the form's ``back`` filters."""
        try:
            back = {k: v[0] for k, v in parse_qs(req.form.get("back", ""), max_num_fields=10).items()}
        except ValueError:
            back = {}
        return Request("GET", "/people", {k: v for k, v in back.items() if k in ("job", "sector", "q", "min_confidence")},
                       {}, req.headers, req.cookies)

    def save_override(self, req: Request) -> Response:
        try:
            uid = self._form_user(req)
        except BadRequest as exc:
            return self.people_page(self._with_back(req), status=HTTPStatus.BAD_REQUEST, error=str(exc))
        try:
            store.set_override(self.engine, uid, req.form.get("job_label", ""), req.form.get("sector", ""))
        except store.OverrideError as exc:
            known = Q.person(self.engine, uid) is not None
            return self.people_page(self._with_back(req), status=HTTPStatus.BAD_REQUEST,
                                    error=f"Not saved: {exc}.", form=req.form, user_id=uid if known else None)
        return redirect(self._back(req, uid, "saved"))

    def clear_override(self, req: Request) -> Response:
        uid = self._form_user(req)
        if Q.person(self.engine, uid) is None:
            return self.people_page(self._with_back(req), status=HTTPStatus.BAD_REQUEST,
                                    error=f"Not changed: unknown user id {uid}.")
        store.clear_override(self.engine, uid)
        return redirect(self._back(req, uid, "cleared"))

    # ---------------------------------------------------------------- Settings
    def settings_page(self, req: Request, *, status: int = 200, error: str | None = None,
                      values: dict[str, Any] | None = None) -> Response:
        current = get_settings(self.engine)
        return self.render("settings.html", req, status=status, tab="settings", specs=list(SETTINGS.values()),
                           values=values or current, error=error,
                           notice="Settings saved." if req.arg("done") == "saved" else None)

    def save_settings(self, req: Request) -> Response:
        raw = {key: req.form.get(key, "false" if spec.kind is bool else "") for key, spec in SETTINGS.items()}
        try:
            set_settings(self.engine, raw)
        except ValueError as exc:
            return self.settings_page(req, status=HTTPStatus.BAD_REQUEST, error=f"Not saved: {exc}.", values={
                k: (v in ("on", "true", "1") if SETTINGS[k].kind is bool else v) for k, v in raw.items()})
        return redirect("/settings?done=saved")


# ---------------------------------------------------------------------------------------------------------------
# HTTP server


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _make_handler(app: WebApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "telegram-intel-web"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            if getattr(self.server, "quiet", False):
                return
            super().log_message(format, *args)

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            try:
                query = {k: v[0] for k, v in parse_qs(parts.query, max_num_fields=50).items()}
            except ValueError:
                query = {}
            form: dict[str, str] = {}
            if method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._send(Response(status=413, body=b"form too large", content_type="text/plain"))
                    return
                raw = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if ctype not in ("application/x-www-form-urlencoded", ""):
                    self._send(Response(status=415, body=b"send a form (application/x-www-form-urlencoded)",
                                        content_type="text/plain"))
                    return
                try:
                    form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True, max_num_fields=50).items()}
                except ValueError:
                    form = {}
            cookies = {}
            if self.headers.get("Cookie"):
                jar = SimpleCookie()
                try:
                    jar.load(self.headers["Cookie"])
                    cookies = {k: m.value for k, m in jar.items()}
                except Exception:  # noqa: BLE001 - a malformed cookie header is treated as none
                    cookies = {}
            req = Request(method, parts.path, query, form, {k.lower(): v for k, v in self.headers.items()}, cookies)
            try:
                resp = app.handle(req)
            except Exception as exc:  # noqa: BLE001 - the page says so; the server keeps running
                self.log_error("error handling %s %s: %r", method, parts.path, exc)
                resp = Response(status=500, body=("<h1>Server error</h1><p>" + html.escape(type(exc).__name__)
                                                  + "</p>").encode())
            self._send(resp)

        def _send(self, resp: Response) -> None:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            for k, v in SECURITY_HEADERS.items():
                if k == "Cache-Control" and "Cache-Control" in resp.headers:
                    continue
                self.send_header(k, v)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            for c in resp.cookies:
                self.send_header("Set-Cookie", c)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            self._dispatch("GET")

        def do_HEAD(self) -> None:  # noqa: N802
            self._dispatch("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._dispatch("POST")

    return Handler


class WebServer:
    """``ThreadingHTTPServer`` running :class:`WebApp`; ``port=0`` picks a free port."""

    def __init__(self, engine: Engine, host: str = "127.0.0.1", port: int = 8765, *, token: str | None = None,
                 quiet: bool = False) -> None:
        self.app = WebApp(engine, token=token, bind_host=host)
        self.httpd = ThreadingHTTPServer((host, port), _make_handler(self.app))
        self.httpd.daemon_threads = True
        self.httpd.quiet = quiet  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> "WebServer":
        self._thread = threading.Thread(target=self.serve_forever, name="telegram-intel-web", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)


def describe(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
