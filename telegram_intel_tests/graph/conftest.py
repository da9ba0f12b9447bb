"""A small imported sample export plus a ``clean_messages`` table filled directly with SQL.

The corpus is made here with the library cleaner (``telegram_intel.lib.cleaning``) and a Pseudonymizer, so these
tests do not depend on the ``clean_messages`` asset; one integration test runs that asset instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from telegram_intel.db.importer import import_export
from telegram_intel.lib.cleaning import clean_message
from telegram_intel.lib.pseudonyms import Pseudonymizer
from telegram_intel.lib.sample_data import load_ground_truth, write_sample_export

SECRET = "graph-tests-pseudonym-secret-0123456789"


@dataclass
class Sample:
    path: Path
    truth: dict
    owner_id: int
    opt_out_id: int


@pytest.fixture(scope="session")
def sample_export(tmp_path_factory) -> Sample:
    out = tmp_path_factory.mktemp("graph-sample")
    write_sample_export(out, messages=1500, chats=3, users=12, seed=7, media=False)
    truth = load_ground_truth(out)
    opt_out = next(u["user_id"] for u in truth["users"] if u["opt_out"])
    return Sample(out / "result.json", truth, truth["owner"]["user_id"], opt_out)


def fill_clean_messages(engine, *, include_ignored: bool = False) -> int:
    """Clean every imported message into ``clean_messages`` with plain SQL inserts (what the corpus asset does,
    minus its bookkeeping). ``include_ignored`` also writes opted-out users' messages, as a stale corpus would."""
    with engine.connect() as conn:
        users = conn.execute(sa.text(
            "SELECT user_id, display_name, username, is_owner FROM telegram_users")).all()
        names: dict[str, int] = {}
        for uid, display, username, _ in users:
            if display and " " in display.strip():
                names[display] = uid
            if username:
                names["@" + username] = uid
        pz = Pseudonymizer(SECRET, names, keep_ids=[u for u, _, _, owner in users if owner])
        rows = conn.execute(sa.text(
            "SELECT m.chat_id, m.message_id, m.kind, m.date, m.sender_id, m.reply_to_message_id, m.has_media, m.text,"
            " COALESCE(u.is_ignored, false) FROM telegram_messages m LEFT JOIN telegram_users u"
            " ON u.user_id = m.sender_id ORDER BY m.date, m.chat_id, m.message_id")).all()
    out = []
    for chat_id, message_id, kind, date, sender_id, reply_to, has_media, text, ignored in rows:
        if ignored and not include_ignored:
            continue
        res = clean_message(text, kind=kind, has_media=has_media, pseudonymizer=pz)
        if not res.kept:
            continue
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


@pytest.fixture
def imported(engine, sample_export, storage_dir) -> Sample:
    """The sample imported, its opted-out user marked ``is_ignored``, ``clean_messages`` filled."""
    import_export(engine, sample_export.path, storage_dir)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE telegram_users SET is_ignored = true WHERE user_id = :u"),
                     {"u": sample_export.opt_out_id})
    fill_clean_messages(engine)
    return sample_export


def busiest_days(engine, n: int = 3) -> list[str]:
    """Partition keys of the days with the most replies in the corpus (reply edges need replies)."""
    with engine.connect() as conn:
        return [d.isoformat() for (d,) in conn.execute(sa.text(
            "SELECT (date AT TIME ZONE 'UTC')::date AS d FROM clean_messages GROUP BY 1"
            " ORDER BY count(*) FILTER (WHERE reply_to_message_id IS NOT NULL) DESC, 1 LIMIT :n"), {"n": n})]
