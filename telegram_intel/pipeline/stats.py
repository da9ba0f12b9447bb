"""The work of the statistics assets (no Dagster here): daily counts per chat and per user, and their reports.

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
* ``reaction_statistics``: per chat, day and reaction (the emoji, a custom emoji's document id, or ``paid``),
  ``messages`` = messages carrying it, ``reactions`` = its count summed over them. Telegram dates reactions only in
  the short "recent" lists, so the day is the reacted message's. Totals, like ``chat_statistics``.
* ``user_reactions``: per user, chat and day (of the reacted message), ``received`` = reactions on the user's
  messages, ``given`` = reactions the user is named for in the messages' "recent" lists (Telegram names who
  reacted only in small groups and to a message's author: a lower bound). Opted-out users have no rows, and
  reactions they gave are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from telegram_intel.lib.plots.graph import (
    barh_chart_markdown,
    lines_chart_markdown,
    markdown_table,
)
from telegram_intel.lib.report import CheckOutcome, Report

PLOT_DAYS = 60  # the charts show the days up to the partition's end, not just the partition
PLOT_CHATS = 8
PLOT_USERS = 15


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


_REACTION_STATS = """
    CREATE TEMP TABLE new_reaction_stats ON COMMIT DROP AS
    SELECT r.chat_id, (r.date AT TIME ZONE 'UTC')::date AS day, r.reaction, min(r.reaction_type) AS reaction_type,
           count(DISTINCT r.message_id)::int AS messages, COALESCE(sum(r.count), 0)::bigint AS reactions
    FROM telegram_message_reactions r
    WHERE r.date >= :lo AND r.date < :hi AND r.reaction IS NOT NULL
    GROUP BY r.chat_id, (r.date AT TIME ZONE 'UTC')::date, r.reaction
"""

_USER_REACTIONS = """
    CREATE TEMP TABLE new_user_reactions ON COMMIT DROP AS
    WITH received AS (
        SELECT r.sender_id AS user_id, r.chat_id, (r.date AT TIME ZONE 'UTC')::date AS day,
               COALESCE(sum(r.count), 0)::bigint AS received
        FROM telegram_message_reactions r
        LEFT JOIN telegram_users u ON u.user_id = r.sender_id
        WHERE r.date >= :lo AND r.date < :hi AND r.sender_id > 0 AND NOT COALESCE(u.is_ignored, false)
        GROUP BY 1, 2, 3
    ), given AS (
        SELECT s.user_id, s.chat_id, (s.message_date AT TIME ZONE 'UTC')::date AS day, count(*)::int AS given
        FROM telegram_reaction_senders s
        LEFT JOIN telegram_users u ON u.user_id = s.user_id
        WHERE s.message_date >= :lo AND s.message_date < :hi AND s.user_id > 0 AND NOT COALESCE(u.is_ignored, false)
        GROUP BY 1, 2, 3
    )
    SELECT COALESCE(r.user_id, g.user_id) AS user_id, COALESCE(r.chat_id, g.chat_id) AS chat_id,
           COALESCE(r.day, g.day) AS day, COALESCE(r.received, 0) AS received, COALESCE(g.given, 0) AS given
    FROM received r FULL JOIN given g ON g.user_id = r.user_id AND g.chat_id = r.chat_id AND g.day = r.day
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


def _chat_label(chat_id: int, ctype: str | None, title: str | None) -> str:
    # A private chat's title is the other person's name: show the id instead.
    if ctype in ("group", "supergroup", "channel") and title:
        return title[:32]
    return f"{ctype or 'chat'} {chat_id}"


def _upsert_values(result: Upsert) -> dict[str, int]:
    return {"rows": result.rows, "rows_inserted": result.inserted, "rows_updated": result.updated,
            "rows_deleted": result.deleted}


