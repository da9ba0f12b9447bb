"""The project's one language detector (ru / tr / en) for the chats it serves.

``clean_messages.lang`` stores its answer; code that reads clean messages uses that column and calls
``resolve_lang`` only for text that has none (a query, a raw message).
"""

from __future__ import annotations

import re

LANGS = ("ru", "en", "tr")

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_TR_LETTERS = re.compile(r"[ğĞşŞıİ]")
_TR_SOFT = re.compile(r"[çÇöÖüÜ]")
_WORDS = re.compile(r"[^\W\d_]+")
# placeholders, pseudonyms, mentions, hashtags, links and /commands say nothing about the language
_NOT_LANGUAGE = re.compile(r"\[[A-Z]+(?::[\w\-]+)?\]|@?user_[0-9a-z]+|[@#/]\w+|https?://\S+|www\.\S+")
_TR_WORDS = frozenset(
    "ve bir bu da de mi mu mı mü ne ile ama cok var yok icin gibi neden nasil evet hayir tamam merhaba sonra simdi "
    "yarin bugun lazim abi hocam ben sen biz siz onlar benim bizim iyi guzel tesekkurler sagol olur oldu degil "
    "kadar hemen burada orada selam merhabalar herkese harika tebrikler sonunda biraz yine bence peki".split()
)
_EN_WORDS = frozenset(
    "the and is are to of you i it for that this on with what have be was we they my your can do not just will "
    "at so but all there how a an in".split()
)


def detect_lang(text: str) -> str | None:
    """``ru`` / ``tr`` / ``en`` from the script and a few letters and words; None when there are no letters.

    Cheap on purpose: Cyrillic → ru; Latin with ğ ş ı İ (or ç ö ü, or common Turkish words) → tr; other Latin →
    en. Good enough for metadata and per-language processing of ru/en/tr chats, not a general detector.
    """
    text = _NOT_LANGUAGE.sub(" ", text)
    cyr = len(_CYRILLIC.findall(text))
    lat = len(_LATIN.findall(text))
    if cyr == 0 and lat == 0:
        return None
    if cyr >= lat:
        return "ru"
    if _TR_LETTERS.search(text):
        return "tr"
    words = [w.lower() for w in _WORDS.findall(text)]
    tr = sum(w in _TR_WORDS for w in words)
    en = sum(w in _EN_WORDS for w in words)
    if _TR_SOFT.search(text):
        tr += 2
    return "tr" if tr > en else "en"


def resolve_lang(text: str, hint: str | None = None) -> str:
    """The stored language when it is one of ``LANGS``, else the detector's answer, else ``en``."""
    if hint in LANGS:
        return hint
    return detect_lang(text) or "en"
