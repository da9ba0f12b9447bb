"""Real names back in place of pseudonyms, for the owner's own views of the corpus (`telegram-intel search`).

``clean_messages`` replaces other people's @mentions and full names with ``user_XXXXXXXX`` pseudonyms
(HMAC of their id or @username, ``lib/pseudonyms.py``): right for ML corpora, wrong for the owner reading search
results about people they know. With the pseudonym secret at hand (``$TELEGRAM_INTEL_PSEUDONYM_SECRET``, or the
embedded setup's key file), the pseudonym of every known person is computed again and mapped to their display name
(or @username), and each @mention in the stored original of a shown message to its pseudonym (a mention of someone
not in ``telegram_users`` is pseudonymized by the @name alone). People who opted out keep their pseudonym where it
stands for their name; what someone wrote (an @mention) is their words and comes back. Without the secret the text
is left as it is.
"""

from __future__ import annotations

import os
import re
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from telegram_intel.config import Settings
from telegram_intel.lib.pseudonyms import pseudonym
from telegram_intel.pipeline.corpus import PSEUDONYM_SECRET_ENV, PseudonymSecretError, resolve_pseudonym_secret

_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_]{3,31})(?![\w@])")
PSEUDONYM_RX = re.compile(r"(?<![\w@])(@?)(user_[0-9a-f]{8})(?!\w)")
REFRESH_AFTER_S = 60.0  # an unknown pseudonym rebuilds the map at most this often


def pseudonym_secret(settings: Settings) -> str | None:
    """The key the corpus was pseudonymized with, when this process can know it (never made up here)."""
    key_file = settings.home / "secrets" / "pseudonym_secret"
    if not os.environ.get(PSEUDONYM_SECRET_ENV) and (settings.database_url or not key_file.exists()):
        return None
    try:
        return resolve_pseudonym_secret(settings)[0]
    except PseudonymSecretError:
        return None


class PseudonymNames:
    """pseudonym → name for the people in ``telegram_users`` (opted-out people left out), built on first use and
    rebuilt (at most every ``REFRESH_AFTER_S``) when a text holds a pseudonym it does not know."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret
        self.names: dict[str, str] = {}  # pseudonym -> display name (or @username)
        self.handles: dict[str, str] = {}  # pseudonym -> @username, for a pseudonymized @mention
        self.built_at: float | None = None

    def refresh(self, engine: Engine) -> None:
        names: dict[str, str] = {}
        handles: dict[str, str] = {}
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT user_id, display_name, username FROM telegram_users WHERE NOT is_ignored")).all()
        for uid, display, username in rows:
            shown = " ".join((display or "").split()) or (f"@{username}" if username else None)
            if shown is None:
                continue
            names[pseudonym(uid, self.secret)] = shown
            if username:
                handle = f"@{username}"
                handles[pseudonym(uid, self.secret)] = handle
                # a mention of an @username the cleaning did not know as a user's got the pseudonym of "@name"
                names[pseudonym(handle, self.secret)] = handles[pseudonym(handle, self.secret)] = handle
        self.names, self.handles, self.built_at = names, handles, time.monotonic()

    def _mentions(self, engine: Engine, keys: list[tuple[int, int]]) -> dict[str, str]:
        """pseudonym of "@name" → "@name" for the @mentions in the stored originals of ``keys``."""
        if not keys:
            return {}
        with engine.connect() as conn:
            originals = conn.execute(sa.text(
                "SELECT m.text FROM telegram_messages m JOIN unnest(CAST(:chats AS bigint[]), CAST(:ids AS bigint[]))"
                " AS k(chat_id, message_id) USING (chat_id, message_id)"),
                {"chats": [c for c, _ in keys], "ids": [i for _, i in keys]}).scalars().all()
        return {pseudonym(f"@{m.group(1)}", self.secret): f"@{m.group(1)}"
                for text in originals for m in _MENTION.finditer(text or "")}

    def restore(self, engine: Engine, texts: list[str], keys: list[tuple[int, int]] | None = None) -> list[str]:
        """``texts`` (of the messages ``keys``: (chat_id, message_id), for their @mentions) with every pseudonym that
        can be resolved replaced by the person's name."""
        if not self.secret:
            return texts
        found = {m.group(2) for t in texts for m in PSEUDONYM_RX.finditer(t or "")}
        if not found:
            return texts
        if self.built_at is None or (not found <= self.names.keys()
                                     and time.monotonic() - self.built_at > REFRESH_AFTER_S):
            self.refresh(engine)
        mentioned = self._mentions(engine, keys or []) if not found <= self.names.keys() else {}

        def name(m: re.Match[str]) -> str:
            at, code = m.group(1), m.group(2)
            if at:  # "@user_…" was an @mention: the @username (or, lacking one, the name)
                return self.handles.get(code) or mentioned.get(code) or self.names.get(code) or m.group(0)
            return self.names.get(code) or mentioned.get(code) or m.group(0)

        return [PSEUDONYM_RX.sub(name, t or "") for t in texts]
