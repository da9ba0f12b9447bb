from __future__ import annotations

import pytest

from telegram_intel.lib.pii import PIISpan, find_pii, iban_valid, luhn_valid, mask_pii
from telegram_intel_tools import pii_eval


def spans_of(text: str, **kw) -> list[tuple[str, str]]:
    return [(s.type, s.value) for s in find_pii(text, **kw)]


# --- phones ----------------------------------------------------------------------------------------------------

PHONES = [
    # Russia / Kazakhstan
    "+7 (916) 123-45-67", "+7 916 123 45 67", "+7-916-123-45-67", "+79161234567", "+7(916)1234567",
    "8 (916) 123-45-67", "8 916 123 45 67", "8-916-123-45-67", "89161234567", "8(495)123-45-67", "8-800-555-35-35",
    "8 916 1234567", "+7 701 234 56 78", "8.916.123.45.67",
    # Turkey
    "+90 532 123 45 67", "+90 (532) 123 45 67", "+90-533-987-65-43", "+90 5321234567", "0532 123 45 67",
    "0 532 123 45 67", "(0532) 123 45 67", "05321234567", "0 (212) 555 12 34", "0312 444 55 66", "0850 222 33 44",
    "532 123 45 67", "0532 123 4567",
    # US / NANP
    "+1 (415) 555-0199", "+1 212-555-0147", "(415) 555-0199", "(212)555-0199", "415-555-0199", "415.555.0199",
    "1-800-555-0199", "+1 415 555 0132",
    # UK, Germany, others
    "+44 20 7946 0958", "+44 (0) 20 7946 0958", "+44 7700 900456", "020 7946 0321", "07700 900123",
    "+49 30 12345678", "+49 30 901820", "+49 151 23456789", "+380 44 123 4567", "+33 1 23 45 67 89",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_formats_found_with_exact_span(phone):
    text = f"звоните: {phone}, спасибо"
    spans = find_pii(text)
    assert spans == [PIISpan("PHONE", 9, 9 + len(phone), phone)]


@pytest.mark.parametrize("text", [
    "Встреча 2024-03-01 в 10:30", "Дата 01.03.2024, время 12:30", "05.03.2024 12 30", "12/04/2024 10.30",
    "Цена 1 250 000 ₽", "$1,299.99 plus tax", "89 000 000 000 руб", "Итого 12 345 678,90 руб",
    "+12 345 678 901 просмотров", "Fiyat 1.250.000 ₺", "Toplam 3.456.789,50 TL",
    "v2.14.1", "Версия 10.0.19045.3803", "IP 192.168.100.200", "message_id 1234567890", "chat -1001234567890",
    "Заказ № 89161234567", "Номер заказа 89161234567", "Sipariş no 05321234567", "ИНН 772712345678",
    "TC kimlik no 12345678901", "в 2019 2020 2021 годах", "Снилс 123-456-789 01", "Паспорт 4510 123456",
    "ISBN 978-0-13-468599-1", "Координаты 55.751244, 37.618423", "Unix time 1709251200", "код 834521",
    "сумма 8 916 123 45 67 ₽",
])
def test_phone_look_alikes_not_found(text):
    assert spans_of(text) == []


@pytest.mark.parametrize("text,phone", [
    ("call me 2125550143 tomorrow", "2125550143"),
    ("my number is 9161234567", "9161234567"),
    ("звони 9031234567 после шести", "9031234567"),
    ("telefonum 5321234567, akşam ara", "5321234567"),
    ("tel: 5551234567", "5551234567"),
])
def test_ten_bare_digits_after_a_phone_word(text, phone):
    assert spans_of(text) == [("PHONE", phone)]


@pytest.mark.parametrize("text", ["order number 2125550143 shipped", "tracking 5123456789", "invoice 2025061234 paid",
                                  "account number 4155550100", "paid 2125550143 already", "2125550143"])
def test_ten_bare_digits_without_a_phone_word_are_not_phones(text):
    assert spans_of(text) == []


def test_two_phones_glued_by_spaces_are_split():
    text = "8 916 123 45 67 8 926 765 43 21"
    assert spans_of(text) == [("PHONE", "8 916 123 45 67"), ("PHONE", "8 926 765 43 21")]


def test_phone_next_to_date_does_not_swallow_it():
    assert spans_of("Созвон 05.03.2024 8 916 123 45 67") == [("PHONE", "8 916 123 45 67")]


def test_phone_span_excludes_extension_and_trailing_punctuation():
    assert spans_of("(8 916 123 45 67)") == [("PHONE", "8 916 123 45 67")]
    assert spans_of("Tel. +1 (646) 555-0123 ext. 42.") == [("PHONE", "+1 (646) 555-0123")]
    assert spans_of("Звоните: +7 916 123 45 67.") == [("PHONE", "+7 916 123 45 67")]


# --- emails and URLs -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("email", [
    "ivan.petrov@mail.ru", "JSmith+news@Gmail.com", "hr@company.ru", "mehmet.demir@firma.com.tr",
    "first.last@sub.example.co.uk", "Olga_Smirnova1985@yandex.ru", "info@почта.рф",
])
def test_emails(email):
    assert spans_of(f"пишите на {email}, ответим") == [("EMAIL", email)]


