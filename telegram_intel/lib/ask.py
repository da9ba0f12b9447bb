"""Grounded answers, the pure part: numbered passages for the prompt, citation checks, the extractive (offline)
answer, and recognizing questions about people ("who in my groups does interior design?").

A citation is kept only when it names a passage that retrieval returned and its quote is, after normalization
(Unicode NFKC, case, quotes/dashes, whitespace), a substring of that passage's text; a quote may skip text with
"…"/"..." if its pieces appear in order. An answer marker ``[n]`` without a kept citation is removed, so no claim
points at a message that does not say it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from telegram_intel.lib.profession_taxonomy import PROFESSIONS, SECTORS, Profession

__all__ = [
    "ANSWER_SCHEMA", "Citation", "Passage", "PeopleQuery", "context_block", "extractive_answer", "is_relevant",
    "is_request", "normalize", "people_query", "quote_in", "strip_markers", "unsupported_numbers", "verify_citations", "IDK",
]

#: What the answer says when retrieval found nothing relevant (or the model abstained), per question language.
IDK = {
    "en": "I don't know: nothing in your chats answers this.",
    "ru": "Не знаю: в ваших чатах нет ответа на этот вопрос.",
    "tr": "Bilmiyorum: sohbetlerinizde bu sorunun cevabı yok.",
}

#: JSON schema of the model's answer (``llm/prompts/ask.md``). Only ``n`` and ``quote`` are needed to check a
#: citation; the message keys, when given, must agree with passage ``n``.
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["answerable", "answer", "citations"],
    "properties": {
        "answerable": {"type": "boolean"},
        "answer": {"type": "string", "maxLength": 2000},
        "citations": {
            "type": "array",
            "maxItems": 8,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["n", "quote"],
                "properties": {
                    "n": {"type": "integer"},
                    "chat_id": {"type": "integer"},
                    "message_id": {"type": "integer"},
                    "quote": {"type": "string", "maxLength": 400},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Passage:
    """A retrieved message as the prompt numbers it (``n`` from 1)."""

    n: int
    chat_id: int
    message_id: int
    text: str
    date: datetime | None = None
    chat_title: str | None = None
    sender_name: str | None = None
    similarity: float | None = None
    text_score: float | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.chat_id, self.message_id)


@dataclass
class Citation:
    n: int
    chat_id: int
    message_id: int
    quote: str
    chat_title: str | None = None
    sender_name: str | None = None
    date: datetime | None = None
    link: str | None = None  # t.me link, where Telegram has one for the chat

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["date"] = self.date.isoformat() if self.date else None
        return d


# ---------------------------------------------------------------------------------------------------------------
# Normalization and quote checks

_QUOTE_CHARS = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'",
                              "—": "-", "–": "-", "−": "-", "\u00a0": " ", "ё": "е"})
_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.)\s*")
_SPACE = re.compile(r"\s+")
_EDGE = re.compile(r"^[\s\"'.,;:!?()\[\]-]+|[\s\"'.,;:!?()\[\]-]+$")


def normalize(text: str | None) -> str:
    """Case-, width- and punctuation-variant-insensitive form for substring checks."""
    t = unicodedata.normalize("NFKC", text or "").casefold().translate(_QUOTE_CHARS)
    return _SPACE.sub(" ", t).strip()


def quote_in(quote: str, text: str, *, min_chars: int = 3) -> bool:
    """Whether ``quote`` (pieces split at an ellipsis, in order) occurs in ``text`` after normalization."""
    hay = normalize(text)
    pos = 0
    pieces = [_EDGE.sub("", normalize(p)) for p in _ELLIPSIS.split(quote or "")]
    pieces = [p for p in pieces if p]
    if not pieces or sum(len(p) for p in pieces) < min_chars:
        return False
    for piece in pieces:
        found = hay.find(piece, pos)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


_MARKER = re.compile(r"\s?\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


def strip_markers(text: str, keep: set[int]) -> str:
    """``text`` with every ``[n]`` / ``[n, m]`` marker whose numbers are not in ``keep`` removed (kept numbers
    stay in their marker)."""

    def repl(m: re.Match[str]) -> str:
        nums = [int(x) for x in m.group(1).split(",")]
        kept = [n for n in nums if n in keep]
        if not kept:
            return ""
        return f" [{', '.join(str(n) for n in kept)}]" if m.group(0).startswith(" ") else f"[{', '.join(map(str, kept))}]"

    return _MARKER.sub(repl, text).strip()


def markers(text: str) -> list[int]:
    return [int(x) for m in _MARKER.finditer(text or "") for x in m.group(1).split(",")]


@dataclass
class Checked:
    """The model's answer after the citation check."""

    answer: str
    citations: list[Citation]
    dropped: list[dict[str, Any]] = field(default_factory=list)  # {n, reason}


