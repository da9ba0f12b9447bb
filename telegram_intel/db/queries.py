"""Read-side queries shared by the CLI, Dagster metadata and tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_COUNTS = """
SELECT
    (SELECT count(*) FROM telegram_chats) AS chats,
    (SELECT count(*) FROM telegram_users) AS users,
    count(*) AS messages,
    count(*) FILTER (WHERE kind = 'service') AS service_messages,
    count(*) FILTER (WHERE reply_to_message_id IS NOT NULL AND kind <> 'service') AS replies,
    count(*) FILTER (WHERE reply_to_message_id IS NOT NULL AND kind = 'service') AS service_references,
    count(*) FILTER (WHERE forwarded_from IS NOT NULL OR forwarded_from_id IS NOT NULL) AS forwards,
    count(*) FILTER (WHERE edit_date IS NOT NULL) AS edited,
    count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
    min(date) AS first_date,
    max(date) AS last_date
FROM telegram_messages
"""


def collect_stats(engine: Engine) -> dict[str, Any]:
    """Counts straight from the database (service messages count as messages).

    ``replies`` are messages written in reply to another message. Service messages that point at a message (a pin,
    a game score, a payment) carry that message id in ``reply_to_message_id`` too, as Telethon does, but are not
    replies: they are counted apart as ``service_references`` (``chat_statistics.replies`` counts the same way)."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(_COUNTS)).mappings().one()
        media = conn.execute(
            sa.text(
                "SELECT media_type, count(*) FROM telegram_messages WHERE media_type IS NOT NULL "
                "GROUP BY media_type ORDER BY media_type"
            )
        ).all()
        files = conn.execute(
            sa.text("SELECT status, count(*) FROM telegram_files GROUP BY status ORDER BY status")
        ).all()
    out = {k: row[k] for k in ("chats", "users", "messages", "service_messages", "replies", "service_references",
                               "forwards", "edited", "deleted")}
    out["media"] = {m: n for m, n in media}
    out["files"] = {s: n for s, n in files}
    out["first_date"] = row["first_date"].isoformat() if row["first_date"] else None
    out["last_date"] = row["last_date"].isoformat() if row["last_date"] else None
    return out