def test_mentions_are_not_emails():
    assert spans_of("спроси у @ivan_petrov или @ayse") == []


@pytest.mark.parametrize("url", [
    "https://docs.google.com/document/d/1AbC-dEf/edit", "http://localhost:8000/x", "www.example-shop.ru",
    "t.me/joinchat/AAAAAE1xYz9aBcDeF", "hh.ru/vacancy/93456712", "госуслуги.рф", "www.örnek.com.tr",
    "https://en.wikipedia.org.evil.example/x", "https://us02web.zoom.us/j/81234567890?pwd=abc123", "go.dev",
])
def test_urls(url):
    assert spans_of(f"see {url} please", keep_domains=("wikipedia.org",)) == [("URL", url)]


@pytest.mark.parametrize("text,url", [
    ("(see https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)"),
    ("Check out https://www.reddit.com/r/Python/!", "https://www.reddit.com/r/Python/"),
    ("link: «https://example.com/a»", "https://example.com/a"),
    ("ссылка https://example.com/path.", "https://example.com/path"),
])
def test_url_trailing_punctuation(text, url):
    assert spans_of(text) == [("URL", url)]


def test_keep_domains_are_not_masked_nor_anything_inside_them():
    text = "code at https://github.com/org/repo/issues/89161234567 and github.com/ahmet/proje, docs www.python.org"
    assert spans_of(text, keep_domains=("github.com", "https://www.python.org/")) == []
    assert [t for t, _ in spans_of(text)] == ["URL", "URL", "URL"]
    # subdomains of a kept domain are kept; look-alike hosts are not
    assert spans_of("https://gist.github.com/x", keep_domains=["github.com"]) == []
    assert spans_of("https://notgithub.com/x", keep_domains=["github.com"]) == [("URL", "https://notgithub.com/x")]


@pytest.mark.parametrize("text", [
    "ASP.NET Core and Socket.IO", "README.md и main.py", "т.е. и т.д.", "e.g. this", "Node.js 20", "config.yaml",
])
def test_url_look_alikes(text):
    assert spans_of(text) == []


def test_email_inside_text_wins_over_its_domain():
    assert spans_of("noreply@github.com", keep_domains=("github.com",)) == [("EMAIL", "noreply@github.com")]


# --- cards and IBANs -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("card", [
    "4111 1111 1111 1111", "5555-5555-5555-4444", "5555555555554444", "2200 5260 1815 9085", "3782 822463 10005",
    "378282246310005", "4012 8888 8888 1881", "9792 2319 4875 7491", "6011111111111117",
])
def test_cards(card):
    assert spans_of(f"карта {card}, спасибо") == [("CARD", card)]


@pytest.mark.parametrize("text", [
    "карта 4111 1111 1111 1112", "card 5555-5555-5555-4445", "order 4111111111111111", "Заказ №4111111111111111",
    "1234 5678 9012 3456", "р/с 40702810938000012345", "трек 80081234567890", "4111 1111 1111 1111 ₽",
    "mixed 4111-1111 1111-1111",
])
def test_card_look_alikes(text):
    assert [t for t, _ in spans_of(text) if t == "CARD"] == []


