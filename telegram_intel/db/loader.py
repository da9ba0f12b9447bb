"""Idempotent bulk writer for normalized Telegram records.

Every source (Desktop export, Telethon sync, live listener) writes through
``TelegramWriter``. Each message's row is formatted once, in binary COPY form, into its batch's buffer, with a
content hash (of those bytes, or the source's own: ``StoredMessageIndex`` lets an export skip messages stored with
its hash before building them). One batch is one transaction: messages whose key is not stored
yet are COPYed straight into ``telegram_messages``; stored ones with the same hash are left alone; the rest go
through a temp staging table and ``INSERT … SELECT … ON CONFLICT … DO UPDATE … WHERE <changed>``.
Replays change nothing; a newer (or same-date) version of a message replaces the stored
one, which goes to ``telegram_message_edits`` (text, entities, edit date, and the previous
values of whatever else changed, ``raw`` included); an older version never overwrites a
newer one; tombstones (``deleted_at``) are never cleared. Values a column cannot hold (NUL
characters, over-long short strings, JSON nested past orjson's limit) are made to fit or
rejected with ``BadRecordError`` before anything of their batch is written.

Parsing (the caller's iterator, CPU-bound in Python) and writing (mostly waiting
on the server) overlap: message batches are handed through a short queue to writer
threads, each with its own connection, so they may commit in any order; chats and
users commit first, from the caller's thread, before any batch that refers to them. A
message repeated in one source starts a batch that waits until the earlier ones have
committed, so the later version wins (and no two in-flight batches share its key).
Figures and what each choice bought: bench/README.md (Import).
"""

from __future__ import annotations

import array
import functools
import itertools
import operator
import json
import logging
import queue
import re
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
import psycopg.adapt
import psycopg.postgres
import psycopg.types.string
import xxhash
from psycopg._copy_base import format_row_binary as _format_row  # what Copy.write_row formats with (C)
from sqlalchemy.engine import Engine

from telegram_intel.lib.erasure import scrub_erased
from telegram_intel.lib.media_store import MediaStore
from telegram_intel.lib import export_parser, records
from telegram_intel.lib.records import (
    ChatRecord,
    FileRecord,
    MessageRecord,
    StoredSpan,
    TopicRecord,
    UnchangedMessages,
    UserRecord,
)
from telegram_intel.lib.resume import ResumePoint

log = logging.getLogger(__name__)

MESSAGE_COLUMNS = (
    "chat_id", "message_id", "kind", "date", "edit_date", "sender_id", "sender_name", "text", "entities",
    "reply_to_message_id", "reply_to_peer_id", "forwarded_from", "forwarded_from_id", "saved_from", "via_bot",
    "has_media", "media_type", "mime_type", "duration_seconds", "action", "actor_id", "grouped_id",
    "reactions", "inline_buttons", "topic_id", "post_chat_id", "post_message_id", "raw", "account_ids",
)
# Columns whose change makes a stored message "updated" (raw covers everything unmodelled). account_ids is not a
# version of the message: which accounts saw it only grows (_MERGE_ACCOUNTS), whichever version is kept.
_COMPARED = [c for c in MESSAGE_COLUMNS if c not in ("chat_id", "message_id", "account_ids")]
_JSON_COLUMNS = {"entities", "reactions", "inline_buttons", "raw"}

FILE_COLUMNS = (
    "chat_id", "message_id", "kind", "status", "file_type", "file_name", "file_path", "file_size", "mime_type",
    "width", "height", "duration_seconds", "sha256",
)

_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS stage_messages (
    chat_id bigint, message_id bigint, kind text, date timestamptz, edit_date timestamptz, sender_id bigint,
    sender_name text, text text, entities jsonb, reply_to_message_id bigint, reply_to_peer_id bigint,
    forwarded_from text, forwarded_from_id bigint, saved_from text, via_bot text, has_media boolean,
    media_type text, mime_type text, duration_seconds integer, action text, actor_id bigint, grouped_id bigint,
    reactions jsonb, inline_buttons jsonb, topic_id bigint, post_chat_id bigint, post_message_id bigint,
    account_ids bigint[], raw json, content_hash bigint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_files (
    chat_id bigint, message_id bigint, kind text, status text, file_type text, file_name text, file_path text,
    file_size bigint, mime_type text, width integer, height integer, duration_seconds integer, sha256 text
) ON COMMIT DELETE ROWS;
"""

# Every message row carries its content hash after MESSAGE_COLUMNS (see _RowFormatter).
_COPY_COLUMNS = (*MESSAGE_COLUMNS, "content_hash")
_cols = ", ".join(_COPY_COLUMNS)


def _cmp(prefix: str) -> str:
    # json has no equality operator; our serialization is deterministic, so compare the text.
    return ", ".join(f"{prefix}.{c}::text" if c == "raw" else f"{prefix}.{c}" for c in _COMPARED)


_NEWER = "COALESCE(s.edit_date, s.date) >= COALESCE(m.edit_date, m.date)"

# The previous values of the modelled columns a replacing version changes, as {column: value}; text, entities and
# edit_date have their own columns in the history table. raw is compared as text, like in the upsert.
_PREVIOUS = "(SELECT jsonb_object_agg(p.col, p.val) FROM (VALUES {}) AS p(col, val, changed) WHERE changed)".format(
    ", ".join(f"('{c}', to_jsonb(m.{c}), m.{c}{'::text' if c == 'raw' else ''} IS DISTINCT FROM s.{c}"
              f"{'::text' if c == 'raw' else ''})" for c in _COMPARED if c not in ("text", "entities", "edit_date")))

# One statement: the CTEs share a snapshot, so `old` sees the rows before the upsert: every message that a newer
# (or same-date) version replaces keeps its previous version in the history, whichever modelled field changed
# (same condition as the upsert's WHERE). A batch never holds the same key twice (the builder starts a new batch).
_UPSERT_MESSAGES = f"""
WITH old AS (
    INSERT INTO telegram_message_edits (chat_id, message_id, edit_date, text, entities, previous)
    SELECT m.chat_id, m.message_id, m.edit_date, m.text, m.entities, {_PREVIOUS}
    FROM stage_messages s JOIN telegram_messages m USING (chat_id, message_id)
    WHERE ({_cmp("m")}) IS DISTINCT FROM ({_cmp("s")}) AND {_NEWER}
    RETURNING 1
), up AS (
    INSERT INTO telegram_messages AS m ({_cols})
    SELECT {_cols} FROM stage_messages
    ON CONFLICT (chat_id, message_id) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in _COMPARED)}, content_hash = EXCLUDED.content_hash,
        updated_at = CASE WHEN ({_cmp("m")}) IS DISTINCT FROM ({_cmp("EXCLUDED")}) THEN now() ELSE m.updated_at END
    WHERE (({_cmp("m")}) IS DISTINCT FROM ({_cmp("EXCLUDED")})
           AND COALESCE(EXCLUDED.edit_date, EXCLUDED.date) >= COALESCE(m.edit_date, m.date))
       -- same content, but the hash is missing (a row written before it existed) or differs: store it so that the
       -- next re-import skips the row; not an update (updated_at keeps its value, and the count below skips it)
       OR (m.content_hash IS DISTINCT FROM EXCLUDED.content_hash
           AND ({_cmp("m")}) IS NOT DISTINCT FROM ({_cmp("EXCLUDED")}))
    RETURNING (xmax = 0) AS inserted, m.updated_at = now() AS changed
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted AND changed), (SELECT count(*) FROM old)
FROM up
"""

# What one source knows and another may not (the topic of a message an export read before it knew the chat is a
# forum; the post of a comment read from its discussion group's history) is kept: such a version is not a change.
_KEEP_KNOWN = """
UPDATE stage_messages s SET topic_id = COALESCE(s.topic_id, m.topic_id), post_chat_id = COALESCE(s.post_chat_id,
    m.post_chat_id), post_message_id = COALESCE(s.post_message_id, m.post_message_id)
FROM telegram_messages m
WHERE m.chat_id = s.chat_id AND m.message_id = s.message_id
  AND ((s.topic_id IS NULL AND m.topic_id IS NOT NULL) OR (s.post_chat_id IS NULL AND m.post_chat_id IS NOT NULL))
"""

# Private chats and basic groups number messages per account: a stored key there that none of the writing
# account's ids saw is another message (another account's private chat with the same person), never this one.
# It is not written over; the record is skipped (and logged).
_OTHER_NUMBERING = """
DELETE FROM stage_messages s USING telegram_messages m, telegram_chats c
WHERE m.chat_id = s.chat_id AND m.message_id = s.message_id AND c.chat_id = s.chat_id
  AND c.type IN ('private', 'bot', 'group') AND s.account_ids IS NOT NULL AND m.account_ids IS NOT NULL
  AND NOT m.account_ids && s.account_ids