def verify_citations(answer: str, citations: Iterable[dict[str, Any]], passages: Sequence[Passage]) -> Checked:
    """Keep the citations that name a retrieved passage and quote it; drop the rest (with the reason) and the
    answer's markers that no kept citation backs. One citation per passage (the first that verifies)."""
    by_n = {p.n: p for p in passages}
    by_key = {p.key: p for p in passages}
    kept: dict[int, Citation] = {}
    dropped: list[dict[str, Any]] = []
    for c in citations:
        n = c.get("n")
        passage = by_n.get(n) if isinstance(n, int) else None
        key = (c.get("chat_id"), c.get("message_id"))
        if None not in key and (passage is None or passage.key != key):
            # the keys win over the number when they name another retrieved message
            passage = by_key.get(key)
            if passage is None:
                dropped.append({"n": n, "reason": "names a message that was not retrieved"})
                continue
        if passage is None:
            dropped.append({"n": n, "reason": "no such passage"})
            continue
        quote = " ".join(str(c.get("quote") or "").split())
        if not quote_in(quote, passage.text):
            dropped.append({"n": passage.n, "reason": "quote not found in the message"})
            continue
        if passage.n in kept:
            continue
        kept[passage.n] = Citation(passage.n, passage.chat_id, passage.message_id, quote, passage.chat_title,
                                   passage.sender_name, passage.date)
    text = strip_markers(answer or "", set(kept))
    # a kept citation the answer never points at still supports it: the answer gets its marker at the end
    shown = set(markers(text))
    missing = [n for n in kept if n not in shown]
    if missing and text:
        text = f"{text} [{', '.join(str(n) for n in missing)}]"
    return Checked(text, [kept[n] for n in sorted(kept)], dropped)


_NUMBER = re.compile(r"\d(?:[\d\u00a0 .,]*\d)?")


def _numbers(text: str) -> set[str]:
    """Digit strings of the numbers in ``text`` ("1 500", "1,500" and "1500" are one number)."""
    return {re.sub(r"\D", "", m.group(0)) for m in _NUMBER.finditer(text or "")}


def unsupported_numbers(answer: str, sources: Iterable[str]) -> list[str]:
    """Numbers the answer states that none of ``sources`` (the cited messages, the question) contains: a small
    model's figure that the quotes do not back."""
    have: set[str] = set()
    for text in sources:
        have |= _numbers(text)
    said = _numbers(_MARKER.sub(" ", answer or ""))
    return sorted(n for n in said if n not in have and not any(n in h for h in have))


# ---------------------------------------------------------------------------------------------------------------
# Prompt context


def context_block(passages: Sequence[Passage], *, max_chars: int = 700) -> str:
    """The numbered passages as the prompt shows them: ``[n] chat · date · sender (chat_id/message_id)`` then the
    text (cut at ``max_chars``)."""
    out = []
    for p in passages:
        when = p.date.strftime("%Y-%m-%d") if p.date else "?"
        text = p.text if len(p.text) <= max_chars else p.text[:max_chars].rsplit(" ", 1)[0] + " …"
        out.append(f"[{p.n}] chat: {p.chat_title or p.chat_id} · {when} · {p.sender_name or 'unknown sender'} "
                   f"(chat_id {p.chat_id}, message_id {p.message_id})\n{text}")
    return "\n\n".join(out)


# ---------------------------------------------------------------------------------------------------------------
# Relevance and the extractive answer

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = frozenset(
    "a an the and or but of to in on at for by with from is are was were be been am do does did i you he she it we "
    "they me my your our their this that these those what who whom how why when where which there here not no yes "
    "can could would should will just so if as about any some all have has had get got anyone someone somebody "
    "anybody know knows said say says tell told group groups chat chats".split()
    + "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от "
    "меня еще нет о из ему когда даже ну ли если уже или ни быть был него до вас там потом себя ничего ей может они "
    "тут где есть надо ней для мы тебя их чем была сам без чего раз тоже себе под будет ж тогда кто этот того "
    "этого какой какая какие какое здесь этом мой тем чтобы нее сейчас были куда зачем всех можно при про "
    "мои моих моей группах группе чатах чате кто-нибудь кто-то знает сказал говорил писал".split()
    + "ve bir bu da de mi mu mı mü ne için ile ama çok daha gibi şu o ben sen biz siz onlar var yok en her ki "
    "olarak olan kadar sonra önce değil kim kimin hangi nerede nasıl neden gruplarımda grupta sohbette".split()
)


