"""The web UI over HTTP on 127.0.0.1 (uvicorn in a thread, the real app): pages, filters, overrides, bad input,
CSRF, token, opted-out users; one browser test in headless Chromium (Selenium + Debian's chromium-driver); the
`telegram-intel web` command as a process."""

from __future__ import annotations

import os
import re
import urllib.parse
from html import unescape

import pytest
import sqlalchemy as sa

from telegram_intel.web.server import WebServer
from telegram_intel_tests.support.profiles import ARTIFACTS, profiles
from telegram_intel_tests.web.conftest import Client, error_of, run_profiles

CORPUS = {"limit": 40}


def _error(html: str) -> str:
    return error_of(html)


@pytest.fixture
def site(engine, imported, database_url):
    run_profiles(database_url, limit=CORPUS["limit"])
    server = WebServer(engine, "127.0.0.1", 0, quiet=True).start()
    try:
        yield server
    finally:
        server.stop()


def _manual(engine) -> dict:
    with engine.connect() as conn:
        return {r[0]: r[1:] for r in conn.execute(sa.text(
            "SELECT user_id, manual_override, manual_job_label, manual_sector FROM telegram_user_ai_profiles"))}


def test_pages_and_filters(engine, imported, site):
    c = Client(site.url)
    status, html = c.get("/people")
    assert status == 200
    assert "AI guess" in html and "insufficient data" in html  # the rare users' badge
    rows = profiles(engine)
    dentist = next(u for u in imported.truth["users"] if not u["rare"] and not u["opt_out"])
    job = rows[dentist["user_id"]]["job_label"]
    status, html = c.get("/people?" + urllib.parse.urlencode({"job": job}))
    listed = set(map(int, re.findall(r'data-user-id="(\d+)"', html)))
    expected = {uid for uid, r in rows.items() if r["job_label"] == job}
    assert listed == expected and dentist["user_id"] in listed
    # confidence slider: 100 hides every AI guess (none is that sure), a manual correction passes
    status, html = c.get("/people?min_confidence=100")
    assert 'data-user-id="' not in html
    # detail panel: groups, evidence keywords, recent messages, the form
    status, html = c.get(f"/people?user={dentist['user_id']}")
    assert status == 200 and 'id="override-form"' in html and "Groups" in html and "Recent messages" in html
    assert "Evidence:" in html
    # Telegram tab: chats, filters, a message detail
    status, html = c.get("/telegram")
    assert status == 200 and "Followed chats" in html
    chat_id = int(re.search(r'href="/telegram\?chat=(-?\d+)', html).group(1))
    for kind in ("media", "links", "all"):
        status, html = c.get(f"/telegram?chat={chat_id}&filter={kind}")
        assert status == 200
    msg = int(re.search(r"msg=(\d+)", html).group(1))
    status, html = c.get(f"/telegram?chat={chat_id}&msg={msg}")
    assert status == 200 and "AI summary" in html
    status, html = c.get("/telegram?filter=<script>")
    assert status == 400 and "unknown filter" in _error(html) and "<script>" not in html
    status, html = c.get("/settings")
    assert status == 200 and "Maximum user analyses per day" in html


def test_override_via_http_and_bad_input(engine, imported, site):
    c = Client(site.url)
    c.get("/people")
    uid = next(u["user_id"] for u in imported.truth["users"] if not u["rare"] and not u["opt_out"])
    before = _manual(engine)
    token = c.csrf()
    bad = [
        ({"user_id": uid, "job_label": "", "sector": "x"}, 400, "Job is required"),
        ({"user_id": uid, "job_label": "x" * 81, "sector": ""}, 400, "too long"),
        ({"user_id": uid, "job_label": "<script>alert(1)</script>", "sector": ""}, 400, "may not contain HTML"),
        ({"user_id": uid, "job_label": "Dentist", "sector": "<b>x</b>"}, 400, "may not contain HTML"),
        ({"user_id": 999, "job_label": "Dentist", "sector": ""}, 400, "unknown user id 999"),
        ({"user_id": "abc", "job_label": "Dentist", "sector": ""}, 400, "whole number"),
    ]
    for data, status_expected, message in bad:
        status, html = c.post("/people/override", {"csrf_token": token, **data})
        assert status == status_expected, (data, status, _error(html))
        assert message in _error(html), (data, _error(html))
        assert "<script>alert(1)</script>" not in html  # echoed back escaped, never as markup
    status, html = c.post("/people/override", {"csrf_token": "forged", "user_id": uid, "job_label": "Dentist"})
    assert status == 403 and "CSRF" in _error(html)
    status, html = c.post("/people/override", {"user_id": uid, "job_label": "Dentist"})
    assert status == 403
    status, html = c.post("/people/override", {"csrf_token": token, "user_id": uid, "job_label": "Dentist"},
                          headers={"Origin": "http://evil.example"})
    assert status == 403
    assert _manual(engine) == before  # nothing changed

    status, html = c.post("/people/override", {"csrf_token": token, "user_id": uid, "job_label": "  Orthodontist ",
                                               "sector": "Healthcare", "back": "job=dentist"})
    assert status == 200 and "Correction saved." in html and "(manual)" in html
    assert _manual(engine)[uid] == (True, "Orthodontist", "healthcare")
    status, html = c.post("/people/override/clear", {"csrf_token": token, "user_id": uid})
    assert status == 200 and _manual(engine)[uid] == (False, None, None)

    # settings: bad values change nothing, good ones are saved
    status, html = c.post("/settings", {"csrf_token": token, "profile_min_messages": "0",
                                        "profile_daily_max": "10", "sync_enabled": "on"})
    assert status == 400 and "between 1 and 1000" in _error(html)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM app_settings")).scalar_one() == 0
    status, html = c.post("/settings", {"csrf_token": token, "profile_min_messages": "7", "profile_daily_max": "10"})
    assert status == 200 and "Settings saved." in html
    from telegram_intel.db.app_settings import get_settings

    assert get_settings(engine) == {"sync_enabled": False, "profile_min_messages": 7, "profile_daily_max": 10}


