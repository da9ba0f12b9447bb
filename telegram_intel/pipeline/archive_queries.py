"""Read-only queries the MCP server's tools need beyond search, contacts and the graph helpers (no Dagster here).

Every query leaves out people who opted out (``telegram_users.is_ignored``); erased people have no rows left.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

__all__ = ["chat_activity", "chat_usernames", "entity_neighbours", "user_names", "visible_user_ids"]


def visible_user_ids(engine: Engine, person: str) -> list[int]:
    """Ids of the people who are not opted out matching an id, an @username or a display name."""
    s = person.strip()
    with engine.connect() as conn:
        if s.lstrip("-").isdigit():
            rows = conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE user_id = :u AND NOT is_ignored"),
                                {"u": int(s)}).scalars().all()
        else:
            rows = conn.execute(sa.text(
                "SELECT user_id FROM telegram_users WHERE NOT is_ignored AND (lower(username) = lower(:h) OR "
                "lower(display_name) = lower(:n))"), {"h": s.lstrip("@"), "n": s}).scalars().all()
    return [int(r) for r in rows]


def chat_usernames(engine: Engine, chat_ids: list[int]) -> dict[int, str | None]:
    if not chat_ids:
        return {}
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT chat_id, username FROM telegram_chats WHERE chat_id = ANY(:c)"),
                                 {"c": sorted(set(chat_ids))}).all())


def user_names(engine: Engine, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    with engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(sa.text(
            "SELECT user_id, COALESCE(NULLIF(display_name, ''), '@' || username, user_id::text) FROM telegram_users"
            " WHERE user_id = ANY(:u) AND NOT is_ignored"), {"u": ids})}


def entity_neighbours(engine: Engine, entity: str, kind: str | None, limit: int
                      ) -> tuple[Row, list[Row], list[Row]] | None:
    """The best-known non-person entity named ``entity`` (of ``kind``), the visible people who discuss it and the
    entities co-mentioned with it; None when no entity matches."""
    with engine.connect() as conn:
        ent = conn.execute(sa.text(
            "SELECT id, kind, name FROM entities WHERE kind <> 'person' AND (lower(name) = lower(:n) OR key = lower(:n))"
            + (" AND kind = :k" if kind else "") + " ORDER BY mention_count DESC LIMIT 1"),
            {"n": entity.strip(), "k": kind}).first()
        if ent is None:
            return None
        users = conn.execute(sa.text(
            """
            SELECT g.src_id, g.evidence_count, g.weight FROM graph_edges g JOIN telegram_users u ON u.user_id = g.src_id
            WHERE g.relation = 'discusses' AND g.src_kind = 'user' AND g.dst_kind = :k AND g.dst_id = :id
              AND NOT u.is_ignored
            ORDER BY g.weight DESC, g.evidence_count DESC LIMIT :n
            """), {"k": ent.kind, "id": ent.id, "n": limit}).all()
        related = conn.execute(sa.text(
            """
            SELECT e.kind, e.name, g.relation, g.evidence_count FROM graph_edges g
            JOIN entities e ON (e.id = g.dst_id AND e.kind = g.dst_kind AND g.src_id = :id AND g.src_kind = :k)
                            OR (e.id = g.src_id AND e.kind = g.src_kind AND g.dst_id = :id AND g.dst_kind = :k)
            WHERE g.relation IN ('co_mentioned', 'co_mentioned_thread') AND e.kind <> 'person'
            ORDER BY g.evidence_count DESC, e.name LIMIT :n
            """), {"k": ent.kind, "id": ent.id, "n": limit}).all()
    return ent, list(users), list(related)


def chat_activity(engine: Engine, chats: list[int] | None, since: date | None, until: date | None,
                  top_senders: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per chat totals from ``chat_statistics`` over the days, and each chat's top visible senders."""
    params: dict[str, Any] = {"lo": since or date(1970, 1, 1), "hi": until or date(9999, 12, 31),
                              "chats": chats, "n": top_senders}
    scope = "day BETWEEN :lo AND :hi" + (" AND chat_id = ANY(:chats)" if chats is not None else "")
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            f"""
            SELECT s.chat_id, COALESCE(c.title, c.username, s.chat_id::text) AS title, c.type,
                   sum(s.messages) AS messages, sum(s.media_messages) AS media, sum(s.replies) AS replies,
                   count(*) FILTER (WHERE s.messages > 0) AS active_days, min(s.day) AS first_day,
                   max(s.day) AS last_day
            FROM chat_statistics s LEFT JOIN telegram_chats c USING (chat_id)
            WHERE s.{scope} GROUP BY s.chat_id, c.title, c.username, c.type ORDER BY sum(s.messages) DESC
            """), params).mappings().all()
        senders = conn.execute(sa.text(
            f"""
            SELECT * FROM (
              SELECT a.chat_id, a.user_id, COALESCE(NULLIF(u.display_name, ''), '@' || u.username) AS name,
                     sum(a.messages) AS messages,
                     row_number() OVER (PARTITION BY a.chat_id ORDER BY sum(a.messages) DESC, a.user_id) AS rk
              FROM user_activity a JOIN telegram_users u ON u.user_id = a.user_id AND NOT u.is_ignored
              WHERE a.{scope} GROUP BY a.chat_id, a.user_id, u.display_name, u.username) t
            WHERE rk <= :n ORDER BY chat_id, rk
            """), params).mappings().all()
    return [dict(r) for r in rows], [dict(s) for s in senders]
