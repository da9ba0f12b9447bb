"""Offline entity extraction for Russian, English and Turkish chat messages (pure Python, no I/O).

What comes out of one message (``EntityExtractor.extract``):

* **people** -- ``@username`` resolved through a username map; pseudonyms that the corpus wrote in place of
  mentions and known names (``@user_1a2b3c4d`` / ``user_1a2b3c4d``) resolved through a pseudonym map; the author
  of the message replied to (given by the caller); capitalized name sequences in the middle of a sentence
  (``Иван Петров``, ``Ayşe Demir``, ``John``) when a first name is known or the last word looks like a Russian
  surname. Known users get the key ``user:<id>``; other people their normalized name. Pseudonyms and usernames
  that resolve to no known user are dropped: an unresolvable pseudonym may belong to an opted-out user.
* **organizations** -- names with a legal form (``Acme Inc.``, ``ООО «Ромашка»``, ``Koç Holding``,
  ``Demir Yapı A.Ş.``, ``Foo Ltd``).
* **projects** -- quoted names (``«Северный поток»``, ``"Project Phoenix"``), CamelCase and versioned tokens
  (``AutoCAD``, ``ProjectX``, ``Falcon v2``), multiword capitalized names (``Google Classroom``) and single
  capitalized Latin words mid-sentence (``Docker``, ``Revit``): in these chats they are products and tools.
* **topics** -- hashtags, acronyms (``API``, ``НДС``, ``KDV``) and keyword candidates: content words and
  two-word phrases between stopwords/punctuation, keyed by a light stem (``планировку кухни`` and
  ``планировка кухни`` share the key ``планировк кухн``; ``planını`` and ``planı`` share ``plan``).

Every hit names the rule that found it (``EntityHit.method`` = ``offline:<rule>@<version>``). The same text
always gives the same hits in the same order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from telegram_intel.lib.language import resolve_lang

__all__ = [
    "EXTRACTOR_VERSION",
    "ENTITY_KINDS",
    "EntityHit",
    "EntityExtractor",
    "entity_key",
    "lower",
    "stem",
]

EXTRACTOR_VERSION = "1"
ENTITY_KINDS = ("person", "topic", "organization", "project")

# =============================================================================================
# Lexicons
# =============================================================================================

_STOP_RU = """
а без более бы был была были было быть в вам вас весь во вот все всё всего всех вы где да даже для до его ее её
ей ему если есть еще ещё же за здесь и из или им их к как ко когда кто ли либо мне может мы на над надо наш не
него нее неё нет ни них но ну о об однако он она они оно от очень по под при с со так также такой там те тем то
того тоже той только том ты у уже хотя чего чей чем что чтобы чье чья эта эти это этот я ещё вообще просто
сейчас сегодня завтра вчера потом тогда теперь опять снова уже всегда никогда иногда часто давно скоро вечером
утром днём днем ночью понедельник вторник среду среда четверг пятницу пятница субботу суббота воскресенье
неделе неделю неделя неделей месяц месяца году год лет раз два три четыре пять один одна одно какой какая какие
какое каких который которая которые которое которых свой своя свои своё свое мой моя мои моё мое твой твоя
наша наши ваш ваша ваши себя себе мной тебя тебе нам нас ими весь вся всю всем всеми сам сама само сами самый
много мало больше меньше лучше хуже можно нужно нельзя надо пора кажется конечно наверное может быть будет
будут буду будем был была было были есть нет да ок окей ладно хорошо спасибо пожалуйста привет здравствуйте
пока добрый доброе доброй утро день вечер ночи всем коллеги друзья ребята народ кто-нибудь кто-то что-то
где-то как-то когда-то почему зачем откуда куда сколько тут туда сюда оттуда отсюда именно почти совсем
вроде типа короче вообще-то кстати например значит поэтому потому если бы чтоб пусть давай давайте
мочь могу можешь может можем можете могут хочу хочешь хочет хотим хотите хотят знаю знаешь знает думаю
думаешь думает сделал сделала сделали делаю делаем делать сделать скажи скажите подскажите посмотрите
посмотреть посмотрел посмотрела скиньте скинь отправлю отправьте отправил отправила проверьте проверь
нужен нужна нужны нужно успел успела получилось получится получилось работает работаю работаем
""".split()

_STOP_EN = """
a about above after again against all am an and any are aren't as at be because been before being below between
both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from
further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how
how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor not of off
on once only or other ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so
some such than that that's the their theirs them themselves then there there's these they they'd they'll they're
they've this those through to too under until up very was wasn't we we'd we'll we're we've were weren't what
what's when when's where where's which while who who's whom why why's with won't would wouldn't you you'd you'll
you're you've your yours yourself yourselves don doesn didn isn wasn aren weren won wouldn couldn shouldn hasn
haven hadn can't just also still already again yet really actually maybe probably please thanks thank thx ok okay
hello hi hey bye yes yeah yep nope sure right well good great nice cool awesome today tomorrow tonight yesterday
now later soon week weeks month months year years day days time times monday tuesday wednesday thursday friday
saturday sunday morning evening night next last first one two three four five anyone someone something anything
everyone everything nothing guys folks team all everybody somebody could would should might must will shall
need needs needed get gets got getting make makes made making take takes took do done does go goes went going
come comes came know knows knew think thinks thought see saw seen look looks looked want wants wanted let lets
say says said tell told ask asked use used using try tried work works worked working send sent check checked
help helped give gave keep kept put way thing things lot lots bit much many more less new old same other another
back again only even ever never always sometimes often usually usual here there up down off away around
""".split()

_STOP_TR = """
acaba ama ancak aslında az bana bazı belki ben benden beni benim bu buna bunda bundan bunu bunun burada çok çünkü
da daha de değil diye dolayı en gibi göre hem hep hepsi her hiç için ile ise işte kadar ki kim kimse mi mı mu mü
nasıl ne neden nerede neredeyse niye o olan olarak oldu olduğu olsun on ona ondan onlar onu onun öyle sadece sanki
şey şimdi siz sizi sizin şu şuna şunu tabii tamam ve veya ya yani yine zaten bir iki üç dört beş biz bizim bizi
sen seni senin onlara bunlar şunlar hangi hangisi kaç artık bile bugün yarın dün akşam sabah hafta haftaya ay yıl
gün günü pazartesi salı çarşamba perşembe cuma cumartesi pazar merhaba selam teşekkürler teşekkür sağol sağolun
lütfen evet hayır tamam peki iyi güzel harika süper arkadaşlar herkes biri birisi birşey bir şey var yok lazım
gerek gerekiyor olur olmaz oldu olacak olmuş değil misin mısın musun müsün mıyım miyim şöyle böyle önce sonra
hemen hala hâlâ yeni eski aynı diğer başka tüm bütün hep bazen genelde
""".split()

# Chat filler: agreement, thanks, time words and vague nouns that would otherwise top every user's topics.
_STOP_CHAT = """
согласен согласна согласны отличная отличный отлично отличные стоит стоить минут минуты минуту час часа часов
время времени дело дела вопрос вопросы идея идею мысль нюансы большое благодарю круто супер класс классно
спасибо хорошая хороший хорошего честно кажется наконец-то вообще пару нормально нормальный сразу всё-таки
agree agreed able minute minutes hour hours late argue guess point thing stuff pretty lol glad idea question
questions caveats honest appreciate awesome everyone anyone folks sure thanks cool
dakika dakikalık saat saatte katılıyorum bence soru fikir süper harika teşekkür teşekkürler sağ ol
""".split()

# Words that are capitalized mid-sentence without naming an entity.
_STOP_CAPS = {
    "i", "i'm", "i'll", "i've", "i'd", "ok", "okay", "god", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "english", "russian", "turkish", "thanks", "hello", "hi", "pls", "please",
    "mr", "mrs", "ms", "dr", "prof", "the", "a", "an",
}

_FIRST_NAMES = set("""
александр алексей андрей антон артём артем борис вадим валентин василий виктор виталий владимир владислав
вячеслав геннадий георгий глеб григорий даниил денис дмитрий евгений егор иван игорь илья кирилл константин лев
леонид максим марк михаил никита николай олег павел пётр петр роман руслан сергей станислав степан тимур фёдор
федор юрий ярослав саша дима миша паша коля серёжа сережа лёша леша женя ваня вова костя витя
александра алина алла анастасия анна валентина валерия вера виктория галина дарья евгения екатерина елена
елизавета жанна зоя ирина карина ксения лариса людмила любовь маргарита марина мария надежда наталья наталия
нина оксана ольга полина светлана софия софья татьяна ульяна юлия яна маша катя настя лена оля таня юля даша
john james robert michael william david richard joseph thomas charles daniel matthew anthony mark paul steven
andrew kevin brian george edward peter jack oliver harry jacob noah liam ethan lucas henry alex sam ben tom bob
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa emily emma olivia sophia
anna kate katie laura rachel amy helen alice grace chloe lucy hannah julia maria sophie ella mia
mehmet mustafa ahmet ali hüseyin hasan ibrahim ismail osman yusuf murat ömer emre burak can cem deniz efe
emir eren hakan kaan kemal kerem mert onur serkan tolga volkan yiğit barış baran berk arda umut selim
ayşe fatma emine hatice zeynep elif meryem şerife zehra sultan hanife merve büşra esra özlem gamze derya
ebru ece ceren defne ela irem melis pınar selin seda sevgi tuğba yasemin nur buse damla gizem aslı
""".split())

# Legal forms: before the name in Russian, after it elsewhere. Compared without dots, lowercased.
_ORG_PREFIX = {"ооо", "оао", "зао", "пао", "ао", "ип", "нко", "фгуп", "гуп", "муп", "ано"}
_ORG_SUFFIX = {
    "inc", "llc", "ltd", "corp", "corporation", "gmbh", "plc", "ag", "sa", "bv", "oy", "ab", "co", "company",
    "aş", "aş", "a.ş", "şti", "ltd.şti", "holding", "group", "bank", "bankası", "university", "üniversitesi",
    "университет", "банк", "групп", "холдинг",
}

# Russian surnames: -ов/-ев/-ин/-ский/-цкий and their case/gender forms, -ович/-евич patronymics.
_RU_SURNAME = re.compile(r"(?:ов|ев|ёв|ин|ын|ск|цк|ович|евич|овн|евн)(?:а|у|ым|ой|е|ы|ий|ая|ую|ого|ому|им|ом)?$")

_RU_SUFFIXES = sorted(
    "иями ями ами ого его ому ему ыми ими ией ий ый ой ей ая яя ое ее ые ие ых их ую юю ом ем ам ям ах ях ов ев ью "
    "ия ию ии а я у ю е о ы и ь й".split(),
    key=len, reverse=True,
)
_TR_SUFFIXES = sorted(
    "lardan lerden larda lerde ların lerin ları leri lar ler ının inin unun ünün ndan nden dan den tan ten nda nde "
    "daki deki taki teki nın nin nun nün yla yle ın in un ün da de ta te ya ye yı yi yu yü sı si su sü nı ni nu nü "
    "na ne la le ı i u ü a e".split(),
    key=len, reverse=True,
)
_TR_VOWELS = set("aeıioöuü")
_TR_VERB = re.compile(r"(?:mak|mek|mıyor|miyor|muyor|müyor|ıyor|iyor|uyor|üyor|yor|yorum|yoruz|yorlar|mış|miş|muş|"
                      r"müş|acak|ecek|acağım|eceğim|malı|meli|abilir|ebilir|madı|medi|dım|dim|dum|düm|tım|tim|tum|"
                      r"tüm|dık|dik|duk|dük|tık|tik|tuk|tük|dılar|diler|dular|düler|tılar|tiler|tular|tüler)$")
# Infinitives, imperatives and masculine/plural past forms; nouns ending like these (-ал, -ел: канал, отдел)
# are left alone.
_RU_VERB = re.compile(r"(?:ться|тся|ть|чь|ьте|йте|ите|ил|ыл|ял|ила|ыла|яла|или|ыли|яли|али|ило|ыло)(?:ся|сь)?$")
_EN_VERB = re.compile(r"[a-z]{4,}ed$")

_STOPWORDS = frozenset(w.replace("ё", "е") for w in (*_STOP_RU, *_STOP_EN, *_STOP_TR, *_STOP_CHAT))

# =============================================================================================
# Text helpers
# =============================================================================================

_CYR = re.compile(r"[а-яёА-ЯЁ]")
_TR_UPPER = str.maketrans({"I": "ı", "İ": "i"})


def lower(s: str, lang: str = "en") -> str:
    """Lowercase with Turkish dotted/dotless i in Turkish, ``ё`` folded to ``е``."""
    if lang == "tr":
        s = s.translate(_TR_UPPER)
    return s.lower().replace("ё", "е")


def _lex(s: str, lang: str) -> str:
    """Lowercase for keys and word lists: ASCII words the English way (so "Inc", "IBAN" or "Illustrator" get one
    key whatever the message's language), the rest language-aware."""
    return lower(s, "en" if s.isascii() else lang)


def stem(word: str, lang: str) -> str:
    """A light, deterministic stem: strips one Russian ending, Turkish endings, English plurals.

    Aggressive enough that the case forms of a noun share a key, short enough not to need a dictionary.
    """
    w = word
    if _CYR.search(w):
        for suf in _RU_SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= 4:
                return w[: -len(suf)]
        return w
    if lang == "tr":
        for _ in range(3):
            for suf in _TR_SUFFIXES:
                if not w.endswith(suf):
                    continue
                rest = w[: -len(suf)]
                # n/y/s are buffer consonants after a vowel (plan-ı-nı, masa-yı, kredi-si): they need a longer
                # stem, else the root's own last consonant goes (planı must not become "pla").
                if suf[0] in "nys" and (len(rest) < 4 or rest[-1] not in _TR_VOWELS):
                    continue
                if len(rest) >= 3:
                    w = rest
                    break
            else:
                break
        return w
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith("sses"):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _strip_apostrophe(word: str) -> str:
    # Turkish suffixes after proper nouns (API'si, Ayşe'ye) and English possessives/contractions.
    for ap in ("'", "’"):
        if ap in word:
            word = word.split(ap, 1)[0]
    return word


def _is_camel(tok: str) -> bool:
    """CamelCase / mixed case / letters with digits: AutoCAD, SketchUp, iOS, ProjectX, GPT-4, Next.js, A7."""
    letters = [c for c in tok if c.isalpha()]
    if len(letters) < 1:
        return False
    has_digit = any(c.isdigit() for c in tok)
    if has_digit and len(tok) >= 2:
        return True
    inner_upper = any(c.isupper() for c in tok[1:]) and any(c.islower() for c in tok)
    return inner_upper or "." in tok.strip(".")


def _is_acronym(tok: str) -> bool:
    letters = [c for c in tok if c.isalpha()]
    return 2 <= len(letters) <= 6 and all(c.isupper() for c in letters) and not any(c.isdigit() for c in tok)


def _is_title(tok: str) -> bool:
    return tok[:1].isupper() and (len(tok) == 1 or tok[1:].replace("-", "").islower())


_VERSION = re.compile(r"^(?:v|V)\d+(?:\.\d+)*$|^\d+(?:\.\d+)+$|^(?:I|II|III|IV|V|VI|VII|VIII|IX|X)$")

# =============================================================================================
# Tokens
# =============================================================================================

_TOKEN = re.compile(
    r"""
     (?P<hashtag>\#[^\W_][\w]*)
    |(?P<mention>@[A-Za-z][A-Za-z0-9_]{3,31})
    |(?P<placeholder>\[[A-Za-z_]+\])
    |(?P<url>(?:https?://|www\.)\S+)
    |(?P<word>[^\W\d_](?:\w|[-'’.](?=[^\W_]))*)
    |(?P<number>\d(?:\w|[-.,:/%](?=\w))*)
    |(?P<quote>[«»“”„"])
    |(?P<stop>[.!?…]+|\n)
    |(?P<punct>[,;:()\[\]{}|/\\—–\-+=*&<>~^])
    """,
    re.VERBOSE,
)

_OPEN_QUOTES = {"«": "»", "“": "”", "„": "“", '"': '"'}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # hashtag mention placeholder url word number quote stop punct
    text: str
    start: int
    end: int
    sentence_start: bool


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    at_start = True
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "punct"
        out.append(_Tok(kind, m.group(), m.start(), m.end(), at_start))
        if kind == "stop":
            at_start = True
        elif kind not in ("quote", "punct") or m.group() in "()":
            at_start = False
    return out


# =============================================================================================
# Hits
# =============================================================================================


@dataclass(frozen=True, slots=True)
class EntityHit:
    """One entity found in one message. ``key`` is normalized (what rows are unique on); ``name`` is as written."""

    kind: str
    key: str
    name: str
    rule: str
    user_id: int | None = None

    @property
    def method(self) -> str:
        return f"offline:{self.rule}@{EXTRACTOR_VERSION}"


def entity_key(kind: str, name: str, lang: str | None = None) -> str:
    """The normalized key of a name of a given kind (used for LLM answers as well as offline hits)."""
    lang = resolve_lang(name, lang)
    words = [w for w in re.findall(r"[^\W_](?:[\w]|[-.'’](?=\w))*", name)]
    if kind == "topic":
        return " ".join(stem(_lex(_strip_apostrophe(w), lang), lang) for w in words)
    if kind == "person":
        return " ".join(_name_stem(_lex(w, lang)) for w in words)
    if kind == "organization":
        words = [w for w in words if _lex(w.replace(".", ""), lang) not in _ORG_PREFIX | _ORG_SUFFIX]
    return " ".join(_lex(w, lang) for w in words)


def _name_stem(w: str) -> str:
    # Russian case endings of first names and surnames: Ивану/Ивана → иван, Петровой → петров, Марии → мари.
    if _CYR.search(w) and len(w) > 4:
        for suf in ("ой", "ом", "ым", "ем", "ей", "ии", "ию", "ия", "а", "я", "у", "ю", "е", "ы", "и"):
            if w.endswith(suf) and len(w) - len(suf) >= 3:
                return w[: -len(suf)]
    return w


@dataclass
class EntityExtractor:
    """Extraction with the lookups that resolve people.

    ``usernames``: lowercase username (no ``@``) → user id, for raw ``@mentions`` (the owner's, who is not
    pseudonymized, or any text that was not pseudonymized). ``pseudonyms``: pseudonym → user id.
    ``user_labels``: user id → the name to show for that person (a pseudonym; never a display name).
    ``max_topics``: topic hits kept per message (hashtags first, then phrases, then words).
    """

    usernames: Mapping[str, int] = field(default_factory=dict)
    pseudonyms: Mapping[str, int] = field(default_factory=dict)
    user_labels: Mapping[int, str] = field(default_factory=dict)
    pseudonym_pattern: str = r"user_[0-9a-z]{6,26}"
    max_topics: int = 12
    min_word_length: int = 3

    def __post_init__(self) -> None:
        self._pseudo = re.compile(rf"^@?({self.pseudonym_pattern})$")
        self.usernames = {k.lower().lstrip("@"): v for k, v in self.usernames.items()}

    # -- people -------------------------------------------------------------------------------

    def user_hit(self, uid: int, rule: str) -> EntityHit:
        return EntityHit("person", f"user:{uid}", self.user_labels.get(uid) or f"user:{uid}", rule, uid)

    def resolve_pseudonym(self, tok: str) -> int | None:
        """The user behind ``user_xxxxxxxx`` / ``@user_xxxxxxxx``, or None."""
        m = self._pseudo.match(tok)
        return self.pseudonyms.get(m.group(1)) if m else None

    def is_pseudonym(self, tok: str) -> bool:
        return self._pseudo.match(tok) is not None

    # -- main ---------------------------------------------------------------------------------

    def extract(
        self,
        text: str,
        *,
        lang: str | None = None,
        sender_id: int | None = None,
        reply_to_user_id: int | None = None,
        mentioned_user_ids: Iterable[int] = (),
    ) -> list[EntityHit]:
        """Entities of one (cleaned) message, each (kind, key) once (a person may come twice: as the author
        replied to, and as named in the text), in a fixed order.

        ``reply_to_user_id``: author of the message replied to; ``mentioned_user_ids``: users the message's
        own mention entities point at (resolved by the caller). The sender never mentions themselves.
        """
        text = text or ""
        lang = resolve_lang(text, lang)
        toks = _tokens(text)
        people: list[EntityHit] = []
        named: list[EntityHit] = []  # organizations and projects
        topics_tag: list[EntityHit] = []
        topics_phrase: list[EntityHit] = []
        topics_word: list[EntityHit] = []
        used = [False] * len(toks)  # tokens consumed by a named entity (not keyword material)

        if reply_to_user_id is not None and reply_to_user_id != sender_id:
            people.append(self.user_hit(reply_to_user_id, "reply"))
        for uid in mentioned_user_ids:
            if uid != sender_id:
                people.append(self.user_hit(uid, "mention"))

        # quoted names, pseudonyms, mentions, hashtags
        i = 0
        n = len(toks)
        while i < n:
            t = toks[i]
            if t.kind == "quote" and t.text in _OPEN_QUOTES:
                close = _OPEN_QUOTES[t.text]
                j = i + 1
                while j < n and j - i <= 8 and not (toks[j].kind == "quote" and toks[j].text in (close, "»", "”")):
                    if toks[j].kind == "stop":
                        break
                    j += 1
                if j < n and j - i <= 8 and toks[j].kind == "quote" and j > i + 1:
                    inner = [k for k in toks[i + 1 : j] if k.kind in ("word", "number")]
                    surface = text[toks[i + 1].start : toks[j - 1].end].strip()
                    first = inner[0].text[:1] if inner else ""
                    if inner and len(inner) <= 5 and len(surface) <= 60 and (first.isupper() or first.isdigit()):
                        prev = toks[i - 1] if i > 0 else None
                        legal = prev is not None and prev.kind == "word" and (
                            _lex(prev.text.replace(".", ""), lang) in _ORG_PREFIX)
                        if legal:
                            named.append(EntityHit("organization", entity_key("organization", surface, lang),
                                                   f"{prev.text} «{surface}»", "org"))
                            used[i - 1] = True
                        else:
                            named.append(EntityHit("project", entity_key("project", surface, lang), surface, "quoted"))
                        for k in range(i, j + 1):
                            used[k] = True
                    i = j + 1
                    continue
            if t.kind == "mention":
                used[i] = True
                uid = self.resolve_pseudonym(t.text)
                if uid is None:
                    uid = self.usernames.get(t.text[1:].lower())
                if uid is not None and uid != sender_id:
                    people.append(self.user_hit(uid, "mention"))
            elif t.kind == "word" and self._pseudo.match(t.text):
                used[i] = True
                uid = self.resolve_pseudonym(t.text)
                if uid is not None and uid != sender_id:
                    people.append(self.user_hit(uid, "name"))
            elif t.kind == "hashtag":
                used[i] = True
                body = t.text[1:]
                if len(body) >= 2 and not body.isdigit():
                    key = entity_key("topic", body.replace("_", " "), lang)
                    if key:
                        topics_tag.append(EntityHit("topic", key, lower(t.text, lang), "hashtag"))
            i += 1

        # capitalized sequences: people, organizations, projects, acronyms
        i = 0
        while i < n:
            t = toks[i]
            # "3ds Max": a number with letters may open a name that goes on with a capitalized word
            alnum_start = t.kind == "number" and any(c.isalpha() for c in t.text)
            if used[i] or not ((t.kind == "word" and (t.text[:1].isupper() or _is_camel(t.text))) or alnum_start):
                i += 1
                continue
            j = i
            group = []
            while j < n and toks[j].kind in ("word", "number") and not used[j]:
                tok = toks[j]
                if j > i and text[toks[j - 1].end : tok.start] not in (" ", "\u00a0"):
                    break
                w = _strip_apostrophe(tok.text) if tok.kind == "word" else tok.text
                if (tok.kind == "word" and (w[:1].isupper() or _is_camel(w))) or (j == i and alnum_start):
                    group.append((j, w))
                elif group and _VERSION.match(w):
                    group.append((j, w))
                elif group and _lex(w.replace(".", ""), lang) in _ORG_SUFFIX:
                    group.append((j, w))
                else:
                    break
                if tok.text != w:  # an apostrophe suffix ends the name (API'si, Ayşe'ye)
                    j += 1
                    break
                j += 1
            if not group or (alnum_start and len(group) < 2):
                i += 1
                continue
            self._classify(group, toks, text, lang, used, people, named, topics_word)
            i = max(j, i + 1)

        # keywords: content words and two-word phrases between stopwords and punctuation
        run: list[tuple[str, str]] = []  # (stemmed key part, lowercase surface)

        def flush() -> None:
            for a, b in zip(run, run[1:]):
                topics_phrase.append(EntityHit("topic", f"{a[0]} {b[0]}", f"{a[1]} {b[1]}", "phrase"))
            for a in run:
                topics_word.append(EntityHit("topic", a[0], a[1], "keyword"))
            run.clear()

        for k, t in enumerate(toks):
            if t.kind != "word" or used[k]:
                flush()
                continue
            w = _strip_apostrophe(t.text)
            lw = _lex(w, lang)
            if (
                len(lw) < self.min_word_length
                or lw in _STOPWORDS
                or lw.strip("-") != lw
                or (_CYR.search(lw) and _RU_VERB.search(lw) and len(lw) >= 6)
                or (lang == "en" and _EN_VERB.match(lw))
                or (lang == "tr" and not _CYR.search(lw) and _TR_VERB.search(lw))
                or self._pseudo.match(lw)
            ):
                flush()
                continue
            run.append((stem(lw, lang), lw))
            if t.text != w:  # "API'si ..." — the suffix closes the phrase
                flush()
        flush()

        out: list[EntityHit] = []
        seen: set[tuple[str, str, bool]] = set()

        def add(hits: Iterable[EntityHit], limit: int | None = None) -> int:
            added = 0
            for h in hits:
                if limit is not None and added >= limit:
                    break
                # a person replied to and also named in the message keeps both hits: they become different edges
                slot = (h.kind, h.key, h.rule == "reply")
                if not h.key or slot in seen:
                    continue
                seen.add(slot)
                out.append(h)
                added += 1
            return added

        add(people)
        add(named)
        budget = self.max_topics
        budget -= add(topics_tag, budget)
        budget -= add(topics_phrase, max(0, budget // 2))
        add(topics_word, max(0, budget))
        return out

    def _classify(self, group, toks, text, lang, used, people, named, topics) -> None:
        """One run of capitalized tokens → a person, organization, project or acronym topic (or nothing)."""
        idx = [j for j, _ in group]
        words = [w for _, w in group]
        low = [_lex(w.replace(".", ""), lang) for w in words]
        at_start = toks[idx[0]].sentence_start

        # legal form: "ООО Ромашка" / "Acme Inc." / "Koç Holding"
        if len(words) >= 2 and (low[-1] in _ORG_SUFFIX or low[0] in _ORG_PREFIX):
            name_words = words[:-1] if low[-1] in _ORG_SUFFIX else words[1:]
            if low[-1] in _ORG_SUFFIX and len(name_words) >= 3 and low[0] in _FIRST_NAMES:
                # "Ayşe Demir Koç Holding": a person's name runs into the company's
                surface = " ".join(words[:2])
                people.append(EntityHit("person", entity_key("person", surface, lang), surface, "name"))
                used[idx[0]] = used[idx[1]] = True
                group, idx, words, low, name_words = group[2:], idx[2:], words[2:], low[2:], name_words[2:]
            if any(w[:1].isupper() for w in name_words) and not (at_start and len(name_words) == 1
                                                                and _is_title(name_words[0])
                                                                and low[0] not in _ORG_PREFIX
                                                                and len(words) == 1):
                surface = " ".join(words)
                named.append(EntityHit("organization", entity_key("organization", surface, lang), surface, "org"))
                for j in idx:
                    used[j] = True
                return

        # a sentence-initial capital says nothing: drop that word unless it is a name or a product-like token
        if at_start and _is_title(words[0]) and low[0] not in _FIRST_NAMES and not _is_camel(words[0]):
            if len(group) == 1:
                return
            group = group[1:]
            idx, words, low = idx[1:], words[1:], low[1:]

        if all(_is_title(w) and w.replace("-", "").isalpha() for w in words) and 1 <= len(words) <= 3:
            is_person = low[0] in _FIRST_NAMES or (len(words) >= 2 and _CYR.search(low[-1])
                                                   and _RU_SURNAME.search(low[-1]) is not None)
            if is_person:
                surface = " ".join(words)
                people.append(EntityHit("person", entity_key("person", surface, lang), surface, "name"))
                for j in idx:
                    used[j] = True
                return

        if len(words) == 1:
            w = words[0]
            if low[0] in _STOP_CAPS or low[0] in _STOPWORDS:
                return
            if _is_acronym(w):
                topics.append(EntityHit("topic", _lex(w, lang), w, "acronym"))
                used[idx[0]] = True
                return
            if _is_camel(w) and not _VERSION.match(w):
                named.append(EntityHit("project", entity_key("project", w, lang), w, "product"))
                used[idx[0]] = True
                return
            if _is_title(w) and w.isascii() and len(w) >= 3:
                named.append(EntityHit("project", entity_key("project", w, lang), w, "product"))
                used[idx[0]] = True
            return  # Cyrillic/Turkish capitalized single words (places, brands) stay keyword material

        # several capitalized words: a product/project name (Google Classroom, Capture One, Falcon v2)
        if any(lw in _STOP_CAPS for lw in low):
            return
        surface = " ".join(words)
        named.append(EntityHit("project", entity_key("project", surface, lang), surface, "name_sequence"))
        for j in idx:
            used[j] = True