RETURNING s.chat_id, s.message_id
"""

# A message another of the user's accounts saw too: add the account (also where the stored version is newer).
_MERGE_ACCOUNTS = """
UPDATE telegram_messages m
SET account_ids = (SELECT array_agg(DISTINCT a ORDER BY a)
                   FROM unnest(COALESCE(m.account_ids, '{}') || s.account_ids) a)
FROM stage_messages s
WHERE m.chat_id = s.chat_id AND m.message_id = s.message_id AND s.account_ids IS NOT NULL
  AND NOT COALESCE(m.account_ids, '{}') @> s.account_ids
"""

# Forum topics: each field keeps the value of the newest version that set it (a rename seen before the topic's
# creation message, as a newest-first reader sees them, survives the creation); a dateless version fills blanks.
_TOPIC_FIELDS = ("title", "icon_emoji_id", "icon_color")
_TOPIC_NEWER = "COALESCE(EXCLUDED.edited_date, EXCLUDED.created_date) >= COALESCE(t.edited_date, t.created_date)"
_UPSERT_TOPIC = f"""
INSERT INTO telegram_topics AS t (chat_id, topic_id, title, icon_emoji_id, icon_color, creator_id, created_date,
                                  edited_date)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (chat_id, topic_id) DO UPDATE SET
    {", ".join(f"{c} = CASE WHEN EXCLUDED.{c} IS NOT NULL AND (t.{c} IS NULL OR {_TOPIC_NEWER}) "
               f"THEN EXCLUDED.{c} ELSE t.{c} END" for c in _TOPIC_FIELDS)},
    creator_id = COALESCE(t.creator_id, EXCLUDED.creator_id),
    created_date = COALESCE(EXCLUDED.created_date, t.created_date),
    edited_date = GREATEST(t.edited_date, EXCLUDED.edited_date),
    updated_at = now()
"""
_MARK_FORUMS = "UPDATE telegram_chats SET is_forum = true, updated_at = now() WHERE chat_id = ANY(%s) AND NOT is_forum"
_UPSERT_ACCOUNT = """
INSERT INTO telegram_accounts AS a (account_id, name) VALUES (%s, %s)
ON CONFLICT (account_id) DO UPDATE SET name = COALESCE(EXCLUDED.name, a.name), updated_at = now()
WHERE EXCLUDED.name IS NOT NULL AND EXCLUDED.name IS DISTINCT FROM a.name
"""
# Messages of a forum outside any named topic are General's (a source may not know the chat is a forum yet when it
# reads them: an export learns it from the first topic it meets).
_GENERAL_TOPIC = """
UPDATE telegram_messages m SET topic_id = 1
FROM telegram_chats c WHERE c.chat_id = ANY(%s) AND c.is_forum AND m.chat_id = c.chat_id AND m.topic_id IS NULL
"""

# Whether anything is stored inside the batch's per-chat id ranges: per range, the highest stored id up to its end,
# which PostgreSQL finds with one step down the primary key (a fresh import's batch finds none, then COPYs the whole
# batch). Not EXISTS over a join: with an EXISTS the planner may bet on meeting a matching row early in a sequential
# scan, and when none is stored (every fresh batch) it reads the whole table: 220 ms per batch at 1M messages.
_ANY_STORED = """EXISTS (SELECT FROM unnest(%(chats)s::bigint[], %(lo)s::bigint[], %(hi)s::bigint[]) AS r(chat_id, lo, hi)
               WHERE (SELECT max(m.message_id) FROM telegram_messages m
                      WHERE m.chat_id = r.chat_id AND m.message_id <= r.hi) >= r.lo)"""


def _batch_start_sql(any_stored: str) -> str:
    """A batch's first statement, one round trip (each costs a writer thread a wait for the GIL): its checkpoint
    (_CHECKPOINT), its chats locked (see _BYPASS_CHECK) and row triggers off for the COPY (only with ``bypass``), and
    whether anything is stored in its ranges. The two settings at the connection's start (_writer_connect) and
    this statement took a fresh batch from nine round trips to five."""
    return f"""
WITH checkpoint AS (
    INSERT INTO telegram_import_checkpoints (run_id, batch, byte_offset, position, messages)
    SELECT %(run)s::bigint, %(seq)s::int, %(offset)s::bigint, %(position)s::jsonb, %(messages)s::int
    WHERE %(run)s::bigint IS NOT NULL
), locked AS (
    SELECT chat_id FROM telegram_chats WHERE %(bypass)s AND chat_id = ANY(%(chats)s) FOR KEY SHARE
)
SELECT (SELECT array_agg(chat_id) FROM locked), {any_stored},
       CASE WHEN %(bypass)s THEN set_config('session_replication_role', 'replica', true) END
"""


_BATCH_START = _batch_start_sql(_ANY_STORED)
# Otherwise the server compares the batch's content hashes (and accounts) with the stored rows of those ranges
# and names only the keys to write: new ones (false) and changed ones (true). A re-import that changes nothing gets
# no rows back: per unchanged message the client only builds its row and hash, nothing is fetched or copied.
_TO_WRITE = """
WITH stored AS (
    SELECT m.chat_id, m.message_id, m.content_hash, m.account_ids
    FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS r(chat_id, lo, hi)
    JOIN telegram_messages m ON m.chat_id = r.chat_id AND m.message_id BETWEEN r.lo AND r.hi
)
SELECT b.chat_id, b.message_id, s.message_id IS NOT NULL
FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) AS b(chat_id, message_id, content_hash, account_id)
LEFT JOIN stored s ON s.chat_id = b.chat_id AND s.message_id = b.message_id
WHERE s.message_id IS NULL OR s.content_hash IS DISTINCT FROM b.content_hash
   OR (b.account_id IS NOT NULL AND NOT COALESCE(s.account_ids @> ARRAY[b.account_id], false))
"""

# Where the source stood after a batch, committed with it (pipeline/ingest.py resumes from these).
_CHECKPOINT = """
INSERT INTO telegram_import_checkpoints (run_id, batch, byte_offset, position, messages)
VALUES (%s, %s, %s, %s::jsonb, %s)
"""


# The COPY of new rows checks the chat foreign key once per batch instead of once per row (the
# per-row RI trigger costs about 40% of COPY throughput): lock the batch's chats the way the
# trigger would (FOR KEY SHARE: they cannot be deleted before we commit), fail if one is missing,
# then COPY with row triggers off. Used only where it skips nothing else; see _row_trigger_bypass.
# (In _BATCH_START: SELECT chat_id FROM telegram_chats WHERE chat_id = ANY(…) FOR KEY SHARE.)

# Allowed to set session_replication_role (superuser, or PostgreSQL 15+ GRANT SET ON PARAMETER), and
# the only trigger on telegram_messages that fires on INSERT is the chat foreign key's check.
_BYPASS_CHECK = """
SELECT has_parameter_privilege('session_replication_role', 'SET')
   AND (SELECT array_agg(c.conname ORDER BY c.conname) FROM pg_constraint c
        WHERE c.conrelid = 'telegram_messages'::regclass AND c.contype = 'f')
       = ARRAY[(SELECT c.conname FROM pg_constraint c
                WHERE c.conrelid = 'telegram_messages'::regclass AND c.contype = 'f'
                  AND c.confrelid = 'telegram_chats'::regclass)]
   -- none of its own triggers fires on INSERT (tgtype bit 2; the spans' triggers fire on DELETE and TRUNCATE)
   AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = 'telegram_messages'::regclass AND NOT t.tgisinternal
                   AND t.tgtype & 4 <> 0)
   -- the same for the files of new messages, whose one foreign key is their message's
   AND (SELECT array_agg(c.confrelid::regclass::text) FROM pg_constraint c
        WHERE c.conrelid = 'telegram_files'::regclass AND c.contype = 'f') = ARRAY['telegram_messages']
   AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = 'telegram_files'::regclass AND NOT t.tgisinternal)
"""


class MissingChatError(ValueError):
    """Messages refer to a chat that is not stored (chats must be written before their messages)."""


def _row_trigger_bypass(conn: psycopg.Connection) -> bool:
    try:
        with conn.transaction():
            return bool(conn.execute(_BYPASS_CHECK).fetchone()[0])
    except psycopg.Error:  # PostgreSQL < 15 has no has_parameter_privilege: keep the row triggers
        return False


def _key_ranges(rows: list[tuple]) -> tuple[list[int], list[int], list[int]]:
    chats = set(map(_FIRST, rows))
    if len(chats) == 1:  # the common case, at C speed
        ids = list(map(_SECOND, rows))
        return list(chats), [min(ids)], [max(ids)]
    ranges: dict[int, list[int]] = {}
    for row in rows:
        r = ranges.get(row[0])
        if r is None:
            ranges[row[0]] = [row[1], row[1]]
        elif row[1] < r[0]:
            r[0] = row[1]
        elif row[1] > r[1]:
            r[1] = row[1]
    chats = list(ranges)
    return chats, [ranges[c][0] for c in chats], [ranges[c][1] for c in chats]

_TOUCH_USERS = """
UPDATE telegram_users u SET
    first_seen_at = LEAST(u.first_seen_at, s.first_at),
    last_seen_at = GREATEST(u.last_seen_at, s.last_at)
FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS s(sender_id, first_at, last_at)
WHERE u.user_id = s.sender_id
  AND (u.first_seen_at IS NULL OR u.last_seen_at IS NULL OR s.first_at < u.first_seen_at OR s.last_at > u.last_seen_at)
"""


# What a write does once at its end, for the batches it committed (first/last seen of senders, General for forums),
# redone over everything stored after a resumed import: the interrupted run's end never came. Index-only work on
# (sender_id, date); forums' topic-less messages as at the end of a write.
_TOUCH_ALL_USERS = """
UPDATE telegram_users u SET first_seen_at = LEAST(u.first_seen_at, s.first_at),
                            last_seen_at = GREATEST(u.last_seen_at, s.last_at)
FROM (SELECT sender_id, min(date) AS first_at, max(date) AS last_at FROM telegram_messages
      WHERE sender_id > 0 GROUP BY sender_id) s
WHERE u.user_id = s.sender_id
  AND (u.first_seen_at IS NULL OR u.last_seen_at IS NULL OR s.first_at < u.first_seen_at OR s.last_at > u.last_seen_at)
"""
_FORUMS = "SELECT chat_id FROM telegram_chats WHERE is_forum ORDER BY chat_id"


def finish_resumed(engine: Engine) -> None:
    """After an import that resumed an interrupted one: what the interrupted run would have done at its end."""
    with psycopg_connect(engine) as conn, conn.transaction():
        conn.execute(_TOUCH_ALL_USERS)
        forums = [r[0] for r in conn.execute(_FORUMS)]
        if forums:
            conn.execute(_GENERAL_TOPIC, (forums,))


def _seen_ranges(messages: list[tuple]) -> tuple[list[int], list[datetime], list[datetime]]:
    """Per user sender in a batch: first and last message date."""
    ranges: dict[int, list[datetime]] = {}
    for m in messages:
        sender, date = m[_M_SENDER], m[_M_DATE]
        if sender is not None and sender > 0:
            r = ranges.get(sender)
            if r is None:
                ranges[sender] = [date, date]
            elif date < r[0]:
                r[0] = date
            elif date > r[1]:
                r[1] = date
    ids = list(ranges)
    return ids, [ranges[i][0] for i in ids], [ranges[i][1] for i in ids]

_fcols = ", ".join(FILE_COLUMNS)
_F_SOURCE = len(FILE_COLUMNS)  # file rows carry the source file to copy after the columns (_file_row)
_fcompared = [c for c in FILE_COLUMNS if c not in ("chat_id", "message_id", "kind")]
# A stored file is never replaced by "not included" / "missing" from a later, thinner export.
_UPSERT_FILES = f"""
INSERT INTO telegram_files AS f ({_fcols})
SELECT DISTINCT ON (chat_id, message_id, kind) {_fcols} FROM stage_files
ORDER BY chat_id, message_id, kind
ON CONFLICT (chat_id, message_id, kind) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _fcompared)}, updated_at = now()
WHERE ({", ".join(f"f.{c}" for c in _fcompared)}) IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in _fcompared)})
  AND NOT (f.status = 'present' AND EXCLUDED.status <> 'present')
"""

# is_forum: NULL from a source that does not know (an export) keeps the stored flag.
_UPSERT_CHAT = """
INSERT INTO telegram_chats AS c (chat_id, type, title, username, members_count, is_left, source, is_forum,
                                 linked_chat_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, COALESCE(%s, false), %s)
ON CONFLICT (chat_id) DO UPDATE SET
    type = EXCLUDED.type,
    title = COALESCE(EXCLUDED.title, c.title),
    username = COALESCE(EXCLUDED.username, c.username),
    members_count = COALESCE(EXCLUDED.members_count, c.members_count),
    is_left = EXCLUDED.is_left,
    is_forum = COALESCE(%s, c.is_forum),
    linked_chat_id = COALESCE(EXCLUDED.linked_chat_id, c.linked_chat_id),
    updated_at = now()
WHERE (c.type, c.title, c.username, c.members_count, c.is_left, c.is_forum, c.linked_chat_id)
      IS DISTINCT FROM (EXCLUDED.type, COALESCE(EXCLUDED.title, c.title), COALESCE(EXCLUDED.username, c.username),
                        COALESCE(EXCLUDED.members_count, c.members_count), EXCLUDED.is_left,
                        COALESCE(%s, c.is_forum), COALESCE(EXCLUDED.linked_chat_id, c.linked_chat_id))
"""

_USER_FIELDS = ("display_name", "first_name", "last_name", "username", "is_bot", "bio", "language_code")
_USER_VARCHAR = {"username": 64, "language_code": 16}


def _user_value(column: str, value: Any) -> Any:
    if type(value) is not str:
        return value
    limit = _USER_VARCHAR.get(column)
    return _short(value, limit) if limit else _text(value)
_UPSERT_USER = f"""
INSERT INTO telegram_users AS u (user_id, {", ".join(_USER_FIELDS)}, is_owner, last_seen_at)
VALUES (%s, {", ".join(["%s"] * len(_USER_FIELDS))}, %s, %s)
ON CONFLICT (user_id) DO UPDATE SET
    {", ".join(f"{c} = COALESCE(EXCLUDED.{c}, u.{c})" for c in _USER_FIELDS)},
    is_owner = u.is_owner OR EXCLUDED.is_owner,
    last_seen_at = GREATEST(u.last_seen_at, EXCLUDED.last_seen_at),
    updated_at = now()
WHERE ({", ".join(f"u.{c}" for c in _USER_FIELDS)}, u.is_owner, u.last_seen_at)
      IS DISTINCT FROM ({", ".join(f"COALESCE(EXCLUDED.{c}, u.{c})" for c in _USER_FIELDS)},
                        u.is_owner OR EXCLUDED.is_owner, GREATEST(u.last_seen_at, EXCLUDED.last_seen_at))
"""


@dataclass
class LoadStats:
    messages_seen: int = 0
    messages_new: int = 0
    messages_updated: int = 0
    edits_recorded: int = 0
    chats: set[int] = field(default_factory=set)
    users_seen: int = 0
    files_seen: int = 0
    files_stored: int = 0
    batches: int = 0
    min_date: datetime | None = None
    max_date: datetime | None = None
    seconds: float = 0.0
    # True when new rows' chat foreign key was checked once per batch instead of by the row trigger.
    fk_checked_per_batch: bool = False
    # Records of erased people (``erased_users``) dropped before writing.
    erased_skipped: int = 0
    # Stored messages whose content hash (and accounts) matched: nothing written for them.
    messages_unchanged: int = 0
    # A resumed import (pipeline/ingest.py): the run it continued, the byte offset reading started at, and the
    # source's message elements before it (read by the earlier run, not by this one).
    resumed_from_run: int | None = None
    resume_offset: int = 0
    messages_before_resume: int = 0

    @property
    def messages_per_second(self) -> float:
        return self.messages_seen / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages_seen": self.messages_seen,
            "messages_new": self.messages_new,
            "messages_updated": self.messages_updated,
            "edits_recorded": self.edits_recorded,
            "chats": len(self.chats),
            "users_seen": self.users_seen,
            "files_seen": self.files_seen,
            "files_stored": self.files_stored,
            "batches": self.batches,
            "min_date": self.min_date.isoformat() if self.min_date else None,
            "max_date": self.max_date.isoformat() if self.max_date else None,
            "seconds": round(self.seconds, 3),
            "chat_fk_check": "per_batch" if self.fk_checked_per_batch else "per_row",
            "erased_skipped": self.erased_skipped,
            "messages_unchanged": self.messages_unchanged,
            "resumed_from_run": self.resumed_from_run,
            "resume_offset": self.resume_offset,
            "messages_before_resume": self.messages_before_resume,
        }


@dataclass
class _Batch:
    seq: int = 0  # message batches in the order the source produced them (import-run checkpoints)
    resume: ResumePoint | None = None  # where the source stood after this batch's last message, if it says
    buf: bytearray = field(default_factory=bytearray)  # the messages' rows in binary COPY form (_RowFormatter)
    chats: list[tuple] = field(default_factory=list)
    users: list[tuple] = field(default_factory=list)
    messages: list[tuple] = field(default_factory=list)
    files: list[tuple] = field(default_factory=list)
    topics: list[tuple] = field(default_factory=list)
    accounts: list[tuple] = field(default_factory=list)
    spans: list[tuple] = field(default_factory=list)  # records.StoredSpan rows, written with the batch's messages
    min_date: datetime | None = None
    max_date: datetime | None = None

    def add(self, formatter: _RowFormatter, rec: MessageRecord, row: tuple) -> None:
        """A message and its row (``TelegramWriter._message_row``): the row's bytes go into ``buf``."""
        buf = self.buf
        start = len(buf)
        h = formatter.append(buf, row, rec.account_id, rec.files, rec.content_hash)
        d = row[_DATE]
        self.messages.append((rec.chat_id, rec.message_id, h, rec.account_id, row[_SENDER], d, start, len(buf)))
        if self.min_date is None or d < self.min_date:
            self.min_date = d
        if self.max_date is None or d > self.max_date:
            self.max_date = d


