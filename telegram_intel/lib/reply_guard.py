"""Guardrails for generated replies (the persona bot): no secrets, phone numbers, cards, IBANs, emails or links
leave the bot, and a reply has a bounded length. Pure functions; the PII detectors are ``lib/pii.py``'s."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from telegram_intel.lib.pii import mask_pii

# Credentials a model may reproduce from its training data or make up in a valid-looking shape.
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("PRIVATE_KEY", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)")),
    ("API_KEY", re.compile(r"\b(?:sk|pk|rk)-(?:[A-Za-z0-9_-]*-)?[A-Za-z0-9_-]{16,}")),
    ("BOT_TOKEN", re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")),
    ("AWS_KEY", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GITHUB_TOKEN", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("SLACK_TOKEN", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("JWT", re.compile(r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")),
    ("PASSWORD", re.compile(r"(?i)\b(?:password|passwd|pwd|пароль|şifre|parola)\b\s*(?:is|:|=|-|—)?\s*\S+")),
)
SECRET_PLACEHOLDER = "[hidden]"


@dataclass
class GuardedReply:
    text: str
    removed: list[str] = field(default_factory=list)  # the kinds removed (API_KEY, PHONE, ...)
    truncated: bool = False


def guard_reply(text: str, *, max_chars: int = 1000) -> GuardedReply:
    """``text`` with secrets replaced by ``[hidden]`` and PII by ``[PHONE]``, ``[CARD]``, ... , cut to
    ``max_chars`` at a word boundary."""
    removed: list[str] = []
    for kind, pattern in SECRET_PATTERNS:
        text, n = pattern.subn(SECRET_PLACEHOLDER, text)
        removed += [kind] * n
    text, spans = mask_pii(text)
    removed += [s.type for s in spans]
    text = text.strip()
    truncated = False
    if len(text) > max_chars:
        cut = text[:max_chars]
        space = cut.rfind(" ")
        text = (cut[:space] if space > max_chars // 2 else cut).rstrip() + "…"
        truncated = True
    return GuardedReply(text=text, removed=removed, truncated=truncated)
