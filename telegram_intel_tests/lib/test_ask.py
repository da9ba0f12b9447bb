"""`lib/ask.py`: citation checks, the extractive answer, people questions (pure, no database)."""

from __future__ import annotations

from datetime import datetime, timezone

from telegram_intel.lib import ask as lib
from telegram_intel.lib.ask import Passage

D = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
PASSAGES = [
    Passage(1, -1001, 3, "Сантехник Сергей берёт 3000 рублей за выезд, я с ним работаю на всех объектах.", D,
            "Ремонт", "Anna", 0.7),
    Passage(2, -1003, 20, "The coworking on Rua Augusta costs 150 euros a month, including coffee.", D, "Expats",
            "John", 0.6),
    Passage(3, -1001, 2, "Кто-нибудь знает хорошего сантехника в нашем районе?", D, "Ремонт", "Pavel", 0.72),
]


def test_quotes_verify_after_normalization_only():
    text = PASSAGES[0].text
    assert lib.quote_in("сантехник сергей берет 3000 рублей", text)  # case, ё/е
    assert lib.quote_in("«Сантехник Сергей берёт 3000 рублей за выезд»", text)  # guillemets and a full stop
    assert lib.quote_in("Сергей берёт … на всех объектах", text)  # an ellipsis skips text, in order
    assert not lib.quote_in("на всех объектах … Сергей берёт", text)  # out of order
    assert not lib.quote_in("Сергей берёт 5000 рублей", text)  # a changed number
    assert not lib.quote_in("", text) and not lib.quote_in("..", text)


def test_citations_that_name_unretrieved_messages_or_misquote_are_dropped_with_their_markers():
    checked = lib.verify_citations(
        "Sergey charges 3000 rubles [1]. The coworking costs 150 euros [2]. Parking is free [4]. Bananas [3].",
        [{"n": 1, "chat_id": -1001, "message_id": 3, "quote": "берёт 3000 рублей за выезд"},
         {"n": 2, "quote": "costs 200 euros a month"},  # not what the message says
         {"n": 4, "quote": "parking is free"},  # no passage 4
         {"n": 3, "chat_id": -1009, "message_id": 77, "quote": "хорошего сантехника"}],  # keys of an unretrieved message
        PASSAGES)
    assert [(c.chat_id, c.message_id) for c in checked.citations] == [(-1001, 3)]
    assert checked.citations[0].sender_name == "Anna"
    assert checked.answer == "Sergey charges 3000 rubles [1]. The coworking costs 150 euros. Parking is free. Bananas."
    reasons = sorted(d["reason"] for d in checked.dropped)
    assert reasons == ["names a message that was not retrieved", "no such passage", "quote not found in the message"]


def test_keys_win_over_a_wrong_number_and_unreferenced_citations_get_a_marker():
    checked = lib.verify_citations("It costs 150 euros.", [{"n": 1, "chat_id": -1003, "message_id": 20,
                                                          "quote": "costs 150 euros a month"}], PASSAGES)
    assert [(c.n, c.message_id) for c in checked.citations] == [(2, 20)]
    assert checked.answer == "It costs 150 euros. [2]"


def test_extractive_answer_quotes_statements_not_questions():
    checked = lib.extractive_answer("Сколько берёт сантехник за выезд?", PASSAGES, lang="ru")
    assert checked.answer.startswith("Из ваших чатов:")
    cited = [(c.chat_id, c.message_id) for c in checked.citations]
    assert (-1001, 3) in cited and (-1001, 2) not in cited  # Pavel's question answers nothing
    assert all(lib.quote_in(c.quote, next(p.text for p in PASSAGES if p.n == c.n)) for c in checked.citations)
    assert "3000" in checked.answer and not checked.dropped


def test_long_messages_are_quoted_by_their_best_sentence():
    long = ("Вчера были на объекте, всё в пыли. " * 8) + "Плиточник Сергей кладёт плитку за 450 лир за метр. " \
        + ("Потом поехали за мебелью. " * 5)
    span = lib.best_span("Сколько стоит укладка плитки у Сергея?", long)
    assert span == "Плиточник Сергей кладёт плитку за 450 лир за метр." and span in long


def test_people_questions_name_professions_in_three_languages():
    for q in ("Who in my groups does interior design?", "кто делает дизайн интерьера?",
              "Gruplarımda iç mimar var mı, kim?"):
        pq = lib.people_query(q)
        assert pq is not None and "interior_architect" in pq.professions, q
        assert "interior architect" in pq.job_labels()
    lawyer = lib.people_query("Gruplarımda avukat olan kim?")
    assert lawyer is not None and any("lawyer" in label for label in lawyer.job_labels())
    # a who-question that names no profession is about messages; a profession without a who-word is not a people query
    assert lib.people_query("Who said the meeting moved to Thursday?") is None
    assert lib.people_query("How much does the plumber charge?") is None


def test_requests_and_languages():
    assert lib.is_request("Кто-нибудь знает хорошего сантехника?")
    assert lib.is_request("Looking for a good tiler in Kadıköy")
    assert lib.is_request("İyi bir avukat arıyorum")
    assert not lib.is_request("I lay tiles, 450 TL per square metre.")
    assert not lib.is_request("Друзья, 14–17 октября будет строительная выставка. Предлагаю поехать группой в "
                              "четверг 15 октября, сбор в 9:30 у выхода метро Yenikapı. Билеты бесплатные по "
                              "регистрации на сайте, возьмите паспорт и удобную обувь. Кто с нами?")
    assert [lib.question_language(q) for q in ("Сколько стоит?", "Toplantı nerede?", "Where is it?")] == \
        ["ru", "tr", "en"]


def test_context_block_numbers_passages_with_their_keys():
    block = lib.context_block(PASSAGES[:2])
    assert block.startswith("[1] chat: Ремонт · 2026-03-02 · Anna (chat_id -1001, message_id 3)\n")
    assert "\n\n[2] chat: Expats" in block


def test_numbers_the_sources_do_not_hold_are_flagged():
    sources = ["Сантехник Сергей берёт 3 000 рублей за выезд", "Сколько стоит выезд?"]
    assert lib.unsupported_numbers("Он берёт 3000 рублей [1].", sources) == []
    assert lib.unsupported_numbers("Rent is around 1,500-2,000 TL [1].", sources) == ["1500", "2000"]
    assert lib.unsupported_numbers("No figures here [2].", sources) == []
