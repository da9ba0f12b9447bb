"""Hybrid search over ``clean_messages``: pgvector nearest neighbours + stemmed PostgreSQL full text, fused by score.

* Vector side: ``ORDER BY embedding::vector(d) <=> query LIMIT k`` with ``model = '<model>'`` as a literal, the
  exact shape of the model's partial HNSW index, so the index answers it (``explain_vector_query`` shows the
  plan). With filters, pgvector's iterative index scan (``hnsw.iterative_scan``) keeps reading the graph until
  enough rows pass them.
* Text side: ``text_tsv_stem @@ tsquery`` over the generated, GIN-indexed column stemmed in each message's
  language (``russian`` / ``english`` / ``turkish``, ``simple`` otherwise); each query word is stemmed by all four
  configurations and any of them may match, so a query needs no language of its own; the unstemmed ``simple``
  column matches too, so words a stemmer drops as stop words ("I'm in") still count. A plain query matches any
  of its words (stop words dropped) so that a partial keyword match still counts; queries written in web-search
  syntax (quotes, ``-word``, ``or``) go through ``websearch_to_tsquery`` as written. Ranked by ``ts_rank_cd``
  normalized to [0, 1) (``rank / (rank + 1)``), plus 1 for a message whose whole text is the query.
* Fusion (``fusion="score"``, the default): every candidate of either side gets its cosine similarity to the query
  (looked up for text-only hits) and ``score = similarity + text_weight × text_score``. A lexical match is a small
  bonus on top of meaning, so a distractor that shares words with the query cannot bury an answer in another
  language that shares none. ``text_weight`` was picked on the visible half of the cross-lingual dev set
  (``python -m telegram_intel_tools.search_eval``; bench/README.md). ``fusion="rrf"``: reciprocal rank fusion,
  ``Σ w / (60 + rank)``, which ranks every hit found by both sides above every hit found by one.

The text searched is the cleaned corpus (PII masked), and filters take chat ids or titles, user ids, usernames or
display names, forum topics (topic ids, or titles from ``telegram_topics``), and a date range. Hits carry the
sender's real display name and the chat title for the owner's own search (pseudonyms are for ML corpora);
opted-out people are not in the corpus.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from telegram_intel.db.vectors import model_literal
from telegram_intel.ml.embedders import encode_queries

__all__ = ["SearchHit", "SearchError", "search", "resolve_chats", "resolve_topics", "resolve_users", "vector_sql",
           "explain_vector_query"]

RRF_K = 60
DEFAULT_EF_SEARCH = 200
#: Weight of the normalized full-text rank in score fusion (chosen on the visible dev half; see module doc).
DEFAULT_TEXT_WEIGHT = 0.05
FUSIONS = ("score", "rrf", "vector", "text")
_TS_CONFIGS = ("russian", "english", "turkish", "simple")

_STOP = frozenset(
    # en
    "a an the and or but of to in on at for by with from is are was were be been am do does did i you he she it "
    "we they me my your our their this that these those what who how why when where which there here not no yes "
    "can could would should will just so if as about any some all have has had get got".split()
    # ru
    + "и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от "
    "меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам "
    "ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего "
    "раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем "
    "чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над больше тот через "
    "эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том "
    "нельзя такой им более всегда конечно всю между".split()
    # tr
    + "ve bir bu da de mi mu mı mü ne için ile ama çok daha gibi şu o ben sen biz siz onlar var yok en her ki "
    "olarak olan kadar sonra önce değil".split()
)
_WEBSEARCH_SYNTAX = re.compile(r"\"|(?:^|\s)-\w|\bor\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class SearchError(ValueError):
    """Bad search arguments: a filter that matches no chat or user, an empty query, an unknown model."""


@dataclass
class SearchHit:
    chat_id: int
    message_id: int
    date: datetime
    text: str
    score: float  # fused score; higher is better
    chat_title: str | None = None
    sender_pseudonym: str | None = None
    sender_name: str | None = None  # the sender's display name (or @username)
    sender_id: int | None = None
    lang: str | None = None
    is_transcript: bool = False
    vector_rank: int | None = None  # 1-based rank on the vector side (None: not in its top k)
    similarity: float | None = None  # cosine similarity to the query
    text_rank: int | None = None  # 1-based rank on the full-text side
    text_score: float | None = None  # ts_rank_cd, normalized to [0, 1)
    matched: list[str] = field(default_factory=list)  # "vector", "text"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["date"] = self.date.isoformat()
        return d


# ---------------------------------------------------------------------------------------------------------------
# Filters


def resolve_chats(conn: Connection, chat: str | int | Sequence[str | int] | None) -> list[int] | None:
    """Chat ids for ids or (case-insensitive, substring) titles/usernames; None when no filter was given."""
    if chat is None or chat == "" or chat == []:
        return None
    wanted = [chat] if isinstance(chat, (str, int)) else list(chat)
    ids: set[int] = set()
    for item in wanted:
        s = str(item).strip()
        if re.fullmatch(r"-?\d+", s):
            ids.add(int(s))
            continue
        rows = conn.execute(
            sa.text("SELECT chat_id FROM telegram_chats WHERE title ILIKE :p OR username ILIKE :u"),
            {"p": f"%{_like_escape(s)}%", "u": _like_escape(s.lstrip("@"))},
        ).scalars().all()
        if not rows:
            raise SearchError(f"no chat matches {s!r}")
        ids.update(rows)
    return sorted(ids)


def resolve_users(conn: Connection, user: str | int | Sequence[str | int] | None) -> list[int] | None:
    """User ids for ids, @usernames or display names (exact, case-insensitive)."""
    if user is None or user == "" or user == []:
        return None
    wanted = [user] if isinstance(user, (str, int)) else list(user)
    ids: set[int] = set()
    for item in wanted:
        s = str(item).strip()
        if re.fullmatch(r"-?\d+", s):
            ids.add(int(s))
            continue
        rows = conn.execute(
            sa.text("SELECT user_id FROM telegram_users WHERE lower(username) = lower(:u) "
                    "OR lower(display_name) = lower(:n)"),
            {"u": s.lstrip("@"), "n": s},
        ).scalars().all()
        if not rows:
            raise SearchError(f"no user matches {s!r}")
        ids.update(rows)
    return sorted(ids)


def resolve_topics(conn: Connection, topic: str | int | Sequence[str | int] | None,
                   chats: list[int] | None = None) -> list[tuple[int | None, int]] | None:
    """(chat id or None for any chat, topic id) pairs for topic ids or (case-insensitive, substring) titles of
    ``telegram_topics`` (within ``chats`` when given); None when no filter was given. A topic id is the id of the
    topic's first message, so the same number names different topics in different chats: combine it with a chat."""
    if topic is None or topic == "" or topic == []:
        return None
    wanted = [topic] if isinstance(topic, (str, int)) else list(topic)
    pairs: set[tuple[int | None, int]] = set()
    for item in wanted:
        s = str(item).strip()
        if re.fullmatch(r"\d+", s):
            pairs.add((None, int(s)))
            continue
        rows = conn.execute(sa.text(
            "SELECT chat_id, topic_id FROM telegram_topics WHERE title ILIKE :p"
            + (" AND chat_id = ANY(:chats)" if chats is not None else "")),
            {"p": f"%{_like_escape(s)}%", "chats": chats}).all()
        if not rows:
            raise SearchError(f"no forum topic matches {s!r}")
        pairs.update((int(c), int(t)) for c, t in rows)
    return sorted(pairs, key=lambda p: (p[0] is not None, p[0] or 0, p[1]))