def test_opted_out_user_text_never_shown(engine, imported, site, database_url):
    out_id = imported.opt_out_id
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = :u"), {"u": out_id})
        # texts only this user wrote (the sample's templates repeat across users)
        texts = [t for (t,) in conn.execute(sa.text(
            "SELECT m.text FROM telegram_messages m WHERE m.sender_id = :u AND length(m.text) > 25 AND NOT EXISTS ("
            " SELECT 1 FROM telegram_messages o WHERE o.sender_id IS DISTINCT FROM :u"
            " AND left(o.text, 25) = left(m.text, 25))"), {"u": out_id})]
    assert texts
    c = Client(site.url)
    status, html = c.get(f"/people?user={out_id}")
    assert status == 200 and "opted out" in html
    pages = [html]
    status, html = c.get("/telegram")
    chat_ids = set(re.findall(r'href="/telegram\?chat=(-?\d+)', html))
    for chat_id in chat_ids:
        pages.append(c.get(f"/telegram?chat={chat_id}")[1])
        with engine.connect() as conn:
            mids = conn.execute(sa.text("SELECT message_id FROM telegram_messages WHERE chat_id = :c AND sender_id = :u"
                                        " LIMIT 3"), {"c": int(chat_id), "u": out_id}).scalars().all()
        pages += [c.get(f"/telegram?chat={chat_id}&msg={m}")[1] for m in mids]
    body = unescape("\n".join(pages))
    assert "[hidden: this person opted out" in body
    for t in texts:
        assert t[:25] not in body
    status, html = c.post("/people/override", {"csrf_token": c.csrf(), "user_id": out_id, "job_label": "Spy"})
    assert status == 400 and "opted out" in _error(html)