_JSON_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def _json(value: Any) -> bytes | None:
    """UTF-8 JSON text: the binary COPY form of ``json`` (see ``_PassThrough``)."""
    if value is None:
        return None
    try:
        out = orjson.dumps(value, default=str)
    except orjson.JSONEncodeError:
        out = _json_slow(value)
    return _nul_free(out)  # formatted into the batch's buffer at once, then dropped


def _nul_free(out: bytes) -> bytes:
    # PostgreSQL text and jsonb cannot hold NUL; Telegram text occasionally does.
    # An escaped backslash before "u0000" is literal text, not a NUL: keep those.
    return _JSON_NUL.sub(rb"\1", out) if b"\\u0000" in out else out


def _json_slow(value: Any) -> bytes:
    """orjson refuses nesting past 255 levels and integers past 64 bits, both valid JSON that the parser accepts:
    the stdlib encoder has neither limit (its depth limit is the interpreter's recursion limit)."""
    try:
        return json.dumps(value, default=str, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    except RecursionError:
        raise ValueError("JSON nested too deeply to store") from None


def _jsonb(value: Any) -> bytes | None:
    """The binary COPY form of ``jsonb``: format version 1, then the JSON text."""
    return None if value is None else b"\x01" + _json(value)


class _PassThrough(psycopg.types.string.BytesBinaryDumper):
    """Binary COPY of ``json``/``jsonb`` columns from bytes already in the wire format.

    The rows are built by ``_message_row`` (``_json``/``_jsonb``), so the bytes go out as they
    are: no str decode here and no re-encode in psycopg (≈ 3 µs of the client's ≈ 15 µs per
    message, and the client is the import's critical path). Registered only in ``_RowFormatter``'s
    own adapters, for the columns it formats.
    """


class _JsonPassThrough(_PassThrough):
    oid = psycopg.postgres.types["json"].oid


class _JsonbPassThrough(_PassThrough):
    oid = psycopg.postgres.types["jsonb"].oid


# Binary COPY types of MESSAGE_COLUMNS but account_ids, in order: what _RowFormatter formats and hashes.
_HASHED_TYPES = [
    "int8", "int8", "text", "timestamptz", "timestamptz", "int8", "text", "text", "jsonb", "int8", "int8", "text",
    "int8", "text", "text", "bool", "text", "text", "int4", "text", "int8", "int8", "jsonb", "jsonb",
    "int8", "int8", "int8", "json",
]
assert len(_HASHED_TYPES) == len(MESSAGE_COLUMNS) - 1 and MESSAGE_COLUMNS[-1] == "account_ids"
_DURATION = MESSAGE_COLUMNS.index("duration_seconds")  # the one int4 column
_SENDER, _DATE = MESSAGE_COLUMNS.index("sender_id"), MESSAGE_COLUMNS.index("date")

# PostgreSQL's binary COPY stream: signature, flags (0), header extension length (0); rows; trailer (-1).
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_FIELD_COUNT = struct.pack("!h", len(_COPY_COLUMNS))
_NULL_FIELD = struct.pack("!i", -1)
_HASH_FIELD = struct.Struct("!iq")
_SIGNED = 1 << 63

# What the writer keeps per message of a batch (its row is in the batch's buffer, bytes start:end).
_M_CHAT, _M_ID, _M_HASH, _M_ACCOUNT, _M_SENDER, _M_DATE, _M_START, _M_END = range(8)
_FIRST, _SECOND = operator.itemgetter(_M_CHAT), operator.itemgetter(_M_ID)


@functools.lru_cache(maxsize=256)
def _account_field(value: int) -> bytes:
    """The binary COPY field of a ``bigint[]`` holding one id (a message's account), built once per account."""
    try:
        array = struct.pack("!iiIiiiq", 1, 0, psycopg.postgres.types["int8"].oid, 1, 1, 8, value)
    except struct.error:
        raise ValueError(f"account id {value} is out of the 64-bit range") from None
    return struct.pack("!i", len(array)) + array


class _RowFormatter:
    """Message rows in binary COPY form, made once, in the producer, into the batch's buffer; the content hash is
    xxh3-64 of those bytes.

    The hash covers everything a write stores for the message (every modelled column, ``raw``) and what its files
    say before they are stored but their paths (so a file that turned up on disk is written again); not
    ``account_ids`` (formatted after the hashed part), which a write merges. Hashing the row's own wire bytes costs
    ≈ 0.1 µs; the writers then send the buffer as it is (a fresh batch: one write, no per-row work)."""

    def __init__(self) -> None:
        adapters = psycopg.adapt.AdaptersMap(psycopg.adapters)
        for dumper in (_JsonPassThrough, _JsonbPassThrough):
            adapters.register_dumper(None, dumper)  # by oid only: what set_dumper_types asks for
        self._tx = psycopg.adapt.Transformer(adapters)
        types = psycopg.postgres.types
        self._tx.set_dumper_types([types[t].oid for t in _HASHED_TYPES], psycopg.pq.Format.BINARY)

    def append(self, buf: bytearray, row: tuple, account: int | None, files: list[FileRecord],
               content_hash: int | None = None) -> int:
        """Format ``row`` (MESSAGE_COLUMNS but account_ids) + account + hash at the end of ``buf``; the signed hash.
        ``content_hash``: the source's own hash of the message and its files (``MessageRecord.content_hash``)
        instead of the row's with the files' state added."""
        # Binary COPY is strict: a wrong Python type raises here; psycopg's int4 dumper would silently write 0 for
        # an out-of-range value, so the one int4 column is checked first.
        duration = row[_DURATION]
        if duration is not None and duration not in _INT32:
            raise BadRecordError(f"message {row[1]} of chat {row[0]}", f"duration_seconds {duration} is out of range")
        start = len(buf)
        try:
            account_field = _NULL_FIELD if account is None else _account_field(account)
            _format_row(row, self._tx, buf)
        except (TypeError, ValueError, OverflowError) as exc:
            del buf[start:]
            bad = ", ".join(f"{c}={v!r}" for c, v, t in zip(MESSAGE_COLUMNS, row, _HASHED_TYPES)
                            if v is not None and not _fits(v, t))
            raise BadRecordError(f"message {row[1]} of chat {row[0]}", bad or _problem(exc)) from exc
        if content_hash is not None:  # the source's hash covers its files' state too
            value = content_hash
        else:
            with memoryview(buf) as view:
                h = xxhash.xxh3_64(view[start + 2:])
            if files:
                # Not the paths: a download lands in a new temporary path each time.
                h.update(orjson.dumps([(f.kind, f.status, f.file_name, f.mime_type, f.size, f.width, f.height,
                                        f.duration_seconds, f.sha256) for f in files]))
            value = h.intdigest()
            if value >= _SIGNED:
                value -= _SIGNED << 1
        buf[start:start + 2] = _FIELD_COUNT
        buf += account_field
        buf += _HASH_FIELD.pack(8, value)
        return value


def _text(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; Telegram names and texts occasionally do (raw keeps them, escaped).
    # Anything but a str passes through, for COPY to name it (_RowFormatter).
    return value.replace("\x00", "") if type(value) is str and "\x00" in value else value


def _short(value: str | None, limit: int) -> str | None:
    """A ``varchar(limit)`` value (MIME type, action, username): NULs dropped, cut to fit; raw keeps the whole."""
    if type(value) is not str:
        return value
    value = _text(value)
    return value if len(value) <= limit else value[:limit]


def psycopg_connect(engine: Engine) -> psycopg.Connection:
    """A plain psycopg 3 connection to the engine's database (COPY needs the raw driver)."""
    url = engine.url.set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False))


