"""PII detection and masking for Russian, English and Turkish chat text.

Types: ``PHONE``, ``EMAIL``, ``URL``, ``CARD`` (Luhn-validated), ``IBAN`` (ISO 13616 mod-97).

Precision matters as much as recall here: chat text is full of dates, prices, order numbers, versions and ids
that look like phone or card numbers. So every numeric candidate is validated by structure (country rules for
phones, Luhn + issuer prefix + grouping for cards, country length + mod-97 for IBANs) and by context (a currency
sign next to it, "order #" before it, a date inside it all veto). Regexes are compiled once at import;
``find_pii`` does a handful of linear scans per message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

__all__ = [
    "PII_TYPES",
    "DEFAULT_PLACEHOLDERS",
    "PIISpan",
    "find_pii",
    "mask_pii",
    "luhn_valid",
    "iban_valid",
    "normalize_domains",
]

PII_TYPES = ("PHONE", "EMAIL", "URL", "CARD", "IBAN")
DEFAULT_PLACEHOLDERS = {t: f"[{t}]" for t in PII_TYPES}


class PIISpan(NamedTuple):
    type: str
    start: int
    end: int
    value: str


# ---------------------------------------------------------------------------------------------------------------
# Validators


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# ISO 13616 registry lengths (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def iban_valid(value: str) -> bool:
    s = re.sub(r"[\s\u00a0]", "", value).upper()
    if len(s) < 15 or IBAN_LENGTHS.get(s[:2]) != len(s) or not s[2:4].isdigit() or not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


# ---------------------------------------------------------------------------------------------------------------
# Patterns

_SPACE = " \u00a0\u202f\u2009"
_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w%+\-]+(?:\.[\w%+\-]+)*@(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,24}(?![\w\-])"
)

_TLDS = (
    "com|net|org|info|biz|edu|gov|mil|int|io|ai|co|me|tv|fm|ly|gl|gg|cc|xyz|dev|app|site|online|shop|store|tech|"
    "pro|cloud|link|page|blog|news|live|club|space|website|email|ru|su|ua|by|kz|uz|az|ge|kg|tr|de|uk|eu|fr|"
    "nl|es|pl|ch|se|fi|dk|cz|sk|ro|bg|gr|pt|ie|lt|lv|ee|jp|cn|kr|ca|au|nz|br|ar|mx|рф|рус|москва"
)
_URL_SCHEME = re.compile(r"(?i)(?<![\w@])(?:(?:https?|ftp)://|www\.)[^\s<>\"'«»“”‘’`]+")
_URL_BARE = re.compile(
    # the TLD must be lower case: "ASP.NET" and "Socket.IO" are names, not hosts
    r"(?i)(?<![\w@.\-/])(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.)+(?-i:" + _TLDS + r")"
    r"(?::\d{2,5})?(?:/[^\s<>\"'«»“”‘’`]*)?(?![\w\-@])(?!\.[^\W\d_])"
)
_URL_TRAIL = ".,;:!?'\"»”’…*_"

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[ \u00a0]?\d{2}(?:[ \u00a0]?[A-Z0-9]){10,32}")

# A run of digits joined by phone/card separators; split and validated below.
_NUM_RUN = re.compile(
    r"(?<![\w+@/#№$€£₺¥\\])(?<!\d[.,\-])(?:\+[ \u00a0]?)?\(?\d(?:[\d().\-–— \u00a0\u202f\u2009]*\d)?\)?"
)
_DIGITS = re.compile(r"\d+")
_DATE = re.compile(
    r"(?<!\d)(?:(\d{1,2})[./\-](\d{1,2})[./\-](?:\d{4}|\d{2})|\d{4}[./\-](\d{1,2})[./\-](\d{1,2}))(?!\d)"
)

_CURRENCY_AFTER = re.compile(
    r"[ \u00a0\u202f]?(?:[₽$€£₺¥%‰]|руб|р\.|р\b|rub|usd|eur|try|tl\b|lira|лир|долл|евро|тыс|млн|млрд|тг|"
    r"km\b|км\b|kg\b|кг\b|шт|pcs|adet|bin\b|milyon)",
    re.IGNORECASE,
)
_CURRENCY_BEFORE = re.compile(r"(?:[₽$€£₺¥]|usd|eur|rub|try)[ \u00a0]?$", re.IGNORECASE)
_ID_CONTEXT = re.compile(
    r"(?:№|#|\bid\b|\bref\b|заказ[а-яё]*|order|sipari[sş]\w*|invoice|fatura\w*|ticket|тикет\w*|"
    r"трек[а-яё\-]*|tracking|takip|kargo|инн|огрн|снилс|kimlik|\btc\b|vkn|артикул\w*|\bsku\b|арт\.|накладн\w*|"
    r"посылк\w*|счет[а-яё]*|счёт[а-яё]*|account|hesap|договор\w*|contract|sözleşme\w*|паспорт\w*|passport|pasaport\w*|"
    r"версия|version|sürüm|build|сборк\w*|chat_id|user_id|message_id|msg)"
    r"[\s:#№.\-]*(?:номер\w*|number|numaras\w*|no\b\.?)?[\s:#№.\-]*$",
    re.IGNORECASE,
)
_MIXED_TOKEN_BEFORE = re.compile(r"[A-Za-z]+\d+[ \u00a0]?$")


# ---------------------------------------------------------------------------------------------------------------
# Phone and card validation over digit groups

_MIN_DIGITS = 10  # the shortest phone accepted (+49 30 901820, 0 + 9 digits); cards have 13 or more
_SEP_CORES = frozenset({"", "-", ".", "–", "—", "(", ")", ")-", ")–", ").", "-(", ".(", "–("})


def _phone_ok(d: str, plus: bool, groups: tuple[int, ...], parens: bool) -> bool:
    n = len(d)
    compact = len(groups) == 1
    if (not compact and not parens and len(groups) >= (4 if plus else 3) and groups[0] <= 3
            and all(g == 3 for g in groups[1:])):
        return False  # thousands grouping: an amount ("+12 345 678 901"), not a phone
    if plus:
        if d[0] == "7":
            return n == 11 and d[1] in "346789"
        if d[0] == "1":
            return n == 11 and d[1] in "23456789" and d[4] in "23456789"
        if d.startswith("90"):
            return n == 12 and d[2] in "23458"
        if d.startswith("44"):
            return n in (11, 12)
        if d.startswith("49"):
            return 10 <= n <= 15
        if d[0] == "0":
            return False
        return 10 <= n <= 15
    if n == 11:
        if d[0] == "8":
            return d[1] in "3489" and (not compact or d[1] == "9" or d[1:4] == "800")
        if d[0] == "7":
            return d[1] == "9"
        if d[0] == "0":
            return d[1] in "23458" if compact else d[1] != "0"
        if d[0] == "1":
            return (not compact and groups[0] == 1 and d[1] in "23456789" and d[4] in "23456789"
                    and groups[1:] in ((3, 3, 4), (3, 7), (3, 3, 2, 2)))
        return False
    if compact:
        return False
    if n == 12:
        if d.startswith("90"):
            return d[2] in "2345"
        if d[0] == "0":  # German mobile 0151 23456789
            return d[1] != "0" and groups[0] in (3, 4, 5)
        return False
    if n == 10:
        if d[0] == "0":  # UK/DE short area numbers: 030 1234567
            return d[1] != "0" and groups[0] in (3, 4, 5)
        if groups in ((3, 3, 4), (3, 3, 2, 2), (3, 7)):
            if d[0] in "23456789" and d[3] in "23456789" and groups != (3, 3, 2, 2):
                return True  # NANP (xxx) xxx-xxxx
            return d[0] in "59"  # RU mobile without prefix, TR mobile without 0
        return False
    return False


_CARD_GROUPINGS = frozenset({(4, 6, 5), (4, 6, 4), (4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 4, 4, 4, 2), (4, 4, 4, 4, 1),
                             (4, 4, 4, 3), (4, 4, 4, 2), (4, 4, 4, 1), (4, 4, 5), (6, 13), (8, 8)})


def _issuer_ok(d: str) -> bool:
    """Issuer prefix and length of the networks seen in ru/en/tr chats; random digits pass ~1 time in 8."""
    n = len(d)
    p2, p4 = int(d[:2]), int(d[:4])
    if d[0] == "4":  # Visa
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:  # Mastercard
        return n == 16
    if 2200 <= p4 <= 2204:  # Mir
        return 16 <= n <= 19
    if p2 in (34, 37):  # Amex
        return n == 15
    if p2 == 62 or p4 == 6011 or 644 <= int(d[:3]) <= 649 or p2 == 65:  # UnionPay, Discover
        return 16 <= n <= 19
    if 3528 <= p4 <= 3589:  # JCB
        return 16 <= n <= 19
    if p2 in (36, 38, 39) or 300 <= int(d[:3]) <= 305:  # Diners
        return 14 <= n <= 19
    if p4 in (5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763):  # Maestro
        return 13 <= n <= 19
    if p4 in (9792, 8600, 9860):  # Troy (TR), Uzcard, Humo
        return n == 16
    return False


def _card_ok(d: str, groups: tuple[int, ...], seps: tuple[str, ...]) -> bool:
    if not 13 <= len(d) <= 19 or not _issuer_ok(d):
        return False
    if len(groups) > 1:
        if groups not in _CARD_GROUPINGS or len(set(seps)) != 1 or seps[0] not in (" ", "-", "\u00a0"):
            return False
    return luhn_valid(d)


class _Group(NamedTuple):
    start: int  # of the digits in the text
    end: int


def _context_veto(text: str, start: int, end: int) -> bool:
    after = text[end:end + 8]
    if after[:1].isalnum() or (len(after) > 1 and after[0] in ".," and after[1].isdigit()):
        return True
    if _CURRENCY_AFTER.match(after):
        return True
    before = text[max(0, start - 32):start]
    if _CURRENCY_BEFORE.search(before) or _ID_CONTEXT.search(before) or _MIXED_TOKEN_BEFORE.search(before):
        return True
    return False


def _scan_numbers(text: str, out: list[tuple[int, int, int, str]], date_spans: list[tuple[int, int]]) -> None:
    for m in _NUM_RUN.finditer(text):
        s0, e0 = m.span()
        if e0 - s0 < _MIN_DIGITS:
            continue  # times, small numbers: the common case, decided without splitting
        plus_at = s0 if text[s0] == "+" else -1
        groups = [_Group(g.start() + s0, g.end() + s0) for g in _DIGITS.finditer(m.group())]
        # split into pieces at separators that no phone/card uses and at dates
        pieces: list[list[_Group]] = []
        cur: list[_Group] = []
        for g in groups:
            if any(ds < g.end and g.start < de for ds, de in date_spans):
                if cur:
                    pieces.append(cur)
                cur = []
                continue
            if cur:
                sep = text[cur[-1].end:g.start]
                core = sep.translate(_STRIP_SPACES)
                if core not in _SEP_CORES or len(sep) - len(core) > 2:
                    pieces.append(cur)
                    cur = []
            cur.append(g)
        if cur:
            pieces.append(cur)
        for piece in pieces:
            _scan_piece(text, piece, plus_at if piece[0] is groups[0] else -1, out)


_STRIP_SPACES = str.maketrans("", "", _SPACE)


def _range_span(text: str, piece: list[_Group], i: int, j: int, plus_at: int) -> tuple[int, int, bool, bool]:
    """Text span of groups i..j with the plus/parentheses that belong to them; (start, end, plus, balanced)."""
    s, e = piece[i].start, piece[j].end
    plus = False
    if i == 0 and plus_at >= 0:
        s, plus = plus_at, True
    elif s > 0 and text[s - 1] == "(":
        s -= 1
    inner = text[s:e]
    opens, closes = inner.count("("), inner.count(")")
    if opens > closes and e < len(text) and text[e] == ")":
        e += 1
        closes += 1
    if text[s] == "(" and text[e - 1] == ")" and text.find(")", s, e) == e - 1:
        s, e, opens, closes = s + 1, e - 1, opens - 1, closes - 1  # "(8 916 123 45 67)": brackets around it all
    return s, e, plus, opens == closes and opens <= 2


def _scan_piece(text: str, piece: list[_Group], plus_at: int, out: list[tuple[int, int, int, str]]) -> None:
    n = len(piece)
    digits = [text[g.start:g.end] for g in piece]
    if sum(map(len, digits)) < _MIN_DIGITS:
        return
    i = 0
    while i < n:
        found = False
        # longest window first; a phone has at most 15 digits, a card 19
        total = 0
        j_max = i
        for j in range(i, n):
            total += len(digits[j])
            if total > 19:
                break
            j_max = j
        for j in range(j_max, i - 1, -1):
            d = "".join(digits[i:j + 1])
            if len(d) < _MIN_DIGITS:
                break
            s, e, plus, balanced = _range_span(text, piece, i, j, plus_at)
            if not balanced:
                continue
            lens = tuple(len(x) for x in digits[i:j + 1])
            seps = tuple(text[piece[k].end:piece[k + 1].start] for k in range(i, j))
            kind = None
            if not plus and i == 0 and j == n - 1 and _card_ok(d, lens, seps):
                kind = "CARD"
            elif len(d) <= 16 and _phone_ok_trunk(text, piece, i, j, d, lens, plus, "(" in text[s:e]):
                kind = "PHONE"
            elif not plus and lens == (10,) and _bare_ten_ok(d) and _PHONE_CUE.search(text[max(0, s - 32):s]):
                kind = "PHONE"
            if kind is None:
                continue
            if kind == "PHONE" and _context_veto(text, s, e):
                continue
            if kind == "CARD" and _context_veto_card(text, s, e):
                continue
            out.append((s, e, _PRIORITY[kind], kind))
            i = j + 1
            found = True
            break
        if not found:
            i += 1


# Ten bare digits are a phone only after a word that says so ("call me 2125550143"): without one they are as
# often an order, account or tracking number.
_PHONE_CUE = re.compile(
    r"(?:phone|call|text|cell|mobile|whats\s?app|viber|tel|number|номер\w*|тел\w*|звони\w*|позвони\w*|"
    r"пиши\w*|мобильн\w*|telefon\w*|numara\w*|ara\b|arayın|cep)\b[^\w\n]{0,12}(?:\w+[^\w\n]{1,3}){0,2}$",
    re.IGNORECASE,
)


def _bare_ten_ok(d: str) -> bool:
    """NANP (area and exchange codes start 2–9), a Russian mobile without 8/+7, a Turkish mobile without 0."""
    return d[0] in "59" or (d[0] in "2345678" and d[3] in "23456789")


def _phone_ok_trunk(text, piece, i, j, d, lens, plus, parens) -> bool:
    """``+44 (0) 20 ...``: the bracketed national trunk zero is not dialled after a country code."""
    if plus and 1 in lens:
        for k in range(i + 1, j + 1):
            g = piece[k]
            if g.end - g.start == 1 and text[g.start - 1:g.end + 1] == "(0)":
                off = sum(lens[: k - i])
                d, lens = d[:off] + d[off + 1:], lens[: k - i] + lens[k - i + 1:]
                break
    return len(d) <= 15 and _phone_ok(d, plus, lens, parens)


_CARD_ID_CONTEXT = re.compile(
    r"(?:заказ[а-яё]*|order|sipari[sş]\w*|invoice|fatura\w*|ticket|трек[а-яё\-]*|tracking|takip|kargo|"
    r"накладн\w*|посылк\w*|\bid\b)[\s:#№.\-]*(?:номер\w*|number|numaras\w*|no\b\.?)?[\s:#№.\-]*$",
    re.IGNORECASE,
)


def _context_veto_card(text: str, start: int, end: int) -> bool:
    after = text[end:end + 8]
    if after[:1].isalnum() or (len(after) > 1 and after[0] in ".," and after[1].isdigit()):
        return True
    if _CURRENCY_AFTER.match(after):
        return True
    before = text[max(0, start - 32):start]
    return bool(_CURRENCY_BEFORE.search(before) or _CARD_ID_CONTEXT.search(before)
                or _MIXED_TOKEN_BEFORE.search(before))


# ---------------------------------------------------------------------------------------------------------------
# URLs


def normalize_domains(domains: Iterable[str]) -> tuple[str, ...]:
    out = []
    for d in domains:
        d = d.strip().lower()
        d = re.sub(r"^[a-z]+://", "", d).split("/", 1)[0]
        if d.startswith("www."):
            d = d[4:]
        if d:
            out.append(d)
    return tuple(out)


def _trim_url(text: str, s: int, e: int) -> int:
    while e > s:
        ch = text[e - 1]
        if ch in _URL_TRAIL:
            e -= 1
        elif ch in ")]}":
            pair = {")": "(", "]": "[", "}": "{"}[ch]
            seg = text[s:e]
            if seg.count(pair) < seg.count(ch):
                e -= 1
            else:
                break
        else:
            break
    return e


def _url_host(url: str) -> str:
    u = re.sub(r"(?i)^[a-z]+://", "", url)
    host = re.split(r"[/?#:]", u, maxsplit=1)[0].lower()
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    return host[4:] if host.startswith("www.") else host


def _kept(host: str, keep: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in keep)


# ---------------------------------------------------------------------------------------------------------------
# Public API

_PRIORITY = {"EMAIL": 0, "URL": 1, "IBAN": 2, "CARD": 3, "PHONE": 4, "_KEEP": 1}
_HAS_CANDIDATE = re.compile(r"[\d@]|\.\w|://")


def find_pii(text: str, *, keep_domains: Iterable[str] = (), types: Iterable[str] | None = None) -> list[PIISpan]:
    """Non-overlapping PII spans in ``text``, sorted by start.

    ``keep_domains``: URLs on these domains (or their subdomains) are not reported, and nothing inside them is.
    ``types``: restrict to a subset of :data:`PII_TYPES`.
    """
    if not text or not _HAS_CANDIDATE.search(text):
        return []
    keep = keep_domains if isinstance(keep_domains, tuple) and _is_normalized(keep_domains) else normalize_domains(
        keep_domains)
    cands: list[tuple[int, int, int, str]] = []
    if "@" in text:
        for m in _EMAIL.finditer(text):
            cands.append((m.start(), m.end(), 0, "EMAIL"))
    if "." in text or "://" in text:
        for rx in (_URL_SCHEME, _URL_BARE):
            for m in rx.finditer(text):
                s = m.start()
                e = _trim_url(text, s, m.end())
                if e - s < 4:
                    continue
                kind = "_KEEP" if keep and _kept(_url_host(text[s:e]), keep) else "URL"
                cands.append((s, e, 1, kind))
    has_digit = False
    for ch in text:
        if "0" <= ch <= "9":
            has_digit = True
            break
    if has_digit:
        for m in _IBAN.finditer(text):
            s = m.start()
            # keep exactly the country's length of alphanumerics: a following word may have been swallowed
            want = IBAN_LENGTHS.get(text[s:s + 2])
            if want is None:
                continue
            count = 0
            e = s
            for k in range(s, m.end()):
                if text[k].isalnum():
                    count += 1
                    if count == want:
                        e = k + 1
                        break
            if count == want and iban_valid(text[s:e]) and not (e < len(text) and text[e].isalnum()):
                cands.append((s, e, 2, "IBAN"))
        date_spans = [m.span() for m in _DATE.finditer(text) if _date_like(m)]
        _scan_numbers(text, cands, date_spans)
    if not cands:
        return []
    # leftmost-longest, then by type priority
    cands.sort(key=lambda c: (c[0], -(c[1] - c[0]), c[2]))
    wanted = None if types is None else set(types)
    out: list[PIISpan] = []
    last_end = -1
    for s, e, _, kind in cands:
        if s < last_end:
            continue
        last_end = e
        if kind == "_KEEP" or (wanted is not None and kind not in wanted):
            continue
        out.append(PIISpan(kind, s, e, text[s:e]))
    return out


def _date_like(m: re.Match) -> bool:
    a, b, c, d = m.groups()
    if a is not None:
        day, month = int(a), int(b)
        return (1 <= day <= 31 and 1 <= month <= 12) or (1 <= month <= 31 and 1 <= day <= 12)
    return 1 <= int(c) <= 12 and 1 <= int(d) <= 31


_NORMALIZED: set[tuple[str, ...]] = set()


def _is_normalized(domains: tuple[str, ...]) -> bool:
    if domains in _NORMALIZED:
        return True
    if normalize_domains(domains) == domains:
        if len(_NORMALIZED) < 64:
            _NORMALIZED.add(domains)
        return True
    return False


def mask_pii(
    text: str,
    *,
    keep_domains: Iterable[str] = (),
    types: Iterable[str] | None = None,
    placeholders: Mapping[str, str] | None = None,
) -> tuple[str, list[PIISpan]]:
    """Replace each PII span with its placeholder (``[PHONE]``, ``[EMAIL]``, ...); returns (masked, spans)."""
    spans = find_pii(text, keep_domains=keep_domains, types=types)
    if not spans:
        return text, spans
    ph = DEFAULT_PLACEHOLDERS if placeholders is None else {**DEFAULT_PLACEHOLDERS, **placeholders}
    parts = []
    pos = 0
    for sp in spans:
        parts.append(text[pos:sp.start])
        parts.append(ph[sp.type])
        pos = sp.end
    parts.append(text[pos:])
    return "".join(parts), spans