def test_luhn():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


@pytest.mark.parametrize("iban", [
    "TR33 0006 1005 1978 6457 8413 26", "TR120006110928159013962459", "DE89 3704 0044 0532 0130 00",
    "DE89370400440532013000", "GB29 NWBK 6016 1331 9268 19", "NL91ABNA0417164300", "KZ60598K983478878384",
    "FR14 2004 1010 0505 0001 3M02 606", "TR 33 0006 1005 1978 6457 8413 26",
])
def test_ibans(iban):
    assert spans_of(f"IBAN: {iban} EUR") == [("IBAN", iban)]
    assert iban_valid(iban)


@pytest.mark.parametrize("text", [
    "TR33 0006 1005 1978 6457 8413 27", "NL91ABNA0417164301", "DE89 3704 0044 0532 0130", "XX89370400440532013000",
])
def test_iban_look_alikes(text):
    assert spans_of(text) == []


# --- API -------------------------------------------------------------------------------------------------------

def test_mask_pii_placeholders_and_spans():
    text = "Пиши на ivan@mail.ru или +7 916 123-45-67, карта 4111 1111 1111 1111, https://example.com"
    masked, spans = mask_pii(text)
    assert masked == "Пиши на [EMAIL] или [PHONE], карта [CARD], [URL]"
    assert [s.type for s in spans] == ["EMAIL", "PHONE", "CARD", "URL"]
    assert all(text[s.start:s.end] == s.value for s in spans)
    masked, _ = mask_pii(text, types=["EMAIL"], placeholders={"EMAIL": "<email>"})
    assert masked.startswith("Пиши на <email> или +7 916")


def test_spans_sorted_and_non_overlapping():
    text = "https://wa.me/79161234567 ivan@mail.ru TR33 0006 1005 1978 6457 8413 26 +7 916 123 45 67"
    spans = find_pii(text)
    assert [s.type for s in spans] == ["URL", "EMAIL", "IBAN", "PHONE"]
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))


def test_empty_and_plain_text():
    assert find_pii("") == [] and find_pii("Привет, как дела?") == []
    assert mask_pii("no pii here") == ("no pii here", [])


# --- evaluation set --------------------------------------------------------------------------------------------

def test_eval_set_matches_its_marked_source_and_is_balanced():
    rows = pii_eval.load_eval_set()
    assert rows == pii_eval.read_marked(), "run: python -m telegram_intel_tools.pii_eval --rebuild"
    assert len(rows) >= 150
    langs = {lang: sum(r["lang"] == lang for r in rows) for lang in ("ru", "en", "tr")}
    assert all(n >= len(rows) / 4 for n in langs.values()), langs
    types = {s["type"] for r in rows for s in r["spans"]}
    assert types == {"PHONE", "EMAIL", "URL", "CARD", "IBAN"}
    negatives = sum(not r["spans"] for r in rows)
    assert negatives >= 60
    for r in rows:
        for s in r["spans"]:
            assert 0 <= s["start"] < s["end"] <= len(r["text"])


def test_eval_precision_and_recall():
    report = pii_eval.evaluate()
    rate = pii_eval.throughput(seconds=0.2, repeats=3)
    print("\n" + pii_eval.format_report(report, rate))
    assert report["overall"]["recall"] >= 0.95, report["errors"]
    assert report["overall"]["precision"] >= 0.95, report["errors"]
    for kind, m in report["per_type"].items():
        assert m["support"] >= 10, kind
        assert m["recall"] >= 0.9 and m["precision"] >= 0.9, (kind, m)


def test_parse_marked_offsets():
    text, spans = pii_eval.parse_marked("a ⟦PHONE|+7 916 123 45 67⟧ b ⟦EMAIL|x@y.ru⟧")
    assert text == "a +7 916 123 45 67 b x@y.ru"
    assert [text[s["start"]:s["end"]] for s in spans] == ["+7 916 123 45 67", "x@y.ru"]
    with pytest.raises(ValueError):
        pii_eval.parse_marked("⟦NAME|Ivan⟧")
