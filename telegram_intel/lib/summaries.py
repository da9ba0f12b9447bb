"""Offline message summaries and keywords for ru/en/tr (deterministic, no network).

* **Keywords** (3–7 when the text has that many content words): candidate phrases are runs of up to two
  content words between stopwords and punctuation (RAKE-style); each word scores ``tf × idf`` where the
  document frequencies come from the corpus (``DocumentFrequencies``; the asset reads them from PostgreSQL's
  ``ts_stat`` over a window of ``clean_messages``). The replied-to message contributes at half weight, so a
  short reply ("ok, will do") still gets the topic it answers. Tokens cover Cyrillic, Latin and Turkish
  letters (``İ/ı`` lower-cased correctly), Turkish apostrophe suffixes are cut (``API'si`` → ``API``),
  masked values (``[PHONE]``, ``user_ab12cd34``) and URLs never become keywords.
* **Summary** (extractive): a short message is its own summary; a long one is reduced to its most
  informative sentence(s) (sum of keyword scores, length-normalized), cut at a word boundary. A message too
  short to stand on its own gets its reply context: ``Ok, will do — in reply to “Please send …”``.

``summarize_message(text, lang, context=..., df=...)`` returns both.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from telegram_intel.lib.intents import lower
from telegram_intel.lib.language import resolve_lang

METHOD_NAME = "extractive-tfidf"
METHOD_VERSION = "1"
METHOD = f"offline:{METHOD_NAME}@{METHOD_VERSION}"

MIN_KEYWORDS = 3
MAX_KEYWORDS = 7
DEFAULT_MAX_CHARS = 240

# Words: letters/digits with inner connectors (docker-compose, A/B, Next.js, API'si, don't).
_WORD = re.compile(r"[^\W_]+(?:[-'’/.+][^\W_]+)*", re.UNICODE)
_MASKED = re.compile(r"\[[A-Z_]+\]|\buser_[0-9a-z]{4,}\b|https?://\S+|www\.\S+|@\w+")
_HASHTAG = re.compile(r"#(\w+)")
# Hard boundaries for candidate phrases (a phrase never spans them).
_PHRASE_BREAK = re.compile(r"[.,;:!?…()\[\]{}\"«»“”„—–\n]|\s-\s")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+|\n+")
_APOSTROPHE = re.compile(r"['’]")
_HAS_LETTER = re.compile(r"[^\W\d_]")

_STOPWORDS_TEXT = {
    "ru": """
а без более бы был была были было быть в вам вас весь во вот все всё всего всех всем вы где да даже для до
его ее её ей ему если есть еще ещё же за здесь и из или им их к как ко когда кто ли либо мне может мы на
над надо наш не него нее неё нет ни них но ну о об однако он она они оно от очень по под при с со так
также такой там те тем то того тоже той только том ты у уже хотя чего чей чем что чтобы чье чья эта эти
это этого этой этом этот я мой моя моё мои твой твоя твоё твои свой своя своё свои наша наше наши ваш ваша
ваше ваши меня тебя себя него нему ним нём ней нею них ними нам нами вам вами им ими сам сама само сами
тут потом теперь тогда сейчас всегда иногда никогда опять снова вообще кстати просто типа вроде ведь вон
ага угу ок окей ладно хорошо да нет спасибо пожалуйста привет пока ребята ребят коллеги всем друзья народ
давай давайте можно нужно надо будет буду будем будете будут есть был была было были это эти этот эта
какой какая какое какие который которая которое которые кто-то кто-нибудь что-то что-нибудь где-то
почему зачем сколько куда откуда чтоб разве неужели либо ли бы же вот лишь ещё уж уже именно
много мало больше меньше лучше хуже очень слишком совсем почти около через после перед между
один одна одно два две три раз чуть пару
""",
    "en": """
a about above after again against all am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers
herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more
most mustn't my myself no nor not of off on once only or other ought our ours ourselves out over own same
shan't she she'd she'll she's should shouldn't so some such than that that's the their theirs them
themselves then there there's these they they'd they'll they're they've this those through to too under
until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's which
while who who's whom why why's with won't would wouldn't you you'd you'll you're you've your yours yourself
yourselves just also still even really actually maybe well yeah yes ok okay oh hey hi hello thanks thank
please pls lol guys everyone anyone someone something anything everything nothing everybody get got
will shall may might must need
one two three lot lots bit thing things way much many now today tomorrow yesterday right sure
""",
    "tr": """
