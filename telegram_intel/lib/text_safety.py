"""Characters a person cannot see, and summaries that say nothing new: checks on text typed into or shown by the UI.

* :func:`invisible_characters` — control characters (NUL, escape, C1 controls), text-direction overrides and
  isolates (U+202A–U+202E, U+2066–U+2069: "Trojan Source" reordering, e.g. a job title that reads differently
  from what it stores), other invisible format characters, private-use and unassigned code points, surrogates.
  Zero-width (non-)joiners stay allowed: Persian, Indic scripts and emoji sequences need them.
* :func:`summary_adds_nothing` — an AI summary of a one-line message that only repeats the message (the offline
  summarizer falls back to the text itself for short messages), or any summary equal to its message.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["BIDI_CONTROLS", "invisible_characters", "describe_characters", "summary_adds_nothing"]

#: Embeddings, overrides, isolates and marks that change the displayed order of text.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_ALLOWED_FORMAT = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: needed by scripts and emoji sequences


def invisible_characters(text: str, *, allow_newlines: bool = False) -> list[str]:
    """The characters of ``text`` that must not be stored or echoed (in order, once each)."""
    found: list[str] = []
    for ch in text:
        if allow_newlines and ch in "\n\r\t":
            continue
        if ch in _ALLOWED_FORMAT:
            continue
        cat = unicodedata.category(ch)
        if ch in BIDI_CONTROLS or cat in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"):
            if ch not in found:
                found.append(ch)
    return found


def describe_characters(chars: list[str]) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE, U+0000`` for an error message."""
    return ", ".join(f"U+{ord(c):04X}" + (f" {unicodedata.name(c, '')}".rstrip()) for c in chars[:5])


_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _words(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split())


def summary_adds_nothing(text: str | None, summary: str | None) -> bool:
    """True when ``summary`` only repeats ``text``: the same words (case, punctuation and spacing aside), or, for a
    one-line message, a part of it (a truncation or the message with words dropped off an end)."""
    if not summary:
        return False
    s, t = _words(summary), _words(text or "")
    if not s or s == t:
        return True
    one_line = "\n" not in (text or "").strip()
    return one_line and f" {s} " in f" {t} "