def chat_statistics(engine: Engine, lo: datetime, hi: datetime) -> Report:
    """Refresh ``chat_statistics`` for ``[lo, hi)``; totals, a per-chat daily chart of the last ``PLOT_DAYS`` days and
    the check that the partition's counts equal ``telegram_messages``'."""
    result = refresh_chat_statistics(engine, lo, hi)
    with engine.connect() as conn:
        totals = conn.execute(sa.text(
            "SELECT COALESCE(sum(messages), 0), COALESCE(sum(service_messages), 0), COALESCE(sum(media_messages), 0),"
            " COALESCE(sum(replies), 0), count(DISTINCT chat_id) FROM chat_statistics"
            " WHERE day >= :dlo AND day < :dhi"), {"dlo": lo.date(), "dhi": hi.date()}).one()
        direct = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE kind <> 'service'), count(*) FILTER (WHERE kind = 'service')"
            " FROM telegram_messages WHERE date >= :lo AND date < :hi AND deleted_at IS NULL"),
            {"lo": lo, "hi": hi}).one()
        plot_lo = max(lo.date(), hi.date() - timedelta(days=PLOT_DAYS))
        chats = conn.execute(sa.text(
            "SELECT s.chat_id, c.type, c.title FROM chat_statistics s LEFT JOIN telegram_chats c USING (chat_id)"
            " WHERE s.day >= :plo AND s.day < :dhi GROUP BY s.chat_id, c.type, c.title"
            " ORDER BY sum(s.messages) DESC, s.chat_id LIMIT :n"),
            {"plo": plot_lo, "dhi": hi.date(), "n": PLOT_CHATS}).all()
        series_rows = conn.execute(sa.text(
            "SELECT chat_id, day, messages FROM chat_statistics WHERE day >= :plo AND day < :dhi"
            " AND chat_id = ANY(:ids)"), {"plo": plot_lo, "dhi": hi.date(), "ids": [c[0] for c in chats] or [0]}).all()
    days = [plot_lo + timedelta(days=i) for i in range((hi.date() - plot_lo).days)]
    index = {d: i for i, d in enumerate(days)}
    series = {}
    for chat_id, ctype, title in chats:
        label = _chat_label(chat_id, ctype, title)
        if label in series:
            label = f"{label} ({chat_id})"
        values = [0] * len(days)
        for cid, day, n in series_rows:
            if cid == chat_id and day in index:
                values[index[day]] = n
        series[label] = values
    messages, service, media, replies, n_chats = (int(v) for v in totals)
    return Report(
        values={**_upsert_values(result), "chats": n_chats, "messages": messages, "service_messages": service,
                "media_messages": media, "replies": replies},
        markdown={"messages_per_day": lines_chart_markdown(
            [d.isoformat() for d in days], series, title=f"Messages per day per chat (last {len(days)} days)")},
        checks={"chat_statistics_match_messages": CheckOutcome(
            (messages, service) == (int(direct[0]), int(direct[1])),
            {"statistics": f"{messages}/{service}", "telegram_messages": f"{direct[0]}/{direct[1]}"})},
    )


def user_activity(engine: Engine, lo: datetime, hi: datetime) -> Report:
    """Refresh ``user_activity`` for ``[lo, hi)``; totals, the most active users (by pseudonym or id, never by name)
    and the check that no opted-out user has rows."""
    result = refresh_user_activity(engine, lo, hi)
    dlo, dhi = lo.date(), hi.date()
    with engine.connect() as conn:
        users, messages, replies = conn.execute(sa.text(
            "SELECT count(DISTINCT user_id), COALESCE(sum(messages), 0), COALESCE(sum(replies_sent), 0)"
            " FROM user_activity WHERE day >= :dlo AND day < :dhi"), {"dlo": dlo, "dhi": dhi}).one()
        plot_lo = max(dlo, dhi - timedelta(days=PLOT_DAYS))
        top = conn.execute(sa.text(
            """
            SELECT a.user_id, sum(a.messages) AS messages, sum(a.replies_sent), sum(a.replies_received),
                   (SELECT c.sender_pseudonym FROM clean_messages c WHERE c.sender_id = a.user_id
                      AND c.sender_pseudonym IS NOT NULL ORDER BY c.date DESC LIMIT 1) AS pseudonym
            FROM user_activity a JOIN telegram_users u ON u.user_id = a.user_id AND NOT u.is_ignored
            WHERE a.day >= :plo AND a.day < :dhi
            GROUP BY a.user_id ORDER BY sum(a.messages) DESC, a.user_id LIMIT :n
            """
        ), {"plo": plot_lo, "dhi": dhi, "n": PLOT_USERS}).all()
        leaked = conn.execute(sa.text(
            "SELECT count(*) FROM user_activity a JOIN telegram_users u ON u.user_id = a.user_id AND u.is_ignored"
        )).scalar_one()
    labels = [pseudo or f"user:{uid}" for uid, _, _, _, pseudo in top]
    return Report(
        values={**_upsert_values(result), "active_users": int(users), "messages": int(messages),
                "replies_sent": int(replies)},
        markdown={
            "top_active_users": barh_chart_markdown(
                labels, [int(m) for _, m, _, _, _ in top],
                title=f"Most active users, messages {plot_lo.isoformat()} – {(dhi - timedelta(days=1)).isoformat()}"),
            "top_active_users_table": markdown_table(
                ["user", "messages", "replies sent", "replies received"],
                [(label, int(m), int(s), int(r)) for label, (_, m, s, r, _) in zip(labels, top)]),
        },
        checks={"user_activity_no_opted_out_users": CheckOutcome(leaked == 0, {"rows_of_opted_out_users": leaked})},
    )


