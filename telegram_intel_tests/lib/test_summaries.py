"""Offline summaries and keywords: 3–7 keywords, stopwords and masked values excluded, reply context used."""

from __future__ import annotations

import pytest

from telegram_intel.lib import summaries as S

INFORMATIVE = [
    ("ru", "Коллеги, прод упал сразу после релиза: миграция базы висит уже час, а фронтенд личного кабинета не "
           "видит новые поля из API. Откатываем релиз и чиним CI-пайплайн."),
    ("en", "The contractor moved the kitchen partition by 20 cm, so the lighting plan and the furniture spec "
           "have to be redone before the client meeting on Friday."),
    ("tr", "Müteahhit mutfak bölme duvarını 20 cm kaydırmış, bu yüzden aydınlatma planı ve mobilya listesi "
           "müşteri toplantısından önce yeniden hazırlanmalı."),
]


@pytest.mark.parametrize("lang,text", INFORMATIVE, ids=[x[0] for x in INFORMATIVE])
def test_three_to_seven_keywords_without_stopwords(lang, text):
    result = S.summarize_message(text, lang)
    assert S.MIN_KEYWORDS <= len(result.keywords) <= S.MAX_KEYWORDS
    assert len({k.lower() for k in result.keywords}) == len(result.keywords)
    for keyword in result.keywords:
        assert keyword.lower() in text.lower() or keyword.split()[0].lower() in text.lower()
        for word in keyword.lower().split():
            assert word not in S.STOPWORDS[lang], (word, result.keywords)
    assert result.summary and len(result.summary) <= S.DEFAULT_MAX_CHARS
    assert result.method == S.METHOD


def test_domain_terms_are_found():
    ru = S.extract_keywords(INFORMATIVE[0][1], "ru")
    assert any("миграция" in k for k in ru) and "API" in ru or "CI-пайплайн" in " ".join(ru)
    en = S.extract_keywords(INFORMATIVE[1][1], "en")
    assert "lighting plan" in en and "kitchen partition" in en
    tr = S.extract_keywords(INFORMATIVE[2][1], "tr")
    assert "aydınlatma planı" in tr


def test_reply_context_is_used_for_short_replies():
    context = "Please send me the kitchen layout and the lighting plan by tonight."
    alone = S.summarize_message("Ok, will do.", "en")
    with_context = S.summarize_message("Ok, will do.", "en", context=context)
    assert alone.summary == "Ok, will do." and alone.keywords == []
    assert with_context.summary.startswith("Ok, will do. — in reply to “Please send me the kitchen layout")
    assert {"kitchen layout", "lighting plan"} <= set(with_context.keywords)
    ru = S.summarize_message("Согласен полностью.", "ru", context="Всю неделю делаю чертёж фасада, заказчик торопит.")
    assert "в ответ на «Всю неделю делаю чертёж фасада" in ru.summary
    assert "чертёж фасада" in ru.keywords
    tr = S.summarize_message("Tamam, hallederim.", "tr", context="Faturayı akşama kadar muhasebeye gönderin lütfen.")
    assert "mesajına yanıt" in tr.summary and len(tr.keywords) >= 3


def test_message_words_outrank_context_words():
    kws = S.extract_keywords("Посмотрю смету на электрику вечером.", "ru",
                             context="Кто-нибудь видел новый график отгрузок?")
    assert "смет" in kws[0] and "электрик" in kws[1], kws
    assert "график отгрузок" in kws[2:], kws  # the context fills in, after the message's own words


def test_masked_values_urls_and_pseudonyms_are_never_keywords():
    text = "user_1a2b3c4d, мой номер [PHONE], почта [EMAIL], портфолио https://example.com/p и [URL]"
    kws = S.extract_keywords(text, "ru")
    joined = " ".join(kws).lower()
    for bad in ("phone", "email", "url", "user_", "example", "https"):
        assert bad not in joined, kws
    assert "портфолио" in kws and "номер" in kws


def test_turkish_suffixes_and_casing():
    kws = S.extract_keywords("Sipariş API'si için Kadıköy'deki depoya PostgreSQL yedeğini gönderdim.", "tr")
    assert "API" in " ".join(kws) and "API'si" not in " ".join(kws)
    assert any("Kadıköy" in k for k in kws)
    assert any("PostgreSQL" in k for k in kws)
    assert S.extract_keywords("İSTANBUL ofisi", "tr")  # dotted capital I lower-cases to i


def test_document_frequencies_push_common_words_down():
    corpus = ["Обсуждаем проект весь день"] * 50 + ["Новый бюджет проекта утвердили"] + ["проект проект"] * 20
    df = S.build_document_frequencies(corpus, ["ru"] * len(corpus))
    assert df.idf("проект") < df.idf("бюджет")
    kws = S.extract_keywords("Проект и бюджет согласовали с инвестором.", "ru", df=df)
    assert kws.index("бюджет") < kws.index("проект") if "проект" in kws else "бюджет" in kws


def test_long_messages_are_cut_to_the_informative_sentences():
    post = ("Три ошибки в онбординге\n\nЧастая ситуация: конверсия в оплату просела после редизайна. "
            "Помогает честный разговор с командой, маленькие шаги и ежедневный разбор метрик удержания. "
            "Ещё немного текста без особого смысла, просто чтобы пост был длинным и его пришлось сокращать. "
            "И ещё одно предложение, которое тоже ничего не добавляет к сути.\n\n#продукт")
    summary = S.summarize(post, "ru", max_chars=160)
    assert len(summary) <= 160
    assert "#продукт" not in summary
    assert "конверсия" in summary or "метрик удержания" in summary
    assert S.summarize(post, "ru", max_chars=160) == summary  # deterministic


def test_truncate_at_word_boundary():
    text = "слово " * 100
    cut = S.truncate(text, 50)
    assert len(cut) <= 50 and cut.endswith("…") and not cut[:-1].endswith(" ")
    assert cut[:-1].split()[-1] == "слово"
    assert S.truncate("short", 50) == "short"


def test_greetings_get_what_there_is():
    greeting = S.summarize_message("Привет всем!", "ru")
    assert greeting.summary == "Привет всем!" and greeting.keywords == ["привет"]
    assert S.available_keywords("Привет всем!", "ru") == 1
    assert S.available_keywords("Ok, will do.", "en", "Send the kitchen layout tonight") >= 3
    assert S.summarize_message("👍", "en").summary == "👍"


def test_deterministic_across_calls():
    a = [S.summarize_message(t, lang) for lang, t in INFORMATIVE]
    b = [S.summarize_message(t, lang) for lang, t in INFORMATIVE]
    assert a == b
