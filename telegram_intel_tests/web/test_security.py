"""Security of the web UI over real HTTP on 127.0.0.1 (uvicorn, the real application, the real database): what
issue 13's probing found, and every property the hand-written server had (token, CSRF, Host check, CSP, no path
traversal) kept on the framework."""

from __future__ import annotations

import threading
import time
import urllib.parse

import pytest
import sqlalchemy as sa

from telegram_intel.db.app_settings import get_settings
from telegram_intel.web.server import InsecureBindError, WebServer
from telegram_intel.web.security import CSP
from telegram_intel_tests.web.conftest import Client, error_of, raw_exchange


def _manual(engine) -> dict:
    with engine.connect() as conn:
        return {r[0]: r[1:] for r in conn.execute(sa.text(
            "SELECT user_id, manual_override, manual_job_label, manual_sector FROM telegram_user_ai_profiles"))}


def test_nul_and_invisible_characters_in_the_address_are_a_clear_400(engine, serve):
    """``?job=%00`` reached PostgreSQL and came back as a 500."""
    c = Client(serve().url)
    for path in ("/people?job=%00", "/people?q=%00x", "/people?sector=a%00b", "/telegram?chat=%00",
                 "/search?q=%00", "/search?person=%E2%80%AEevil", "/people?q=%E2%80%AE", "/people/%00"):
        status, html = c.get(path)
        assert status == 400, (path, status)
        assert "control, text-direction or invisible characters" in error_of(html), path
        assert c.last_headers["content-security-policy"] == CSP
    assert c.get("/people?job=Dentist")[0] == 200  # ordinary values still work