acaba ama ancak artık aslında az bana bazen bazı belki ben beni benim beri bile bir biraz birçok biri
birkaç birşey biz bize bizi bizim bu buna bunda bundan bunlar bunları bunların bunu bunun burada da daha
dahi de defa değil diye dolayı en fakat gibi göre hala hâlâ hangi hatta hem hep hepsi her herkes hiç
için ile ise işte kadar kendi ki kim kimse mi mı mu mü nasıl ne neden nerede nereye niçin niye o olan olarak
oldu olduğu olsun olur on ona ondan onlar onları onların onu onun orada öyle pek sadece sanki sen senin
siz sizin şey şöyle şu şuna şunu tabii tüm üzere var ve veya ya yani yok zaten çok çünkü da de ile mi
merhaba selam teşekkürler teşekkür lütfen tamam evet hayır arkadaşlar abi hocam herkese şimdi bugün yarın
dün sonra önce bence olabilir lazım gerek gerekiyor ben sen biz siz onlar bunu şunu iki üç yüzden
ayrıca sonunda böyle şöyle hemen
""",
}
# Chat formulas: never keywords while the message has anything better (then "привет" beats nothing).
_FILLER_TEXT = {
    "ru": "привет приветик здравствуйте здравствуй спасибо спасибки спс благодарю пока ребята ребят коллеги "
          "друзья народ доброе добрый доброго утро утра день вечер вечера ночи большое огромное",
    "en": "hi hello hey thanks thank thx bye guys folks everyone morning evening night",
    "tr": "merhaba merhabalar selam selamlar teşekkürler teşekkür sağ ol arkadaşlar günaydın iyi akşamlar "
          "geceler günler herkese",
}
# Time words and very common verbs/adverbs: fine alone (at a discount) but never part of a key phrase.
_WEAK_TEXT = {
    "ru": "неделя неделю неделе недели месяц месяца году год сегодня завтра вчера утром вечером днём ночью "
          "могу может могут можем хочу хочет хотят знаю знает думаю кажется сделал сделала сделали делаю "
          "делает будет было стало стал станет нужен нужна нужно есть идёт идет пришёл пришел получилось "
          "работает работают смотреть посмотреть сказал сказала говорит вроде примерно сразу потом давно "
          "видел видела видели посмотрю сделаю скажу напишу проверю отправлю пришлю гляну новый новая новое "
          "новые новую нового новых старый старая старое старые хороший хорошая хорошее хорошие большой "
          "большая большое большие маленький самый самая самое последний последняя последние",
    "en": "last next month week year day days time times ago far else want wants wanted take takes took make "
          "makes made run runs ran go goes went come comes came see sees saw know knows knew think thinks "
          "thought say says said look looks looked seem seems use uses used need needs work works try tries "
          "let lets give gives gave find finds found tell tells told ask asks put keep keeps happy sure done "
          "great good new old big small little long short back soon already usually often",
    "tr": "hafta haftaya ay yıl gün saat bugün yarın dün sabah akşam gece şu an artık hemen sonra önce yine "
          "oldu olur olmuş oluyor yaptım yaptık yapıyorum yapacağım geldi gitti var yok lazım gerek istiyor "
          "istiyorum biliyor bilmiyorum düşünüyorum bence sanırım galiba",
}
_WEAK_SUFFIXES = {
    "ru": ("ться", "тся", "ть", "ешь", "ете", "ите", "йте", "ьте", "ают", "яют", "уют", "ует", "ает", "яет",
           "еет", "ишь", "ило", "ила", "или", "ала", "али", "ело", "ела", "ели", "лся", "лась", "лись", "ался"),
    "en": ("ed",),
    "tr": ("yor", "yorum", "yoruz", "yorsun", "yorlar", "dım", "dim", "dum", "düm", "tım", "tim", "tum", "tüm",
           "dık", "dik", "duk", "dük", "tık", "tik", "tuk", "tük", "mış", "miş", "muş", "müş", "acak", "ecek",
           "acağım", "eceğim", "malı", "meli", "ıyor", "iyor", "uyor", "üyor", "dı", "di", "du", "dü", "tı", "ti",
           "tu", "tü"),
}


def _wordset(text_by_lang: Mapping[str, str]) -> dict[str, frozenset[str]]:
    return {lang: frozenset(text.split()) for lang, text in text_by_lang.items()}


STOPWORDS: dict[str, frozenset[str]] = _wordset(_STOPWORDS_TEXT)
FILLER: dict[str, frozenset[str]] = _wordset(_FILLER_TEXT)
_WEAK: dict[str, frozenset[str]] = _wordset(_WEAK_TEXT)
_ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())
_ALL_FILLER = frozenset().union(*FILLER.values())


@dataclass(frozen=True)
class DocumentFrequencies:
    """How many corpus documents contain each (lower-cased) word; idf = ln((N+1)/(df+1)) + 1."""

    n_docs: int = 0
    df: Mapping[str, int] = field(default_factory=dict)

    def idf(self, word: str) -> float:
        if self.n_docs <= 0:
            return 1.0
        count = max(1, int(self.df.get(word, 1)))
        return math.log((self.n_docs + 1) / (count + 1)) + 1.0


def build_document_frequencies(texts: Iterable[str], langs: Iterable[str | None] | None = None) -> DocumentFrequencies:
    """Document frequencies from texts (tests, small corpora; the asset uses PostgreSQL's ``ts_stat``)."""
    counts: Counter[str] = Counter()
    n = 0
    lang_iter = iter(langs) if langs is not None else None
    for text in texts:
        lang = next(lang_iter) if lang_iter is not None else None
        counts.update({w.norm for w in _words(text, resolve_lang(text, lang))})
        n += 1
    return DocumentFrequencies(n, dict(counts))


# =============================================================================================
# Tokens and candidates
# =============================================================================================

@dataclass(frozen=True)
class _Word:
    surface: str  # as written, Turkish apostrophe suffix removed
    norm: str  # lower-cased
    start: int
    end: int
    sentence_start: bool
    break_before: bool  # punctuation between this word and the previous one


def _strip_suffix(token: str) -> str:
    parts = _APOSTROPHE.split(token, maxsplit=1)
    return parts[0] if len(parts) == 2 and parts[0] else token


def _words(text: str, lang: str) -> list[_Word]:
    text = _MASKED.sub(" , ", _HASHTAG.sub(r"\1", text or ""))  # a masked value also breaks a phrase
    out: list[_Word] = []
    prev_end = 0
    for m in _WORD.finditer(text):
        between = text[prev_end:m.start()]
        prev_end = m.end()
        raw = m.group(0).strip("-/.+")
        if not raw:
            continue
        full = lower(raw, lang)
        surface = raw if full in _ALL_STOPWORDS else _strip_suffix(raw)
        out.append(_Word(surface, lower(surface, lang), m.start(), m.end(),
                         sentence_start=not out or bool(re.search(r"[.!?…\n]", between)),
                         break_before=bool(_PHRASE_BREAK.search(between))))
    return out


def _is_content(word: _Word, lang: str, *, allow_filler: bool = False) -> bool:
    norm = word.norm
    if norm in _ALL_FILLER:
        return allow_filler
    if norm in _ALL_STOPWORDS:
        return False
    if not _HAS_LETTER.search(norm):
        return False  # numbers, dates, times
    return len(norm) >= 3 or (len(norm) >= 2 and word.surface.isupper())  # "CI", "QA" count; "ok" does not


def _is_weak(word: _Word, lang: str) -> bool:
    norm = word.norm
    if norm in _WEAK.get(lang, ()):
        return True
    if any(c.isupper() for c in word.surface[1:]):
        return False  # PostgreSQL, iOS
    return len(norm) >= 5 and norm.endswith(_WEAK_SUFFIXES.get(lang, ()))


def _display(word: _Word) -> str:
    """Lower-case unless it looks like a name or an acronym (``PostgreSQL``, ``CI``, ``Kadıköy`` mid-sentence)."""
    s = word.surface
    if any(c.isupper() for c in s[1:]) or (s[:1].isupper() and not word.sentence_start):
        return s
    return word.norm


@dataclass
class _Candidate:
    words: tuple[_Word, ...]
    weight: float  # 1.0 message, 0.5 context (halved again for a weak word alone)
    first_pos: int

    @property
    def key(self) -> str:
        return " ".join(w.norm for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(_display(w) for w in self.words)


def _candidates(text: str, lang: str, weight: float, max_len: int = 2, *,
                allow_filler: bool = False) -> list[_Candidate]:
    """Runs of up to ``max_len`` content words; weak words (verbs, time words) stand alone at half weight."""
    out: list[_Candidate] = []
    run: list[_Word] = []

    def flush() -> None:
        nonlocal run
        while run:
            piece, run = run[:max_len], run[max_len:]
            out.append(_Candidate(tuple(piece), weight, piece[0].start))

    for w in _words(text, lang):
        if w.break_before:
            flush()
        if not _is_content(w, lang, allow_filler=allow_filler):
            flush()
        elif _is_weak(w, lang):
            flush()
            out.append(_Candidate((w,), weight * 0.5, w.start))
        else:
            run.append(w)
    flush()
    return out


def _stem(norm: str, lang: str) -> str:
    """A crude stem for de-duplicating inflected forms (ru/tr morphology): the first 5–6 letters."""
    if lang in ("ru", "tr") and len(norm) > 6:
        return norm[:max(5, len(norm) - 3)]
    return norm.rstrip("s") if lang == "en" and len(norm) > 4 else norm


def available_keywords(text: str, lang: str | None = None, context: str | None = None) -> int:
    """How many distinct content words message + context have (a message with fewer than
    ``MIN_KEYWORDS`` cannot get three honest keywords; the asset check allows that)."""
    lang = resolve_lang(text or context or "", lang)
    seen = set()
    for source in (text or "", context or ""):
        for c in _candidates(source, lang, 1.0):
            seen.update(_stem(w.norm, lang) for w in c.words)
    if not seen:
        for c in _candidates(text or "", lang, 1.0, allow_filler=True):
            seen.update(_stem(w.norm, lang) for w in c.words)
    return len(seen)


# =============================================================================================
# Keywords
# =============================================================================================

def _word_scores(cands: Sequence[_Candidate], df: DocumentFrequencies | None, lang: str) -> dict[str, float]:
    tf: Counter[str] = Counter()
    for c in cands:
        for w in c.words:
            tf[w.norm] += c.weight
    df = df or DocumentFrequencies()
    return {word: (1.0 + math.log(count)) * df.idf(word) if count >= 1 else count * df.idf(word)
            for word, count in tf.items()}


def extract_keywords(text: str, lang: str | None = None, *, context: str | None = None,
                     df: DocumentFrequencies | None = None, min_k: int = MIN_KEYWORDS,
                     max_k: int = MAX_KEYWORDS) -> list[str]:
    """3–7 keywords/key phrases, most important first (fewer only if the texts have fewer content words)."""
    lang = resolve_lang(text or context or "", lang)
    cands = _candidates(text or "", lang, 1.0)
    ctx_cands = _candidates(context or "", lang, 0.5) if context else []
    if not cands and not ctx_cands:  # "Привет всем!": the formula is all there is
        cands = _candidates(text or "", lang, 1.0, allow_filler=True)
    scores = _word_scores(cands + ctx_cands, df, lang)

    def phrase_score(c: _Candidate) -> float:
        total = sum(scores[w.norm] for w in c.words)
        return c.weight * total / math.sqrt(len(c.words))

    ranked: dict[str, tuple[float, _Candidate]] = {}
    for c in cands + ctx_cands:
        s = phrase_score(c)
        if c.key not in ranked or s > ranked[c.key][0]:
            ranked[c.key] = (s, c)
    # deterministic: score, then earlier in the text, then alphabetical
    order = sorted(ranked.values(), key=lambda sc: (-round(sc[0], 9), sc[1].weight < 1, sc[1].first_pos, sc[1].key))
    chosen: list[_Candidate] = []
    covered: set[str] = set()
    top = order[0][0] if order else 0.0
    for s, c in order:
        stems = {_stem(w.norm, lang) for w in c.words}
        if stems <= covered:
            continue  # every word already in a chosen phrase (or an inflection of one)
        if len(chosen) >= min_k and s < 0.3 * top:
            break
        chosen.append(c)
        covered |= stems
        if len(chosen) >= max_k:
            break
    if len(chosen) < min_k:  # too few phrases: split them into their words (distinct stems)
        words: list[_Candidate] = []
        stems_seen: set[str] = set()
        for c in chosen + [c for _, c in order if c not in chosen]:
            for w in c.words:
                stem = _stem(w.norm, lang)
                if stem not in stems_seen:
                    stems_seen.add(stem)
                    words.append(_Candidate((w,), c.weight, w.start))
        if len(words) > len(chosen):
            chosen = words[:max(min_k, len(chosen))]
    out, seen = [], set()
    for c in chosen:
        if c.text.lower() not in seen:
            seen.add(c.text.lower())
            out.append(c.text)
    return out[:max_k]


# =============================================================================================
# Summary
# =============================================================================================

_REPLY_TEMPLATES = {
    "ru": "{message} — в ответ на «{context}»",
    "en": "{message} — in reply to “{context}”",
    "tr": "{message} — “{context}” mesajına yanıt",
}


def _normalize(text: str) -> str:
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in (text or "").splitlines()]
    return "\n".join(line for line in lines if line)


def _is_noise(sentence: str) -> bool:
    """Hashtag-only lines, emoji, bare placeholders."""
    rest = _MASKED.sub("", re.sub(r"#\w+", "", sentence))
    return not _HAS_LETTER.search(rest)


def truncate(text: str, max_chars: int) -> str:
    """Cut at a word boundary and add an ellipsis (never mid-word unless a single word is too long)."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    space = cut.rfind(" ")
    if space >= max_chars // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:—–-") + "…"


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(_normalize(text)) if s.strip() and not _is_noise(s)]


def _content_words(text: str, lang: str) -> int:
    return sum(1 for w in _words(text, lang) if _is_content(w, lang))


def summarize(text: str, lang: str | None = None, *, context: str | None = None,
              df: DocumentFrequencies | None = None, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """An extractive summary of ``text`` (see the module docstring); never empty for non-empty input."""
    lang = resolve_lang(text or context or "", lang)
    sentences = _sentences(text) or [" ".join((text or "").split())]
    if len(sentences) <= 2 and sum(len(s) for s in sentences) <= max_chars:
        body = " ".join(sentences)
    else:
        cands = _candidates(text, lang, 1.0) + (_candidates(context, lang, 0.5) if context else [])
        scores = _word_scores(cands, df, lang)

        def sentence_score(i: int, s: str) -> float:
            words = [w for w in _words(s, lang) if _is_content(w, lang)]
            if not words:
                return 0.0
            score = sum(scores.get(w.norm, 0.0) for w in {w.norm: w for w in words}.values())
            return score / math.sqrt(len(_words(s, lang))) + (0.1 if i == 0 else 0.0)

        ranked = sorted(range(len(sentences)), key=lambda i: (-sentence_score(i, sentences[i]), i))
        picked = [ranked[0]]
        for i in ranked[1:]:
            if sum(len(sentences[j]) + 1 for j in picked) + len(sentences[i]) <= max_chars:
                picked.append(i)
            if len(picked) == 2:
                break
        body = " ".join(sentences[i] for i in sorted(picked))
    body = truncate(body, max_chars)
    if context and context.strip() and _content_words(text, lang) < 3:
        # "ok, will do" means nothing alone: say what it answers
        room = max(40, max_chars - len(body) - 25)
        ctx = summarize(context, lang, df=df, max_chars=min(room, 120))
        return truncate(_REPLY_TEMPLATES[lang].format(message=body.rstrip(), context=ctx), max_chars + 40)
    return body


@dataclass(frozen=True)
class MessageSummary:
    summary: str
    keywords: list[str]
    method: str = METHOD


def summarize_message(text: str, lang: str | None = None, *, context: str | None = None,
                      df: DocumentFrequencies | None = None, max_chars: int = DEFAULT_MAX_CHARS) -> MessageSummary:
    lang = resolve_lang(text or context or "", lang)
    return MessageSummary(
        summary=summarize(text, lang, context=context, df=df, max_chars=max_chars),
        keywords=extract_keywords(text, lang, context=context, df=df),
    )
