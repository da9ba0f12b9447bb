"""Database side of the entities and knowledge_graph assets (no Dagster here).

Writers of ``entities``/``entity_mentions``/``graph_edges`` take one transaction-scoped advisory lock, so daily
partitions backfilled in parallel runs and a graph rebuild never interleave their counter updates.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from telegram_intel.lib.entities import (
    ENTITY_KINDS,
    EXTRACTOR_VERSION,
    EntityExtractor,
    EntityHit,
    entity_key,
)
from telegram_intel.lib.plots.graph import graph_picture_markdown, markdown_table
from telegram_intel.lib.report import CheckOutcome, Report
from telegram_intel.llm.schemas import ENTITY_EXTRACTION_SCHEMA

log = logging.getLogger(__name__)
OFFLINE_METHOD = f"offline:rules@{EXTRACTOR_VERSION}"
ENTITY_EXTRACTION_PROMPT = "entity_extraction"

GRAPH_LOCK = 7244516702  # pg_advisory_xact_lock key of the graph tables' writers

USER_RELATIONS = ("replied_to", "mentioned")
RELATIONS = ("discusses", "replied_to", "mentioned", "co_mentioned", "co_mentioned_thread")


# =============================================================================================
# People lookups
# =============================================================================================


@dataclass
class People:
    """Who can be named in the graph: users that have not opted out, with their usernames and pseudonyms."""

    usernames: dict[str, int] = field(default_factory=dict)
    pseudonyms: dict[str, int] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)
    allowed: set[int] = field(default_factory=set)
    ignored: set[int] = field(default_factory=set)


def load_people(conn: Connection) -> People:
    people = People()
    for uid, username, ignored in conn.execute(
        sa.text("SELECT user_id, username, is_ignored FROM telegram_users")
    ):
        if ignored:
            people.ignored.add(uid)
            continue
        people.allowed.add(uid)
        if username:
            people.usernames[username.lower()] = uid
    # One pseudonym per user, found through the (sender_id, date) index rather than a scan of the corpus.
    for uid, pseudo in conn.execute(
        sa.text(
            "SELECT u.user_id, p.sender_pseudonym FROM telegram_users u CROSS JOIN LATERAL ("
            " SELECT c.sender_pseudonym FROM clean_messages c"
            " WHERE c.sender_id = u.user_id AND c.sender_pseudonym IS NOT NULL"
            " ORDER BY c.date DESC LIMIT 1) p WHERE NOT u.is_ignored"
        )
    ):
        people.pseudonyms[pseudo] = uid
        people.labels[uid] = pseudo
    return people


# =============================================================================================
# Messages of a partition
# =============================================================================================


@dataclass(frozen=True, slots=True)
class PartitionMessage:
    chat_id: int
    message_id: int
    date: datetime
    sender_id: int | None
    text: str
    lang: str | None
    reply_to_user_id: int | None
    mention_entities: list[dict[str, Any]] | None


# Opted-out senders are skipped even if a stale clean_messages row still holds their message; the replied-to
# author is named only when a known, not opted-out user. Only the mention entities of the raw message are read
# (who was mentioned, not what was written).
_PARTITION_MESSAGES = sa.text(
    """
    SELECT c.chat_id, c.message_id, c.date, c.sender_id, c.text, c.lang,
           CASE WHEN ru.user_id IS NOT NULL AND NOT ru.is_ignored THEN rt.sender_id END AS reply_to_user_id,
           (SELECT jsonb_agg(e) FROM jsonb_array_elements(
                CASE WHEN jsonb_typeof(m.entities) = 'array' THEN m.entities ELSE '[]'::jsonb END) e
             WHERE e->>'type' IN ('mention', 'mention_name')) AS mention_entities
    FROM clean_messages c
    LEFT JOIN telegram_users su ON su.user_id = c.sender_id
    LEFT JOIN telegram_messages m ON m.chat_id = c.chat_id AND m.message_id = c.message_id
    LEFT JOIN telegram_messages rt ON rt.chat_id = c.chat_id AND rt.message_id = c.reply_to_message_id
    LEFT JOIN telegram_users ru ON ru.user_id = rt.sender_id
    WHERE c.date >= :lo AND c.date < :hi AND NOT COALESCE(su.is_ignored, false)
    ORDER BY c.date, c.chat_id, c.message_id
    """
)


def iter_partition_messages(conn: Connection, lo: datetime, hi: datetime) -> Iterator[PartitionMessage]:
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(_PARTITION_MESSAGES,
                                                                                 {"lo": lo, "hi": hi})
    for row in result:
        yield PartitionMessage(*row)


def mentioned_user_ids(entities: list[dict[str, Any]] | None, people: People) -> list[int]:
    """Users that a message's own mention entities point at (opted-out users never)."""
    out: list[int] = []
    for e in entities or ():
        uid = None
        if e.get("type") == "mention_name":
            try:
                uid = int(e.get("user_id"))
            except (TypeError, ValueError):
                uid = None
        elif e.get("type") == "mention":
            uid = people.usernames.get(str(e.get("text", "")).lstrip("@").lower())
        if uid is not None and uid in people.allowed and uid not in out:
            out.append(uid)
    return out


# =============================================================================================
# Writing one day of mentions
# =============================================================================================


@dataclass
class MentionWrite:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    entities_new: int = 0