def test_malformed_content_length_is_answered_400(engine, serve):
    """The standard-library server dropped the connection; h11 answers 400 and the server keeps serving."""
    server = serve()
    for length in (b"abc", b"-1", b"1, 2", b"99999999999999999999999"):
        reply, _ = raw_exchange(server.url, b"POST /settings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + length
                                + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nx=1", wait=10)
        assert reply.startswith(b"HTTP/1.1 400"), (length, reply[:80])
    assert Client(server.url).get("/healthz") == (200, "ok")


def test_a_short_body_times_out_and_holds_nothing(engine, serve):
    """A client that promises 100 bytes and sends 10 used to hold a server thread for ever."""
    server = serve(body_timeout=1.5)
    c = Client(server.url)
    token = c.csrf()
    head = (f"POST /settings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Cookie: ti_csrf={token}\r\nContent-Length: 100\r\n\r\n").encode()
    result: dict = {}
    slow = threading.Thread(target=lambda: result.update(reply=raw_exchange(server.url, head + b"csrf_token", wait=15)))
    slow.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert c.get("/healthz") == (200, "ok")  # served while the slow body is pending
    assert time.monotonic() - started < 1.0
    slow.join(20)
    reply, seconds = result["reply"]
    assert reply.startswith(b"HTTP/1.1 408"), reply[:120]
    assert b"did not arrive within 1.5 seconds" in reply
    assert seconds < 6
    assert get_settings(engine)["sync_enabled"] is True  # nothing saved


def test_slow_headers_and_idle_connections_are_closed(engine, serve):
    server = serve(header_timeout=1.0, keep_alive=1)
    reply, seconds = raw_exchange(server.url, b"GET /people HTTP/1.1\r\nHost: 127.0.0.1\r\n", wait=10)
    assert reply == b"" and seconds < 5  # closed, not kept open for ever
    reply, seconds = raw_exchange(server.url, b"", wait=10)
    assert reply == b"" and seconds < 5


def test_body_limits(engine, serve):
    server = serve()
    c = Client(server.url)
    token = c.csrf()
    status, html = c.post("/settings", {"csrf_token": token, "x": "y" * 70_000})
    assert status == 413 and "larger than 64 KiB" in error_of(html)
    reply, _ = raw_exchange(server.url, b"POST /settings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                            b"application/json\r\nContent-Length: 2\r\n\r\n{}")
    assert reply.startswith(b"HTTP/1.1 415")
    reply, _ = raw_exchange(server.url, b"POST /settings HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 411")
    assert get_settings(engine)["sync_enabled"] is True


def test_every_post_route_checks_csrf_and_origin(engine, imported, serve):
    server = serve()
    c = Client(server.url)
    token = c.csrf()
    uid = next(u["user_id"] for u in imported.truth["users"] if not u["rare"] and not u["opt_out"])
    posts = sorted({r.path for r in server.app.routes if "POST" in (getattr(r, "methods", None) or ())})
    assert posts == ["/people/forget", "/people/opt-in", "/people/opt-out", "/people/override",
                     "/people/override/clear", "/settings"]
    form = {"user_id": uid, "job_label": "Spy", "confirm": "forget", "sync_enabled": "false",
            "profile_min_messages": "9", "profile_daily_max": "9"}
    with engine.connect() as conn:
        users_before = conn.execute(sa.text("SELECT user_id, is_ignored FROM telegram_users ORDER BY 1")).all()
    for path in posts:
        for data, headers in (({**form, "csrf_token": "forged"}, {}), (form, {}),
                              ({**form, "csrf_token": token}, {"Origin": "http://evil.example"})):
            status, html = c.post(path, data, headers=headers)
            assert status == 403, (path, data.get("csrf_token"), headers, status)
            assert "CSRF" in error_of(html) or "another site" in error_of(html)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT user_id, is_ignored FROM telegram_users ORDER BY 1")).all() == users_before
        assert conn.execute(sa.text("SELECT count(*) FROM app_settings")).scalar_one() == 0
    assert _manual(engine) == {}
    # the browser's own form (Origin of this server, or "null" under Referrer-Policy no-referrer) passes
    status, _ = c.post("/settings", {"csrf_token": token, "profile_min_messages": "5", "profile_daily_max": "200",
                                     "sync_enabled": "on"}, headers={"Origin": server.url})
    assert status == 200
    status, _ = c.post("/settings", {"csrf_token": token, "profile_min_messages": "5", "profile_daily_max": "200",
                                     "sync_enabled": "on"}, headers={"Origin": "null"})
    assert status == 200


def test_text_direction_characters_in_a_correction_are_refused(engine, imported, serve):
    """U+202E in a job title displays reversed (``Dentist\u202etsitnеD``): refused, nothing stored."""
    c = Client(serve().url)
    uid = next(u["user_id"] for u in imported.truth["users"] if not u["rare"] and not u["opt_out"])
    token = c.csrf()
    for job in ("Dentist\u202e", "\u2066Dentist\u2069", "Den\u200btist", "Den\x00tist"):
        status, html = c.post("/people/override", {"csrf_token": token, "user_id": uid, "job_label": job})
        assert status == 400, repr(job)
        assert "text-direction or invisible characters" in error_of(html), repr(job)
    assert _manual(engine) == {}
    # the work layer refuses it too (the CLI and any other caller)
    from telegram_intel.pipeline.profiles import OverrideError, set_override

    with pytest.raises(OverrideError, match="text-direction"):
        set_override(engine, uid, "Dentist\u202e", "")
    status, _ = c.post("/people/override", {"csrf_token": token, "user_id": uid, "job_label": "Diş hekimi"})
    assert status == 200 and _manual(engine)[uid] == (True, "Diş hekimi", None)


def test_access_token_host_check_and_redirect(engine, serve):
    server = serve(token="s3cret-token-value")
    c = Client(server.url)
    status, html = c.get("/people")
    assert status == 401 and "access token" in error_of(html).lower()
    assert c.last_headers["content-security-policy"] == CSP
    assert c.get("/static/app.css")[0] == 401  # static files too
    assert c.get("/settings", headers={"Authorization": "Bearer wrong"})[0] == 401
    assert c.get("/settings", headers={"Authorization": "Bearer s3cret-token-value"})[0] == 200
    nr = Client(server.url, follow=False)
    status, _ = nr.get("/people?job=x&token=s3cret-token-value")
    assert status == 303 and nr.last_headers["location"] == "/people?job=x"
    cookie = next(c for c in nr.jar if c.name == "ti_token")
    assert cookie.has_nonstandard_attr("HttpOnly")
    # a token link cannot become a redirect to another site
    status, _ = nr.get("//evil.example/?token=s3cret-token-value")
    assert status == 303 and nr.last_headers["location"].startswith("/") \
        and not nr.last_headers["location"].startswith("//")
    status, html = c.get("/people?token=s3cret-token-value")  # sets the cookie, lands without the token
    assert status == 200 and "People" in html
    assert c.get("/settings")[0] == 200
    assert c.get("/people", headers={"Host": "evil.example:80"})[0] == 421  # DNS rebinding guard
    assert c.get("/people", headers={"Host": "localhost:1"})[0] == 200


def test_listening_beyond_loopback_needs_a_token(engine, serve):
    with pytest.raises(InsecureBindError, match="access token"):
        WebServer(engine, "0.0.0.0", 0)
    server = serve(host="0.0.0.0", token="tok-0000-value")
    port = urllib.parse.urlsplit(server.url).port
    c = Client(f"http://127.0.0.1:{port}")
    assert c.get("/people")[0] == 401
    assert c.get("/people", headers={"Authorization": "Bearer tok-0000-value", "Host": "some.lan:80"})[0] == 200


def test_no_path_traversal_and_headers_everywhere(engine, serve):
    server = serve()
    c = Client(server.url)
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/..%2f..%2fconfig.py",
                 "/static/%2e%2e%2f%2e%2e%2fweb%2fapp.py", "/static//etc/passwd", "/static/vendor/../../app.py",
                 "/static/..\\app.py", "/static/app.css%00.py"):
        reply, _ = raw_exchange(server.url, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                                .encode())
        status = int(reply.split(b" ", 2)[1])
        assert status in (400, 404), (path, reply[:100])
        assert b"import " not in reply and b"root:" not in reply, path
    status, css = c.get("/static/app.css")
    assert status == 200 and "body" in css and c.last_headers["content-type"].startswith("text/css")
    status, js = c.get("/static/vendor/htmx-2.0.11.min.js")
    assert status == 200 and "htmx" in js and "javascript" in c.last_headers["content-type"]
    for path, expected in (("/people", 200), ("/nowhere", 404), ("/telegram?filter=<x>", 400),
                           ("/static/app.js", 200)):
        status, body = c.get(path)
        assert status == expected, path
        h = c.last_headers
        assert h["content-security-policy"] == CSP and "script-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "no-referrer"
        assert "server" not in h  # no version banner
    status, html = c.get("/telegram?filter=<script>")
    assert "<script>" not in html  # echoed escaped
    status, _ = c.post("/people", {"x": "y"})
    assert status == 405


def test_the_request_log_never_holds_the_token(engine, serve, caplog):
    import logging

    server = serve(token="tok-secret-987", quiet=False)
    c = Client(server.url)
    with caplog.at_level(logging.INFO, logger="telegram_intel.web.access"):
        c.get("/people?token=tok-secret-987&job=x")
        Client(server.url).get("/people?token=wrong-guess")  # a browser without the cookie
        c.get("/settings", headers={"Authorization": "Bearer tok-secret-987"})
        for _ in range(100):  # the line is written just after the response
            if '"GET /settings" 200' in caplog.text:
                break
            time.sleep(0.05)
    text = caplog.text
    assert '"GET /people?token=[redacted]&job=x" 303' in text and '"GET /settings" 200' in text
    assert '"GET /people?token=[redacted]" 401' in text  # a wrong token is refused (and not logged either)
    assert "tok-secret-987" not in text and "wrong-guess" not in text
