from __future__ import annotations

import pytest

from telegram_intel.lib.cleaning import (
    DEFAULT_KEEP_DOMAINS,
    CleaningConfig,
    CleanResult,
    clean_message,
    is_emoji_only,
    normalize_text,
)
from telegram_intel.lib.pseudonyms import Pseudonymizer

# --- normalization ---------------------------------------------------------------------------------------------


def test_nfc():
    decomposed = "е\u0308лка, cafe\u0301, İ"  # ё and é as base + combining mark
    out = normalize_text(decomposed)
    assert out == "ёлка, café, İ" and len(out) == len("ёлка, café, İ")


def test_zero_width_and_control_characters_removed():
    assert normalize_text("при\u200bвет\ufeff мир\u00ad\u2060!\x07") == "привет мир!"
    assert normalize_text("\u200e\u200fabc\u202e") == "abc"


def test_zwj_kept_inside_emoji_sequences_only():
    family = "👨\u200d👩\u200d👧"
    assert normalize_text(f"a\u200db {family}") == f"ab {family}"
    assert normalize_text("\u200d👍") == "👍"


def test_whitespace_and_newlines():
    text = "  Привет,\u00a0\u00a0мир!  \r\n\r\n\r\n\tВторая   строка\u2003конец  \u2028третья\n\n"
    assert normalize_text(text) == "Привет, мир!\n\nВторая строка конец\nтретья"
    assert normalize_text("a\n\n\n\nb", max_blank_lines=0) == "a\nb"
    assert normalize_text("a    b", collapse_spaces=False) == "a    b"
    assert normalize_text(None) == "" and normalize_text(" \n\u200b ") == ""


# --- emoji-only ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "👍", "😂😂😂", "❤️", "❤", "👨\u200d👩\u200d👧\u200d👦", "👍🏽 👍🏿", "🇹🇷🇷🇺", "1️⃣2️⃣", "#️⃣",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "🙂\n🙂", "🧑🏻\u200d💻", "👩\u200d❤️\u200d💋\u200d👨",
    "✔️", "🔥 🔥", "☺︎",
])
def test_emoji_only(text):
    assert is_emoji_only(text)


@pytest.mark.parametrize("text", [
    "ok 👍", "👍!", ")))", "°", "#", "1", "", "   ", "спасибо 🙏", "🇹🇷 Türkiye", "+1", "1 👍", "№",
])
def test_not_emoji_only(text):
    assert not is_emoji_only(text)


# --- clean_message ---------------------------------------------------------------------------------------------

def test_filters_and_reasons():
    assert clean_message("joined the group", kind="service") == CleanResult("", "service", {})
    assert clean_message("", kind="message").dropped_reason == "empty"
    assert clean_message(" \u200b\n", kind="message").dropped_reason == "empty"
    assert clean_message(None, has_media=True).dropped_reason == "media_only"
    assert clean_message("👍🏽🔥", kind="message").dropped_reason == "emoji_only"
    kept = clean_message("фото с отпуска", has_media=True)
    assert kept.kept and kept.text == "фото с отпуска"


def test_filters_are_configurable():
    keep_all = CleaningConfig(drop_service=False, drop_empty=False, drop_media_only=False, drop_emoji_only=False)
    assert clean_message("👍", config=keep_all) == CleanResult("👍", None, {})
    assert clean_message("", has_media=True, config=keep_all) == CleanResult("", None, {})
    assert clean_message("", config=keep_all).dropped_reason is None
    assert clean_message("pinned a message", kind="service", config=keep_all).text == "pinned a message"


def test_pii_masked_and_counted():
    r = clean_message("Пиши на ivan@mail.ru или +7 916 123-45-67, или 8\u00a0916\u00a0765\u00a043\u00a021. "
                      "Доки: https://en.wikipedia.org/wiki/Tile, код https://github.com/ivan-p, сайт https://example.com")
    assert r.text == "Пиши на [EMAIL] или [PHONE], или [PHONE]. Доки: https://en.wikipedia.org/wiki/Tile, код [URL], сайт [URL]"
    assert r.pii_counts == {"EMAIL": 1, "PHONE": 2, "URL": 2}
    # a code host's path is an account name: not kept
    assert "wikipedia.org" in DEFAULT_KEEP_DOMAINS and "github.com" not in DEFAULT_KEEP_DOMAINS


def test_pii_config():
    text = "card 4111 1111 1111 1111, mail a@b.io, https://github.com/x"
    only_cards = CleaningConfig(pii_types=("CARD",), placeholders={"CARD": "<card>"}, keep_domains=())
    r = clean_message(text, config=only_cards)
    assert r.text == "card <card>, mail a@b.io, https://github.com/x" and r.pii_counts == {"CARD": 1}
    r = clean_message(text, config=CleaningConfig(keep_domains=()))
    assert r.text == "card [CARD], mail [EMAIL], [URL]"
    assert clean_message(text, config=CleaningConfig(mask_pii=False)).text == text
    with pytest.raises(ValueError):
        CleaningConfig(pii_types=("SSN",))


def test_zero_width_split_email_still_masked():
    r = clean_message("ivan\u200b@mail.ru")
    assert r.text == "[EMAIL]"


def test_pseudonyms_applied_after_masking():
    pz = Pseudonymizer("secret", names={"Иван": 1, "@ivan_p": 1})
    r = clean_message("Иван, твой email ivan@mail.ru? @ivan_p ответь Ивану", pseudonymizer=pz)
    p = pz.pseudonym(1)
    assert r.text == f"{p}, твой email [EMAIL]? @{p} ответь {p}"
    assert r.pseudonyms == 3 and r.pii_counts == {"EMAIL": 1}
    assert clean_message("Иван", pseudonymizer=pz, config=CleaningConfig(pseudonymize=False)).text == "Иван"


def test_dropped_messages_carry_no_text():
    r = clean_message("+7 916 123 45 67", kind="service")
    assert r.text == "" and not r.kept