def _writer_connect(engine: Engine) -> psycopg.Connection:
    # Custom plans only: psycopg prepares a statement run 5 times, and PostgreSQL then keeps a generic plan made when
    # the table was empty (a sequential scan) while the import fills it: the per-batch lookup of stored keys became
    # a scan of the whole table, an import quadratic in its size (25k msg/s at 1M messages; 45k with custom plans).
    conn = psycopg_connect(engine)
    conn.execute("SET plan_cache_mode = force_custom_plan")
    # No WAL flush wait per batch (it was most of a small batch's time on a busy disk). Safe: a server crash can lose
    # only the last batches' commits, with their checkpoints (the import resumes before them), and any later
    # synchronous commit (a sync cursor, the run's end) flushes them first.
    conn.execute("SET synchronous_commit = off")
    conn.commit()
    return conn


# -- erased people -----------------------------------------------------------------------------------------------
# A person erased with `people forget` (pipeline/privacy.py) leaves only their id in `erased_users`; every write
# drops what names that id (their user row, messages they sent or that were forwarded from them, the private chat
# with them), so re-importing an old export or a sync does not bring them back.
_ERASED_IDS = "SELECT user_id FROM erased_users"


def erased_ids(conn: psycopg.Connection) -> frozenset[int]:
    """The ids listed in ``erased_users`` (read once per write)."""
    with conn.transaction():
        return frozenset(row[0] for row in conn.execute(_ERASED_IDS))


def drop_erased(rec: ChatRecord | UserRecord | MessageRecord, erased: frozenset[int]) -> bool:
    """True when ``rec`` belongs to an erased person (it is not written); another person's message is kept with
    their reactions / entity ids scrubbed out."""
    if isinstance(rec, MessageRecord):
        if rec.sender_id in erased or rec.forwarded_from_id in erased or rec.chat_id in erased:
            return True
        _scrub_references(rec, erased)
        return False
    if isinstance(rec, UserRecord):
        return rec.user_id in erased
    if isinstance(rec, ChatRecord):
        return rec.chat_id in erased
    if isinstance(rec, TopicRecord) and rec.creator_id in erased:  # the topic stays, without naming them
        rec.creator_id = None
    return False


def _scrub_references(rec: MessageRecord, erased: frozenset[int]) -> None:
    """Someone else's message keeps no reaction (name + id) or entity id of an erased person (in place)."""
    for attr in ("reactions", "entities"):
        if getattr(rec, attr):
            setattr(rec, attr, scrub_erased(getattr(rec, attr), erased)[0])
    if isinstance(rec.raw, dict):
        for key in ("reactions", "text_entities", "entities"):
            if rec.raw.get(key):
                value, n = scrub_erased(rec.raw[key], erased)
                if n:
                    rec.raw = {**rec.raw, key: value}
                    rec.raw_json = None  # the source's text of it is not what is stored


# -- unchanged messages -------------------------------------------------------------------------------------------
# A window of a chat's stored content hashes, from a message id on, seen by an account (any when None): the hashes
# as big-endian 64-bit integers in one bytea (least work in Python), the window's last id, how many.
_STORED_WINDOW = """
SELECT coalesce(string_agg(int8send(content_hash), ''::bytea), ''::bytea), max(message_id), count(*) FROM (
    SELECT message_id, content_hash FROM telegram_messages
    WHERE chat_id = %(chat)s AND message_id >= %(id)s AND content_hash IS NOT NULL
      AND (%(account)s::bigint IS NULL OR account_ids @> ARRAY[%(account)s::bigint])
    ORDER BY message_id LIMIT %(limit)s) s
"""
_WINDOW_ROWS = 8_192
# A chat's stored spans (records.StoredSpan) seen by an account (0: none), from a message id on.
_STORED_SPANS = """
SELECT first_id, length, digest, count FROM telegram_import_spans
WHERE chat_id = %(chat)s AND account_id = %(account)s AND first_id >= %(id)s AND seed = %(seed)s
ORDER BY first_id LIMIT %(limit)s
"""
_SPAN_ROWS = 4_096  # per query: ~270k messages
_STALE_SPANS = "DELETE FROM telegram_import_spans WHERE seed <> %s"
_UPSERT_SPANS = """
INSERT INTO telegram_import_spans (chat_id, account_id, first_id, digest, length, last_id, count, seed)
SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::int[], %s::bigint[], %s::int[],
                     %s::bigint[])
ON CONFLICT (chat_id, account_id, first_id, digest) DO UPDATE SET
    length = excluded.length, last_id = excluded.last_id, count = excluded.count, seed = excluded.seed
"""
# A span holds while its messages are stored as they were (migration 0018): the writer deletes those its upsert
# may write over (per chat, the staged rows' id range: never fewer than needed).
_FORGET_STAGED_SPANS = """
DELETE FROM telegram_import_spans s
USING (SELECT chat_id, min(message_id) AS lo, max(message_id) AS hi FROM stage_messages GROUP BY chat_id) r
WHERE s.chat_id = r.chat_id AND s.last_id >= r.lo AND s.first_id <= r.hi
"""
_BIG_ENDIAN = sys.byteorder == "big"
_MAX_INT64 = (1 << 63) - 1
_MAX_UINT64 = (1 << 64) - 1


def _signed(value: int) -> int:
    """A 64-bit unsigned value as the bigint that holds its bits."""
    return value - (1 << 64) if value > _MAX_INT64 else value


@functools.cache
def derivation_seed() -> int:
    """Changes whenever the code that turns an exported message into its stored row does (the export parser, the
    records, this writer): a source hash made with it matches a stored one only if this code stored that row, so an
    upgraded parser rewrites what it now derives differently (through the comparing path, once)."""
    h = xxhash.xxh3_64()
    for file in (export_parser.__file__, records.__file__, __file__):
        h.update(Path(file).read_bytes())
    return h.intdigest()