_TOPIC_SQL = ("EXISTS (SELECT 1 FROM telegram_messages tm JOIN unnest(CAST(:topic_chats AS bigint[]), "
              "CAST(:topic_ids AS bigint[])) AS tp(chat_id, topic_id) ON tm.topic_id = tp.topic_id "
              "AND (tp.chat_id IS NULL OR tp.chat_id = tm.chat_id) "
              "WHERE tm.chat_id = {a}.chat_id AND tm.message_id = {a}.message_id)")


def _topic_params(params: dict[str, Any], topics: list[tuple[int | None, int]]) -> None:
    params["topic_chats"] = [c for c, _ in topics]
    params["topic_ids"] = [t for _, t in topics]


def _like_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _since(value: date | datetime | str | None, option: str = "--since") -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise SearchError(f"{option} wants a date like 2025-06-01, not {value!r}") from exc
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.combine(value, time.min, tzinfo=timezone.utc)


def _filters(alias: str, chats: list[int] | None, users: list[int] | None, since: datetime | None,
             params: dict[str, Any], until: datetime | None = None,
             topics: list[tuple[int | None, int]] | None = None) -> str:
    parts = []
    if topics is not None:
        parts.append(_TOPIC_SQL.format(a=alias))
        _topic_params(params, topics)
    if chats is not None:
        parts.append(f"{alias}.chat_id = ANY(:chats)")
        params["chats"] = chats
    if users is not None:
        parts.append(f"{alias}.sender_id = ANY(:users)")
        params["users"] = users
    if since is not None:
        parts.append(f"{alias}.date >= :since")
        params["since"] = since
    if until is not None:
        parts.append(f"{alias}.date < :until")
        params["until"] = until
    return "".join(f" AND {p}" for p in parts)


