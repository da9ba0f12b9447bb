"""Offline entity extraction, per language (telegram_intel.lib.entities)."""

from __future__ import annotations

import pytest

from telegram_intel.lib.entities import (
    EXTRACTOR_VERSION,
    EntityExtractor,
    entity_key,
    stem,
)
from telegram_intel.lib.language import resolve_lang

PSEUDO = "user_1a2b3c4d"


@pytest.fixture
def ex() -> EntityExtractor:
    return EntityExtractor(usernames={"dvolkov_pm": 1, "Anna_Smith": 3}, pseudonyms={PSEUDO: 2},
                           user_labels={2: PSEUDO})


def kinds(hits, kind):
    return {h.key for h in hits if h.kind == kind}


def test_russian_people_organizations_projects(ex):
    hits = ex.extract("Вчера встретил Ивана Петрова, он теперь в ООО «Ромашка» делает проект «Северный поток».",
                      lang="ru")
    assert kinds(hits, "person") == {"иван петров"}
    assert kinds(hits, "organization") == {"ромашка"}
    assert kinds(hits, "project") == {"северный поток"}
    org = next(h for h in hits if h.kind == "organization")
    assert org.name == "ООО «Ромашка»" and org.rule == "org"
    # the sentence-initial capital and the past-tense verb are not entities or topics
    assert "вчера" not in kinds(hits, "topic") and "встретил" not in kinds(hits, "topic")


def test_russian_case_forms_share_a_key(ex):
    a = ex.extract("Нужно посмотреть планировку кухни до пятницы.", lang="ru")
    b = ex.extract("Планировка кухни готова!", lang="ru")
    assert "планировк кухн" in kinds(a, "topic") & kinds(b, "topic")
    assert stem("договора", "ru") == stem("договоров", "ru") == stem("договор", "ru")
    # infinitives and stopwords are not topics; acronyms and hashtags are
    c = ex.extract("Надо согласовать декларацию по НДС, всё горит #бухгалтерия", lang="ru")
    topics = kinds(c, "topic")
    assert {"ндс", "бухгалтер"} <= topics and "согласовать" not in topics and "надо" not in topics


def test_english_entities(ex):
    hits = ex.extract("Could someone check the kitchen layouts? I talked to John Smith from Acme Inc. about "
                      "ProjectX v2 and we moved everything to Docker and Google Classroom.", lang="en")
    assert kinds(hits, "person") == {"john smith"}
    assert kinds(hits, "organization") == {"acme"}
    assert kinds(hits, "project") == {"projectx v2", "docker", "google classroom"}
    topics = kinds(hits, "topic")
    assert "kitchen layout" in topics  # plural folded
    assert not topics & {"could", "someone", "i", "the", "talked"}


def test_turkish_entities_and_suffixes(ex):
    hits = ex.extract("Mutfak planını müşteriyle onaylatmak lazım, Ayşe Demir Koç Holding'de çalışıyor. "
                      "Demir Yapı A.Ş. ile \"Yeni Liman\" projesini konuştuk, API'si bozuk. İstanbul'da KDV yüksek.",
                      lang="tr")
    assert kinds(hits, "person") == {"ayşe demir"}
    assert kinds(hits, "organization") == {"koç", "demir yapı"}
    assert "yeni liman" in kinds(hits, "project")
    topics = kinds(hits, "topic")
    assert {"mutfak plan", "api", "kdv", "istanbul"} <= topics
    assert "onaylatmak" not in topics and "lazım" not in topics
    assert stem("planını", "tr") == stem("planı", "tr") == stem("plan", "tr") == "plan"
    assert stem("sözleşmesi", "tr") == stem("sözleşme", "tr")


def test_people_resolution_and_privacy(ex):
    hits = ex.extract(f"@{PSEUDO} и @dvolkov_pm, гляньте. {PSEUDO} уже в курсе. @user_ffffffff и @stranger тоже",
                      lang="ru", sender_id=9, reply_to_user_id=3)
    people = {(h.key, h.rule, h.user_id) for h in hits if h.kind == "person"}
    # reply target first, then resolved mentions; unresolvable pseudonyms and usernames are dropped
    assert people == {("user:3", "reply", 3), ("user:2", "mention", 2), ("user:1", "mention", 1)}
    label = next(h.name for h in hits if h.key == "user:2")
    assert label == PSEUDO  # a known user is shown by pseudonym, never by display name
    # nobody mentions or replies to themselves
    own = ex.extract(f"@{PSEUDO} напоминаю себе", lang="ru", sender_id=2, reply_to_user_id=2)
    assert not kinds(own, "person")
    # mention entities resolved by the caller (raw message) count too
    assert ("user:7", "mention") in {(h.key, h.rule) for h in ex.extract("ok", mentioned_user_ids=[7])}


def test_methods_determinism_and_topic_cap(ex):
    text = ("Сегодня закончил квартальный отчёт, завтра отправлю акт сверки, баланс за полугодие и расчёт зарплаты "
            "клиенту в Excel #бухгалтерия")
    a, b = ex.extract(text, lang="ru"), ex.extract(text, lang="ru")
    assert a == b
    assert all(h.method == f"offline:{h.rule}@{EXTRACTOR_VERSION}" for h in a)
    assert len({(h.kind, h.key) for h in a}) == len(a)
    both = ex.extract(f"{PSEUDO}, согласен", lang="ru", reply_to_user_id=2)
    assert [(h.key, h.rule) for h in both] == [("user:2", "reply"), ("user:2", "name")]
    capped = EntityExtractor(max_topics=3).extract(text, lang="ru")
    assert sum(h.kind == "topic" for h in capped) == 3
    assert "excel" in kinds(capped, "project")  # named entities are not capped


def test_placeholders_urls_and_numbers_are_not_topics(ex):
    hits = ex.extract("Мой номер [phone], почта [email], портфолио https://example.com/x 2025 год", lang="ru")
    topics = kinds(hits, "topic")
    assert not topics & {"phone", "email", "https", "example", "2025"}


def test_language_detection_and_keys():
    assert resolve_lang("Привет") == "ru"
    assert resolve_lang("Bugün toplantı var mı?") == "tr"
    assert resolve_lang("See you tomorrow") == "en"
    assert resolve_lang("whatever", "tr") == "tr"
    assert entity_key("organization", "Acme Inc.") == "acme"
    assert entity_key("organization", "ООО Ромашка") == "ромашка"
    assert entity_key("topic", "Квартальные отчёты") == entity_key("topic", "квартальный отчет")
    assert entity_key("person", "Ивану Петрову") == entity_key("person", "Иван Петров")