@dataclass(frozen=True)
class MethodScope:
    """Rows this write owns: methods matching ``like`` in the date range, or only on ``messages`` when given."""

    like: str
    messages: frozenset[tuple[int, int]] | None = None


def _copy(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


_UPSERT_ENTITIES = sa.text(
    """
    WITH src AS (
        SELECT DISTINCT ON (kind, key) kind, key, name, user_id FROM stage_entities
        ORDER BY kind, key, (name LIKE 'user:%'), name
    ), up AS (
        INSERT INTO entities AS e (kind, key, name, user_id)
        SELECT kind, key, name, user_id FROM src
        ON CONFLICT (kind, key) DO UPDATE SET
            -- a known user's label follows their pseudonym; other names converge on the smallest spelling,
            -- so the stored name does not depend on the order partitions ran in
            name = CASE WHEN EXCLUDED.user_id IS NOT NULL
                        THEN CASE WHEN EXCLUDED.name LIKE 'user:%' THEN e.name ELSE EXCLUDED.name END
                        ELSE LEAST(e.name, EXCLUDED.name) END,
            user_id = COALESCE(e.user_id, EXCLUDED.user_id)
        WHERE e.name IS DISTINCT FROM (CASE WHEN EXCLUDED.user_id IS NOT NULL
                        THEN CASE WHEN EXCLUDED.name LIKE 'user:%' THEN e.name ELSE EXCLUDED.name END
                        ELSE LEAST(e.name, EXCLUDED.name) END)
           OR (e.user_id IS NULL AND EXCLUDED.user_id IS NOT NULL)
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted) FROM up
    """
)

_STAGE_NEW = sa.text(
    """
    CREATE TEMP TABLE stage_new ON COMMIT DROP AS
    SELECT DISTINCT ON (s.chat_id, s.message_id, e.id, s.method)
           s.chat_id, s.message_id, e.id AS entity_id, s.method, s.date, s.sender_id
    FROM stage_mentions s JOIN entities e ON e.kind = s.kind AND e.key = s.key
    ORDER BY s.chat_id, s.message_id, e.id, s.method
    """
)

_DELETE_STALE = """
    WITH del AS (
        DELETE FROM entity_mentions m
        WHERE m.date >= :lo AND m.date < :hi AND m.method LIKE :like {only_messages}
          AND NOT EXISTS (SELECT 1 FROM stage_new n WHERE n.chat_id = m.chat_id AND n.message_id = m.message_id
                          AND n.entity_id = m.entity_id AND n.method = m.method)
        RETURNING m.entity_id
    ), d AS (INSERT INTO stage_delta SELECT entity_id, -count(*), NULL, NULL FROM del GROUP BY entity_id RETURNING 1)
    SELECT (SELECT count(*) FROM del)
"""

_INSERT_MENTIONS = sa.text(
    """
    WITH ins AS (
        INSERT INTO entity_mentions AS m (chat_id, message_id, entity_id, method, date, sender_id)
        SELECT chat_id, message_id, entity_id, method, date, sender_id FROM stage_new
        ON CONFLICT (chat_id, message_id, entity_id, method) DO UPDATE
            SET date = EXCLUDED.date, sender_id = EXCLUDED.sender_id
            WHERE (m.date, m.sender_id) IS DISTINCT FROM (EXCLUDED.date, EXCLUDED.sender_id)
        RETURNING m.entity_id, m.date, (xmax = 0) AS inserted
    ), d AS (
        INSERT INTO stage_delta
        SELECT entity_id, count(*) FILTER (WHERE inserted), min(date), max(date) FROM ins GROUP BY entity_id
        RETURNING 1
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM ins
    """
)

_APPLY_DELTA = sa.text(
    """
    UPDATE entities e SET mention_count = GREATEST(0, e.mention_count + d.delta),
                          first_seen_at = LEAST(e.first_seen_at, d.first_seen),
                          last_seen_at = GREATEST(e.last_seen_at, d.last_seen)
    FROM (SELECT entity_id, sum(delta) AS delta, min(first_seen) AS first_seen, max(last_seen) AS last_seen
          FROM stage_delta GROUP BY entity_id) d
    WHERE e.id = d.entity_id
      AND (d.delta <> 0 OR e.first_seen_at IS DISTINCT FROM LEAST(e.first_seen_at, d.first_seen)
           OR e.last_seen_at IS DISTINCT FROM GREATEST(e.last_seen_at, d.last_seen))
    """
)


def write_mentions(
    engine: Engine,
    lo: datetime,
    hi: datetime,
    entities: Iterable[tuple[str, str, str, int | None]],
    mentions: Iterable[tuple[int, int, str, str, str, datetime, int | None]],
    scopes: Sequence[MethodScope],
) -> MentionWrite:
    """Make ``entity_mentions`` in [lo, hi) for the given method scopes exactly ``mentions``, in one transaction.

    ``entities``: (kind, key, name, user_id); ``mentions``: (chat_id, message_id, kind, key, method, date,
    sender_id). Rows already there and unchanged are left alone (a replay writes nothing); rows no longer
    produced are deleted; ``entities.mention_count`` and first/last seen move by the difference.
    """
    out = MentionWrite()
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": GRAPH_LOCK})
        conn.execute(sa.text(
            "CREATE TEMP TABLE stage_entities (kind text, key text, name text, user_id bigint) ON COMMIT DROP"))
        conn.execute(sa.text(
            "CREATE TEMP TABLE stage_mentions (chat_id bigint, message_id bigint, kind text, key text, method text,"
            " date timestamptz, sender_id bigint) ON COMMIT DROP"))
        conn.execute(sa.text(
            "CREATE TEMP TABLE stage_delta (entity_id bigint, delta bigint, first_seen timestamptz,"
            " last_seen timestamptz) ON COMMIT DROP"))
        _copy(conn, "stage_entities", ("kind", "key", "name", "user_id"), entities)
        _copy(conn, "stage_mentions", ("chat_id", "message_id", "kind", "key", "method", "date", "sender_id"),
              mentions)
        out.entities_new = conn.execute(_UPSERT_ENTITIES).scalar_one()
        conn.execute(_STAGE_NEW)
        for k, scope in enumerate(scopes):
            only = ""
            if scope.messages is not None:
                table = f"stage_scope_{k}"
                conn.execute(sa.text(
                    f"CREATE TEMP TABLE {table} (chat_id bigint, message_id bigint) ON COMMIT DROP"))
                _copy(conn, table, ("chat_id", "message_id"), sorted(scope.messages))
                only = (f"AND EXISTS (SELECT 1 FROM {table} s WHERE s.chat_id = m.chat_id"
                        " AND s.message_id = m.message_id)")
            out.deleted += conn.execute(sa.text(_DELETE_STALE.format(only_messages=only)),
                                        {"lo": lo, "hi": hi, "like": scope.like}).scalar_one()
        out.inserted, out.updated = conn.execute(_INSERT_MENTIONS).one()
        conn.execute(_APPLY_DELTA)
    return out


# =============================================================================================
# The graph rebuild
# =============================================================================================


@dataclass
class GraphBuild:
    mentions_purged: int = 0
    entities_purged: int = 0
    entities_pruned: int = 0
    counts_fixed: int = 0
    edges_inserted: int = 0
    edges_updated: int = 0
    edges_deleted: int = 0
    edges_by_relation: dict[str, int] = field(default_factory=dict)


_PURGE = [
    # opted-out senders and opted-out people named in others' messages
    """DELETE FROM entity_mentions m USING telegram_users u WHERE u.user_id = m.sender_id AND u.is_ignored""",
    """DELETE FROM entity_mentions m USING entities e, telegram_users u
       WHERE e.id = m.entity_id AND e.user_id = u.user_id AND u.is_ignored""",
]
_PURGE_ENTITIES = """DELETE FROM entities e USING telegram_users u WHERE e.user_id = u.user_id AND u.is_ignored"""



def purge_ignored_people(conn: Connection) -> dict[str, int]:
    """Now, without waiting for the next ``knowledge_graph`` run: mentions by and of opted-out users, their person
    entities and every edge that starts or ends at one of them."""
    out = {"entity_mentions": sum(conn.execute(sa.text(sql)).rowcount for sql in _PURGE)}
    out["entities"] = conn.execute(sa.text(_PURGE_ENTITIES)).rowcount
    out["graph_edges"] = conn.execute(sa.text(
        "DELETE FROM graph_edges g USING telegram_users u WHERE u.is_ignored AND ((g.src_kind = 'user' AND "
        "g.src_id = u.user_id) OR (g.dst_kind = 'user' AND g.dst_id = u.user_id))")).rowcount
    entities, edges = prune_unmentioned(conn)
    out["entities"] += entities
    out["graph_edges"] += edges
    return out


def prune_unmentioned(conn: Connection) -> tuple[int, int]:
    """After mentions were deleted: fix the counters, delete entities nobody mentions any more (a topic named only
    by someone who opted out or was erased) and the edges that pointed at them; (entities, edges) deleted."""
    conn.execute(sa.text(_FIX_COUNTS))
    entities = conn.execute(sa.text("DELETE FROM entities WHERE mention_count = 0")).rowcount
    edges = conn.execute(sa.text(
        "DELETE FROM graph_edges g WHERE (g.src_kind <> 'user' AND NOT EXISTS (SELECT 1 FROM entities e WHERE "
        "e.id = g.src_id)) OR (g.dst_kind <> 'user' AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = g.dst_id))"
    )).rowcount
    return entities, edges


_FIX_COUNTS = """
    UPDATE entities e SET mention_count = s.n, first_seen_at = s.first_seen, last_seen_at = s.last_seen
    FROM (SELECT e2.id, COALESCE(c.n, 0) AS n, c.first_seen, c.last_seen FROM entities e2
          LEFT JOIN (SELECT entity_id, count(*) AS n, min(date) AS first_seen, max(date) AS last_seen
                     FROM entity_mentions GROUP BY entity_id) c ON c.entity_id = e2.id) s
    WHERE e.id = s.id AND (e.mention_count, e.first_seen_at, e.last_seen_at)
                          IS DISTINCT FROM (s.n, s.first_seen, s.last_seen)
"""

# One row per (message, entity) whatever method(s) found it; reply_only marks a person present only as the
# author replied to (kept out of co-mention: replying to someone is not talking about them).
_GRAPH_MENTIONS = """
    CREATE TEMP TABLE gm ON COMMIT DROP AS
    SELECT m.chat_id, m.message_id, m.entity_id, max(m.date) AS date, max(m.sender_id) AS sender_id,
           bool_or(m.method LIKE '%reply@%') AS has_reply, bool_and(m.method LIKE '%reply@%') AS reply_only
    FROM entity_mentions m
    GROUP BY m.chat_id, m.message_id, m.entity_id
"""

_USERS_OK = """
    CREATE TEMP TABLE users_ok ON COMMIT DROP AS
    SELECT user_id FROM telegram_users WHERE NOT is_ignored AND user_id > 0
"""

_EDGES_DISCUSSES = """
    WITH ut AS (
        SELECT gm.sender_id AS user_id, gm.entity_id, e.kind, count(*) AS n, max(gm.date) AS last_seen
        FROM gm JOIN entities e ON e.id = gm.entity_id JOIN users_ok u ON u.user_id = gm.sender_id
        WHERE e.kind <> 'person'
        GROUP BY gm.sender_id, gm.entity_id, e.kind
    ), nu AS (SELECT count(DISTINCT user_id)::float8 AS n FROM ut),
    df AS (SELECT entity_id, count(*)::float8 AS df FROM ut GROUP BY entity_id)
    INSERT INTO new_edges
    SELECT 'user', ut.user_id, 'discusses', ut.kind, ut.entity_id,
           round(((1 + ln(ut.n)) * ln(1 + nu.n / df.df))::numeric, 6)::float8, ut.n, ut.last_seen
    FROM ut JOIN df USING (entity_id) CROSS JOIN nu
    WHERE ut.n >= :min_user_topic
"""

_EDGES_USERS = """
    INSERT INTO new_edges
    SELECT 'user', gm.sender_id, r.relation, 'user', e.user_id, count(*)::float8, count(*), max(gm.date)
    FROM gm JOIN entities e ON e.id = gm.entity_id AND e.kind = 'person' AND e.user_id IS NOT NULL
    JOIN users_ok a ON a.user_id = gm.sender_id JOIN users_ok b ON b.user_id = e.user_id
    CROSS JOIN LATERAL (VALUES ('replied_to', gm.has_reply), ('mentioned', NOT gm.reply_only)) r(relation, hit)
    WHERE r.hit AND gm.sender_id <> e.user_id
    GROUP BY gm.sender_id, r.relation, e.user_id
"""

_EDGES_UNKNOWN_PEOPLE = """
    INSERT INTO new_edges
    SELECT 'user', gm.sender_id, 'mentioned', 'person', e.id, count(*)::float8, count(*), max(gm.date)
    FROM gm JOIN entities e ON e.id = gm.entity_id AND e.kind = 'person' AND e.user_id IS NULL
    JOIN users_ok a ON a.user_id = gm.sender_id
    WHERE NOT gm.reply_only
    GROUP BY gm.sender_id, e.id
"""

# Entities worth pairing: mentioned often enough, not a person present only as a reply target.
_CO_BASE = """
    CREATE TEMP TABLE co_base ON COMMIT DROP AS
    SELECT gm.chat_id, gm.message_id, gm.entity_id, e.kind, e.key, gm.date
    FROM gm JOIN entities e ON e.id = gm.entity_id
    WHERE NOT gm.reply_only AND e.mention_count >= :min_support
      AND (e.user_id IS NULL OR e.user_id IN (SELECT user_id FROM users_ok))
"""

# A topic paired with a phrase that contains it ("kitchen" / "kitchen layout") says nothing.
_NOT_NESTED = """
    NOT (a.kind = 'topic' AND b.kind = 'topic'
         AND (' ' || a.key || ' ' LIKE '% ' || b.key || ' %' OR ' ' || b.key || ' ' LIKE '% ' || a.key || ' %'))
"""

_EDGES_CO_MESSAGE = """
    WITH cnt AS (SELECT entity_id, count(*)::float8 AS c FROM co_base GROUP BY entity_id),
    pairs AS (
        SELECT a.entity_id AS a_id, a.kind AS a_kind, b.entity_id AS b_id, b.kind AS b_kind,
               count(*) AS n, max(a.date) AS last_seen
        FROM co_base a JOIN co_base b ON a.chat_id = b.chat_id AND a.message_id = b.message_id
                                     AND a.entity_id < b.entity_id
        WHERE {not_nested}
        GROUP BY a.entity_id, a.kind, b.entity_id, b.kind
    )
    INSERT INTO new_edges
    SELECT p.a_kind, p.a_id, 'co_mentioned', p.b_kind, p.b_id,
           round((p.n / sqrt(ca.c * cb.c))::numeric, 6)::float8, p.n, p.last_seen
    FROM pairs p JOIN cnt ca ON ca.entity_id = p.a_id JOIN cnt cb ON cb.entity_id = p.b_id
    WHERE p.n >= :min_pair
"""

_EDGES_CO_THREAD = """
    WITH te AS (
        SELECT t.chat_id, t.root, c.entity_id, c.kind, c.key, count(*) AS n, max(c.date) AS last_seen
        FROM threads t JOIN co_base c ON c.chat_id = t.chat_id AND c.message_id = t.message_id
        GROUP BY t.chat_id, t.root, c.entity_id, c.kind, c.key
    ), top AS (
        SELECT * FROM (SELECT te.*, row_number() OVER (PARTITION BY chat_id, root ORDER BY n DESC, entity_id) AS rk
                       FROM te) r WHERE rk <= :thread_top
    ), cnt AS (SELECT entity_id, count(*)::float8 AS c FROM top GROUP BY entity_id),
    pairs AS (
        SELECT a.entity_id AS a_id, a.kind AS a_kind, b.entity_id AS b_id, b.kind AS b_kind,
               count(*) AS n, max(GREATEST(a.last_seen, b.last_seen)) AS last_seen
        FROM top a JOIN top b ON a.chat_id = b.chat_id AND a.root = b.root AND a.entity_id < b.entity_id
        WHERE {not_nested}
        GROUP BY a.entity_id, a.kind, b.entity_id, b.kind
    )
    INSERT INTO new_edges
    SELECT p.a_kind, p.a_id, 'co_mentioned_thread', p.b_kind, p.b_id,
           round((p.n / sqrt(ca.c * cb.c))::numeric, 6)::float8, p.n, p.last_seen
    FROM pairs p JOIN cnt ca ON ca.entity_id = p.a_id JOIN cnt cb ON cb.entity_id = p.b_id
    WHERE p.n >= :min_pair
"""

_SWAP_DELETE = """
    DELETE FROM graph_edges g WHERE NOT EXISTS (
        SELECT 1 FROM new_edges n WHERE n.src_kind = g.src_kind AND n.src_id = g.src_id AND n.relation = g.relation
          AND n.dst_kind = g.dst_kind AND n.dst_id = g.dst_id)
"""
_SWAP_UPSERT = """
    WITH up AS (
        INSERT INTO graph_edges AS g (src_kind, src_id, relation, dst_kind, dst_id, weight, evidence_count,
                                      last_seen_at)
        SELECT src_kind, src_id, relation, dst_kind, dst_id, weight, evidence_count, last_seen_at FROM new_edges
        ON CONFLICT (src_kind, src_id, relation, dst_kind, dst_id) DO UPDATE
            SET weight = EXCLUDED.weight, evidence_count = EXCLUDED.evidence_count,
                last_seen_at = EXCLUDED.last_seen_at
            WHERE (g.weight, g.evidence_count, g.last_seen_at)
                  IS DISTINCT FROM (EXCLUDED.weight, EXCLUDED.evidence_count, EXCLUDED.last_seen_at)
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
"""


def thread_roots(conn: Connection) -> list[tuple[int, int, int]]:
    """(chat_id, message_id, root message_id) for every message in a reply thread of two or more messages.

    Done in Python: a recursive CTE would rescan the corpus once per reply depth.
    """
    parent: dict[tuple[int, int], int] = {}
    for chat_id, message_id, reply_to in conn.execute(sa.text(
        "SELECT c.chat_id, c.message_id, c.reply_to_message_id FROM clean_messages c"
        " WHERE c.reply_to_message_id IS NOT NULL"
    )):
        parent[(chat_id, message_id)] = reply_to
    if not parent:
        return []
    existing = set()
    # parents must be in the corpus too, else the reply starts its own thread
    targets = sorted({(c, p) for (c, _), p in parent.items()})
    for i in range(0, len(targets), 5000):
        chunk = targets[i : i + 5000]
        rows = conn.execute(
            sa.text("SELECT c.chat_id, c.message_id FROM clean_messages c JOIN unnest(:chats, :ids) AS t(chat_id, "
                    "message_id) ON c.chat_id = t.chat_id AND c.message_id = t.message_id"),
            {"chats": [c for c, _ in chunk], "ids": [m for _, m in chunk]},
        )
        existing.update((c, m) for c, m in rows)
    root: dict[tuple[int, int], int] = {}

    def find(key: tuple[int, int]) -> int:
        path = []
        cur = key
        for _ in range(10_000):  # reply chains are acyclic; the bound only guards against bad data
            if cur in root:
                r = root[cur]
                break
            p = parent.get(cur)
            if p is None or (cur[0], p) not in existing:
                r = cur[1]
                break
            path.append(cur)
            cur = (cur[0], p)
        else:
            r = cur[1]
        for k in path:
            root[k] = r
        root[cur] = r
        return r

    out: dict[tuple[int, int], int] = {}
    for key in parent:
        r = find(key)
        if r != key[1]:
            out[key] = r
            out[(key[0], r)] = r
    return sorted((c, m, r) for (c, m), r in out.items())


def rebuild_graph(
    engine: Engine,
    *,
    min_user_topic: int = 1,
    min_support: int = 2,
    min_pair: int = 1,
    thread_top: int = 15,
) -> GraphBuild:
    """Purge opted-out people, fix entity counters, prune unused entities and rebuild ``graph_edges``."""
    out = GraphBuild()
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": GRAPH_LOCK})
        for sql in _PURGE:
            out.mentions_purged += conn.execute(sa.text(sql)).rowcount
        out.entities_purged = conn.execute(sa.text(_PURGE_ENTITIES)).rowcount
        out.counts_fixed = conn.execute(sa.text(_FIX_COUNTS)).rowcount
        out.entities_pruned = conn.execute(sa.text("DELETE FROM entities WHERE mention_count = 0")).rowcount

        conn.execute(sa.text(
            "CREATE TEMP TABLE new_edges (src_kind text, src_id bigint, relation text, dst_kind text,"
            " dst_id bigint, weight float8, evidence_count int, last_seen_at timestamptz) ON COMMIT DROP"))
        conn.execute(sa.text(_GRAPH_MENTIONS))
        conn.execute(sa.text(_USERS_OK))
        conn.execute(sa.text(_EDGES_DISCUSSES), {"min_user_topic": min_user_topic})
        conn.execute(sa.text(_EDGES_USERS))
        conn.execute(sa.text(_EDGES_UNKNOWN_PEOPLE))
        conn.execute(sa.text(_CO_BASE), {"min_support": min_support})
        conn.execute(sa.text(_EDGES_CO_MESSAGE.format(not_nested=_NOT_NESTED)), {"min_pair": min_pair})
        conn.execute(sa.text(
            "CREATE TEMP TABLE threads (chat_id bigint, message_id bigint, root bigint) ON COMMIT DROP"))
        _copy(conn, "threads", ("chat_id", "message_id", "root"), thread_roots(conn))
        conn.execute(sa.text(_EDGES_CO_THREAD.format(not_nested=_NOT_NESTED)),
                     {"min_pair": min_pair, "thread_top": thread_top})

        out.edges_deleted = conn.execute(sa.text(_SWAP_DELETE)).rowcount
        out.edges_inserted, out.edges_updated = conn.execute(sa.text(_SWAP_UPSERT)).one()
        out.edges_by_relation = {
            rel: n for rel, n in conn.execute(sa.text(
                "SELECT relation, count(*) FROM graph_edges GROUP BY relation ORDER BY relation"))
        }
    return out


# =============================================================================================
# Reading the graph back (metadata, picture)
# =============================================================================================


def top_entities(conn: Connection, per_kind: int = 10) -> list[tuple[str, str, int, int]]:
    """(kind, name, messages, users) of the most mentioned entities of each kind."""
    rows = conn.execute(sa.text(
        """
        WITH s AS (
            SELECT e.kind, e.name, e.id, count(DISTINCT (m.chat_id, m.message_id)) AS messages,
                   count(DISTINCT m.sender_id) AS users
            FROM entities e JOIN entity_mentions m ON m.entity_id = e.id
            WHERE e.mention_count >= 1
            GROUP BY e.kind, e.name, e.id
        )
        SELECT kind, name, messages, users FROM (
            SELECT s.*, row_number() OVER (PARTITION BY kind ORDER BY messages DESC, users DESC, name) AS rk FROM s
        ) r WHERE rk <= :k ORDER BY kind, rk
        """
    ), {"k": per_kind}).all()
    return [tuple(r) for r in rows]


def picture_data(conn: Connection, *, max_users: int = 10, max_nodes: int = 36, per_user: int = 3):
    """Nodes and edges of the most connected part of the graph, for a readable picture."""
    labels = {uid: name for uid, name in conn.execute(sa.text(
        "SELECT user_id, name FROM entities WHERE kind = 'person' AND user_id IS NOT NULL"))}
    users = [uid for uid, _ in conn.execute(sa.text(
        """
        SELECT uid, sum(w) FROM (
            SELECT src_id AS uid, weight AS w FROM graph_edges WHERE relation IN ('replied_to', 'mentioned')
              AND src_kind = 'user' AND dst_kind = 'user'
            UNION ALL
            SELECT dst_id, weight FROM graph_edges WHERE relation IN ('replied_to', 'mentioned')
              AND src_kind = 'user' AND dst_kind = 'user'
            UNION ALL
            SELECT src_id, 0.01 * evidence_count FROM graph_edges WHERE relation = 'discusses'
        ) x GROUP BY uid ORDER BY sum(w) DESC, uid LIMIT :n
        """
    ), {"n": max_users})]
    nodes: dict[tuple[str, int], dict[str, Any]] = {}
    for uid in users:
        nodes[("user", uid)] = {"label": labels.get(uid, f"user:{uid}"), "kind": "user", "size": 0.0}
    entity_ids: list[int] = []
    if users:
        for (eid,) in conn.execute(sa.text(
            """
            SELECT dst_id FROM (
                SELECT dst_id, row_number() OVER (PARTITION BY src_id ORDER BY weight DESC, dst_id) AS rk
                FROM graph_edges WHERE relation = 'discusses' AND src_id = ANY(:users)
            ) r WHERE rk <= :k
            """
        ), {"users": users, "k": per_user}):
            if eid not in entity_ids:
                entity_ids.append(eid)
    room = max(0, max_nodes - len(users) - len(entity_ids))
    for (eid,) in conn.execute(sa.text(
        "SELECT id FROM entities WHERE kind <> 'person' AND id <> ALL(:ids)"
        " ORDER BY mention_count DESC, id LIMIT :n"), {"ids": entity_ids or [0], "n": room}):
        entity_ids.append(eid)
    for eid, kind, name, count in conn.execute(sa.text(
        "SELECT id, kind, name, mention_count FROM entities WHERE id = ANY(:ids)"), {"ids": entity_ids or [0]}):
        nodes[(kind, eid)] = {"label": name, "kind": kind, "size": float(count)}
    index = {key: i for i, key in enumerate(nodes)}
    edges = []
    if nodes:
        for sk, sid, rel, dk, did, w in conn.execute(sa.text(
            "SELECT src_kind, src_id, relation, dst_kind, dst_id, weight FROM graph_edges"
        ).execution_options(stream_results=True, yield_per=10_000)):
            a, b = index.get((sk, sid)), index.get((dk, did))
            if a is not None and b is not None:
                edges.append((a, b, float(w), rel))
    node_list = list(nodes.values())
    for a, b, w, rel in edges:  # users sized by their interactions, entities by their mentions
        for i in (a, b):
            if node_list[i]["kind"] == "user":
                node_list[i]["size"] += w
    return node_list, edges


def _days(lo: datetime, hi: datetime):
    day = lo
    while day < hi:
        nxt = min(day + timedelta(days=1), hi)
        yield day, nxt
        day = nxt


def _llm_hits(client, text: str, lang: str | None, extractor: EntityExtractor, sender_id: int | None):
    """Entities the LLM names, keyed like the offline ones; people only when they resolve to a known user."""
    result = client.complete_json(ENTITY_EXTRACTION_PROMPT, {"message": text, "lang": lang or ""},
                                  ENTITY_EXTRACTION_SCHEMA)
    hits: list[EntityHit] = []
    for item in result.data["entities"]:
        kind, name = item["kind"], " ".join(item["name"].split())
        if kind == "person":
            uid = extractor.resolve_pseudonym(name.strip())
            if uid is None:
                uid = extractor.usernames.get(name.lstrip("@").lower()) if name.startswith("@") else None
            if uid is not None:
                if uid != sender_id:
                    hits.append(extractor.user_hit(uid, "llm"))
                continue
            if extractor.is_pseudonym(name.strip()) or name.startswith("@"):
                continue  # an unresolvable pseudonym may be an opted-out user
        key = entity_key(kind, name, lang)
        if key:
            hits.append(EntityHit(kind, key, name, "llm"))
    return result.method, hits


def extract_entities(engine: Engine, lo: datetime, hi: datetime, *, max_topics: int = 12, llm_client: Any = None,
                     llm_max_messages: int = 200, write_batch_rows: int = 50_000) -> Report:
    """Mentions of people, topics, organizations and projects in the clean messages of ``[lo, hi)`` by the offline
    rules (and ``llm_client``, when given, for up to ``llm_max_messages`` messages), written day window by day
    window; the report holds counts, the top entities and the opted-out check."""
    client = llm_client
    started = time.perf_counter()
    with engine.connect() as conn:
        people = load_people(conn)
    extractor = EntityExtractor(usernames=people.usernames, pseudonyms=people.pseudonyms,
                                user_labels=people.labels, max_topics=max_topics)

    llm_budget = llm_max_messages
    llm_method = None
    llm_failures = 0

    messages = 0
    by_kind: Counter[str] = Counter()
    by_method: Counter[str] = Counter()
    top: Counter[tuple[str, str]] = Counter()
    shown: dict[tuple[str, str], str] = {}
    totals = MentionWrite()
    names: dict[tuple[str, str], tuple[str, int | None]] = {}
    rows: list[tuple] = []
    llm_done: set[tuple[int, int]] = set()

    def flush(win_lo: datetime, win_hi: datetime) -> None:
        # One transaction per window of whole days: the rows of those days become exactly `rows`.
        scopes = [MethodScope("offline:%")]
        if client is not None:
            scopes.append(MethodScope(f"llm:{client.model}:{ENTITY_EXTRACTION_PROMPT}@%",
                                            frozenset(llm_done)))
        written = write_mentions(
            engine, win_lo, win_hi, [(k, key, n, uid) for (k, key), (n, uid) in sorted(names.items())], rows, scopes
        )
        totals.inserted += written.inserted
        totals.updated += written.updated
        totals.deleted += written.deleted
        totals.entities_new += written.entities_new
        names.clear()
        rows.clear()
        llm_done.clear()

    window_lo = lo
    for day_lo, day_hi in _days(lo, hi):
        with engine.connect() as conn:
            for msg in iter_partition_messages(conn, day_lo, day_hi):
                messages += 1
                mentioned = mentioned_user_ids(msg.mention_entities, people)
                found = [(h.method, h) for h in extractor.extract(
                    msg.text, lang=msg.lang, sender_id=msg.sender_id, reply_to_user_id=msg.reply_to_user_id,
                    mentioned_user_ids=mentioned)]
                if client is not None and llm_budget > 0:
                    llm_budget -= 1
                    try:
                        method, hits = _llm_hits(client, msg.text, msg.lang, extractor, msg.sender_id)
                        llm_method = method
                        found += [(method, h) for h in hits]
                        llm_done.add((msg.chat_id, msg.message_id))
                    except Exception as exc:  # one bad answer must not lose the partition's offline rows
                        llm_failures += 1
                        log.warning("LLM entity extraction failed for %s/%s: %s", msg.chat_id, msg.message_id, type(exc).__name__)
                seen: set[tuple[str, str, str]] = set()
                for method, h in found:
                    if (h.kind, h.key, method) in seen:
                        continue
                    seen.add((h.kind, h.key, method))
                    prev = names.get((h.kind, h.key))
                    if prev is None or (h.user_id is None and h.name < prev[0]):
                        names[(h.kind, h.key)] = (h.name, h.user_id)
                    rows.append((msg.chat_id, msg.message_id, h.kind, h.key, method, msg.date, msg.sender_id))
                    by_kind[h.kind] += 1
                    by_method[method] += 1
                    top[(h.kind, h.key)] += 1
                    if (h.kind, h.key) not in shown or h.name < shown[(h.kind, h.key)]:
                        shown[(h.kind, h.key)] = h.name
        if len(rows) >= write_batch_rows:
            flush(window_lo, day_hi)
            window_lo = day_hi
    if window_lo < hi:
        flush(window_lo, hi)
    duration = time.perf_counter() - started

    with engine.connect() as conn:
        leaked = conn.execute(sa.text(
            """
            SELECT count(*) FROM entity_mentions m
            LEFT JOIN entities e ON e.id = m.entity_id
            JOIN telegram_users u ON u.user_id = m.sender_id OR u.user_id = e.user_id
            WHERE m.date >= :lo AND m.date < :hi AND u.is_ignored
            """
        ), {"lo": lo, "hi": hi}).scalar_one()
        stored = conn.execute(sa.text("SELECT count(*) FROM entity_mentions WHERE date >= :lo AND date < :hi"),
                              {"lo": lo, "hi": hi}).scalar_one()

    top_rows = [(kind, shown[(kind, key)], n) for (kind, key), n in top.most_common(15)]
    log.info("%s messages, %s mentions in %.1fs", messages, sum(by_kind.values()), duration)
    return Report(
        values={
            "method": OFFLINE_METHOD + (f" + {llm_method}" if llm_method else ""), "llm_failures": llm_failures,
            "messages": messages, "mentions": sum(by_kind.values()), "mentions_stored": stored,
            "rows_inserted": totals.inserted, "rows_updated": totals.updated, "rows_deleted": totals.deleted,
            "entities_new": totals.entities_new,
            "messages_per_second": round(messages / duration) if duration > 0 else 0,
        },
        json={"mentions_by_kind": dict(sorted(by_kind.items())), "mentions_by_method": dict(sorted(by_method.items()))},
        markdown={"top_entities": markdown_table(["kind", "name", "mentions"], top_rows)},
        checks={"entities_no_opted_out_users": CheckOutcome(leaked == 0, {"rows_with_opted_out_users": leaked})},
    )


def build_knowledge_graph(engine: Engine, *, min_user_topic: int = 1, min_support: int = 2, min_pair: int = 1,
                          thread_top: int = 15, top_per_kind: int = 10, picture_users: int = 10,
                          picture_nodes: int = 36) -> Report:
    """Rebuild ``graph_edges`` from every mention (see ``rebuild_graph``); the report holds edge and entity counts,
    the top entities per kind, a picture of the most connected part, and the opted-out and dangling-edge checks."""
    built = rebuild_graph(
        engine,
        min_user_topic=min_user_topic,
        min_support=min_support,
        min_pair=min_pair,
        thread_top=thread_top,
    )
    with engine.connect() as conn:
        tops = top_entities(conn, top_per_kind)
        nodes, edges = picture_data(conn, max_users=picture_users, max_nodes=picture_nodes)
        n_entities = dict(conn.execute(sa.text("SELECT kind, count(*) FROM entities GROUP BY kind")).all())
        leaked = conn.execute(sa.text(
            """
            SELECT (SELECT count(*) FROM graph_edges g JOIN telegram_users u
                      ON u.is_ignored AND ((g.src_kind = 'user' AND g.src_id = u.user_id)
                                           OR (g.dst_kind = 'user' AND g.dst_id = u.user_id)))
                 + (SELECT count(*) FROM entities e JOIN telegram_users u ON u.user_id = e.user_id AND u.is_ignored)
                 + (SELECT count(*) FROM entity_mentions m JOIN telegram_users u
                      ON u.user_id = m.sender_id AND u.is_ignored)
            """
        )).scalar_one()
        dangling = conn.execute(sa.text(
            """
            SELECT count(*) FROM graph_edges g WHERE
              (g.src_kind <> 'user' AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = g.src_id
                                                    AND e.kind = g.src_kind))
              OR (g.dst_kind <> 'user' AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = g.dst_id
                                                       AND e.kind = g.dst_kind))
            """
        )).scalar_one()
    picture = graph_picture_markdown(nodes, edges, title="Knowledge graph: most connected users and entities")
    relation_rows = [(rel, built.edges_by_relation.get(rel, 0)) for rel in RELATIONS]
    return Report(
        values={
            "edges_total": sum(built.edges_by_relation.values()), **{f"edges_{rel}": n for rel, n in relation_rows},
            "edges_inserted": built.edges_inserted, "edges_updated": built.edges_updated,
            "edges_deleted": built.edges_deleted, "entities_pruned": built.entities_pruned,
            "opted_out_rows_purged": built.mentions_purged + built.entities_purged,
            "picture_nodes": len(nodes), "picture_edges": len(edges),
        },
        json={"entities_by_kind": {k: n_entities.get(k, 0) for k in ENTITY_KINDS}},
        markdown={"edges_by_relation": markdown_table(["relation", "edges"], relation_rows),
                  "top_entities": markdown_table(["kind", "name", "messages", "users"], tops), "graph": picture},
        checks={"knowledge_graph_no_opted_out_users": CheckOutcome(leaked == 0, {"rows_with_opted_out_users": leaked}),
                "knowledge_graph_edges_resolve": CheckOutcome(dangling == 0, {"dangling_edges": dangling})},
    )
