"""Reading a user's place in the knowledge graph: what they talk about and whom they talk to.

Plain functions over the database (no Dagster), for the user-profile features built on the graph.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

DEFAULT_EXPERTISE_KINDS = ("topic", "project", "organization")


@dataclass(frozen=True)
class ExpertiseItem:
    entity_id: int
    kind: str
    key: str
    name: str
    weight: float  # tf-idf-like: (1 + ln n) * ln(1 + users / users discussing it)
    messages: int  # the user's messages that mention it
    last_seen_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def user_expertise(
    engine: Engine,
    user_id: int,
    top: int = 10,
    *,
    kinds: tuple[str, ...] = DEFAULT_EXPERTISE_KINDS,
    min_messages: int = 1,
) -> list[ExpertiseItem]:
    """The user's top topics (and tools/projects/organizations) by the ``discusses`` edge weight.

    Empty for users who opted out (``is_ignored``) or have no edges yet (run ``knowledge_graph`` first).
    """
    sql = sa.text(
        """
        SELECT e.id, e.kind, e.key, e.name, g.weight, g.evidence_count, g.last_seen_at
        FROM graph_edges g
        JOIN entities e ON e.id = g.dst_id AND e.kind = g.dst_kind
        WHERE g.src_kind = 'user' AND g.src_id = :uid AND g.relation = 'discusses'
          AND g.dst_kind = ANY(:kinds) AND g.evidence_count >= :min_messages
          AND NOT EXISTS (SELECT 1 FROM telegram_users u WHERE u.user_id = :uid AND u.is_ignored)
        ORDER BY g.weight DESC, g.evidence_count DESC, e.name
        LIMIT :top
        """
    )
    with engine.connect() as conn:
        rows = conn.execute(sql, {"uid": user_id, "kinds": list(kinds), "min_messages": min_messages,
                                  "top": top}).all()
    return [ExpertiseItem(*row) for row in rows]


@dataclass(frozen=True)
class Connection:
    user_id: int
    label: str
    replies_to: int  # replies this user wrote to them
    replies_from: int  # replies they wrote to this user
    mentions_to: int
    mentions_from: int

    @property
    def total(self) -> int:
        return self.replies_to + self.replies_from + self.mentions_to + self.mentions_from


def user_connections(engine: Engine, user_id: int, top: int = 10) -> list[Connection]:
    """Users this user interacts with most (replies and mentions, both directions)."""
    sql = sa.text(
        """
        WITH x AS (
            SELECT dst_id AS other, relation, evidence_count AS n, 'out' AS dir FROM graph_edges
            WHERE src_kind = 'user' AND dst_kind = 'user' AND src_id = :uid
            UNION ALL
            SELECT src_id, relation, evidence_count, 'in' FROM graph_edges
            WHERE src_kind = 'user' AND dst_kind = 'user' AND dst_id = :uid
        )
        SELECT x.other, COALESCE(max(e.name), 'user:' || x.other),
               COALESCE(sum(n) FILTER (WHERE relation = 'replied_to' AND dir = 'out'), 0),
               COALESCE(sum(n) FILTER (WHERE relation = 'replied_to' AND dir = 'in'), 0),
               COALESCE(sum(n) FILTER (WHERE relation = 'mentioned' AND dir = 'out'), 0),
               COALESCE(sum(n) FILTER (WHERE relation = 'mentioned' AND dir = 'in'), 0)
        FROM x LEFT JOIN entities e ON e.kind = 'person' AND e.user_id = x.other
        WHERE NOT EXISTS (SELECT 1 FROM telegram_users u WHERE u.user_id = :uid AND u.is_ignored)
        GROUP BY x.other
        ORDER BY sum(n) DESC, x.other
        LIMIT :top
        """
    )
    with engine.connect() as conn:
        return [Connection(int(a), str(b), int(c), int(d), int(e), int(f))
                for a, b, c, d, e, f in conn.execute(sql, {"uid": user_id, "top": top})]
