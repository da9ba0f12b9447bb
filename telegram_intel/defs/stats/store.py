"""SQL of the statistics assets (no Dagster here).

Definitions (UTC days, tombstoned messages left out):

* ``chat_statistics``: per chat and day, ``messages`` = non-service messages, ``service_messages``,
  ``media_messages`` = non-service messages with media, ``active_users`` = distinct senders of non-service
  messages, ``replies`` = non-service messages that reply to another message. Counts include the messages of
  users who opted out: they are totals that reveal neither text nor who wrote it, and without them the
  chat's volume would be wrong.
* ``user_activity``: per user (positive sender id: channels posting as themselves are not users), chat and day,
  ``messages`` = non-service messages, ``replies_sent`` = those that reply to some message, ``replies_received``
  = replies written that day by someone else to this user's messages. Opted-out users have no rows, and their
  replies are not counted as received by others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine


@dataclass
class Upsert:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    rows: int = 0  # rows for the range after the write


_CHAT_STATS = """
    CREATE TEMP TABLE new_chat_stats ON COMMIT DROP AS
    SELECT m.chat_id, (m.date AT TIME ZONE 'UTC')::date AS day,
           count(*) FILTER (WHERE m.kind <> 'service')::int AS messages,
           count(*) FILTER (WHERE m.kind = 'service')::int AS service_messages,
           count(*) FILTER (WHERE m.kind <> 'service' AND m.has_media)::int AS media_messages,
           count(DISTINCT m.sender_id) FILTER (WHERE m.kind <> 'service')::int AS active_users,
           count(*) FILTER (WHERE m.kind <> 'service' AND m.reply_to_message_id IS NOT NULL)::int AS replies
    FROM telegram_messages m
    WHERE m.date >= :lo AND m.date < :hi AND m.deleted_at IS NULL
    GROUP BY m.chat_id, (m.date AT TIME ZONE 'UTC')::date
"""

_USER_ACTIVITY = """
    CREATE TEMP TABLE new_user_activity ON COMMIT DROP AS
    WITH msgs AS (
        SELECT m.chat_id, m.message_id, m.sender_id, m.reply_to_message_id, (m.date AT TIME ZONE 'UTC')::date AS day
        FROM telegram_messages m
        LEFT JOIN telegram_users u ON u.user_id = m.sender_id
        WHERE m.date >= :lo AND m.date < :hi AND m.deleted_at IS NULL AND m.kind <> 'service'
          AND m.sender_id > 0 AND NOT COALESCE(u.is_ignored, false)
    ), sent AS (
        SELECT sender_id AS user_id, chat_id, day, count(*)::int AS messages,
               count(*) FILTER (WHERE reply_to_message_id IS NOT NULL)::int AS replies_sent
        FROM msgs GROUP BY sender_id, chat_id, day
    ), received AS (
        SELECT t.sender_id AS user_id, r.chat_id, r.day, count(*)::int AS replies_received
        FROM msgs r
        JOIN telegram_messages t ON t.chat_id = r.chat_id AND t.message_id = r.reply_to_message_id
        LEFT JOIN telegram_users tu ON tu.user_id = t.sender_id
        WHERE t.sender_id > 0 AND t.sender_id <> r.sender_id AND NOT COALESCE(tu.is_ignored, false)
        GROUP BY t.sender_id, r.chat_id, r.day
    )
    SELECT COALESCE(s.user_id, r.user_id) AS user_id, COALESCE(s.chat_id, r.chat_id) AS chat_id,
           COALESCE(s.day, r.day) AS day, COALESCE(s.messages, 0) AS messages,
           COALESCE(s.replies_sent, 0) AS replies_sent, COALESCE(r.replies_received, 0) AS replies_received
    FROM sent s FULL JOIN received r ON r.user_id = s.user_id AND r.chat_id = s.chat_id AND r.day = s.day
"""


def _swap(conn, table: str, staged: str, keys: tuple[str, ...], values: tuple[str, ...], dlo: date,
          dhi: date) -> Upsert:
    """Make ``table``'s rows for days [dlo, dhi) equal ``staged``: delete the gone, upsert the changed."""
    on = " AND ".join(f"n.{k} = t.{k}" for k in keys)
    cols = ", ".join(keys + values)
    out = Upsert()
    out.deleted = conn.execute(sa.text(
        f"DELETE FROM {table} t WHERE t.day >= :dlo AND t.day < :dhi"
        f" AND NOT EXISTS (SELECT 1 FROM {staged} n WHERE {on})"
    ), {"dlo": dlo, "dhi": dhi}).rowcount
    sets = ", ".join(f"{v} = EXCLUDED.{v}" for v in values)
    changed = (f"({', '.join('t.' + v for v in values)}) IS DISTINCT FROM "
               f"({', '.join('EXCLUDED.' + v for v in values)})")
    out.inserted, out.updated = conn.execute(sa.text(
        f"WITH up AS (INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM {staged}"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets} WHERE {changed}"
        f" RETURNING (xmax = 0) AS inserted)"
        f" SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
    )).one()
    out.rows = conn.execute(sa.text(f"SELECT count(*) FROM {staged}")).scalar_one()
    return out


def refresh_chat_statistics(engine: Engine, lo: datetime, hi: datetime) -> Upsert:
    with engine.begin() as conn:
        conn.execute(sa.text(_CHAT_STATS), {"lo": lo, "hi": hi})
        return _swap(conn, "chat_statistics", "new_chat_stats", ("chat_id", "day"),
                     ("messages", "service_messages", "media_messages", "active_users", "replies"),
                     lo.date(), hi.date())


def refresh_user_activity(engine: Engine, lo: datetime, hi: datetime) -> Upsert:
    with engine.begin() as conn:
        conn.execute(sa.text(_USER_ACTIVITY), {"lo": lo, "hi": hi})
        # rows of users who opted out since the last run go too, at any date
        purged = conn.execute(sa.text(
            "DELETE FROM user_activity a USING telegram_users u WHERE u.user_id = a.user_id AND u.is_ignored"
        )).rowcount
        out = _swap(conn, "user_activity", "new_user_activity", ("user_id", "chat_id", "day"),
                    ("messages", "replies_sent", "replies_received"), lo.date(), hi.date())
        out.deleted += purged
        return out
