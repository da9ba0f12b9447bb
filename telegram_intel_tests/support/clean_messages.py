"""Fill ``clean_messages`` straight from the imported messages with the library cleaner.

What the ``clean_messages`` asset does, minus its bookkeeping, so graph and profile tests do not depend on
that asset (their integration tests run it instead).
"""

from __future__ import annotations

import sqlalchemy as sa

from telegram_intel.lib.cleaning import clean_message
from telegram_intel.lib.pseudonyms import Pseudonymizer


def fill_clean_messages(engine, secret: str, *, include_ignored: bool = False) -> int:
    """Replace ``clean_messages`` with every kept message; ``include_ignored`` also writes opted-out users'
    messages, as a corpus not yet purged would hold them. Returns the number of rows written."""
    with engine.connect() as conn:
        users = conn.execute(sa.text("SELECT user_id, display_name, username, is_owner FROM telegram_users")).all()
        names: dict[str, int] = {}
        for uid, display, username, _ in users:
            if display and " " in display.strip():
                names[display] = uid
            if username:
                names["@" + username] = uid
        pz = Pseudonymizer(secret, names, keep_ids=[u for u, _, _, owner in users if owner])
        rows = conn.execute(sa.text(
            "SELECT m.chat_id, m.message_id, m.kind, m.date, m.sender_id, m.reply_to_message_id, m.has_media, m.text,"
            " COALESCE(u.is_ignored, false) FROM telegram_messages m LEFT JOIN telegram_users u"
            " ON u.user_id = m.sender_id ORDER BY m.date, m.chat_id, m.message_id")).all()
    out = []
    for chat_id, message_id, kind, date, sender_id, reply_to, has_media, text, ignored in rows:
        if ignored and not include_ignored:
            continue
        res = clean_message(text, kind=kind, has_media=has_media, pseudonymizer=pz)
        if res.kept:
            out.append({"chat_id": chat_id, "message_id": message_id, "date": date, "sender_id": sender_id,
                        "sender_pseudonym": pz.pseudonym(sender_id) if sender_id else None,
                        "reply_to_message_id": reply_to, "text": res.text, "lang": None, "cleaner_version": "test"})
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM clean_messages"))
        conn.execute(sa.text(
            "INSERT INTO clean_messages (chat_id, message_id, date, sender_id, sender_pseudonym, reply_to_message_id,"
            " text, lang, cleaner_version) VALUES (:chat_id, :message_id, :date, :sender_id, :sender_pseudonym,"
            " :reply_to_message_id, :text, :lang, :cleaner_version)"), out)
    return len(out)