class StoredMessageIndex:
    """``StoredMessages`` over the database: the stored content hashes of a chat, fetched a window of
    ``_WINDOW_ROWS`` message ids at a time as the source asks in id order (an export lists a chat oldest first),
    on a connection and thread of their own; the window after a full one is fetched while the source reads on. A
    window is a set of hashes: every source hash covers the message's id (it hashes bytes holding it), so a hash
    found in the window of the message's id is that message's. A chat asked out of order (windows that serve few
    messages) is no longer looked up: its messages take the writer's path, which compares them on the server.

    Stored spans (``stored_spans``) are fetched apart, ``_SPAN_ROWS`` at a time from the id asked: a re-import
    whose runs are all stored spans reads no content hash. Spans of another seed are deleted when the index
    starts."""

    def __init__(self, engine: Engine, seed: int | None = None) -> None:
        self.engine = engine
        self.seed = derivation_seed() if seed is None else seed
        self._conn: psycopg.Connection | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._next: tuple[tuple[int, int | None], int, Future] | None = None  # (key, first id, window): fetched ahead
        self._key: tuple[int, int | None] | None = None
        self._chat: int | None = None
        self._account: int | None = None
        self._lo = self._hi = 0
        self._hashes: set[int] = set()  # the window's hashes, unsigned
        # Spans: (key, first id asked, last first id held) and the spans by first id; loads that served few asks.
        self._span_at: tuple[tuple[int, int | None] | None, int, int] = (None, 0, -1)
        self._spans: dict[int, list[tuple[int, int, int]]] = {}
        self._span_asks = 0
        self._span_misfits: dict[tuple[int, int | None], int] = {}
        self._purged = False
        self._served = 0
        self._misfits: dict[tuple[int, int | None], int] = {}
        self.windows = 0

    def unchanged(self, chat_id: int, account_id: int | None, message_id: int, content_hash: int) -> bool:
        if chat_id != self._chat or account_id != self._account or not self._lo <= message_id <= self._hi:
            if not self._fetch((chat_id, account_id), message_id):
                return False
        self._served += 1
        return (content_hash & _MAX_UINT64) in self._hashes

    def stored_hashes(self, chat_id: int, account_id: int | None, first_id: int, last_id: int,
                      count: int) -> AbstractSet[int] | None:
        if chat_id != self._chat or account_id != self._account or not self._lo <= first_id <= self._hi:
            if not self._fetch((chat_id, account_id), first_id):
                return None
        if last_id > self._hi:
            return None  # past this window: asked per message, which moves the window on
        self._served += count
        return self._hashes

    def stored_spans(self, chat_id: int, account_id: int | None, first_id: int) -> list[tuple[int, int, int]]:
        key = (chat_id, account_id)
        at_key, lo, hi = self._span_at
        if key != at_key or not lo <= first_id <= hi:
            if key == at_key and self._span_asks < 8:  # asked out of order: a load per few asks
                self._span_misfits[key] = self._span_misfits.get(key, 0) + 1
            if self._span_misfits.get(key, 0) > 8:
                return []
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="stored-index")
            self._spans, last = self._pool.submit(self._span_rows, key, first_id).result()
            self._span_at, self._span_asks = (key, first_id, last), 0
        self._span_asks += 1
        return self._spans.get(first_id, [])

    def _connection(self) -> psycopg.Connection:
        """(In the index's thread.)"""
        if self._conn is None:
            self._conn = psycopg_connect(self.engine)
            self._conn.autocommit = True
            self._conn.execute(_STALE_SPANS, (_signed(self.seed),))
        return self._conn

    def _span_rows(self, key: tuple[int, int | None], first_id: int) -> tuple[dict, int]:
        """(In the index's thread.) The chat's spans from ``first_id`` on by first id, and the last first id they
        cover (all of them when fewer than a full load)."""
        rows = self._connection().execute(_STORED_SPANS, {
            "chat": key[0], "account": key[1] or 0, "id": first_id, "seed": _signed(self.seed),
            "limit": _SPAN_ROWS}).fetchall()
        spans: dict[int, list[tuple[int, int, int]]] = {}
        for first, length, digest, count in rows:
            spans.setdefault(first, []).append((length, digest & _MAX_UINT64, count))
        return spans, rows[-1][0] if len(rows) == _SPAN_ROWS else _MAX_INT64

    def _window(self, key: tuple[int, int | None], message_id: int) -> tuple[set[int], int, bool]:
        """(In the index's thread.) The stored hashes (unsigned) from ``message_id`` on, the last id, whether the
        window is full (more may follow)."""
        hashes_bytes, last, count = self._connection().cursor(binary=True).execute(
            _STORED_WINDOW, {"chat": key[0], "account": key[1], "id": message_id, "limit": _WINDOW_ROWS}).fetchone()
        hashes = array.array("Q", hashes_bytes)
        if not _BIG_ENDIAN:
            hashes.byteswap()
        return set(hashes), last, count == _WINDOW_ROWS

    def _fetch(self, key: tuple[int, int | None], message_id: int) -> bool:
        if key == self._key and self._served < 64:
            self._misfits[key] = self._misfits.get(key, 0) + 1
        if self._misfits.get(key, 0) > 8:
            self._key, self._chat, self._hashes = None, None, set()
            return False
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="stored-index")
        ahead, self._next = self._next, None
        if ahead is not None and ahead[0] == key and ahead[1] <= message_id:
            lo, (hashes, last, full) = ahead[1], ahead[2].result()
            if full and message_id > last:  # asked past it too
                lo, (hashes, last, full) = message_id, self._pool.submit(self._window, key, message_id).result()
        else:
            if ahead is not None:
                ahead[2].result()  # one query at a time on the connection
            lo, (hashes, last, full) = message_id, self._pool.submit(self._window, key, message_id).result()
        self.windows += 1
        self._key, self._lo, self._served = key, lo, 0
        self._chat, self._account = key
        if full:
            self._hi = last
            self._next = (key, last + 1, self._pool.submit(self._window, key, last + 1))
        else:
            self._hi = _MAX_INT64
        self._hashes = hashes
        return True

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)  # a prefetch in flight ends before its connection closes
            self._pool = None
        self._next = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class TelegramWriter:
    """Writes records in batches; see the module docstring for the guarantees."""

    def __init__(
        self,
        engine: Engine,
        storage_dir: Path,
        *,
        batch_size: int = 10_000,
        batch_bytes: int = 4 << 20,
        writers: int = 2,
        on_batch: Callable[[LoadStats], None] | None = None,
        run_id: int | None = None,
    ) -> None:
        self.engine = engine
        # With a run id, every message batch commits a checkpoint (telegram_import_checkpoints) of where the
        # source stood after it: the latest ResumePoint record the source yielded before the batch was handed off.
        self.run_id = run_id
        # Parallel writer connections: the server's work per batch (parsing, index updates, WAL) is the
        # bottleneck, so two batches in flight keep both cores busy while this thread parses.
        self.writers = max(1, writers)
        self.media = MediaStore(storage_dir)
        self.batch_size = batch_size
        # A batch also ends at this many bytes of rows: what waits for or sits in the writers stays bounded (peak
        # RSS), whatever the messages' size (4 MiB ≈ 6,000 messages of a generated export; bench/README.md).
        self.batch_bytes = batch_bytes
        self.on_batch = on_batch

    # -- record -> row ------------------------------------------------------
    @staticmethod
    def _file_row(msg: MessageRecord, f: FileRecord) -> tuple:
        """The file's row, and last the source file still to copy into the media store (None if none): copied
        only once the batch knows the message is written (``_stored_files``), so a re-import reads no media."""
        source = f.source_path if f.status == "present" and f.source_path and not f.stored_path else None
        return (
            msg.chat_id, msg.message_id, f.kind, f.status, msg.media_type, _text(f.file_name), f.stored_path, f.size,
            _short(f.mime_type, 128), f.width, f.height, f.duration_seconds, f.sha256, source,
        )

    def _stored_files(self, rows: list[tuple]) -> list[tuple]:
        """File rows as stored: a source file copied into the media store, with its hash, path and size."""
        out = []
        for row in rows:
            if row[_F_SOURCE] is not None:
                sha, path, size = self.media.put(Path(row[_F_SOURCE]), row[0])
                row = (*row[:6], path, size, *row[8:12], sha)
            else:
                row = row[:_F_SOURCE]
            out.append(row)
        return out

    @staticmethod
    def _message_row(m: MessageRecord) -> tuple:
        raw = m.raw_json
        if raw is not None:
            # The source's JSON text of the message holds no NUL (MessageRecord.raw_json), so neither do the strings
            # derived from it: only the short columns are cut to fit.
            mime, action = m.mime_type, m.action
            return (
                m.chat_id, m.message_id, m.kind, m.date, m.edit_date, m.sender_id, m.sender_name, m.text,
                _jsonb(m.entities), m.reply_to_message_id, m.reply_to_peer_id, m.forwarded_from, m.forwarded_from_id,
                m.saved_from, m.via_bot, bool(m.media_type or m.files), m.media_type,
                mime if mime is None or len(mime) <= 128 else mime[:128], m.duration_seconds,
                action if action is None or len(action) <= 64 else action[:64], m.actor_id, m.grouped_id,
                _jsonb(m.reactions), _jsonb(m.inline_buttons), m.topic_id, m.post_chat_id, m.post_message_id, raw,
            )
        return (
            m.chat_id, m.message_id, m.kind, m.date, m.edit_date, m.sender_id, _text(m.sender_name), _text(m.text),
            _jsonb(m.entities), m.reply_to_message_id, m.reply_to_peer_id, _text(m.forwarded_from),
            m.forwarded_from_id, _text(m.saved_from), _text(m.via_bot), bool(m.media_type or m.files), m.media_type,
            _short(m.mime_type, 128), m.duration_seconds, _short(m.action, 64), m.actor_id, m.grouped_id,
            _jsonb(m.reactions), _jsonb(m.inline_buttons), m.topic_id, m.post_chat_id, m.post_message_id, _json(m.raw),
        )

    # -- main loop ------------------------------------------------------------
    def write(self, records: Iterable[ChatRecord | UserRecord | MessageRecord]) -> LoadStats:
        # A writer thread back from the server waits for the GIL until the parsing thread lets go of it: up to the
        # switch interval (5 ms by default), once per round trip, about ten per batch. A shorter interval only
        # costs a switch when a writer is waiting (1M-message import: see bench/README.md, Import).
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, _SWITCH_INTERVAL))
        try:
            return self._write(records)
        finally:
            sys.setswitchinterval(switch)

    def _write(self, records: Iterable[ChatRecord | UserRecord | MessageRecord]) -> LoadStats:
        stats = LoadStats()
        started = time.perf_counter()
        handoff: queue.Queue[_Batch | None] = queue.Queue(maxsize=self.writers)
        # A batch is handed off only when a writer is free to take it, so at most one per writer plus the one being
        # built hold rows (peak RSS): a batch waiting in the queue would only let the producer run further ahead.
        slots = threading.Semaphore(self.writers)
        # Rows that are stored already go through staging and the upsert, which holds each batch longer and
        # allocates more per row: while most of a batch was stored, batches end at 3/4 of ``batch_bytes`` (a
        # comparing pass over 1M stored messages peaked at 101–106 MiB with 4 MiB, 93 MiB with 3 MiB, same speed;
        # a fresh import is slower with 3 MiB).
        limit = [self.batch_bytes]
        failure: list[BaseException] = []
        lock = threading.Lock()
        seen: dict[int, list[datetime]] = {}

        def worker() -> None:
            try:
                with _writer_connect(self.engine) as conn:
                    conn.execute(_STAGE_DDL)
                    conn.commit()
                    bypass = _row_trigger_bypass(conn)
                    with lock:
                        stats.fk_checked_per_batch = bypass
                    while (batch := handoff.get()) is not None:
                        try:
                            if failure:
                                continue  # another writer failed: drain without writing
                            counts = self._commit_messages(conn, batch, bypass)
                            limit[0] = self.batch_bytes if 2 * counts[0] >= len(batch.messages) \
                                else self.batch_bytes * 3 // 4
                            ranges = _seen_ranges(batch.messages)
                            with lock:
                                _account(stats, batch, counts)
                                _merge_ranges(seen, ranges)
                                stats.seconds = time.perf_counter() - started
                                if self.on_batch:
                                    self.on_batch(stats)
                        finally:
                            batch = None  # its rows are not held while this writer waits for the next
                            handoff.task_done()  # for the producer's handoff.join()
                            slots.release()
            except BaseException as exc:  # surfaced in the caller's thread
                failure.append(exc)
                while handoff.get() is not None:  # the producer must never block on a dead consumer
                    handoff.task_done()
                    slots.release()

        threads = [threading.Thread(target=worker, name=f"telegram-writer-{i}", daemon=True)
                   for i in range(self.writers)]
        for t in threads:
            t.start()
        meta_conn = psycopg_connect(self.engine)

        def flush(batch: _Batch) -> None:
            # Chats and users commit here, before any message batch that refers to them is queued: message
            # batches commit in any order across the writers, and messages reference chats by foreign key.
            if batch.chats or batch.users or batch.topics:
                self._commit_meta(meta_conn, batch)
                with lock:
                    stats.users_seen += len(batch.users)
                    stats.chats.update(c[0] for c in batch.chats)
            if batch.spans and not batch.messages:
                self._commit_spans(meta_conn, batch)
            if batch.messages:
                batch.seq = next(sequence)
                while not slots.acquire(timeout=0.2):
                    if failure:
                        return  # the writers are failing: the caller raises their error
                handoff.put(batch)

        sequence = itertools.count()
        formatter = _RowFormatter()
        batch = _Batch()
        keys: set[tuple[int, int]] = set()
        torn = False  # the last batch handed off ended inside a run
        slack = 0.0  # how far past full a batch waits for its run's end: only once the source has sent a span
        forums: set[int] = set()  # chats known to be forums: General gets their topic-less messages at the end
        erased = erased_ids(meta_conn)
        try:
            message_row, batch_size = self._message_row, self.batch_size
            for rec in records:
                if failure:
                    break
                if erased and drop_erased(rec, erased):
                    stats.erased_skipped += 1
                    continue
                if type(rec) is MessageRecord:
                    key = (rec.chat_id, rec.message_id)
                    if key in keys:  # a key twice in one batch: the later version goes in the next one,
                        flush(batch)
                        # which must commit after this one: writers run batches in parallel, and two in-flight
                        # batches writing the same keys could also deadlock each other.
                        handoff.join()
                        batch, keys, torn = _Batch(), set(), True
                    keys.add(key)
                    try:
                        row = message_row(rec)
                    except (TypeError, ValueError) as exc:  # see _json
                        raise BadRecordError(f"message {rec.message_id} of chat {rec.chat_id}", _problem(exc)) from exc
                    batch.add(formatter, rec, row)
                    if rec.files:
                        batch.files.extend([self._file_row(rec, f) for f in rec.files])
                    # From a source of spans, a full batch ends with its run (at the run's span, below), unless the run
                    # has none and goes on.
                    if len(batch.messages) >= batch_size + slack * batch_size or \
                            len(batch.buf) >= limit[0] + slack * limit[0]:
                        flush(batch)
                        batch, keys, torn = _Batch(), set(), True
                elif type(rec) is StoredSpan:
                    # Committed with the last of its run's messages, so a span never outlives a batch that did not
                    # commit: one whose run began in a batch already handed off is dropped.
                    slack = 0.25
                    if torn:
                        torn = False
                    elif rec.chat_id not in erased:
                        batch.spans.append((
                            rec.chat_id, rec.account_id or 0, rec.first_id, _signed(rec.digest), rec.length,
                            rec.last_id, rec.count, _signed(rec.seed)))
                    if len(batch.messages) >= batch_size or len(batch.buf) >= limit[0]:
                        flush(batch)
                        batch, keys = _Batch(), set()
                    elif not batch.messages and len(batch.spans) >= _SPANS_ALONE:
                        self._commit_spans(meta_conn, batch)
                elif type(rec) is UnchangedMessages:
                    with lock:
                        _count_unchanged(stats, rec)
                        if self.on_batch:
                            self.on_batch(stats)
                elif isinstance(rec, ChatRecord):
                    batch.chats.append(
                        (rec.chat_id, rec.type, _text(rec.title), _short(rec.username, 64), rec.members_count,
                         rec.is_left, rec.source, rec.is_forum, rec.linked_chat_id, rec.is_forum, rec.is_forum)
                    )
                    if rec.is_forum:
                        forums.add(rec.chat_id)
                elif isinstance(rec, UserRecord):
                    batch.users.append(
                        (rec.user_id, *(_user_value(c, getattr(rec, c)) for c in _USER_FIELDS),
                         bool(getattr(rec, "is_owner", False)), rec.last_seen_at)
                    )
                    if getattr(rec, "is_owner", False):  # the account a source was made with
                        batch.accounts.append((rec.user_id, _text(getattr(rec, "account_name", None))))
                elif isinstance(rec, ResumePoint):
                    batch.resume = rec
                elif isinstance(rec, TopicRecord):
                    d = rec.date
                    batch.topics.append(
                        (rec.chat_id, rec.topic_id, _text(rec.title), rec.icon_emoji_id, rec.icon_color, rec.creator_id,
                         None if rec.edited else d, d if rec.edited else None)
                    )
                    forums.add(rec.chat_id)
                else:
                    raise TypeError(f"unexpected record type {type(rec).__name__}")
            if not failure:
                flush(batch)
        finally:
            # On a parse error the partial batch is dropped: committed batches stay, no half batch lands.
            for _ in threads:
                handoff.put(None)
            for t in threads:
                t.join()
            try:
                if forums and not failure:
                    with meta_conn.transaction():
                        meta_conn.execute(_GENERAL_TOPIC, (sorted(forums),))
                if seen:  # first/last seen of the senders of every committed batch, in one statement
                    with meta_conn.transaction():
                        ids = sorted(seen)
                        meta_conn.execute(_TOUCH_USERS, (ids, [seen[i][0] for i in ids], [seen[i][1] for i in ids]))
            finally:
                meta_conn.close()
        if failure:
            raise failure[0]
        stats.seconds = time.perf_counter() - started
        return stats

    @staticmethod
    def _commit_spans(conn: psycopg.Connection, batch: _Batch) -> None:
        """Spans read while no message was written (a re-import): on their own."""
        with conn.transaction(), conn.cursor() as cur:
            _write_spans(cur, batch.spans)
        batch.spans = []

    @staticmethod
    def _commit_meta(conn: psycopg.Connection, batch: _Batch) -> None:
        # Sorted: concurrent writers then lock rows in the same order.
        try:
            with conn.transaction(), conn.cursor() as cur:
                if batch.chats:
                    cur.executemany(_UPSERT_CHAT, sorted(batch.chats, key=lambda c: c[0]))
                if batch.users:
                    cur.executemany(_UPSERT_USER, sorted(batch.users, key=lambda u: u[0]))
                if batch.accounts:
                    cur.executemany(_UPSERT_ACCOUNT, sorted(batch.accounts, key=lambda a: a[0]))
                if batch.topics:
                    cur.executemany(_UPSERT_TOPIC, sorted(batch.topics, key=lambda t: t[:2]))
                    cur.execute(_MARK_FORUMS, (sorted({t[0] for t in batch.topics}),))
        except _REFUSED as exc:
            ids = [c[0] for c in batch.chats] + [u[0] for u in batch.users] + [t[:2] for t in batch.topics]
            raise BadRecordError(f"chats/users {ids[:5]}", _refusal(exc)) from exc

    def _write_batch(
        self, conn: psycopg.Connection, batch: _Batch, *, fast_path: bool, bypass: bool = False
    ) -> tuple[int, int, int, int]:
        """One transaction. Rows whose key is not stored yet are COPYed straight into the table
        (the common case of a fresh import); stored rows whose content hash matches (and whose accounts include
        the new one) are left alone, with their files (the common case of a re-import); the rest go through
        staging and the upsert."""
        new = updated = edits = unchanged = 0
        files = batch.files
        replica = checkpointed = False
        with conn.transaction(), conn.cursor() as cur:
            if batch.messages:
                fresh, known = batch.messages, []
                if fast_path:
                    ranges = _key_ranges(batch.messages)
                    at = batch.resume
                    cur.execute(_BATCH_START, {
                        "run": self.run_id, "seq": batch.seq, "offset": at.offset if at else None,
                        "position": orjson.dumps(at.position).decode() if at else None,
                        "messages": len(batch.messages), "bypass": bypass,
                        "chats": ranges[0], "lo": ranges[1], "hi": ranges[2]})
                    locked, stored, _ = cur.fetchone()
                    checkpointed, replica = True, bypass
                    if bypass and (missing := set(ranges[0]).difference(locked or ())):
                        raise MissingChatError(
                            f"messages refer to chat(s) not stored: {sorted(missing)}; write the chat first")
                    if stored:
                        rows = batch.messages
                        # Text arrays: psycopg's list dumper costs ≈ 1 µs per element in Python.
                        accounts = [] if all(r[_M_ACCOUNT] is None for r in rows) else [
                            "NULL" if r[_M_ACCOUNT] is None else str(r[_M_ACCOUNT]) for r in rows]
                        cur.execute(_TO_WRITE, (*ranges, _array(r[_M_CHAT] for r in rows),
                                                _array(r[_M_ID] for r in rows), _array(r[_M_HASH] for r in rows),
                                                "{" + ",".join(accounts) + "}"))
                        write = {(c, m): stored for c, m, stored in cur.fetchall()}
                        fresh = [r for r in rows if write.get((r[0], r[1])) is False]
                        known = [r for r in rows if write.get((r[0], r[1])) is True]
                        unchanged = len(rows) - len(write)
                        if unchanged and files:
                            files = [f for f in files if (f[0], f[1]) in write]
                else:
                    fresh, known = [], batch.messages
                if fresh:
                    with cur.copy(f"COPY telegram_messages ({_cols}) FROM STDIN (FORMAT BINARY)") as copy:
                        _copy_rows(copy, batch, None if fresh is batch.messages else fresh)
                    new = len(fresh)
                if replica and known:
                    # Row triggers stay off only for new messages and their files (whose one foreign key, to
                    # their message, holds: the message is written in this transaction; ≈ 0.3 ms per file row).
                    cur.execute("SET LOCAL session_replication_role = origin")
                if known:
                    with cur.copy(f"COPY stage_messages ({_cols}) FROM STDIN (FORMAT BINARY)") as copy:
                        _copy_rows(copy, batch, None if known is batch.messages else known)
                    cur.execute(_KEEP_KNOWN)
                    cur.execute(_OTHER_NUMBERING)
                    clashes = set(cur.fetchall())
                    if clashes:
                        files = [f for f in files if (f[0], f[1]) not in clashes]
                        log.warning("%d message(s) of another account's private chat or basic group skipped: their "
                                    "ids are numbered per account (chats %s)", len(clashes),
                                    sorted({c for c, _ in clashes})[:5])
                    cur.execute(_UPSERT_MESSAGES)
                    new_known, updated, edits = cur.fetchone()
                    cur.execute(_FORGET_STAGED_SPANS)
                    new += new_known
                    cur.execute(_MERGE_ACCOUNTS)
            if batch.spans:
                _write_spans(cur, batch.spans)
            if files:
                with cur.copy(f"COPY stage_files ({_fcols}) FROM STDIN") as copy:
                    for row in self._stored_files(files):
                        copy.write_row(row)
                cur.execute(_UPSERT_FILES)
            if self.run_id is not None and not checkpointed:
                at = batch.resume
                cur.execute(_CHECKPOINT, (self.run_id, batch.seq, at.offset if at else None,
                                          orjson.dumps(at.position).decode() if at else None, len(batch.messages)))
        return new, updated, edits, unchanged

    def _commit_messages(self, conn: psycopg.Connection, batch: _Batch, bypass: bool) -> tuple[int, int, int, int]:
        fast_path = True
        for attempt in range(_ATTEMPTS):
            try:
                return self._write_batch(conn, batch, fast_path=fast_path, bypass=bypass)
            except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected):
                # Another writer (or process) inserted one of the "new" keys after we looked, or writes some of the
                # same keys in another order (the server then rolls one back): the transaction rolled back as a
                # whole, so redo the batch through the conflict-handling path.
                if attempt == _ATTEMPTS - 1:
                    raise
                fast_path = False
            except _REFUSED as exc:
                rows = batch.messages
                raise BadRecordError(f"messages {rows[0][1]}…{rows[-1][1]} of chat {rows[0][0]}",
                                     _refusal(exc)) from exc
        raise AssertionError("unreachable")


