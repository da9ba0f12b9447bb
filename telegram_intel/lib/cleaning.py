"""Message text normalization, filters and the per-message cleaning step behind ``clean_messages``.

Order matters: normalize first (so NBSP-separated phone numbers and zero-width-split emails are seen as such), then
filters, then PII masking, then pseudonyms (placeholders and pseudonyms are never re-detected as PII).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from telegram_intel.lib.pii import (
    DEFAULT_PLACEHOLDERS,
    PII_TYPES,
    mask_pii,
    normalize_domains,
)
from telegram_intel.lib.pseudonyms import Pseudonymizer

__all__ = [
    "CleaningConfig",
    "CleanResult",
    "DEFAULT_KEEP_DOMAINS",
    "DROP_REASONS",
    "clean_message",
    "is_emoji_only",
    "normalize_text",
]

DROP_REASONS = ("service", "empty", "media_only", "emoji_only")

# Public reference sites: links to them say what was discussed and identify nobody. Code hosts are not among
# them: their paths are account names (github.com/<person>).
DEFAULT_KEEP_DOMAINS = (
    "wikipedia.org", "stackoverflow.com", "python.org", "pypi.org", "readthedocs.io",
    "docs.dagster.io", "arxiv.org", "huggingface.co",
)


@dataclass(frozen=True)
class CleaningConfig:
    """What ``clean_message`` drops and masks. Defaults suit the enrichment corpus."""

    drop_service: bool = True
    drop_empty: bool = True
    drop_media_only: bool = True
    drop_emoji_only: bool = True
    mask_pii: bool = True
    pii_types: tuple[str, ...] = PII_TYPES
    keep_domains: tuple[str, ...] = DEFAULT_KEEP_DOMAINS
    placeholders: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PLACEHOLDERS))
    pseudonymize: bool = True
    pseudonymize_owner: bool = False  # the account owner's own name and @mentions stay readable by default
    collapse_spaces: bool = True
    max_blank_lines: int = 1  # blank lines kept between paragraphs

    def __post_init__(self) -> None:
        unknown = set(self.pii_types) - set(PII_TYPES)
        if unknown:
            raise ValueError(f"unknown PII types {sorted(unknown)}; known: {PII_TYPES}")
        object.__setattr__(self, "keep_domains", normalize_domains(self.keep_domains))
        object.__setattr__(self, "pii_types", tuple(self.pii_types))


@dataclass(frozen=True, slots=True)
class CleanResult:
    """``text`` is the cleaned text ("" when dropped); ``pii_counts`` maps PII type to masked spans."""

    text: str
    dropped_reason: str | None
    pii_counts: dict[str, int]
    pseudonyms: int = 0

    @property
    def kept(self) -> bool:
        return self.dropped_reason is None


# ---------------------------------------------------------------------------------------------------------------
# Normalization

# Zero-width and invisible format characters; ZWJ is handled separately (it is part of emoji sequences).
_INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u2060-\u2064\u206a-\u206f\ufeff\u00ad\u180e\u061c\u202a-\u202e]")
_SPACES = re.compile("[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NEWLINES = re.compile("\r\n?|[\u2028\u2029\x85]")

# Extended_Pictographic, approximately: the emoji blocks plus the older symbol blocks that have emoji presentation.
_PICTO = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf\u23e9-\u23f3"
    "\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c"
    "\u2b50\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
_REGIONAL = "\U0001f1e6-\U0001f1ff"
_MODIFIER = "\U0001f3fb-\U0001f3ff"
_TAGS = "\U000e0020-\U000e007f"
_ZWJ = "\u200d"
_VS = "\ufe0e\ufe0f"
_KEYCAP = "\u20e3"
_EMOJI_CHAR = f"[{_PICTO}{_REGIONAL}]"
_EMOJI_PART = f"[{_PICTO}{_REGIONAL}{_MODIFIER}{_TAGS}{_VS}]"

# A ZWJ is kept only between two emoji parts (👨‍👩‍👧); elsewhere it is an invisible joiner to drop.
_STRAY_ZWJ = re.compile(f"(?<!{_EMOJI_PART}){_ZWJ}|{_ZWJ}(?!{_EMOJI_CHAR})")

# One emoji cluster: keycap (1️⃣), flag (🇹🇷), or pictograph with modifiers/VS/tags, ZWJ-joined.
_EMOJI_CLUSTER = (
    f"(?:[0-9#*]\ufe0f?{_KEYCAP}"
    f"|[{_REGIONAL}]{{1,2}}"
    f"|[{_PICTO}][{_VS}]?[{_MODIFIER}]?[{_TAGS}]*(?:{_ZWJ}[{_PICTO}][{_VS}]?[{_MODIFIER}]?)*[{_VS}]?)"
)
_EMOJI_ONLY = re.compile(f"(?:{_EMOJI_CLUSTER}|\\s)+")
_HAS_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def normalize_text(text: str | None, *, collapse_spaces: bool = True, max_blank_lines: int = 1) -> str:
    """NFC; drop zero-width/control characters; unify newlines and spaces; trim lines; limit blank lines."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _NEWLINES.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    if _ZWJ in text:
        text = _STRAY_ZWJ.sub("", text)
    text = _CONTROL.sub("", text)
    if collapse_spaces:
        text = _SPACES.sub(" ", text)
    lines = [ln.strip(" \t") for ln in text.split("\n")]
    out: list[str] = []
    blank = 0
    for ln in lines:
        if ln:
            blank = 0
            out.append(ln)
        else:
            blank += 1
            if blank <= max_blank_lines and out:
                out.append("")
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def is_emoji_only(text: str) -> bool:
    """True when ``text`` holds at least one emoji and nothing but emoji and whitespace."""
    if not text or not text.strip():
        return False
    # fast rejection: letters/digits that are not keycaps
    if _HAS_LETTER_OR_DIGIT.search(text) and not re.search(_KEYCAP, text):
        return False
    return _EMOJI_ONLY.fullmatch(text) is not None


# ---------------------------------------------------------------------------------------------------------------
# The cleaning step

_DEFAULT_CONFIG = CleaningConfig()


def clean_message(
    text: str | None,
    *,
    kind: str = "message",
    has_media: bool = False,
    config: CleaningConfig | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> CleanResult:
    """Normalize, filter, mask PII and pseudonymize one message's text.

    ``kind`` is the record kind ("message" or "service"). Dropped messages come back with ``text=""`` so
    that nothing unmasked is stored for them.
    """
    cfg = config or _DEFAULT_CONFIG
    if kind == "service" and cfg.drop_service:
        return CleanResult("", "service", {})
    norm = normalize_text(text, collapse_spaces=cfg.collapse_spaces, max_blank_lines=cfg.max_blank_lines)
    if not norm:
        if has_media and cfg.drop_media_only:
            return CleanResult("", "media_only", {})
        if not has_media and cfg.drop_empty:
            return CleanResult("", "empty", {})
        return CleanResult("", None, {})
    if cfg.drop_emoji_only and is_emoji_only(norm):
        return CleanResult("", "emoji_only", {})
    counts: dict[str, int] = {}
    if cfg.mask_pii and cfg.pii_types:
        norm, spans = mask_pii(norm, keep_domains=cfg.keep_domains, types=cfg.pii_types, placeholders=cfg.placeholders)
        if spans:
            counts = dict(Counter(sp.type for sp in spans))
    replaced = 0
    if cfg.pseudonymize and pseudonymizer is not None:
        norm, replaced = pseudonymizer.replace(norm)
    return CleanResult(norm, None, counts, replaced)