def refresh_reaction_statistics(engine: Engine, lo: datetime, hi: datetime) -> Upsert:
    with engine.begin() as conn:
        conn.execute(sa.text(_REACTION_STATS), {"lo": lo, "hi": hi})
        return _swap(conn, "reaction_statistics", "new_reaction_stats", ("chat_id", "day", "reaction"),
                     ("reaction_type", "messages", "reactions"), lo.date(), hi.date())


def refresh_user_reactions(engine: Engine, lo: datetime, hi: datetime) -> Upsert:
    with engine.begin() as conn:
        conn.execute(sa.text(_USER_REACTIONS), {"lo": lo, "hi": hi})
        purged = conn.execute(sa.text(
            "DELETE FROM user_reactions a USING telegram_users u WHERE u.user_id = a.user_id AND u.is_ignored"
        )).rowcount
        out = _swap(conn, "user_reactions", "new_user_reactions", ("user_id", "chat_id", "day"),
                    ("received", "given"), lo.date(), hi.date())
        out.deleted += purged
        return out


def reaction_statistics(engine: Engine, lo: datetime, hi: datetime) -> Report:
    """Refresh ``reaction_statistics`` for ``[lo, hi)``; totals, the most used reactions, and the check that the
    partition's total equals the reactions stored on its messages."""
    result = refresh_reaction_statistics(engine, lo, hi)
    dlo, dhi = lo.date(), hi.date()
    with engine.connect() as conn:
        reactions, messages, kinds, chats = conn.execute(sa.text(
            "SELECT COALESCE(sum(reactions), 0), COALESCE(sum(messages), 0), count(DISTINCT reaction),"
            " count(DISTINCT chat_id) FROM reaction_statistics WHERE day >= :dlo AND day < :dhi"),
            {"dlo": dlo, "dhi": dhi}).one()
        direct = conn.execute(sa.text(
            "SELECT COALESCE(sum(count), 0) FROM telegram_message_reactions"
            " WHERE date >= :lo AND date < :hi AND reaction IS NOT NULL"), {"lo": lo, "hi": hi}).scalar_one()
        top = conn.execute(sa.text(
            "SELECT reaction, min(reaction_type), sum(reactions) FROM reaction_statistics"
            " WHERE day >= :dlo AND day < :dhi GROUP BY reaction ORDER BY sum(reactions) DESC, reaction LIMIT :n"),
            {"dlo": dlo, "dhi": dhi, "n": PLOT_USERS}).all()
    # A custom emoji is a document id: label it as such rather than print a bare number.
    labels = [r if t == "emoji" else f"{t}:{r}" if t != "paid" else "paid (Stars)" for r, t, _ in top]
    return Report(
        values={**_upsert_values(result), "reactions": int(reactions), "reaction_message_counts": int(messages),
                "distinct_reactions": int(kinds), "chats": int(chats)},
        markdown={"top_reactions": barh_chart_markdown(
            labels, [int(n) for _, _, n in top],
            title=f"Most used reactions {dlo.isoformat()} – {(dhi - timedelta(days=1)).isoformat()}")},
        checks={"reaction_statistics_match_messages": CheckOutcome(
            int(reactions) == int(direct), {"statistics": int(reactions), "telegram_messages": int(direct)})},
    )


def user_reactions(engine: Engine, lo: datetime, hi: datetime) -> Report:
    """Refresh ``user_reactions`` for ``[lo, hi)``; totals and the check that no opted-out user has rows."""
    result = refresh_user_reactions(engine, lo, hi)
    with engine.connect() as conn:
        users, received, given = conn.execute(sa.text(
            "SELECT count(DISTINCT user_id), COALESCE(sum(received), 0), COALESCE(sum(given), 0)"
            " FROM user_reactions WHERE day >= :dlo AND day < :dhi"), {"dlo": lo.date(), "dhi": hi.date()}).one()
        leaked = conn.execute(sa.text(
            "SELECT count(*) FROM user_reactions a JOIN telegram_users u ON u.user_id = a.user_id AND u.is_ignored"
        )).scalar_one()
    return Report(
        values={**_upsert_values(result), "users": int(users), "reactions_received": int(received),
                "reactions_given": int(given)},
        checks={"user_reactions_no_opted_out_users": CheckOutcome(leaked == 0, {"rows_of_opted_out_users": leaked})},
    )
