"""Invisible characters refused in typed text; summaries that only repeat their message recognized."""

from __future__ import annotations

from telegram_intel.lib import summaries as S
from telegram_intel.lib.text_safety import describe_characters, invisible_characters, summary_adds_nothing


def test_control_and_text_direction_characters_are_found():
    assert invisible_characters("Dentist\u202e") == ["\u202e"]
    assert invisible_characters("a\x00b\x1b") == ["\x00", "\x1b"]
    assert invisible_characters("x\u2066y\u2069") == ["\u2066", "\u2069"]
    assert invisible_characters("zero\u200bwidth") == ["\u200b"]
    assert "RIGHT-TO-LEFT OVERRIDE" in describe_characters(["\u202e"])
    # ordinary text in any script, emoji sequences (ZWJ) and Persian's ZWNJ pass
    for ok in ("Стоматолог", "Diş hekimi", "مهندس‌ نرم‌افزار", "👩\u200d💻 developer", "O'Brien & Sons"):
        assert invisible_characters(ok) == [], ok
    assert invisible_characters("two\nlines", allow_newlines=True) == []
    assert invisible_characters("two\nlines") == ["\n"]


def test_a_summary_that_repeats_a_one_line_message_adds_nothing():
    text = "Кто-нибудь знает хорошего стоматолога в центре?"
    assert summary_adds_nothing(text, S.summarize_message(text, "ru").summary)  # the offline summarizer's echo
    assert summary_adds_nothing(text, "кто-нибудь знает хорошего стоматолога")  # a cut of it
    assert summary_adds_nothing("Thanks!", "thanks")
    assert not summary_adds_nothing(text, "Asks for a dentist recommendation downtown.")
    long = "The tiles arrived broken.\nWe return them on Monday and order new ones from the other shop."
    assert not summary_adds_nothing(long, "We return them on Monday")  # the key sentence of several lines
    assert summary_adds_nothing(long, long)
    assert not summary_adds_nothing(text, None) and not summary_adds_nothing(text, "")