class BadRecordError(ValueError):
    """A record value that its column cannot hold (the batch is not written). ``where`` names the message(s)."""

    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}")


_INT32 = range(-(1 << 31), 1 << 31)
_SWITCH_INTERVAL = 0.0002  # seconds
_SPANS_ALONE = 4_096  # spans kept while no message is written before they are written on their own
_ATTEMPTS = 3  # of a batch that keeps losing deadlocks to concurrent writers
# What the server says about a value it cannot take (a safety net behind the checks while rows are built): bad
# input, reported like any other, not a database failure.
# A lone UTF-16 surrogate (a JSON "\\ud800" escape) decodes to a str that UTF-8, and so PostgreSQL, cannot hold.
_REFUSED = (psycopg.DataError, psycopg.errors.ProgramLimitExceeded, UnicodeEncodeError)


def _problem(exc: Exception) -> str:
    # Never the offending characters themselves: a lone surrogate in the message would break its printing and storing.
    if isinstance(exc, UnicodeError):
        return f"not valid Unicode ({exc.reason})"
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _refusal(exc: Exception) -> str:
    if isinstance(exc, UnicodeError):
        return _problem(exc)
    return "the database refused a value: " + _problem(exc)


def _copy_rows(copy: psycopg.Copy, batch: _Batch, messages: list[tuple] | None) -> None:
    """Send the batch's formatted rows (all of them, or those of ``messages``) as one binary COPY stream."""
    copy.write(_COPY_HEADER)
    # Slices of a view, not of the bytearray (which would copy them); adjacent rows go out as one slice.
    with memoryview(batch.buf) as view:
        if messages is None:
            copy.write(view)
        else:
            start = end = -1
            for m in messages:
                if m[_M_START] != end:
                    if end > start:
                        copy.write(view[start:end])
                    start = m[_M_START]
                end = m[_M_END]
            if end > start:
                copy.write(view[start:end])
    copy.write(_COPY_TRAILER)