# ---------------------------------------------------------------------------------------------------------------
# The two retrievers


def vector_sql(model: str, dims: int, *, k: int, chats: bool = False, users: bool = False, since: bool = False,
               until: bool = False, topics: bool = False) -> str:
    """The nearest-neighbour query; ``:q`` is the query vector (text form). Filters need a join for the sender."""
    d = int(dims)
    order = f"e.embedding::vector({d}) <=> CAST(:q AS vector({d}))"
    where = f"e.model = {model_literal(model)}"
    if chats:
        where += " AND e.chat_id = ANY(:chats)"
    if since:
        where += " AND e.date >= :since"
    if until:
        where += " AND e.date < :until"
    if topics:
        where += " AND " + _TOPIC_SQL.format(a="e")
    join = ""
    if users:
        join = " JOIN clean_messages c ON c.chat_id = e.chat_id AND c.message_id = e.message_id"
        where += " AND c.sender_id = ANY(:users)"
    return (f"SELECT e.chat_id, e.message_id, {order} AS distance FROM message_embeddings e{join} "
            f"WHERE {where} ORDER BY {order} LIMIT {int(k)}")


def _vector_text(vec: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(vec, dtype=np.float32).ravel()) + "]"


def _set_vector_session(conn: Connection, k: int, filtered: bool) -> None:
    # ef_search is the candidate list of one graph scan: it bounds how many rows come back and sets recall.
    # 200 gave recall@10 ≈ 0.9 at 1M rows for ~6 ms (bench/README.md); pgvector's default of 40 gave ≈ 0.75.
    conn.execute(sa.text(f"SET LOCAL hnsw.ef_search = {min(1000, max(DEFAULT_EF_SEARCH, 2 * int(k)))}"))
    if filtered:
        version = conn.execute(sa.text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")).scalar() or "0"
        if tuple(int(p) for p in re.findall(r"\d+", version)[:2]) >= (0, 8):  # iterative scans came in 0.8.0
            conn.execute(sa.text("SET LOCAL hnsw.iterative_scan = relaxed_order"))


def explain_vector_query(engine_or_conn: Engine | Connection, model: str, dims: int, vector: np.ndarray,
                         *, k: int = 10, analyze: bool = False) -> str:
    """EXPLAIN text of the vector query (shows whether the model's HNSW index is used)."""
    sql = "EXPLAIN " + ("(ANALYZE, BUFFERS) " if analyze else "") + vector_sql(model, dims, k=k)

    def run(conn: Connection) -> str:
        _set_vector_session(conn, k, False)
        return "\n".join(r[0] for r in conn.execute(sa.text(sql), {"q": _vector_text(vector)}))

    if isinstance(engine_or_conn, Connection):
        return run(engine_or_conn)
    with engine_or_conn.begin() as conn:
        return run(conn)


def _text_query(query: str) -> tuple[str, dict[str, Any]] | None:
    """(tsquery SQL, params) or None when the query has no searchable word; every word is stemmed by each of the
    language configurations (any stem may match the document's own-language lexemes)."""
    if _WEBSEARCH_SYNTAX.search(query):
        return " || ".join(f"websearch_to_tsquery('{c}', :tq)" for c in _TS_CONFIGS), {"tq": query}
    words = [w.lower() for w in _WORD.findall(query)]
    keep = [w for w in words if w not in _STOP and (len(w) > 1 or w.isdigit())] or words
    if not keep:
        return None
    # to_tsquery with each word quoted as a phrase of its own lexemes: no tsquery syntax can leak in.
    seen: list[str] = []
    for w in keep:
        if w not in seen:
            seen.append(w)
    params = {f"w{i}": w for i, w in enumerate(seen)}
    parts = " || ".join(f"plainto_tsquery('{c}', :w{i})" for i in range(len(seen)) for c in _TS_CONFIGS)
    return f"({parts})", params


# ---------------------------------------------------------------------------------------------------------------
# search()


def search(
    engine: Engine,
    embedder: Any | None,
    query: str,
    *,
    chat: str | int | Sequence[str | int] | None = None,
    user: str | int | Sequence[str | int] | None = None,
    since: date | datetime | str | None = None,
    until: date | datetime | str | None = None,
    topic: str | int | Sequence[str | int] | None = None,
    limit: int = 10,
    model: str | None = None,
    candidates: int | None = None,
    vector_weight: float = 1.0,
    text_weight: float | None = None,
    min_similarity: float | None = None,
    fusion: str = "score",
) -> list[SearchHit]:
    """Hybrid search; ``embedder`` (an :class:`~telegram_intel.ml.embedders.Embedder`) may be None for
    full-text only. ``model`` is the ``message_embeddings.model`` key (default: ``embedder.name``).
    ``candidates``: how many rows each side contributes before fusion (default ``max(50, 5 × limit)``).
    ``fusion``: ``score`` (default), ``rrf``, ``vector`` (vector side only) or ``text`` (full text only);
    ``text_weight`` defaults to :data:`DEFAULT_TEXT_WEIGHT` for ``score`` and 1.0 for ``rrf``.
    ``min_similarity`` drops vector-only hits below that cosine similarity. ``since`` / ``until``: messages dated
    on or after / before (a date means its midnight UTC: ``until=2025-06-02`` ends with June 1). ``topic``: forum
    topic ids or titles (:func:`resolve_topics`)."""
    query = (query or "").strip()
    if not query:
        raise SearchError("empty query")
    if fusion not in FUSIONS:
        raise SearchError(f"unknown fusion {fusion!r}; use one of {FUSIONS}")
    if text_weight is None:
        text_weight = DEFAULT_TEXT_WEIGHT if fusion == "score" else 1.0
    if fusion == "text":
        embedder = None
    limit = max(1, int(limit))
    k = int(candidates or max(50, 5 * limit))
    model = model or (embedder.name if embedder is not None else None)
    since_dt = _since(since)
    until_dt = _since(until, "--until")

    with engine.begin() as conn:
        chats = resolve_chats(conn, chat)
        users = resolve_users(conn, user)
        topics = resolve_topics(conn, topic, chats)
        fused: dict[tuple[int, int], SearchHit] = {}
        scores: dict[tuple[int, int], float] = {}

        # -- vector side
        dims = None
        qtext = None
        if embedder is not None and model is not None:
            dims = conn.execute(
                sa.text("SELECT dims FROM message_embeddings WHERE model = :m LIMIT 1"), {"m": model}
            ).scalar()
            if dims is not None:
                if int(dims) != int(embedder.dims):
                    raise SearchError(f"model {model!r} has {dims}-d vectors but the embedder makes {embedder.dims}-d")
                qtext = _vector_text(encode_queries(embedder, [query])[0])
                params: dict[str, Any] = {"q": qtext}
                if chats is not None:
                    params["chats"] = chats
                if users is not None:
                    params["users"] = users
                if since_dt is not None:
                    params["since"] = since_dt
                if until_dt is not None:
                    params["until"] = until_dt
                if topics is not None:
                    _topic_params(params, topics)
                filtered = (chats is not None or users is not None or since_dt is not None or until_dt is not None
                            or topics is not None)
                _set_vector_session(conn, k, filtered)
                rows = conn.execute(sa.text(vector_sql(
                    model, dims, k=k, chats=chats is not None, users=users is not None, since=since_dt is not None,
                    until=until_dt is not None, topics=topics is not None)), params).all()
                # relaxed_order (filtered scans) may return rows slightly out of order: rank by distance
                for rank, (cid, mid, dist) in enumerate(sorted(rows, key=lambda r: r[2]), 1):
                    key = (cid, mid)
                    sim = 1.0 - float(dist)
                    hit = fused.setdefault(key, _blank(cid, mid))
                    hit.vector_rank, hit.similarity = rank, sim
                    hit.matched.append("vector")
                    scores[key] = scores.get(key, 0.0) + (
                        vector_weight / (RRF_K + rank) if fusion == "rrf" else vector_weight * sim)

        # -- full-text side
        tq = _text_query(query) if fusion != "vector" else None
        if tq is not None:
            ts_sql, params = tq
            params["raw_query"] = query
            where = _filters("c", chats, users, since_dt, params, until_dt, topics)
            rows = conn.execute(sa.text(
                f"SELECT c.chat_id, c.message_id, greatest(ts_rank_cd(c.text_tsv_stem, tq.q, 32), "
                f"ts_rank_cd(c.text_tsv, tq.q, 32)) + CASE WHEN lower(c.text) = lower(:raw_query) THEN 1 ELSE 0 END "
                f"AS r FROM clean_messages c, (SELECT {ts_sql} AS q) AS tq "
                f"WHERE (c.text_tsv_stem @@ tq.q OR c.text_tsv @@ tq.q){where} "
                f"ORDER BY r DESC, c.date DESC LIMIT {k}"
            ), params).all()
            for rank, (cid, mid, r) in enumerate(rows, 1):
                key = (cid, mid)
                hit = fused.setdefault(key, _blank(cid, mid))
                hit.text_rank, hit.text_score = rank, float(r)
                hit.matched.append("text")
                scores[key] = scores.get(key, 0.0) + (
                    text_weight / (RRF_K + rank) if fusion == "rrf" else text_weight * float(r))
            if fusion == "score" and qtext is not None:
                _add_similarities(conn, model, dims, qtext, fused, scores, vector_weight)

        if min_similarity is not None:
            for key, hit in list(fused.items()):
                if hit.text_rank is None and (hit.similarity or 0.0) < min_similarity:
                    del fused[key]
                    scores.pop(key, None)
        top = sorted(scores, key=lambda key: (-scores[key], fused[key].vector_rank or 10**9))[:limit]
        if not top:
            return []
        details = conn.execute(sa.text(
            "SELECT c.chat_id, c.message_id, c.date, c.text, c.sender_pseudonym, c.lang, c.is_transcript, ch.title, "
            "c.sender_id, "
            "coalesce(nullif(u.display_name, ''), '@' || u.username) AS sender_name "
            "FROM clean_messages c LEFT JOIN telegram_chats ch ON ch.chat_id = c.chat_id "
            "LEFT JOIN telegram_users u ON u.user_id = c.sender_id AND NOT u.is_ignored "
            "WHERE (c.chat_id, c.message_id) IN (SELECT * FROM unnest(CAST(:cids AS bigint[]), CAST(:mids AS bigint[])))"
        ), {"cids": [c for c, _ in top], "mids": [m for _, m in top]}).all()
    by_key = {(r.chat_id, r.message_id): r for r in details}
    hits = []
    for key in top:
        row = by_key.get(key)
        if row is None:  # an embedding whose clean row is gone (purged since): never show it
            continue
        hit = fused[key]
        hit.date, hit.text, hit.sender_pseudonym, hit.lang = row.date, row.text, row.sender_pseudonym, row.lang
        hit.is_transcript, hit.chat_title, hit.score = bool(row.is_transcript), row.title, scores[key]
        hit.sender_name, hit.sender_id = row.sender_name, row.sender_id
        hits.append(hit)
    return hits


def _add_similarities(conn: Connection, model: str, dims: int, qtext: str, fused: dict, scores: dict,
                      weight: float) -> None:
    """Cosine similarity for the text-only candidates, so both sides are scored on one scale."""
    missing = [key for key, hit in fused.items() if hit.similarity is None]
    if not missing:
        return
    d = int(dims)
    rows = conn.execute(sa.text(
        f"SELECT e.chat_id, e.message_id, 1 - (e.embedding::vector({d}) <=> CAST(:q AS vector({d}))) "
        f"FROM message_embeddings e WHERE e.model = {model_literal(model)} AND (e.chat_id, e.message_id) IN "
        "(SELECT * FROM unnest(CAST(:cids AS bigint[]), CAST(:mids AS bigint[])))"
    ), {"q": qtext, "cids": [c for c, _ in missing], "mids": [m for _, m in missing]}).all()
    for cid, mid, sim in rows:
        fused[(cid, mid)].similarity = float(sim)
        scores[(cid, mid)] = scores.get((cid, mid), 0.0) + weight * float(sim)


def _blank(chat_id: int, message_id: int) -> SearchHit:
    return SearchHit(chat_id=chat_id, message_id=message_id, date=datetime.min.replace(tzinfo=timezone.utc),
                     text="", score=0.0)


def has_vectors(engine: Engine, model: str) -> bool:
    """Whether ``message_embeddings`` holds any vector of ``model``."""
    with engine.connect() as conn:
        return bool(conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM message_embeddings WHERE model = :m)"),
                                 {"m": model}).scalar_one())


def topic_options(engine: Engine, limit: int = 500) -> list[dict[str, Any]]:
    """Forum topics for the search and ask forms' topic filter: chat id, topic id, title and the chat's title."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            "SELECT t.chat_id, t.topic_id, t.title, COALESCE(c.title, c.username, t.chat_id::text) AS chat "
            "FROM telegram_topics t LEFT JOIN telegram_chats c ON c.chat_id = t.chat_id "
            "WHERE t.title IS NOT NULL AND t.title <> '' ORDER BY chat, t.title LIMIT :n"), {"n": limit}).mappings()]