def test_access_token(engine, imported, database_url):
    server = WebServer(engine, "127.0.0.1", 0, token="s3cret-token-value", quiet=True).start()
    try:
        c = Client(server.url)
        status, html = c.get("/people")
        assert status == 401 and "access token" in _error(html).lower()
        assert c.get("/settings", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert c.get("/settings", headers={"Authorization": "Bearer s3cret-token-value"})[0] == 200
        status, html = c.get("/people?token=s3cret-token-value")  # sets the cookie, redirects without the token
        assert status == 200 and "People" in html
        assert c.get("/settings")[0] == 200
        assert c.get("/people", headers={"Host": "evil.example:80"})[0] == 421  # DNS rebinding guard
    finally:
        server.stop()


def test_browser_filter_by_job_and_save_override(engine, imported, site, chromium):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    rows = profiles(engine)
    target = next(u for u in imported.truth["users"] if not u["rare"] and not u["opt_out"])
    job = rows[target["user_id"]]["job_label"]
    driver = chromium
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(driver, 20)
    driver.get(site.url + "/people")
    Select(driver.find_element(By.ID, "filter-job")).select_by_value(job)
    driver.find_element(By.ID, "apply-filters").click()
    wait.until(EC.url_contains("job="))
    listed = {int(tr.get_attribute("data-user-id"))
              for tr in driver.find_elements(By.CSS_SELECTOR, "#people-table tbody tr[data-user-id]")}
    assert listed == {uid for uid, r in rows.items() if r["job_label"] == job}
    for cell in driver.find_elements(By.CSS_SELECTOR, "#people-table td.job-cell"):
        assert job in cell.text and "AI guess" in cell.text
    driver.find_element(By.CSS_SELECTOR, f'tr[data-user-id="{target["user_id"]}"] a.person-link').click()
    wait.until(EC.presence_of_element_located((By.ID, "override-form")))
    assert "AI guess" in driver.find_element(By.ID, "ai-guess").text
    field = driver.find_element(By.ID, "override-job")
    field.clear()
    field.send_keys("Senior Orthodontist")
    sector = driver.find_element(By.ID, "override-sector")
    sector.clear()
    sector.send_keys("healthcare")
    driver.find_element(By.ID, "override-save").click()
    notice = wait.until(EC.presence_of_element_located((By.ID, "notice")))
    assert "Correction saved" in notice.text
    assert "(manual)" in driver.find_element(By.ID, "manual-value").text
    driver.save_screenshot(str(ARTIFACTS / "people_override.png"))
    # the corrected job is now a filter value of its own, and the row says (manual)
    Select(driver.find_element(By.ID, "filter-job")).select_by_value("Senior Orthodontist")
    driver.find_element(By.ID, "apply-filters").click()
    wait.until(EC.url_contains("Senior+Orthodontist"))
    rows_now = driver.find_elements(By.CSS_SELECTOR, "#people-table tbody tr[data-user-id]")
    assert [int(r.get_attribute("data-user-id")) for r in rows_now] == [target["user_id"]]
    assert "Senior Orthodontist" in rows_now[0].text and "(manual)" in rows_now[0].text
    driver.save_screenshot(str(ARTIFACTS / "people_filtered_manual.png"))
    # Telegram tab: pick the first message of the first chat, links filter too
    driver.get(site.url + "/telegram")
    driver.find_element(By.CSS_SELECTOR, "#messages ul.messages li a").click()
    wait.until(EC.url_contains("msg="))
    assert "AI summary" in driver.find_element(By.ID, "detail").text
    driver.save_screenshot(str(ARTIFACTS / "telegram_tab.png"))
    assert (ARTIFACTS / "people_override.png").stat().st_size > 10_000
    saved = profiles(engine)[target["user_id"]]
    assert saved["manual_override"] is True
    assert (saved["manual_job_label"], saved["manual_sector"]) == ("Senior Orthodontist", "healthcare")
    assert saved["job_label"] == job  # the AI guess is kept beside the correction


CLI_SCRIPT = ("import click\nfrom telegram_intel.cli.web import register\n"
              "@click.group()\ndef main():\n    pass\nregister(main)\nmain()\n")


def _cli(args: list[str], database_url: str, tmp_path):
    """`telegram-intel web ARGS` as a process (the command group here is a stand-in for the real one); stdout and
    stderr together."""
    import signal
    import subprocess
    import sys

    env = {**os.environ, "TELEGRAM_INTEL_DATABASE_URL": database_url, "TELEGRAM_INTEL_HOME": str(tmp_path),
           "PYTHONUNBUFFERED": "1"}
    env.pop("TELEGRAM_INTEL_WEB_TOKEN", None)
    return subprocess.Popen([sys.executable, "-c", CLI_SCRIPT, "web", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL),
                                                signal.signal(signal.SIGTERM, signal.SIG_DFL)))


def test_cli_web_command_serves_and_never_logs_the_token(engine, imported, database_url, tmp_path):
    """The request log (on by default) writes the path with ``token=[redacted]``: the standard-library server
    logged the valid token with every ``?token=`` link opened."""
    import signal
    import time

    proc = _cli(["--port", "0", "--token", "tok-123-secret"], database_url, tmp_path)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("serving on ") or not line:
                break
        assert line.startswith("serving on http://127.0.0.1:"), line
        base = line.split()[2]
        c = Client(base)
        assert c.get("/people")[0] == 401
        status, html = c.get("/people?token=tok-123-secret")
        assert status == 200 and 'id="people-table"' in html
        assert Client(base).get("/settings", headers={"Authorization": "Bearer tok-123-secret"})[0] == 200
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out = proc.communicate(timeout=20)[0]
        except Exception:  # noqa: BLE001 - a server that ignores SIGINT fails below
            proc.kill()
            out = proc.communicate()[0]
    assert proc.returncode == 0, out  # Ctrl+C stops it cleanly
    assert '"GET /people?token=[redacted]" 303' in out and '"GET /settings" 200' in out, out
    assert "tok-123-secret" not in out


def test_cli_refuses_to_listen_beyond_loopback_without_a_token(engine, database_url, tmp_path):
    """`--host 0.0.0.0` without a token used to warn and serve anyway."""
    proc = _cli(["--host", "0.0.0.0", "--port", "0", "--quiet"], database_url, tmp_path)
    try:
        out = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, out
    assert "would show your contacts to anyone" in out and "serving on" not in out
    proc = _cli(["--host", "0.0.0.0", "--port", "0", "--quiet", "--generate-token"], database_url, tmp_path)
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving on http://0.0.0.0:") and "?token=" in line, line
    finally:
        proc.kill()
        proc.wait(timeout=10)
