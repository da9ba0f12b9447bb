"""The contacts web UI: a Starlette application (Jinja2 templates, htmx for partial updates, static files through
Starlette's ``StaticFiles``), served by uvicorn (:mod:`telegram_intel.web.server`).

Pages: **Telegram** (followed chats, a chat's messages with voice transcripts, a message with its AI summary),
**Search** (hybrid search over the clean corpus: meaning + words, filters by chat, person, forum topic and dates,
each hit opens in its chat), **Ask** (a grounded answer with cited messages, ``pipeline/ask.py``), **People** (filters by job, sector, confidence; a person's detail with the AI guess, a correction form
and the privacy controls: opt out, opt back in, forget), **Settings** (sync switch, profile limits and what they do
now). Clicking a message or a person swaps only the detail panel (htmx), so the list keeps its scroll position; every
page also works without JavaScript.

Security lives in :mod:`telegram_intel.web.security` (Host check, token, body limits, same-origin POSTs, headers,
redacted request log) and :func:`read_form` (the CSRF token of every POST; invisible characters refused). Text of
people who opted out is never rendered (``pipeline/contacts.py`` hides it).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, urlencode

import jinja2
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from telegram_intel.config import load_settings
from telegram_intel.db.app_settings import SETTINGS, get_settings, set_settings
from telegram_intel.lib.profession_taxonomy import SECTORS
from telegram_intel.lib.text_safety import describe_characters, invisible_characters
from telegram_intel.pipeline import ask as grounded
from telegram_intel.pipeline import contacts as Q
from telegram_intel.pipeline import privacy
from telegram_intel.pipeline import profiles as store
from telegram_intel.pipeline import search as hybrid
from telegram_intel.web.security import (
    BODY_TIMEOUT_S,
    LOOPBACK_HOSTS,
    MAX_BODY,
    SecurityMiddleware,
    csrf_matches,
)

__all__ = ["LOOPBACK_HOSTS", "WebServer", "BadRequest", "create_app", "read_form"]

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
log = logging.getLogger("telegram_intel.web")
PEOPLE_FILTERS = ("job", "sector", "q", "min_confidence")
MAX_FORM_FIELDS = 20
SEARCH_LIMIT = 30


class BadRequest(Exception):
    """Input a person must fix; rendered as the page's error with ``status`` (nothing is changed)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _int_arg(value: str | None, name: str, *, lo: int | None = None, hi: int | None = None,
             default: int | None = None) -> int | None:
    value = (value or "").strip()
    if not value:
        return default
    if len(value) > 20 or not value.lstrip("-").isdigit():
        raise BadRequest(f"{name} must be a whole number")
    n = int(value)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise BadRequest(f"{name} must be between {lo} and {hi}")
    return n


