"""Stable pseudonyms for other people: ``user_XXXXXXXX`` from HMAC-SHA256(secret, identity).

The same secret gives the same pseudonym on every run and machine, so derived tables stay joinable across
backfills; without the secret a pseudonym cannot be mapped back (a plain hash of a Telegram id could be reversed
by hashing all ids). Mentions (``@username``) and known display names in text are replaced with the pseudonym of
the user they name. Display names are matched on Unicode word boundaries (Python's ``\\w`` covers Cyrillic and
Turkish letters), case-insensitively (Turkish ``I/ı`` and ``İ/i`` fold correctly in ``re``), with Russian case
endings on Cyrillic names (``Ивану``, ``Саши``) and Turkish suffixes after an apostrophe (``Ayşe'ye``) left in place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Pseudonymizer", "pseudonym"]

_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_]{3,31})(?![\w@])")
_CYRILLIC = re.compile(r"^[а-яёА-ЯЁ\-]+$")
_WORD = re.compile(r"\w{3,}")
_TR_FOLD = str.maketrans({"İ": "i", "I": "i", "ı": "i"})


def _fold(s: str) -> str:
    return s.translate(_TR_FOLD).lower()


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not secret:
        raise ValueError("a non-empty secret is required for pseudonyms")
    return secret


def pseudonym(identity: int | str, secret: str | bytes, *, prefix: str = "user_", length: int = 8,
              alphabet: str = "hex") -> str:
    """``prefix`` + the first ``length`` characters of HMAC-SHA256(secret, identity) in hex or base32.

    ``identity`` is a Telegram user id (int) or, for people known only by username, ``"@name"``.
    Eight hex characters give 2**32 values: collisions stay unlikely up to tens of thousands of people.
    """
    msg = str(identity).strip().lower().encode("utf-8")
    digest = hmac.new(_key(secret), msg, hashlib.sha256).digest()
    if alphabet == "hex":
        code = digest.hex()
    elif alphabet == "base32":
        code = base64.b32encode(digest).decode("ascii").lower().rstrip("=")
    else:
        raise ValueError(f"unknown alphabet {alphabet!r}: use 'hex' or 'base32'")
    return prefix + code[:length]


def _name_pattern(name: str) -> str:
    """Regex for one display name; Cyrillic tokens also match their Russian case forms."""
    tokens = name.split()
    parts = []
    for tok in tokens:
        if _CYRILLIC.match(tok) and len(tok) >= 3:
            low = tok.lower()
            if low[-1] in "ая":
                stem, ends = tok[:-1], "а|я|ы|и|е|у|ю|ой|ою|ей|ею"
            elif low[-1] == "й":
                stem, ends = tok[:-1], "й|я|ю|ем|е|и"
            elif low[-1] == "ь":
                stem, ends = tok[:-1], "ь|я|ю|ем|е|и"
            elif low[-1] in "оеиуюы":
                stem, ends = tok, ""  # indeclinable (Пабло, Мэри)
            else:
                stem, ends = tok, "а|у|ом|ым|е|ой|ы|ых|ому|ого"
            parts.append(re.escape(stem) + (f"(?:{ends})" + ("?" if stem == tok else "") if ends else ""))
        else:
            parts.append(re.escape(tok))
    return r"[\s\u00a0]+".join(parts)


@dataclass
class Pseudonymizer:
    """Pseudonyms from a secret, plus replacement of @mentions and known names in text.

    ``names`` maps display names and usernames (``@name`` or ``name``) of people to their user ids.
    ``keep_ids``: people who are not pseudonymized (the account owner, for example).
    ``pseudonymize_unknown_mentions``: an @username not in ``names`` gets the pseudonym of ``"@username"``.
    """

    secret: str | bytes
    names: Mapping[str, int | str] = field(default_factory=dict)
    keep_ids: Iterable[int | str] = ()
    prefix: str = "user_"
    length: int = 8
    alphabet: str = "hex"
    pseudonymize_unknown_mentions: bool = True
    min_name_length: int = 3

    def __post_init__(self) -> None:
        _key(self.secret)
        self.keep_ids = frozenset(str(i) for i in self.keep_ids)
        self._cache: dict[str, str] = {}
        self._usernames: dict[str, int | str] = {}
        display: dict[str, int | str] = {}
        for raw, uid in self.names.items():
            if not raw:
                continue
            name = " ".join(raw.split())
            if name.startswith("@"):
                self._usernames[name[1:].lower()] = uid
            else:
                if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", name) and "_" in name:
                    self._usernames[name.lower()] = uid  # looks like a bare username
                if len(name) >= self.min_name_length:
                    display[name] = uid
        if display:
            # longest names first so "Иван Петров" wins over "Иван"
            ordered = sorted(display, key=len, reverse=True)
            alternation = "|".join(f"(?P<n{k}>{_name_pattern(n)})" for k, n in enumerate(ordered))
            self._display_rx = re.compile(rf"(?<![\w@])(?:{alternation})(?![\w])", re.IGNORECASE)
            self._display_ids = [display[n] for n in ordered]
            # a cheap pre-check: the big alternation only runs when some word starts like a known name
            self._prefixes = frozenset(_fold(n)[:3] for n in ordered)
        else:
            self._prefixes = frozenset()
            self._display_rx = None
            self._display_ids = []

    def pseudonym(self, identity: int | str) -> str:
        key = str(identity).strip().lower()
        out = self._cache.get(key)
        if out is None:
            out = pseudonym(key, self.secret, prefix=self.prefix, length=self.length, alphabet=self.alphabet)
            if len(self._cache) < 100_000:
                self._cache[key] = out
        return out

    def with_names(self, names: Mapping[str, int | str]) -> Pseudonymizer:
        return Pseudonymizer(self.secret, names, self.keep_ids, self.prefix, self.length, self.alphabet,
                             self.pseudonymize_unknown_mentions, self.min_name_length)

    def _kept(self, uid: int | str) -> bool:
        return str(uid) in self.keep_ids  # type: ignore[operator]

    def replace(self, text: str) -> tuple[str, int]:
        """Text with @mentions and known names replaced by pseudonyms; (text, number of replacements)."""
        count = 0

        def mention(m: re.Match[str]) -> str:
            nonlocal count
            uname = m.group(1).lower()
            uid = self._usernames.get(uname)
            if uid is None:
                if not self.pseudonymize_unknown_mentions:
                    return m.group(0)
                if uname.endswith("bot"):
                    return m.group(0)  # bots are not people
                ident: int | str = "@" + uname
            else:
                if self._kept(uid):
                    return m.group(0)
                ident = uid
            count += 1
            return "@" + self.pseudonym(ident)

        if "@" in text:
            text = _MENTION.sub(mention, text)
        if self._display_rx is not None and any(_fold(w)[:3] in self._prefixes for w in _WORD.findall(text)):

            def name(m: re.Match[str]) -> str:
                nonlocal count
                uid = self._display_ids[int(m.lastgroup[1:])]  # type: ignore[index]
                if self._kept(uid):
                    return m.group(0)
                count += 1
                return self.pseudonym(uid)

            text = self._display_rx.sub(name, text)
        return text, count