def content_words(text: str) -> list[str]:
    return [w for w in (x.casefold() for x in _WORD.findall(text or "")) if w not in _STOP and len(w) > 1]


def _stem(word: str) -> str:
    # a crude shared prefix for ru/tr/en inflections: enough to tell which sentence of a message answers
    return word[: max(4, min(len(word) - 2, 6))] if len(word) > 4 else word


def overlap(question: str, text: str) -> float:
    """Share of the question's content words (by stem) present in ``text``."""
    q = {_stem(w) for w in content_words(question)}
    if not q:
        return 0.0
    t = {_stem(w) for w in content_words(text)}
    return len(q & t) / len(q)


def is_relevant(p: Passage, *, min_similarity: float, lexical_similarity: float, question: str = "") -> bool:
    """A passage answers the question when it is close in meaning (``min_similarity``), or shares words with it
    and is at least loosely close (``lexical_similarity``: a word match alone, "meeting" in any chat, is not
    enough)."""
    sim = p.similarity
    if sim is not None and sim >= min_similarity:
        return True
    lexical = bool(p.text_score) or (question and overlap(question, p.text) >= 0.5)
    if sim is None:
        return lexical
    return lexical and sim >= lexical_similarity


_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")


def best_span(question: str, text: str, *, max_chars: int = 240) -> str:
    """The sentence (or two) of ``text`` sharing most words with the question, verbatim; the whole text when short."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    if not sentences:
        return text[:max_chars]
    scored = sorted(range(len(sentences)), key=lambda i: (-overlap(question, sentences[i]), i))
    span = sentences[scored[0]]
    if len(span) > max_chars:
        span = span[:max_chars].rsplit(" ", 1)[0]
    return span


_REQUEST = re.compile(
    r"\?\s*$|\b(looking for|can anyone|does anyone|anyone know|recommend me|need an?)\b"
    r"|(?<!\w)(ищу|посоветуйте|подскажите|кто-нибудь|кто знает|нужен|нужна)(?!\w)"
    r"|(?<!\w)(arıyorum|önerebilir|bilen var|tavsiye eder|lazım)(?!\w)", re.IGNORECASE)


def is_request(text: str, *, max_chars: int = 200) -> bool:
    """A short message that asks (for a specialist, for information) rather than states: it answers nothing. A
    longer one that ends with a question ("…, who's coming?") is an announcement and may well answer."""
    text = " ".join((text or "").split())
    return len(text) <= max_chars and bool(_REQUEST.search(text))


def extractive_answer(question: str, passages: Sequence[Passage], *, max_passages: int = 3,
                      margin: float = 0.08, lang: str = "en") -> Checked:
    """The offline answer: the best-matching span of each of the top passages, quoted with who said it where and
    when, each cited. Nothing is paraphrased, so every citation verifies. Statements come before questions (a
    question in the chat answers nothing); passages much less similar than the best (``margin``) are left out, so
    the answer cites what supports it rather than everything retrieved."""
    lead = {"en": "From your chats:", "ru": "Из ваших чатов:", "tr": "Sohbetlerinizden:"}.get(lang, "From your chats:")
    lines, cites = [lead], []
    statements = [p for p in passages if not is_request(p.text)]
    ranked = statements or list(passages)
    best = max((p.similarity for p in ranked if p.similarity is not None), default=None)
    chosen = [p for p in ranked if best is None or p.similarity is None or p.similarity >= best - margin]
    for p in chosen[:max_passages]:
        span = best_span(question, p.text)
        when = p.date.strftime("%Y-%m-%d") if p.date else ""
        who = p.sender_name or "?"
        lines.append(f"- {who} ({p.chat_title or p.chat_id}, {when}): «{span}» [{p.n}]")
        cites.append({"n": p.n, "chat_id": p.chat_id, "message_id": p.message_id, "quote": span})
    return verify_citations("\n".join(lines), cites, passages)


# ---------------------------------------------------------------------------------------------------------------
# Questions about people

_WHO = re.compile(
    r"\b(who|whom|anyone|anybody|someone|somebody|people|recommend|know an?|looking for an?|need an?)\b"
    r"|(?<!\w)(кто|кого|кому|кем|посоветуйте|посоветуй|порекомендуйте|знает|ищу|нужен|нужна|есть ли)(?!\w)"
    r"|(?<!\w)(kim|kimse|kimler|biri|birisi|tanıyan|tanıyor|öner|önerir|arıyorum|lazım)(?!\w)",
    re.IGNORECASE)
_JOB_OF = re.compile(
    r"\b(what does .+ do|what is .+'s (?:job|profession|work)|(?:job|profession|occupation|work) of)\b"
    r"|(чем занимается|кем работает|кто по профессии|профессия|чем .+ занимается)"
    r"|(ne iş yapıyor|mesleği|ne yapıyor|ne iş yapar)", re.IGNORECASE)


@dataclass(frozen=True)
class PeopleQuery:
    """A question about who does what: the professions and sectors it names (best match first)."""

    professions: tuple[str, ...] = ()  # Profession.key
    sectors: tuple[str, ...] = ()

    def job_labels(self) -> list[str]:
        """Every English label and alias of the professions (what ``user_profiles.job_label`` holds)."""
        by_key = {p.key: p for p in PROFESSIONS}
        out: list[str] = []
        for key in self.professions:
            p = by_key[key]
            out += [p.label.lower(), *(a.lower() for a in p.aliases)]
        return out


def _word_prefix_match(label: str, words: Sequence[str]) -> bool:
    """Every word of ``label`` (3+ letters) starts like some word of the question (5-letter shared prefix, or the
    whole word when shorter)."""
    parts = [w for w in (x.casefold() for x in _WORD.findall(label)) if len(w) >= 3]
    if not parts:
        return False
    for part in parts:
        k = min(5, len(part))
        if not any(w[:k] == part[:k] and len(w) >= k for w in words):
            return False
    return True


def _profession_score(p: Profession, text: str, words: Sequence[str]) -> float:
    score = 0.0
    names = [*p.labels.values(), *p.aliases]
    if any(_word_prefix_match(n, words) for n in names):
        score += 3.0
    for stems in p.keywords.values():
        for stem in stems:
            if (" " in stem and stem in text) or (" " not in stem and any(w.startswith(stem) for w in words)):
                score += 1.0
    return score


def people_query(question: str, *, min_score: float = 2.0) -> PeopleQuery | None:
    """The professions/sectors a "who does X?" question asks for, or None when it is not such a question (no
    who-word, or no profession or sector named: "who said the meeting moved?" is a question about messages)."""
    if not _WHO.search(question or ""):
        return None
    text = normalize(question)
    words = [w.casefold() for w in _WORD.findall(text)]
    scored = sorted(((s, p.key) for p in PROFESSIONS if (s := _profession_score(p, text, words)) >= min_score),
                    reverse=True)
    sectors = tuple(key for key, labels in SECTORS.items()
                    if any(_word_prefix_match(v, words) for v in (key, *labels.values())))
    if not scored and not sectors:
        return None
    best = scored[0][0] if scored else 0.0
    # professions within one point of the best: "designer" alone is ambiguous and names several
    return PeopleQuery(tuple(k for s, k in scored if s >= best - 1.0)[:4], sectors)


def asks_job_of(question: str) -> bool:
    """Whether the question asks what a (named) person does for a living."""
    return bool(_JOB_OF.search(question or ""))


_EN_WORDS = frozenset("the a an what who whom how is are was were does do did in of to where when which my for "
                      "about can could any anyone".split())
_TR_WORDS = frozenset("ne kim kimin nerede nasıl hangi mi mı mu mü var ve için bir kaç zaman olan kadar neden "
                      "nedir gün saat".split())


def question_language(question: str) -> str:
    """ru / tr / en: Cyrillic is Russian; otherwise Turkish function words and letters against English function
    words (a Turkish place name in an English question stays English). Picks the wording of the answer's frame."""
    q = question or ""
    if re.search(r"[а-яё]", q, re.IGNORECASE):
        return "ru"
    words = [w.casefold() for w in _WORD.findall(q)]
    en = sum(w in _EN_WORDS for w in words)
    tr = sum(w in _TR_WORDS for w in words) + sum(bool(re.search(r"[çğışöü]", w)) for w in words) / 2
    return "tr" if tr > en else "en"