def _date_arg(value: str | None, name: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2025-06-01") from None

def _query_form(args: Mapping[str, str], what: str) -> tuple[str, int | None, str, str, date | None, date | None]:
    """The Search and Ask forms' fields: text, chat, person, topic, from and to dates (checked)."""
    q = args.get("q", "").strip()
    if len(q) > 300:
        raise BadRequest(f"{what} is too long (at most 300 characters)")
    since = _date_arg(args.get("since"), "from")
    until = _date_arg(args.get("until"), "to")
    if since and until and until < since:
        raise BadRequest("the 'to' date is before the 'from' date")
    return (q, _int_arg(args.get("chat"), "chat"), args.get("person", "").strip()[:100],
            args.get("topic", "").strip()[:100], since, until)



def _fmt_dt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _duration(seconds: Any) -> str:
    if seconds is None:
        return ""
    s = int(round(float(seconds)))
    return f"{s // 60}:{s % 60:02d}"


async def read_form(request: Request) -> dict[str, str]:
    """The POSTed form after the CSRF check (403) and the invisible-character check (400); the security middleware
    has already limited its size and time. Every POST route reads its form through here."""
    try:
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except Exception as exc:  # noqa: BLE001 - python-multipart's and Starlette's parse errors alike
        raise BadRequest(f"the form could not be read ({type(exc).__name__})") from exc
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not csrf_matches(request, values.get("csrf_token")):
        raise BadRequest("The form's security token is missing or wrong (CSRF check failed), so nothing was "
                         "saved. Reload the page and submit the form again.", 403)
    for key, value in values.items():
        bad = invisible_characters(value)
        if bad:
            raise BadRequest(f"Not saved: {key.replace('_', ' ')} contains control, text-direction or invisible "
                             f"characters ({describe_characters(bad)}).")
    return values


def _is_partial(request: Request, target: str) -> bool:
    """An htmx request that wants only the ``target`` panel (a history restore wants the whole page)."""
    h = request.headers
    return h.get("hx-request") == "true" and h.get("hx-target") == target and not h.get("hx-history-restore-request")


class _SearchModel:
    """The search embedder: loaded on the first search, once per server process; a model that cannot be loaded
    leaves full-text search working (the page says so)."""

    def __init__(self, model: str, model_key: str | None) -> None:
        self.model, self.model_key = model, model_key
        self._lock = threading.Lock()
        self._loaded = False
        self._embedder: Any = None
        self.error: str | None = None

    def get(self) -> Any:
        with self._lock:
            if not self._loaded:
                from telegram_intel.ml.embedders import EmbedderError, load_embedder

                try:
                    self._embedder = load_embedder(self.model, name=self.model_key)
                except (EmbedderError, ImportError, OSError) as exc:
                    self.error = f"the search model {self.model!r} could not be loaded ({exc})"
                    log.warning("%s; search uses full text only", self.error)
                self._loaded = True
        return self._embedder


@dataclass
class Page:
    template: str
    context: dict[str, Any]
    status: int = 200


class ContactsUI:
    """The pages. Handlers are plain functions run in the thread pool (the database calls block); the async
    routes around them read forms and render."""

    def __init__(self, engine: Engine, *, search_model: str, search_model_key: str | None,
                 storage_dir: Path | None, ask_local_model: str | None = None) -> None:
        self.engine = engine
        self.search_model = _SearchModel(search_model, search_model_key)
        self.storage_dir = storage_dir
        self.ask_local_model = ask_local_model
        self._asker: grounded.Asker | None = None
        self._asker_lock = threading.Lock()
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=jinja2.select_autoescape(("html",), default=True),
            undefined=jinja2.StrictUndefined,
        )
        env.filters["dt"] = _fmt_dt
        env.filters["duration"] = _duration
        env.globals["sector_names"] = sorted(SECTORS)
        self.templates = Jinja2Templates(env=env)

    # ------------------------------------------------------------------------------------------------ plumbing
    def render(self, request: Request, page: Page) -> Response:
        ctx = {"error": None, "notice": None, "tab": "", **page.context}
        ctx["csrf_token"] = request.state.csrf_token
        resp = self.templates.TemplateResponse(request, page.template, ctx, status_code=page.status)
        resp.headers["Vary"] = "HX-Request, HX-Target"
        return resp

    def error_page(self, request: Request, status: int, title: str, message: str) -> Response:
        if not hasattr(request.state, "csrf_token"):
            request.state.csrf_token = ""
        return self.render(request, Page("message.html", {"title": title, "error": message}, status))

    def get(self, handler: Callable[[Request], Page]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return self.render(request, await run_in_threadpool(handler, request))

        return endpoint

    def post(self, handler: Callable[[Request, dict[str, str]], Page | Response]
             ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            form = await read_form(request)
            out = await run_in_threadpool(handler, request, form)
            return out if isinstance(out, Response) else self.render(request, out)

        return endpoint

    # ------------------------------------------------------------------------------------------------ Telegram
    def telegram_page(self, request: Request) -> Page:
        args = request.query_params
        kind = args.get("filter", "all")
        if kind not in Q.MESSAGE_FILTERS:
            raise BadRequest(f"unknown filter {kind!r}; use one of {', '.join(Q.MESSAGE_FILTERS)}")
        chat_id = _int_arg(args.get("chat"), "chat")
        msg_id = _int_arg(args.get("msg"), "msg")
        if _is_partial(request, "detail"):
            if chat_id is None or msg_id is None:
                raise BadRequest("chat and msg are required")
            detail = Q.message(self.engine, chat_id, msg_id)
            if detail is None:
                raise BadRequest(f"unknown message {msg_id} in this chat", 404)
            return Page("_message.html", {"detail": detail, "current": {"chat_id": chat_id}, "kind": kind})
        chats = Q.chats(self.engine)
        if chat_id is None and chats:
            chat_id = chats[0]["chat_id"]
        current = Q.chat(self.engine, chat_id) if chat_id is not None else None
        if chat_id is not None and current is None:
            raise BadRequest(f"unknown chat {chat_id}", 404)
        detail = Q.message(self.engine, chat_id, msg_id) if (current and msg_id is not None) else None
        if msg_id is not None and detail is None:
            raise BadRequest(f"unknown message {msg_id} in this chat", 404)
        focus = msg_id if detail is not None else None
        msgs = Q.messages(self.engine, chat_id, kind=kind, around=focus) if current else []
        if focus is not None and all(m["message_id"] != focus for m in msgs):
            msgs = Q.messages(self.engine, chat_id, kind="all", around=focus)  # the filter hides it: show all
            kind = "all"
        return Page("telegram.html", {"tab": "telegram", "chats": chats, "current": current, "messages": msgs,
                                      "kind": kind, "filters": Q.MESSAGE_FILTERS, "detail": detail, "focus": focus})

    # ------------------------------------------------------------------------------------------------ Search
    def search_page(self, request: Request) -> Page:
        args = request.query_params
        q, chat_id, person, topic, since, until = _query_form(args, "the search text")
        chats = Q.chats(self.engine)
        ctx: dict[str, Any] = {"tab": "search", "q": q, "chat_id": chat_id, "person": person, "topic": topic,
                               "since": since.isoformat() if since else "", "until": until.isoformat() if until else "",
                               "chats": chats, "hits": None, "search_note": None, "people_names": None,
                               "topics": []}
        partial = _is_partial(request, "results")
        if not partial:
            ctx["people_names"] = Q.people_names(self.engine)
            ctx["topics"] = hybrid.topic_options(self.engine)
        if q:
            embedder = self.search_model.get()
            note = self.search_model.error
            if embedder is not None and not hybrid.has_vectors(self.engine, embedder.name):
                note = (f"no message vectors for the model {embedder.name!r} yet (materialize message_embeddings); "
                        "showing word matches only")
                embedder = None
            try:
                hits = hybrid.search(
                    self.engine, embedder, q, chat=chat_id, user=person or None, since=since,
                    until=(until + timedelta(days=1)) if until else None, topic=topic or None, limit=SEARCH_LIMIT)
            except hybrid.SearchError as exc:
                raise BadRequest(f"Search: {exc}") from exc
            hidden = Q.opted_out(self.engine, [h.sender_id for h in hits])  # a corpus not purged yet
            ctx["hits"] = [h for h in hits if h.sender_id not in hidden]
            ctx["search_note"] = note
        return Page("_results.html" if partial else "search.html", ctx)

    # ------------------------------------------------------------------------------------------------ Ask
    def asker(self) -> grounded.Asker:
        """The asker of this server: the search model and the LLM tier (an endpoint from TELEGRAM_INTEL_LLM_*, else
        the local llama.cpp tier when its model is present), both loaded on the first question."""
        with self._asker_lock:
            if self._asker is None:
                from telegram_intel.pipeline.names import PseudonymNames, pseudonym_secret

                embedder = self.search_model.get()
                llm = grounded.open_llm_tier(self.engine, local_model=self.ask_local_model)
                self._asker = grounded.Asker(
                    self.engine, embedder, llm=llm, names=PseudonymNames(pseudonym_secret(load_settings())),
                    model_key=self.search_model.model_key or (embedder.name if embedder is not None else None))
            return self._asker

    def close(self) -> None:
        if self._asker is not None and self._asker.llm is not None:
            self._asker.llm.close()

    def ask_page(self, request: Request) -> Page:
        args = request.query_params
        q, chat_id, person, topic, since, until = _query_form(args, "the question")
        ctx: dict[str, Any] = {"tab": "ask", "q": q, "chat_id": chat_id, "person": person, "topic": topic,
                               "since": since.isoformat() if since else "", "until": until.isoformat() if until else "",
                               "chats": [], "people_names": None, "topics": [], "answer": None}
        partial = _is_partial(request, "answer")
        if not partial:
            ctx.update(chats=Q.chats(self.engine), people_names=Q.people_names(self.engine),
                       topics=hybrid.topic_options(self.engine))
        if q:
            asker = self.asker()
            try:
                ctx["answer"] = asker.ask(q, grounded.AskFilters(
                    chat=chat_id, user=person or None, since=since, until=(until + timedelta(days=1)) if until else None,
                    topic=topic or None))
            except hybrid.SearchError as exc:
                raise BadRequest(f"Ask: {exc}") from exc
            if self.search_model.error:
                ctx["answer"].notes.insert(0, self.search_model.error)
        return Page("_answer.html" if partial else "ask.html", ctx)

    # ------------------------------------------------------------------------------------------------ People
    def _people_filter(self, args: Any) -> Q.PeopleFilter:
        q = (args.get("q") or "").strip()
        if len(q) > 100:
            raise BadRequest("search text is too long (at most 100 characters)")
        return Q.PeopleFilter(job=(args.get("job") or "").strip()[:100] or None,
                              sector=(args.get("sector") or "").strip()[:100] or None,
                              min_confidence=_int_arg(args.get("min_confidence"), "min_confidence", lo=0, hi=100,
                                                      default=0),
                              q=q or None)

    @staticmethod
    def _keep(f: Q.PeopleFilter) -> dict[str, str]:
        return {k: v for k, v in (("job", f.job), ("sector", f.sector), ("q", f.q),
                                  ("min_confidence", str(f.min_confidence) if f.min_confidence else None)) if v}

    def people_page(self, request: Request, *, args: Any = None, status: int = 200, error: str | None = None,
                    form: dict[str, str] | None = None, user_id: int | None = None, notice: str | None = None
                    ) -> Page:
        args = request.query_params if args is None else args
        f = self._people_filter(args)
        if user_id is None:
            user_id = _int_arg(args.get("user"), "user")
        detail = Q.person(self.engine, user_id) if user_id is not None else None
        if user_id is not None and detail is None and error is None:
            raise BadRequest(f"unknown user id {user_id}", 404)
        keep = self._keep(f)
        if notice is None:
            notice = {"saved": "Correction saved.", "cleared": "Correction removed; the AI guess shows again.",
                      "opted-out": "Opted out: their messages are hidden and everything derived from them is gone.",
                      "opted-in": "Opted back in: the next enrichment runs analyze their messages again.",
                      }.get(args.get("done") or "")
        ctx = {"tab": "people", "f": f, "detail": detail, "filter_query": urlencode(keep), "keep": keep,
               "error": error, "notice": notice, "form": form or {}, "max_label": store.MAX_LABEL}
        if _is_partial(request, "person") and error is None:
            return Page("_person.html", ctx, status)
        jobs, sectors = Q.filter_options(self.engine)
        ctx.update(rows=Q.people(self.engine, f), jobs=jobs, sectors=sectors)
        return Page("people.html", ctx, status)

    @staticmethod
    def _back_args(form: dict[str, str]) -> dict[str, str]:
        try:
            back = dict(parse_qsl(form.get("back", ""), max_num_fields=10))
        except ValueError:
            back = {}
        return {k: v[:100] for k, v in back.items() if k in PEOPLE_FILTERS}

    def _back(self, form: dict[str, str], user_id: int | None, done: str | None = None) -> RedirectResponse:
        keep = self._back_args(form)
        if user_id is not None:
            keep["user"] = str(user_id)
        if done:
            keep["done"] = done
        return RedirectResponse("/people?" + urlencode(keep), status_code=303)

    @staticmethod
    def _form_user(form: dict[str, str]) -> int:
        uid = _int_arg(form.get("user_id", ""), "user id")
        if uid is None:
            raise BadRequest("user id is missing")
        return uid

    def _bad_people_post(self, request: Request, form: dict[str, str], message: str, uid: int | None = None,
                         keep_form: bool = False) -> Page:
        known = uid is not None and Q.person(self.engine, uid) is not None
        return self.people_page(request, args=self._back_args(form), status=400, error=message,
                                form=form if keep_form else None, user_id=uid if known else None)

    def save_override(self, request: Request, form: dict[str, str]) -> Page | Response:
        try:
            uid = self._form_user(form)
        except BadRequest as exc:
            return self._bad_people_post(request, form, str(exc))
        try:
            store.set_override(self.engine, uid, form.get("job_label", ""), form.get("sector", ""))
        except store.OverrideError as exc:
            return self._bad_people_post(request, form, f"Not saved: {exc}.", uid, keep_form=True)
        return self._back(form, uid, "saved")

    def clear_override(self, request: Request, form: dict[str, str]) -> Page | Response:
        uid = self._form_user(form)
        if Q.person(self.engine, uid) is None:
            return self._bad_people_post(request, form, f"Not changed: unknown user id {uid}.")
        store.clear_override(self.engine, uid)
        return self._back(form, uid, "cleared")

    def set_opt_out(self, ignored: bool) -> Callable[[Request, dict[str, str]], Page | Response]:
        def handler(request: Request, form: dict[str, str]) -> Page | Response:
            uid = self._form_user(form)
            try:
                privacy.set_ignored(self.engine, uid, ignored)
            except privacy.UnknownUser:
                return self._bad_people_post(request, form, f"Not changed: unknown user id {uid}.")
            return self._back(form, uid, "opted-out" if ignored else "opted-in")

        return handler

    def forget_confirm_page(self, request: Request) -> Page:
        uid = _int_arg(request.query_params.get("user"), "user")
        if uid is None:
            raise BadRequest("user is missing")
        detail = Q.person(self.engine, uid)
        if detail is None:
            raise BadRequest(f"unknown user id {uid}", 404)
        keep = self._keep(self._people_filter(request.query_params))
        return Page("forget.html", {"tab": "people", "detail": detail, "filter_query": urlencode(keep)})

    def forget(self, request: Request, form: dict[str, str]) -> Page | Response:
        uid = self._form_user(form)
        if form.get("confirm") != "forget":
            raise BadRequest("Nothing was erased: confirm on the Forget page first.")
        detail = Q.person(self.engine, uid)
        if detail is None:
            return self._bad_people_post(request, form, f"Not erased: unknown user id {uid}.")
        name = detail["user"]["display_name"] or detail["user"]["username"] or str(uid)
        storage = self.storage_dir or load_settings().storage_dir
        report = privacy.forget_user(self.engine, uid, media_root=storage, data_root=storage)
        notice = (f"Forgot {name}: {report.total_rows} rows and {report.media_files_removed} media files erased; "
                  "their id is kept so imports skip them.")
        return self.people_page(request, args=self._back_args(form), notice=notice)

    # ------------------------------------------------------------------------------------------------ Settings
    def settings_page(self, request: Request, *, status: int = 200, error: str | None = None,
                      values: dict[str, Any] | None = None) -> Page:
        current = get_settings(self.engine)
        effect = Q.profile_settings_status(self.engine, min_messages=int(current["profile_min_messages"]),
                                           daily_max=int(current["profile_daily_max"]))
        return Page("settings.html", {
            "tab": "settings", "specs": list(SETTINGS.values()), "values": values or current, "saved": current,
            "effect": effect, "error": error,
            "notice": ("Settings saved. A changed minimum or daily maximum starts user_profiles within a minute "
                       "(profile_settings_sensor, while Dagster runs)." if request.query_params.get("done") == "saved"
                       else None)}, status)

    def save_settings(self, request: Request, form: dict[str, str]) -> Page | Response:
        raw = {key: form.get(key, "false" if spec.kind is bool else "") for key, spec in SETTINGS.items()}
        try:
            set_settings(self.engine, raw)
        except ValueError as exc:
            return self.settings_page(request, status=400, error=f"Not saved: {exc}.", values={
                k: (v in ("on", "true", "1") if SETTINGS[k].kind is bool else v) for k, v in raw.items()})
        return RedirectResponse("/settings?done=saved", status_code=303)


def create_app(engine: Engine, *, token: str | None = None, bind_host: str = "127.0.0.1",
               search_model: str | None = None, search_model_key: str | None = None,
               storage_dir: Path | None = None, max_body: int = MAX_BODY, body_timeout: float = BODY_TIMEOUT_S,
               log_requests: bool = True, ask_local_model: str | None = "") -> Starlette:
    """The ASGI application. ``search_model`` / ``search_model_key`` default to the project's configuration
    (``TELEGRAM_INTEL_SEARCH_MODEL`` / ``TELEGRAM_INTEL_SEARCH_MODEL_KEY``, read now, not at import);
    ``ask_local_model`` (the Ask tab's local LLM tier; None: never) to ``TELEGRAM_INTEL_ASK_LOCAL_MODEL``."""
    if search_model is None:
        settings = load_settings()
        search_model, search_model_key = settings.search_model, search_model_key or settings.search_model_key
    if ask_local_model == "":
        ask_local_model = grounded.default_local_model()
    ui = ContactsUI(engine, search_model=search_model, search_model_key=search_model_key, storage_dir=storage_dir,
                    ask_local_model=ask_local_model)

    async def bad_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadRequest)
        title = "Form rejected" if exc.status == 403 else ("Not found" if exc.status == 404 else "Bad request")
        return ui.error_page(request, exc.status, title, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        message = (f"No page at {request.method} {request.url.path}." if exc.status_code in (404, 405)
                   else str(exc.detail))
        resp = ui.error_page(request, exc.status_code, title, message)
        if exc.headers:
            resp.headers.update(exc.headers)
        return resp

    routes = [
        Route("/", lambda request: RedirectResponse("/people", status_code=302)),
        Route("/healthz", lambda request: PlainTextResponse("ok")),
        Route("/telegram", ui.get(ui.telegram_page)),
        Route("/search", ui.get(ui.search_page)),
        Route("/ask", ui.get(ui.ask_page)),
        Route("/people", ui.get(ui.people_page)),
        Route("/people/override", ui.post(ui.save_override), methods=["POST"]),
        Route("/people/override/clear", ui.post(ui.clear_override), methods=["POST"]),
        Route("/people/opt-out", ui.post(ui.set_opt_out(True)), methods=["POST"]),
        Route("/people/opt-in", ui.post(ui.set_opt_out(False)), methods=["POST"]),
        Route("/people/forget", ui.get(ui.forget_confirm_page)),
        Route("/people/forget", ui.post(ui.forget), methods=["POST"]),
        Route("/settings", ui.get(ui.settings_page)),
        Route("/settings", ui.post(ui.save_settings), methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC, follow_symlink=False), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityMiddleware, token=token, bind_host=bind_host, error_page=ui.error_page,
                               max_body=max_body, body_timeout=body_timeout, log_requests=log_requests)],
        exception_handlers={BadRequest: bad_request, HTTPException: http_error},
    )
    app.state.ui = ui
    return app


def __getattr__(name: str) -> Any:
    # ``from telegram_intel.web.app import WebServer`` keeps working; the server module imports this one
    if name == "WebServer":
        from telegram_intel.web.server import WebServer

        return WebServer
    raise AttributeError(name)