def _array(values: Iterable[int]) -> str:
    """A ``bigint[]`` parameter in PostgreSQL's text form."""
    return "{" + ",".join(map(str, values)) + "}"


def _fits(v: Any, pg_type: str) -> bool:
    if pg_type in ("int8", "int4"):
        return type(v) is int and -(1 << 63) <= v < (1 << 63)
    if pg_type == "text":
        return type(v) is str
    if pg_type == "timestamptz":
        return isinstance(v, datetime) and v.tzinfo is not None
    if pg_type == "bool":
        return type(v) is bool
    return type(v) is bytes


def _account(stats: LoadStats, batch: _Batch, counts: tuple[int, int, int, int]) -> None:
    new, updated, edits, unchanged = counts
    stats.messages_unchanged += unchanged
    stats.batches += 1
    stats.messages_seen += len(batch.messages)
    stats.messages_new += new
    stats.messages_updated += updated
    stats.edits_recorded += max(edits, 0)
    stats.files_seen += len(batch.files)
    stats.files_stored += sum(1 for f in batch.files if f[3] == "present")
    stats.chats.update({row[0] for row in batch.messages})
    if batch.min_date and (stats.min_date is None or batch.min_date < stats.min_date):
        stats.min_date = batch.min_date
    if batch.max_date and (stats.max_date is None or batch.max_date > stats.max_date):
        stats.max_date = batch.max_date


def _write_spans(cur: psycopg.Cursor, spans: list[tuple]) -> None:
    spans = sorted({row[:4]: row for row in spans}.values())  # one row per key, keys in one order across writers
    cur.execute(_UPSERT_SPANS, [list(column) for column in zip(*spans)])


def _count_unchanged(stats: LoadStats, run: UnchangedMessages) -> None:
    stats.messages_seen += run.count
    stats.messages_unchanged += run.count
    stats.chats.add(run.chat_id)
    for d in (run.first_date, run.last_date):
        if d is not None:
            if stats.min_date is None or d < stats.min_date:
                stats.min_date = d
            if stats.max_date is None or d > stats.max_date:
                stats.max_date = d


def _merge_ranges(seen: dict[int, list[datetime]], ranges: tuple[list[int], list[datetime], list[datetime]]) -> None:
    for uid, lo, hi in zip(*ranges):
        r = seen.get(uid)
        if r is None:
            seen[uid] = [lo, hi]
        else:
            r[0], r[1] = min(r[0], lo), max(r[1], hi)
