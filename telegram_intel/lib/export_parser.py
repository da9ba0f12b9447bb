"""Streaming parser for Telegram Desktop JSON exports (``result.json``).

``iter_export(path)`` yields ``ChatRecord``/``UserRecord``/``MessageRecord`` (see
``records.py``) for a single-chat export (top-level ``name/type/id/messages``) or a
full-account export (``chats.list[*]`` and ``left_chats.list[*]``), in file order:
a chat's ``ChatRecord`` comes before its messages, and a ``UserRecord`` for a user
comes (once per chat) before the first message naming that user as sender/actor.
The export owner (``personal_information``) is yielded as an ``OwnerRecord`` (a
``UserRecord`` with ``is_owner``); the phone number is never read into a record.

How it streams (and why not ijson). The file is read as bytes in 1 MiB chunks and
walked by a small Python reader that only knows the export's skeleton (objects,
arrays, keys), so it always knows which chat a message belongs to: no second pass,
no splitting chunks at chat boundaries. Messages are decoded in runs: the bytes of
about a hundred consecutive messages go to orjson (a project dependency) as one
``[...]`` document, cut where the writer's layout says a message ends; JSON's own
grammar guarantees that an accepted run is exactly those messages, so a wrong layout
guess can only cost speed (see ``_Stream.values``). Anything else goes through the
stdlib's C scanner on a small decoded window. On this project's 2-core box the
decoding alone runs about 2x ``ijson.items(..., use_float=True)`` with yajl2_c (whose
per-event prefix bookkeeping is the cost), which leaves time for the per-message
normalization. With a store to ask (a re-import), a run's bytes are split into its
elements first and each is hashed; elements stored with that hash are skipped without
decoding. Memory is one chunk plus one run of messages, whatever the file size;
runs and record batches are kept small so that few objects live long enough to
wake the cyclic GC's full collections (see ``_WINDOW``). The slow path also repairs
two Telegram Desktop bugs that make real exports invalid JSON: ``\\xNN`` escapes for
control characters (tdesktop#27571) and unquoted ``document_id`` paths of custom
emoji (tdesktop#24961). Input that cannot be read ends in a ``TelegramDataError`` naming the
file and the JSON path, never another exception (a property-based fuzzer checks this):
values nested deeper than the decoders go (orjson 1,024 levels, the stdlib scanner the
interpreter's recursion limit), integer literals past Python's 4,300 digits, values of
unexpected types; error texts quote values through a short ``reprlib`` repr.

Format notes that drive the id and date rules below:

* Exports before mid-2021 wrote ids in the exporter's own peer-id scheme: personal
  chats ``2**32 | user_id``, groups and channels ``2**33 | id``; ``from_id`` was an
  integer (a plain user id up to 2020-09, a ``2**32``-shifted peer id after).
  Newer exports write bare chat ids and ``"user123"``/``"channel123"``/``"chat123"``.
  Since a modern bare user id can fall in the old shifted range, personal chat ids
  are un-shifted only when the chat's first message shows the old format (integer
  ``from_id``, or the always-present 1970 ``edited`` of old exports).
* ``date_unixtime`` (epoch seconds, UTC) is used when present. Older exports only
  have ``date``, a local-time string without zone: we read it as UTC (the exporter's
  zone is unknown), so such dates may be off by the exporter's UTC offset.
* Messages of a basic group migrated to a supergroup appear in the supergroup with
  ids shifted by -1e9 (``kMigratedMessagesIdShift``); they are kept as is.
* ``"type": "unsupported"`` messages carry only an id (no date, no content): skipped.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import reprlib
from collections.abc import Callable, Collection, Iterator, Set as AbstractSet
from datetime import datetime, timezone
from itertools import chain, repeat
from typing import Any

import orjson
import xxhash

from telegram_intel.lib.records import (
    CHANNEL_ID_OFFSET,
    GENERAL_TOPIC_ID,
    ChatRecord,
    FileRecord,
    MessageRecord,
    OwnerRecord,
    Record,
    StoredMessages,
    StoredSpan,
    TelegramDataError,
    TopicRecord,
    UnchangedMessages,
    UserRecord,
    mark_channel_id,
    mark_group_id,
)
from telegram_intel.lib.resume import ResumePoint

__all__ = ["FULL_ACCOUNT", "SINGLE_CHAT", "detect_export_kind", "iter_export"]

SINGLE_CHAT = "single_chat"
FULL_ACCOUNT = "full_account"

ChatFilter = Callable[[ChatRecord], bool] | Collection[int] | None

_loads = orjson.loads
_dumps = orjson.dumps
_xxh3 = xxhash.xxh3_64_intdigest
_SIGNED = 1 << 63
_UNSIGNED = 1 << 64
# The id a message element starts with (tdesktop's key order).
_FIRST_ID = re.compile(rb'\{\s*"id":\s*(-?[0-9]+)\s*,').match
_SKIPPED_RUN = 4096  # unchanged messages reported at least this often (progress, checkpoints)
_BATCH = 32  # records per internal batch; small for the same GC reason as _WINDOW
_END = object()
_SKIP = object()  # _Stream.values(sieve=...): a stretch of stored elements
_SPAN = object()  # _Stream.values(spans=...): the run just yielded, for a StoredSpan
_UTC = timezone.utc
_from_ts = datetime.fromtimestamp
_from_iso = datetime.fromisoformat


class _ShortRepr(reprlib.Repr):
    """Error texts quote the offending value, cut short: a value nested thousands of levels deep (plain ``repr``
    recurses once per level) or megabytes long must not make the message itself fail or flood a log."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother, self.maxlong = 3, 80, 80, 40

    def repr_int(self, x: int, level: int) -> str:
        # str() of an int over 4300 digits raises ValueError (CPython's int_max_str_digits).
        return super().repr_int(x, level) if x.bit_length() < 4096 else f"<a {x.bit_length()}-bit integer>"


_show = _ShortRepr().repr


def _str_or_none(v: Any) -> str | None:
    return v if type(v) is str and v else None


def _dump(v: Any) -> str:
    try:
        return json.dumps(v)
    except (RecursionError, ValueError):  # too deep or a huge int: not the side section tdesktop writes
        return ""


# --- ids -------------------------------------------------------------------------

_OLD_USER_SHIFT = 1 << 32  # pre-2021 exporter: UserPeerId = 2**32 | user_id
_OLD_CHAT_SHIFT = 2 << 32  # pre-2021 exporter: ChatPeerId = 2**33 | chat/channel id
_OLD_SPAN = 1 << 31  # old bare ids were int32
_APP_PEER_SHIFT = 48  # tdesktop PeerId.value: type in bits 48+, bare id below
_APP_PEER_MASK = (1 << _APP_PEER_SHIFT) - 1

_CHAT_TYPES = {
    "personal_chat": "private",
    "bot_chat": "bot",
    "saved_messages": "saved",
    "replies": "bot",  # the "Replies" service chat is a bot account
    "verify_codes": "private",  # the "Verification Codes" service account
    "private_group": "group",
    "private_supergroup": "supergroup",
    "public_supergroup": "supergroup",
    "private_channel": "channel",
    "public_channel": "channel",
}
_USER_CHAT_TYPES = frozenset({"private", "bot", "saved"})


def _chat_type(raw: Any) -> str | None:
    if type(raw) is not str:
        return None
    known = _CHAT_TYPES.get(raw)
    if known:
        return known
    # A type string from a newer exporter: keep the chat rather than fail the import.
    for word, kind in (("channel", "channel"), ("supergroup", "supergroup"), ("group", "group"), ("bot", "bot")):
        if word in raw:
            return kind
    return "private"


def _peer_id(v: Any) -> int:
    """``from_id``-style value (int or ``user…/channel…/chat…`` string) -> marked peer id."""
    if type(v) is str:
        for prefix, mark in (("user", None), ("channel", mark_channel_id), ("chat", mark_group_id)):
            if v.startswith(prefix):
                n = int(v[len(prefix):])
                if n < 0:  # some third-party writers put marked ids here
                    return n
                return mark(n) if mark else n
        return _peer_id(int(v))  # a bare number in a string; ValueError otherwise
    if type(v) is not int:
        raise ValueError(f"not a peer id: {_show(v)}")
    if v < 0:
        return v  # already marked
    if _OLD_USER_SHIFT <= v < _OLD_USER_SHIFT + _OLD_SPAN:
        return v - _OLD_USER_SHIFT
    if _OLD_CHAT_SHIFT <= v < _OLD_CHAT_SHIFT + _OLD_SPAN:
        return mark_channel_id(v - _OLD_CHAT_SHIFT)  # a chat peer as author is a channel
    if v >> _APP_PEER_SHIFT:
        kind, bare = v >> _APP_PEER_SHIFT, v & _APP_PEER_MASK
        return bare if kind == 0 else mark_group_id(bare) if kind == 1 else mark_channel_id(bare)
    return v


def _message_era(m: Any) -> str | None:
    """'new' (bare chat ids) or 'old' (shifted chat ids) from one message, if it tells."""
    if type(m) is not dict:
        return None
    if "date_unixtime" in m:
        return "new"
    fid = m.get("from_id", m.get("actor_id"))
    if type(fid) is str:
        return "new"
    if type(fid) is int:
        return "old"
    edited = m.get("edited")  # old exports wrote it on every message, 1970 = not edited
    if type(edited) is str and edited[:4] < "2000":
        return "old"
    return None


# --- text ---------------------------------------------------------------------


def _u16(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-16-le")) >> 1


def _parts(parts: list) -> tuple[str, list[dict[str, Any]] | None]:
    """Plain text and entities from a list of text parts, in one pass.

    Parts are strings (plain) or objects ``{type, text, href?, user_id?, …}``; the list
    form of ``text`` and ``text_entities`` hold the same parts. Entities are copies of
    the non-plain parts (``raw`` stays as exported) with Telegram-style ``offset`` and
    ``length`` in UTF-16 code units, as in the Bot API and Telethon.
    """
    out = []
    ents = None
    off = 0
    try:
        for p in parts:
            if type(p) is str:
                out.append(p)
                off += len(p)
                continue
            t = p["text"]
            out.append(t)
            if p["type"] != "plain":
                e = dict(p)
                e["offset"] = off
                e["length"] = len(t)
                if ents is None:
                    ents = [e]
                else:
                    ents.append(e)
            off += len(t)
        text = "".join(out)
    except (KeyError, TypeError):
        raise ValueError(f"unexpected text parts {_show(parts)}") from None
    if ents is not None and not text.isascii():
        # Offsets above count code points; Telegram counts UTF-16 units (astral = 2).
        for e in ents:
            e["length"] = _u16(e["text"])
            e["offset"] = _u16(text[: e["offset"]])
    return text, ents


# --- media --------------------------------------------------------------------

_MEDIA_TYPES = {
    "voice_message": "voice",
    "video_message": "video_note",
    "video_file": "video",
    "audio_file": "audio",
    "sticker": "sticker",
    "animation": "animation",
    "photo": "photo",
}
# Keys that mark a media kind when there is no media_type, in precedence order.
_MEDIA_KEYS = (
    ("photo", "photo"),
    ("file", "document"),
    ("poll", "poll"),
    ("contact_information", "contact"),
    ("place_name", "venue"),
    ("address", "venue"),
    ("location_information", "location"),
    ("game_title", "game"),
    ("invoice_information", "invoice"),
    ("dice", "dice"),
    ("todo_list", "todo_list"),
    ("giveaway_information", "giveaway"),
    ("giveaway_results", "giveaway"),
    ("paid_stars_amount", "other"),
)
# (message key, FileRecord.kind, size key)
_FILE_KEYS = (
    ("photo", "photo", "photo_file_size"),
    ("file", "file", "file_size"),
    ("thumbnail", "thumbnail", "thumbnail_file_size"),
    ("contact_vcard", "file", "contact_vcard_file_size"),
)

# A file key's string value in an element's bytes (_Parser._file_states).
_FILE_VALUE = re.compile(rb'"(?:%s)":[ \t\r\n]*"((?:[^"\\]|\\.)*)"' % b"|".join(k.encode() for k, _, _ in _FILE_KEYS))

# Everything _extras() looks at; a message with none of these takes the fast path.
_EXTRA_KEYS = frozenset(
    {
        "edited", "edited_unixtime", "reply_to_message_id", "reply_to_peer_id", "message_id",
        "game_message_id", "invoice_message_id", "forwarded_from", "forwarded_from_id", "saved_from",
        "via_bot", "reactions", "inline_bot_buttons", "media_group_id", "grouped_id", "mime_type",
        "duration_seconds", "media_type", "thumbnail",
    }
    | {k for k, _ in _MEDIA_KEYS}
    | {k for k, _, _ in _FILE_KEYS}
)


_REPLY_KEYS = frozenset({"reply_to_message_id", "message_id", "game_message_id", "invoice_message_id"})
# Forum topic service messages as the exporter names them (``title``/``icon_emoji_id`` on creation,
# ``new_title``/``new_icon_emoji_id`` on an edit).
_TOPIC_CREATED = "topic_created"
_TOPIC_EDIT = "topic_edit"
_TOPIC_ACTIONS = frozenset({_TOPIC_CREATED, _TOPIC_EDIT})
_MEDIA_ANY = frozenset({"media_type"} | {k for k, _ in _MEDIA_KEYS} | {k for k, _, _ in _FILE_KEYS})


def _not_included(path: str) -> bool:
    # "(File not included. …)", "(File exceeds maximum size. …)", "(File unavailable, …)",
    # optionally prefixed by a name; "(Photo …)" in the userpic/story variants.
    return path.endswith(")") and ("(File " in path or "(Photo " in path)


def _int_or_none(v: Any) -> int | None:
    return v if type(v) is int else None


_INT64 = range(-(1 << 63), 1 << 63)  # ids are stored as bigint
_INT32 = range(-(1 << 31), 1 << 31)  # durations as integer


# --- the JSON stream ------------------------------------------------------------

_WS = re.compile(rb"[ \t\n\r]*").match
_SEP = re.compile(rb"[ \t\n\r]*,[ \t\n\r]*").match
_INDENT = re.compile(rb"[ \t]*").match
_CHUNK = 1 << 20  # bytes per read
_AHEAD = 1 << 18  # refill when less than this is left: few elements straddle a chunk
# Bytes decoded per orjson call in the hot loop (~100 messages). Kept small on purpose:
# objects still alive when the cyclic GC runs get promoted, and enough promotions trigger
# full collections that walk every object of the host process: with a few hundred
# messages alive at a time, parsing inside the test suite's process (~65k objects)
# ran ~35% slower, and bigger hosts (Dagster) have more objects.
_WINDOW = 1 << 15
_SLACK = 64  # a decode error this close to the window end may be a value cut by the window
_BOM = codecs.BOM_UTF8
# Telegram Desktop writes control characters as "\xNN" (not JSON); count backslashes so an
# escaped backslash followed by "x" is left alone.
_X_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\x([0-9A-Fa-f]{2})")
# tdesktop 4.1 wrote custom emoji paths unquoted: "document_id": stickers/sticker (2).webm
_BARE_DOC_ID = re.compile(
    rb'((?<!\\)"document_id":[ \t]*)(?![\s"\-0-9\[{]|true\b|false\b|null\b)([^\r\n]*?)([ \t]*,?[ \t]*(?:\r?\n|$))'
)


def _quote_doc_id(m: re.Match) -> bytes:
    value = m.group(2).decode("utf-8", "replace")
    return m.group(1) + json.dumps(value, ensure_ascii=False).encode() + m.group(3)



class _Layout:
    """How an array's elements are laid out, for their layout hashes: the closing part of an element (the
    pretty-printer's closing line, or just the bracket) and what joins two elements (closing part, comma,
    whitespace). An element's layout hash is xxh3 of its bytes without the closing part; a run of elements is split
    into those bytes with one ``split``, at joints that hold a raw newline (never inside a string)."""

    __slots__ = ("end", "joint")

    def __init__(self, end: bytes, joint: bytes | None) -> None:
        self.end = end
        self.joint = joint if joint and b"\n" in joint else None

    def pieces(self, run: bytes) -> list[bytes]:
        """A run of whole elements (ending with a closing part): each element's bytes without it."""
        return run[: len(run) - len(self.end)].split(self.joint)

    def hash(self, element: bytes, seed: int) -> int | None:
        """The layout hash of one element's bytes (unsigned), or None when it does not end as the layout says."""
        if not element.endswith(self.end):
            return None
        return _xxh3(element[: len(element) - len(self.end)], seed)


def _sift(pieces: list[bytes], hashes: list[int], known: AbstractSet[int]) -> list[tuple] | None:
    """What ``values`` yields for a run whose stored elements (hash in ``known``) are skipped and the rest decoded
    one by one; None when most of the run is new (decoded as one) or a piece does not decode alone."""
    n = len(pieces)
    if known.issuperset(hashes):
        return [(_SKIP, (n, pieces[0], pieces[-1]))]
    new = [k for k, h in enumerate(hashes) if h not in known]
    if 2 * len(new) > n:
        return None
    out: list[tuple] = []
    prev = 0
    for k in new:
        try:
            obj = _loads(pieces[k] + b"}")
        except ValueError:
            return None
        if k > prev:
            out.append((_SKIP, (k - prev, pieces[prev], pieces[k - 1])))
        out.append((obj, hashes[k]))
        prev = k + 1
    if prev < n:
        out.append((_SKIP, (n - prev, pieces[prev], pieces[-1])))
    return out


class _Stream:
    """Incremental JSON reader over UTF-8 bytes.

    The skeleton (objects, arrays, keys) is walked in Python; whole values are decoded
    by C code: orjson for runs of array elements (straight from the bytes), the stdlib
    scanner (on a small decoded window) for everything else and as the fallback.
    Positions are byte offsets, so error messages can point into the file.
    """

    __slots__ = ("source", "_f", "buf", "pos", "eof", "_base", "_chunk", "_scan", "repairs", "mark", "indent", "nul",
                 "fresh")

    def __init__(self, f, source: str, chunk: int | None = None, offset: int = 0) -> None:
        self.source = source
        self._f = f
        self.buf = b""
        self.pos = 0
        self.eof = False
        self.nul = True  # see values()
        self.fresh = False  # values(sieve=...): nothing of the run being yielded is stored
        self._base = offset  # file offset of buf[0]
        self._chunk = chunk or _CHUNK
        # strict=False: raw control characters inside strings are tolerated, not fatal.
        self._scan = json.JSONDecoder(strict=False).scan_once
        self.repairs = 0
        # values(): (file offset, index) of the first element its consumer has not been handed all of yet, and the
        # array's indentation: where reading can resume (lib/resume.py).
        self.mark: tuple[int, int] = (offset, 0)
        self.indent = b""
        if offset == 0 and self.fill() and self.buf.startswith(_BOM):
            self.pos = len(_BOM)

    # errors
    def error(self, where: str, problem: str) -> TelegramDataError:
        return TelegramDataError(self.source, where, problem)

    def _truncated(self, where: str) -> TelegramDataError:
        return self.error(where, "truncated JSON: unexpected end of file")

    def _invalid(self, where: str, at: int, problem: str) -> TelegramDataError:
        return self.error(where, f"invalid JSON at byte {self._base + at}: {problem}")

    def _unexpected(self, c: bytes, wanted: str, where: str) -> TelegramDataError:
        if not c:
            return self._truncated(where)
        return self._invalid(where, self.pos, f"expected {wanted}, found {c.decode('utf-8', 'replace')!r}")

    # buffer
    def fill(self, want: int = 0) -> bool:
        """Drop consumed bytes and read at least one more chunk (or ``want`` bytes); False at EOF."""
        if self.eof:
            return False
        data = self._f.read(max(self._chunk, want))
        self._base += self.pos
        self.buf = self.buf[self.pos :] + data
        self.pos = 0
        if not data:
            self.eof = True
            return False
        return True

    def byte_offset(self) -> int:
        """File offset of the cursor."""
        return self._base + self.pos

    def peek(self) -> bytes:
        """Skip whitespace; the next byte, or b'' at end of input."""
        while True:
            pos = _WS(self.buf, self.pos).end()
            self.pos = pos
            if pos < len(self.buf):
                return self.buf[pos : pos + 1]
            if not self.fill():
                return b""

    def expect(self, ch: bytes, where: str) -> None:
        c = self.peek()
        if c != ch:
            raise self._unexpected(c, repr(ch.decode()), where)
        self.pos += 1

    def at_end(self) -> bool:
        return self.peek() == b""

    # values
    def value(self, where: str, window: int = 256) -> Any:
        """Decode the JSON value at the cursor with the stdlib scanner.

        Decodes a window of bytes, widening it (and reading more) while the value may
        just be cut by the window; repairs known exporter bugs; raises otherwise.
        """
        if not self.peek():
            raise self._truncated(where)
        w = window
        while True:
            if self.pos + w > len(self.buf) and not self.eof:
                self.fill(w)
            buf, pos = self.buf, self.pos
            stop = min(pos + w, len(buf))
            whole = self.eof and stop == len(buf)  # nothing after the window
            while pos < stop < len(buf) and buf[stop] & 0xC0 == 0x80:
                stop -= 1  # do not cut a UTF-8 sequence
            try:
                s = buf[pos:stop].decode("utf-8")
            except UnicodeDecodeError as e:
                if e.reason == "unexpected end of data":
                    if not whole:
                        w *= 2
                        continue
                    raise self._truncated(where) from None
                raise self._invalid(where, pos + e.start, f"not UTF-8 ({e.reason})") from None
            try:
                obj, end = self._scan(s, 0)
            except StopIteration as e:
                err, msg = e.value, "Expecting value"
            except json.JSONDecodeError as e:
                err, msg = e.pos, e.msg
            except RecursionError:  # the C scanner recurses once per level (orjson stops at 1024)
                raise self._invalid(where, pos, "nested too deeply to decode") from None
            except ValueError as e:  # an integer literal longer than int_max_str_digits
                raise self._invalid(where, pos, str(e)) from None
            else:
                if end < len(s) or whole or type(obj) not in (int, float):
                    self.pos = pos + (end if len(s) == stop - pos else len(s[:end].encode()))
                    return obj
                w *= 2  # a number at the window edge may go on
                continue
            near_end = len(s) - err <= _SLACK or msg.startswith("Unterminated")
            if near_end and not whole:
                w *= 2
                continue
            if self.repairs < 1000 and self._repair(msg):
                continue
            rest = s[err:].strip()  # at the end of the file: cut off, or just wrong?
            if near_end and (msg.startswith("Unterminated") or any(x.startswith(rest) for x in ("true", "false", "null"))):
                raise self._truncated(where)
            raise self._invalid(where, pos + len(s[:err].encode()), msg)

    def _repair(self, msg: str) -> bool:
        """Fix known exporter bugs in the unread part of the buffer; True if anything changed.

        The fix lengthens the buffer, so byte offsets reported after it are a few bytes off.
        """
        tail = self.buf[self.pos :]
        if "escape" in msg:
            fixed = _X_ESCAPE.sub(rb"\1\\u00\2", tail)
        elif msg.startswith("Expecting value"):
            fixed = _BARE_DOC_ID.sub(_quote_doc_id, tail)
        else:
            return False
        if fixed == tail:
            return False
        self.buf = self.buf[: self.pos] + fixed
        self.repairs += 1
        return True

    def members(self, where: str, *, inside: bool = False) -> Iterator[str]:
        """Keys of the object at the cursor; the caller consumes each value before the next key.

        ``inside``: the cursor is past a member's value (a resumed read): the keys after it."""
        if inside:
            c = self.peek()
            if c == b"}":
                self.pos += 1
                return
            if c != b",":
                raise self._unexpected(c, "',' or '}'", where)
            self.pos += 1
            c = self.peek()
        else:
            self.expect(b"{", where)
            c = self.peek()
            if c == b"}":
                self.pos += 1
                return
        while True:
            if c != b'"':
                raise self._unexpected(c, "a key", where)
            key = self.value(where)
            self.expect(b":", where)
            yield key
            c = self.peek()
            if c == b",":
                self.pos += 1
                c = self.peek()
            elif c == b"}":
                self.pos += 1
                return
            else:
                raise self._unexpected(c, "',' or '}'", where)

    def elements(self, where: str, *, start: int | None = None) -> Iterator[int]:
        """Indexes of the array at the cursor; the caller consumes each element.

        ``start``: the cursor is inside element ``start`` (a resumed read), which the caller consumes first."""
        if start is None:
            self.expect(b"[", where)
            if self.peek() == b"]":
                self.pos += 1
                return
        i = start or 0
        while True:
            yield i
            c = self.peek()
            if c == b",":
                self.pos += 1
                i += 1
            elif c == b"]":
                self.pos += 1
                return
            else:
                raise self._unexpected(c, "',' or ']'", f"{where}[{i}]")

    def _batch(self, data: bytes) -> tuple[list, int] | None:
        """Decode ``[…]`` holding a run of elements; (elements, bytes used) or None."""
        try:
            return _loads(data), len(data)  # orjson: about half the work of json, no decoding
        except ValueError:
            pass
        try:  # the array may end inside the run; or orjson's limits (huge ints, NaN, lone surrogates)
            s = data.decode("utf-8")
            objs, end = self._scan(s, 0)
        except (ValueError, StopIteration, RecursionError):  # value() decodes alone and reports
            return None
        return objs, (end if len(s) == len(data) else len(s[:end].encode()))

    def values(self, where: str, resume: tuple[int, bytes] | None = None, seed: int | None = None,
               sieve: Callable[[list[bytes]], AbstractSet[int] | None] | None = None,
               spans: Callable[[bytes, int], tuple[int, int] | None] | None = None) -> Iterator[Any]:
        """Decoded elements of the array at the cursor: the hot loop.

        Elements are decoded many at a time: the first element shows how the writer
        ends an element (newline, indentation, "}"), the array's own line shows how it
        ends the array; the bytes up to the last element end within a window go to
        orjson as ``[`` + run + ``]``. This is only a guess about the layout, and it
        cannot go wrong: JSON values are self-delimiting, so when the decoder accepts
        the run, its elements are exactly the array's next elements. When it does not,
        elements are decoded one at a time (which also repairs and reports errors).

        ``resume``: (index, the array's indentation) of the element the cursor is at (see ``mark``).

        ``seed``: yield (element, its layout hash) pairs instead (see ``_Layout``; None where the layout is
        not known). ``sieve``: given the bytes of a run's elements (``_Layout.pieces``), the layout hashes
        known to be stored (or None): a run's stored elements are not decoded but yielded as
        ``(_SKIP, (count, first piece, last piece))`` for each stretch of them. Skipping is safe without decoding:
        a piece with a stored hash is, byte for byte, an element that was decoded once, and the joint the run was
        split at holds a raw newline, which only occurs between JSON tokens.

        ``spans`` (with ``sieve``): given the buffer and a run's start, (count, length) when the ``length`` bytes
        there are a stored span of ``count`` elements (``StoredMessages.stored_spans``): they are skipped unsplit,
        as one stretch. After each run it split whose elements all came out, ``(_SPAN, (count, length, digest,
        first piece, last piece, the run's bytes))`` follows: what a ``StoredSpan`` of it needs (the run where the
        array ends: its elements only). A later read looks a span up by the id its run starts with and hashes the
        span's length of bytes there; runs are cut the same way in every read of the same bytes, so it meets them
        at its own runs' starts.
        """
        if resume is None:
            line = self.buf.rfind(b"\n", 0, self.pos) + 1
            indent = self.buf[line : _INDENT(self.buf, line).end()]
            self.expect(b"[", where)
            if self.peek() == b"]":
                self.pos += 1
                return
            i = 0
        else:
            i, indent = resume
        self.indent = indent
        array_end = b"\n" + indent + b"]"  # where tdesktop (and json.dump) close the array
        sep, batch = _SEP, self._batch
        buf, pos = self.buf, self.pos
        close: bytes | None = None  # how an element ends, e.g. b"\n     }", or b"},\n" (one per line)
        keep = 0  # bytes of ``close`` that belong to the element
        learn = True
        hashing = seed is not None
        layout: _Layout | None = None  # for hashes: learnt with ``close``, kept when batching stops
        search = True  # for the array's end (see below)
        window = 1024  # for one-at-a-time decoding: twice the last element
        while True:
            if len(buf) - pos < _AHEAD and not self.eof:
                self.pos = pos
                self.fill()
                buf, pos = self.buf, self.pos
            # The consumer asked for element i: it has every element before it.
            self.mark = (self._base + pos, i)
            cut = -1
            sifted = pieces = hashes = span = None
            self.fresh = False
            if close is not None:
                limit = pos + _WINDOW
                if spans is not None and layout is not None and layout.joint is not None:
                    span = spans(buf, pos)  # a stored span here: nothing to split or search
                if span is None:
                    if sieve is not None and layout is not None and layout.joint is not None:
                        # Stored elements first: a run whose elements are all stored (or decode alone) needs no search
                        # for the array's end (a piece holding it is neither stored nor one value).
                        cut = buf.rfind(close, pos, limit)
                        if cut > pos:
                            run = buf[pos : cut + keep]
                            pieces = layout.pieces(run)
                            hashes = list(map(_xxh3, pieces, repeat(seed)))
                            known = sieve(pieces)
                            if known:
                                sifted = _sift(pieces, hashes, known)
                            self.fresh = known is not None and not known
                    if sifted is None and search:
                        # Stop at the array's end when we can see it, so orjson gets whole runs
                        # there too; a "end" found before any element end was a wrong guess.
                        # Searched for in the array's first run only (small arrays end there): a later run that
                        # holds the end is decoded by _batch's second decoder, once per array.
                        stop = buf.find(array_end, pos, limit)
                        if stop < 0 or (cut := buf.rfind(close, pos, stop)) < 0:
                            cut = buf.rfind(close, pos, limit)
                    elif pieces is None:
                        cut = buf.rfind(close, pos, limit)
            if span is not None:
                n, end = span[0], pos + span[1]
                stop = end - len(layout.end)
                joint = layout.joint
                at = buf.find(joint, pos, stop)
                first_piece = buf[pos:stop] if at < 0 else buf[pos:at]
                at = buf.rfind(joint, pos, stop)
                yield _SKIP, (n, first_piece, first_piece if at < 0 else buf[at + len(joint) : stop])
                i += n
            elif sifted is not None:
                self.nul = True  # the few decoded elements are checked one by one
                yield from sifted
                i += len(pieces)
                end = cut + keep
                if spans is not None:
                    yield _SPAN, (len(pieces), len(run), _xxh3(run, seed), pieces[0], pieces[-1], run)
            elif cut > pos:
                cut += keep
                if hashing and layout is not None and layout.joint is not None:
                    if pieces is None or len(run) != cut - pos:
                        run = buf[pos:cut]
                        pieces = layout.pieces(run)
                        hashes = list(map(_xxh3, pieces, repeat(seed)))
                else:
                    run = buf[pos:cut]
                got = batch(b"[" + run + b"]")
                if got is not None:
                    search = False
                    # Whether a value of the run may hold an escaped NUL (_messages checks each message only then).
                    self.nul = buf.find(b"\\u0000", pos, cut) >= 0
                    objs, used = got
                    ended = used < cut - pos + 2  # the array itself ended inside the run
                    if ended and hashes is not None:  # the elements' bytes are the run's up to the array's end
                        run = run[: used - 2].rstrip(b" \t\r\n")
                        if run.endswith(layout.end):
                            pieces = layout.pieces(run)
                            hashes = list(map(_xxh3, pieces, repeat(seed)))
                        else:
                            hashes = None
                    if not hashing:
                        yield from objs
                    elif hashes is not None and len(hashes) == len(objs):
                        yield from zip(objs, hashes)
                        if spans is not None:
                            yield _SPAN, (len(pieces), len(run), _xxh3(run, seed), pieces[0], pieces[-1], run)
                    else:  # the split did not match the decoded run: no layout hashes for it
                        yield from zip(objs, repeat(None))
                    i += len(objs)
                    if ended:
                        self.pos = pos + used - 1
                        return
                    end = cut
                else:
                    # Not the layout we guessed, or bad JSON: decode the next element alone.
                    # A repaired exporter bug explains the failure; anything else ends batching.
                    self.nul = True
                    repairs = self.repairs
                    self.pos = pos
                    start = self._base + pos
                    obj = self.value(f"{where}[{i}]", window)
                    if self.repairs == repairs:
                        close = None
                    buf, end = self.buf, self.pos
                    yield (obj, layout.hash(buf[start - self._base : end], seed)) if hashing else obj
                    i += 1
            else:
                self.pos = pos
                start = self._base + pos  # a file offset: value() may refill and move the buffer
                self.nul = True
                obj = self.value(f"{where}[{i}]", window)
                buf, end = self.buf, self.pos
                size = self._base + end - start
                window = max(1024, 2 * size)
                if learn:
                    learn = False
                    nl = buf.rfind(b"\n", end - size, end)
                    bracket = buf[end - 1 : end] in (b"}", b"]")
                    if bracket and nl >= 0 and not buf[nl + 1 : end - 1].strip(b" \t"):
                        close = buf[nl:end]  # pretty-printed (tdesktop): the closing line
                        keep = len(close)
                    elif bracket and nl < 0 and (m := sep(buf, end)) is not None and b"\n" in buf[end : m.end()]:
                        # one element per line: the closing bracket, the separator and the newline
                        close = buf[end - 1 : buf.index(b"\n", end) + 1]
                        keep = 1
                    if hashing and close is not None:
                        m = sep(buf, end)
                        layout = _Layout(close[:keep], buf[end - keep : m.end()] if m is not None else None)
                if hashing:
                    yield obj, None if layout is None else layout.hash(buf[start - self._base : end], seed)
                else:
                    yield obj
                i += 1
            m = sep(buf, end)
            if m is not None and m.end() < len(buf):
                pos = m.end()
                continue
            # end of the array, the buffer edge, or junk
            self.pos = end
            c = self.peek()
            if c == b",":
                self.pos += 1
                self.peek()
                buf, pos = self.buf, self.pos
            elif c == b"]":
                self.pos += 1
                return
            else:
                raise self._unexpected(c, "',' or ']'", f"{where}[{i}]")

    def skip(self, where: str) -> None:
        """Consume a value without keeping it; big arrays/objects one element at a time."""
        c = self.peek()
        if c == b"[":
            for _ in self.values(where):
                pass
        elif c == b"{":
            for key in self.members(where):
                self.value(f"{where}.{key}")
        else:
            self.value(where)


# --- the parser ---------------------------------------------------------------


def _make_filter(chat_filter: ChatFilter) -> Callable[[ChatRecord], bool] | None:
    if chat_filter is None or callable(chat_filter):
        return chat_filter
    wanted = frozenset(chat_filter)
    return lambda chat: chat.chat_id in wanted


def _content_hash(dumped: bytes, topic_id: int | None, seed: int) -> int:
    """The stored content hash of an exported message whose layout is not known (see ``_Layout`` for the usual
    one): its JSON text as orjson writes it and its topic, with the seed of the code that derives its row (see
    ``StoredMessages``); signed 64-bit, as stored. Media files' state is added by the writer."""
    if topic_id is not None:
        dumped += b"\x00topic:%d" % topic_id
    h = _xxh3(dumped, seed)
    return h - (_SIGNED << 1) if h >= _SIGNED else h


def _files_found(files: list[FileRecord]) -> bytes:
    """The state of a message's files that the export's text does not hold (present or missing on disk)."""
    return b",".join(f.status.encode() for f in files if f.status != "not_included")


def _plain_hash(m: Any, seed: int) -> int | None:
    """``_content_hash`` of a message outside a forum whose layout is not known; None beyond orjson."""
    try:
        return _content_hash(_dumps(m), None, seed)
    except orjson.JSONEncodeError:
        return None


def _date_of(m: dict | bytes) -> datetime | None:
    """The date of a message element already read once (an unchanged one; as a dict, or a ``_Layout`` piece), or
    None."""
    try:
        if type(m) is bytes:
            m = _loads(m + b"}")
        du = m.get("date_unixtime")
        if du is not None:
            return _from_ts(int(du), _UTC)
        date = _from_iso(m.get("date"))
        return date.replace(tzinfo=_UTC) if date.tzinfo is None else date
    except (TypeError, ValueError, AttributeError, OverflowError, OSError):
        return None


class _Parser:
    def __init__(self, path: str | os.PathLike, chat_filter: ChatFilter, account_id: int | None = None) -> None:
        self.path = os.fspath(path)
        self.source = str(path)
        self.base = os.path.dirname(os.path.abspath(self.path))
        self._base_prefix = os.path.join(self.base, "")
        self._real_base: str | None = None
        self.keep = _make_filter(chat_filter)
        self.owner_id: int | None = None
        # The account that saw the messages: the one named by the caller, else the export's owner.
        self.account_id = account_id
        # Per forum chat (None until its first topic message): message id -> topic, for messages outside General.
        # Exports write only reply_to_message_id, so a reply's topic is the topic of the message it answers.
        self._topics: dict[int, int] | None = None
        self.era: str | None = None  # last format era seen in this file
        self._peers: dict[Any, int] = {}  # from_id value -> marked id (few distinct values)
        # Resume points (lib/resume.py) among the records, read from the main stream only; message elements of the
        # chats read to the end so far.
        self.checkpoints = False
        self._main: _Stream | None = None
        self._done = 0
        # What is stored already (see StoredMessages): unchanged messages are counted, not built.
        self.stored: StoredMessages | None = None
        self._sieve_chat: int | None = None  # the chat whose messages are being read, for _sieve

    def error(self, where: str, problem: str) -> TelegramDataError:
        return TelegramDataError(self.source, where, problem)

    # structure
    def batches(self, resume: dict[str, Any] | None = None) -> Iterator[list[Record]]:
        """Records in small lists: one generator hop per batch instead of per record.

        ``resume``: a ``ResumePoint.position``: read on from there (the file is not read before it)."""
        with open(self.path, "rb") as f:
            if resume is None:
                rs = self._main = _Stream(f, self.source)
                c = rs.peek()
                if c != b"{":
                    raise self.error("$", "not a Telegram export: the top level is not a JSON object")
            else:
                f.seek(resume["offset"])
                rs = self._main = _Stream(f, self.source, offset=resume["offset"])
                self.era, self.owner_id, self.account_id = resume["era"], resume["owner_id"], resume["account_id"]
                self._done = resume["before"] - resume["index"]
            found = yield from self._object(rs, "$", False, resume)
            if not rs.at_end():
                raise self.error("$", f"invalid JSON at byte {rs.byte_offset()}: data after the top-level object")
        if not found:
            raise self.error("$", "not a Telegram export: no 'messages', 'chats' or 'personal_information'")

    def _object(self, rs: _Stream, path: str, is_left: bool,
                resume: dict[str, Any] | None = None) -> Iterator[list[Record]]:
        """A chat object, or the top level (which is a chat in single-chat exports).

        Returns (to ``yield from``) whether anything export-like was found. ``resume``: the cursor is inside this
        object's ``messages`` (or, at the top, inside ``chats``/``left_chats``) at that position.
        """
        top = path == "$"
        header: dict[str, Any] = {}
        deferred: tuple[int, str] | None = None
        found = has_messages = False
        keys = rs.members(path)
        if resume is not None:
            inner = resume["path"].split(".", 1)[0] if top else "messages"
            if inner == "messages":
                header = dict(resume["header"])
            keys = chain((inner,), rs.members(path, inside=True))
        for key in keys:
            kp = key if top else f"{path}.{key}"
            here, resume = resume, None
            if key == "messages":
                found = has_messages = True
                if "type" in header and "id" in header:
                    yield from self._messages(rs, kp, header, is_left, here)
                else:
                    # Key order other than tdesktop's (e.g. re-sorted JSON): the chat's id
                    # comes later, so come back for the messages once it is known.
                    deferred = (rs.byte_offset(), kp)
                    rs.skip(kp)
            elif key in ("name", "type", "id"):
                header[key] = rs.value(kp)
            elif top and key in ("chats", "left_chats"):
                found = True
                yield from self._chat_list(rs, key, here)
            elif top and key == "personal_information":
                found = True
                owner = self._owner(rs.value(kp))
                if owner is not None:
                    yield [owner]
            elif top and key in ("contacts", "frequent_contacts", "profile_pictures", "sessions"):
                self._sniff(rs, kp)
            else:
                rs.skip(kp)
        if deferred is not None:
            offset, kp = deferred
            with open(self.path, "rb") as f:
                f.seek(offset)
                yield from self._messages(_Stream(f, self.source, offset=offset), kp, header, is_left)
        elif not top and not has_messages:
            yield from self._messages(None, f"{path}.messages", header, is_left)
        return found

    def _chat_list(self, rs: _Stream, key: str, resume: dict[str, Any] | None = None) -> Iterator[list[Record]]:
        is_left = key == "left_chats"
        keys = rs.members(key) if resume is None else chain(("list",), rs.members(key, inside=True))
        for k in keys:
            if k != "list":
                rs.skip(f"{key}.{k}")
                continue
            start = None if resume is None else int(resume["path"].split("[", 1)[1].split("]", 1)[0])
            for i in rs.elements(f"{key}.list", start=start):
                p = f"{key}.list[{i}]"
                here, resume = resume, None
                if here is None and rs.peek() != b"{":
                    raise self.error(p, "a chat must be a JSON object")
                yield from self._object(rs, p, is_left, here)

    def _sniff(self, rs: _Stream, path: str) -> None:
        """Skip a side section, noting the format era: ``*_unixtime`` only exists in new exports."""
        c = rs.peek()
        if c == b"[":
            items = rs.values(path)
        elif c == b"{":
            items = (rs.value(f"{path}.{k}") for k in rs.members(path))
        else:
            rs.value(path)
            return
        for item in items:
            if self.era is None and isinstance(item, (dict, list)) and "_unixtime" in _dump(item):
                self.era = "new"

    def _owner(self, info: Any) -> OwnerRecord | None:
        if type(info) is not dict or type(info.get("user_id")) is not int or info["user_id"] <= 0:
            return None
        self.owner_id = info["user_id"]
        if self.account_id is None:
            self.account_id = self.owner_id
        first = _str_or_none(info.get("first_name"))
        last = _str_or_none(info.get("last_name"))
        username = _str_or_none(info.get("username"))
        if username is not None:
            username = username.lstrip("@") or None
        display = " ".join(p for p in (first, last) if p) or None
        return OwnerRecord(
            user_id=self.owner_id, display_name=display, first_name=first, last_name=last,
            username=username, bio=_str_or_none(info.get("bio")),
        )

    # chats
    def _chat(self, header: dict[str, Any], era: str | None, path: str, is_left: bool) -> ChatRecord:
        ctype = _chat_type(header.get("type"))
        raw = header.get("id")
        if ctype is None:
            raise self.error(f"{path}.type", f"chat type missing or not a string: {_show(header.get('type'))}")
        if type(raw) is not int:
            raise self.error(f"{path}.id", f"chat id missing or not an integer: {_show(raw)}")
        if raw < 0 and ctype in _USER_CHAT_TYPES and header.get("type") not in _CHAT_TYPES:
            ctype = "channel" if raw <= -CHANNEL_ID_OFFSET else "group"  # unknown type, marked group id
        if era is not None:
            self.era = era
        name = header.get("name")
        return ChatRecord(
            chat_id=self._chat_id(raw, ctype, era or self.era, path),
            type=ctype,
            title=name if type(name) is str else None,
            is_left=is_left,
        )

    def _chat_id(self, raw: int, ctype: str, era: str | None, path: str) -> int:
        if ctype in _USER_CHAT_TYPES:
            if ctype == "saved" and self.owner_id is not None:
                return self.owner_id
            if raw <= 0:
                raise self.error(f"{path}.id", f"user chat with a non-positive id {raw}")
            if era == "old" and _OLD_USER_SHIFT <= raw < _OLD_USER_SHIFT + _OLD_SPAN:
                return raw - _OLD_USER_SHIFT
            return raw
        if raw < 0:
            return raw  # already a marked id
        if raw >> _APP_PEER_SHIFT:
            bare = raw & _APP_PEER_MASK
        elif raw > CHANNEL_ID_OFFSET:
            return -raw  # "100…" marked channel id without its sign
        elif _OLD_CHAT_SHIFT <= raw < _OLD_CHAT_SHIFT + _OLD_SPAN:
            bare = raw - _OLD_CHAT_SHIFT
        else:
            bare = raw
        return mark_group_id(bare) if ctype == "group" else mark_channel_id(bare)

    # messages
    def _messages(self, rs: _Stream | None, path: str, header: dict, is_left: bool,
                  resume: dict[str, Any] | None = None) -> Iterator[list[Record]]:
        chat_path = path[: -len(".messages")] or "$"
        if rs is None:  # a chat object without messages still is a chat
            chat = self._chat(header, None, chat_path, is_left)
            if self.keep is None or self.keep(chat):
                yield [chat]
            return
        stored = self.stored
        # With a store: elements come with their layout hashes, and runs of stored ones are not even decoded.
        seed = stored.seed if stored is not None else None
        self._sieve_chat = None
        sieve = self._sieve if stored is not None else None
        spans = self._span_at if stored is not None else None
        if resume is None:
            if rs.peek() != b"[":
                raise self.error(path, "'messages' must be a JSON array")
            values = rs.values(path, seed=seed, sieve=sieve, spans=spans)
            first = next(values, _END)
            era = _message_era(first if seed is None or first is _END else first[0])
        else:
            values = rs.values(path, (resume["index"], resume["indent"].encode()), seed=seed, sieve=sieve,
                               spans=spans)
            first = next(values, _END)
            era = resume["era"]
        chat = self._chat(header, era, chat_path, is_left)
        if self.keep is not None and not self.keep(chat):
            for _ in values:  # read through: JSON has no index to skip by
                pass
            return
        if first is _END:
            yield [chat]
            return
        seen: set[int | None] = set()
        build = self._message
        out: list[Record] = [chat]
        append = out.append
        i = 0 if resume is None else resume["index"]
        self._topics = None
        # Resume points: one where the chat's messages start, then one per run of messages read; none inside a
        # forum once it has topics (their map is per chat: resuming there re-reads the chat).
        point = self._point if self.checkpoints and rs is self._main else None
        out_mark = -1
        if point:
            append(point(rs, path, header, is_left))
        unchanged = stored.unchanged if stored is not None else None
        skipped, first_skipped, last_skipped = 0, None, None
        # Whether every element of the run being read is stored with its layout hash (a StoredSpan of it can hold),
        # but for the state of its files on disk: those of its elements' files that are in the export, in order.
        plain = True
        run_files: list[bytes] = []
        chat_id = self._sieve_chat = chat.chat_id
        items = chain((first,), values) if seed is not None else zip(chain((first,), values), repeat(None))
        try:
            for m, h in items:
                if m is _SKIP:  # a stretch of stored elements, not decoded (see _Stream.values)
                    n, first_piece, last_piece = h
                    i += n
                    skipped += n
                    if first_skipped is None:
                        first_skipped = first_piece
                    last_skipped = last_piece
                elif m is _SPAN:
                    if plain and self._topics is None and \
                            (span := self._span(chat_id, h, seed, b",".join(run_files))) is not None:
                        append(span)
                    plain = True
                    run_files.clear()
                    continue
                elif (stored is not None and not rs.fresh and self._topics is None and type(m) is dict
                        and (type(action := m.get("action")) is not str or action not in _TOPIC_ACTIONS)
                        and type(mid := m.get("id")) is int
                        and (sh := _plain_hash(m, seed) if h is None else h - _UNSIGNED if h >= _SIGNED else h)
                        is not None and unchanged(chat_id, self.account_id, mid, sh)):
                    # Outside forums (a message's topic there depends on the messages before it), and not a
                    # topic's creation or edit (the parser learns the forum from it): stored as this code writes it.
                    i += 1
                    skipped += 1
                    if first_skipped is None:
                        first_skipped = m
                    last_skipped = m
                else:
                    rec = build(m, chat_id, path, i)
                    i += 1
                    if rec is None:
                        plain = False
                        continue
                    if rec.action in _TOPIC_ACTIONS:
                        out.extend(self._topic(rec, m, path, i - 1))
                    elif self._topics is not None:
                        self._place(rec)
                    if stored is not None:  # the stored hash, and raw as JSON text for the writer
                        try:
                            dumped = _dumps(m)
                        except orjson.JSONEncodeError:  # beyond orjson (huge ints): hashed by the writer
                            plain = False
                        else:
                            # raw_json holds no escaped NUL (the writer stores it as it is); the rare run that may
                            # have one is checked per message.
                            if not rs.nul or b"\\u0000" not in dumped:
                                rec.raw_json = dumped
                            if h is None:  # no known layout
                                rec.content_hash = _content_hash(dumped, rec.topic_id, seed)
                            else:
                                if rec.topic_id is not None:
                                    plain = False
                                    h = _xxh3(b"%d\x00topic:%d" % (h, rec.topic_id), seed)
                                rec.content_hash = h - _UNSIGNED if h >= _SIGNED else h
                            if rec.files and (found := _files_found(rec.files)):
                                # Whether its files are there is the one thing of a message not in its JSON text:
                                # in the hash too, and a message stored so is not written again.
                                run_files.append(found)
                                h = _xxh3(b"%d\x00files:%s" % (rec.content_hash, found), seed)
                                rec.content_hash = h - _UNSIGNED if h >= _SIGNED else h
                                if (not rs.fresh and self._topics is None and rec.action not in _TOPIC_ACTIONS
                                        and unchanged(chat_id, self.account_id, rec.message_id, rec.content_hash)):
                                    skipped += 1
                                    if first_skipped is None:
                                        first_skipped = m
                                    last_skipped = m
                                    continue
                    sid = rec.sender_id
                    if sid not in seen:  # None and channel ids go in too, so the common case is one lookup
                        seen.add(sid)
                        if sid is not None and sid > 0:
                            append(UserRecord(user_id=sid, display_name=rec.sender_name))
                    append(rec)
                    if len(out) >= _BATCH:
                        if point and self._topics is None and rs.mark[0] != out_mark:
                            out_mark = rs.mark[0]
                            append(point(rs, path, header, is_left))
                        yield out
                        out = []
                        append = out.append
                    continue
                if skipped >= _SKIPPED_RUN:
                    append(self._unchanged(chat_id, skipped, first_skipped, last_skipped))
                    skipped, first_skipped = 0, None
                    if point and rs.mark[0] != out_mark:
                        out_mark = rs.mark[0]
                        append(point(rs, path, header, is_left))
                    yield out
                    out = []
                    append = out.append
        except TelegramDataError:
            if skipped:
                append(self._unchanged(chat_id, skipped, first_skipped, last_skipped))
            if out:
                yield out  # what came before the bad spot still goes out
            raise
        if skipped:
            append(self._unchanged(chat_id, skipped, first_skipped, last_skipped))
        self._done += i
        if out:
            yield out

    def _sieve(self, pieces: list[bytes]) -> AbstractSet[int] | None:
        """The stored layout hashes around a run of the current chat's elements (``_Stream.values``); None where
        its elements must be decoded: inside a forum, ids not in order. A topic service message is never skipped:
        its stored hash includes its topic, so it is never a layout hash (and forums are not sieved)."""
        chat_id = self._sieve_chat
        if chat_id is None or self._topics is not None:
            return None
        lo, hi = _FIRST_ID(pieces[0]), _FIRST_ID(pieces[-1])
        if lo is None or hi is None or int(lo[1]) > int(hi[1]):
            return None
        return self.stored.stored_hashes(chat_id, self.account_id, int(lo[1]), int(hi[1]), len(pieces))

    def _span_at(self, buf: bytes, pos: int) -> tuple[int, int] | None:
        """(count, length) when the bytes at ``pos`` (a run's start) are a stored span of the current chat
        (``_Stream.values``); None where there is none, or runs are not skipped (see ``_sieve``)."""
        chat_id = self._sieve_chat
        if chat_id is None or self._topics is not None or (m := _FIRST_ID(buf, pos)) is None:
            return None
        found = self.stored.stored_spans(chat_id, self.account_id, int(m[1]))
        if found:
            seed, view, size = self.stored.seed, memoryview(buf), len(buf)
            for length, digest, count in found:
                if pos + length > size:
                    continue
                h = _xxh3(view[pos : pos + length], seed)
                if h == digest:
                    return count, length
                # A run with files: its digest holds their state on disk, which must be as it was.
                files = self._file_states(buf[pos : pos + length])
                if files and _xxh3(b"%d\x00files:%s" % (h, files), seed) == digest:
                    return count, length
        return None

    def _span(self, chat_id: int, run: tuple, seed: int, files: bytes) -> StoredSpan | None:
        """The ``StoredSpan`` of a run of stored-as-hashed elements (``_Stream.values``' ``_SPAN``), if its ids
        are in order. ``files``: the states of its elements' files, as their records have them (comma-joined):
        they go into its digest, found again in its bytes (``_file_states``) — a run where the two differ (a file
        key the parser does not read as one) gets no span."""
        count, length, digest, first_piece, last_piece, data = run
        lo, hi = _FIRST_ID(first_piece), _FIRST_ID(last_piece)
        if lo is None or hi is None or int(lo[1]) > int(hi[1]):
            return None
        if files:  # (a file value the parser did not take is not part of any row: no state to keep)
            if self._file_states(data) != files:
                return None
            digest = _xxh3(b"%d\x00files:%s" % (digest, files), seed)
        return StoredSpan(chat_id, self.account_id, int(lo[1]), int(hi[1]), count, length, digest, seed)

    def _file_states(self, data: bytes) -> bytes | None:
        """The states on disk (present, missing) of the files a run's bytes name (the values of ``_FILE_KEYS``
        that are not a "not included" note), comma-joined as ``_files_found`` joins them; None where a value is
        not a path the parser would take."""
        states = []
        for m in _FILE_VALUE.finditer(data):
            try:
                value = _loads(b'"%s"' % m[1])
            except ValueError:
                return None
            if not value or _not_included(value):
                continue
            try:
                present = self._on_disk(self._resolve(value, "", 0, None), value, "", 0, None)
            except TelegramDataError:  # the parser reports it when it reads the run
                return None
            states.append(b"present" if present else b"missing")
        return b",".join(states)

    @staticmethod
    def _unchanged(chat_id: int, count: int, first: dict | bytes, last: dict | bytes) -> UnchangedMessages:
        return UnchangedMessages(chat_id, count, _date_of(first), _date_of(last))

    def _point(self, rs: _Stream, path: str, header: dict, is_left: bool) -> ResumePoint:
        """Where reading can resume: every message record yielded so far lies before it (see ``_Stream.mark``)."""
        offset, index = rs.mark
        before = self._done + index
        return ResumePoint(offset, {
            "offset": offset, "path": path, "index": index, "indent": rs.indent.decode(), "before": before,
            "header": {k: header[k] for k in ("name", "type", "id") if k in header}, "is_left": is_left,
            "era": self.era, "owner_id": self.owner_id, "account_id": self.account_id,
        }, before)

    def _place(self, rec: MessageRecord) -> None:
        """The topic of a forum message: a reply's is its target's; anything else (or a reply to a message not
        in the export) is General's."""
        topics = self._topics
        r = rec.reply_to_message_id
        topic = topics.get(r, GENERAL_TOPIC_ID) if r is not None and rec.reply_to_peer_id is None else GENERAL_TOPIC_ID
        rec.topic_id = topic
        if topic != GENERAL_TOPIC_ID:
            topics[rec.message_id] = topic

    def _topic(self, rec: MessageRecord, m: dict, path: str, i: int) -> list[TopicRecord]:
        """A topic creation or edit: the topic's record(s); the service message itself gets its topic."""
        out = []
        if self._topics is None:
            self._topics = {}
            # General exists in every forum and has no creation message.
            out.append(TopicRecord(rec.chat_id, GENERAL_TOPIC_ID, title="General"))
        if rec.action == _TOPIC_CREATED:
            rec.topic_id = rec.message_id
            self._topics[rec.message_id] = rec.message_id
            title, icon = m.get("title"), m.get("icon_emoji_id")
        else:
            # An edit replies to its topic's creation message, which may be outside the export (a partial one).
            r = rec.reply_to_message_id
            rec.topic_id = self._topics.get(r, r) if r is not None and rec.reply_to_peer_id is None \
                else GENERAL_TOPIC_ID
            if rec.topic_id != GENERAL_TOPIC_ID:
                self._topics[rec.message_id] = rec.topic_id
            title, icon = m.get("new_title"), m.get("new_icon_emoji_id")
        if icon is not None and (type(icon) is not int or icon not in _INT64):
            raise self._bad(path, i, rec.message_id, f"bad topic icon_emoji_id {_show(icon)}")
        out.append(TopicRecord(
            rec.chat_id, rec.topic_id, title=title if type(title) is str and title else None, icon_emoji_id=icon,
            creator_id=rec.actor_id if rec.action == _TOPIC_CREATED else None, date=rec.date,
            edited=rec.action == _TOPIC_EDIT,
        ))
        return out

    def _bad(self, path: str, i: int, mid: Any, problem: str) -> TelegramDataError:
        return self.error(f"{path}[{i}] (message id {_show(mid)})", problem)

    def _peer(self, v: Any, path: str, i: int, mid: Any, key: str) -> int:
        try:
            pid = _peer_id(v)
        except (TypeError, ValueError):
            raise self._bad(path, i, mid, f"bad {key} {_show(v)}") from None
        if pid not in _INT64:
            raise self._bad(path, i, mid, f"bad {key} {_show(v)}: out of the 64-bit id range")
        if len(self._peers) < 100_000:
            self._peers[v] = pid
        return pid

    def _message(self, m: dict, chat_id: int, path: str, i: int) -> MessageRecord | None:
        # The hot path: plain lookups, no helper calls unless the message has something extra.
        try:
            mid = m["id"]
            get = m.get
        except (KeyError, TypeError, AttributeError):
            if type(m) is dict:
                raise self._bad(path, i, None, "message without an id") from None
            raise self.error(f"{path}[{i}]", f"a message must be a JSON object, not {type(m).__name__}") from None
        if type(mid) is not int or mid not in _INT64:
            raise self._bad(path, i, mid, "message id is not a 64-bit integer")
        mtype = get("type")
        if mtype == "service":
            kind, fid, name = "service", get("actor_id"), get("actor")
        elif mtype == "unsupported":
            return None  # tdesktop writes only {id, type} for media it cannot export
        else:
            kind, fid, name = "message", get("from_id"), get("from")
        du = get("date_unixtime")
        try:
            if du is not None:
                date = _from_ts(int(du), _UTC)
            else:
                date = _from_iso(get("date"))
                if date.tzinfo is None:
                    date = date.replace(tzinfo=_UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            raise self._bad(path, i, mid, f"bad date {_show(get('date_unixtime', get('date')))}") from None
        if fid is None:
            sender = None
        else:
            try:
                sender = self._peers[fid]
            except (KeyError, TypeError):  # first sight of this value (or unhashable junk)
                sender = self._peer(fid, path, i, mid, "actor_id" if kind == "service" else "from_id")
        if name is not None and type(name) is not str:
            # A number as a name is kept as its text; anything else stays in raw only.
            name = str(name) if type(name) is float or (type(name) is int and name in _INT64) else None
        text = get("text", "")
        te = get("text_entities")
        if type(text) is str and (not te or (type(te) is list and len(te) == 1)):
            # tdesktop writes a plain string only for unformatted text: one plain part.
            entities = None
        else:
            text, entities = self._text(text, te, path, i, mid)
        if kind == "service":
            action = get("action")
            rec = MessageRecord(
                chat_id, mid, date, kind, sender, name, text, entities,
                action=action if type(action) is str else None, actor_id=sender, raw=m, account_id=self.account_id,
            )
        else:
            rec = MessageRecord(chat_id, mid, date, kind, sender, name, text, entities, raw=m,
                                account_id=self.account_id)
        if not _EXTRA_KEYS.isdisjoint(m):
            self._extras(rec, m, _EXTRA_KEYS.intersection(m), path, i, mid)
        return rec

    def _text(self, text: Any, te: Any, path: str, i: int, mid: int) -> tuple[str, list | None]:
        """Text and entities when ``text`` is not a plain string (or carries several parts)."""
        if text is None:
            return "", None
        try:
            if type(text) is list:
                # The list form has everything text_entities has (plain parts are strings).
                return _parts(text)
            if type(text) is str and type(te) is list:
                return text, _parts(te)[1]
        except ValueError as e:
            raise self._bad(path, i, mid, str(e)) from None
        raise self._bad(path, i, mid, f"bad text {_show(text)} / text_entities {_show(te)}")

    def _extras(self, rec: MessageRecord, m: dict, keys: frozenset, path: str, i: int, mid: int) -> None:
        """Fill the optional fields; ``keys`` are the _EXTRA_KEYS present in ``m``."""
        get = m.get
        if "edited_unixtime" in keys or "edited" in keys:
            try:
                eu = get("edited_unixtime")
                if eu is not None:
                    ts = int(eu)
                    rec.edit_date = _from_ts(ts, _UTC) if ts > 0 else None
                else:
                    ed = get("edited")
                    # Old exports write "1970-01-01T…" (local time, so maybe 1969) for "not edited".
                    if ed is not None and ed[:4] >= "2000":
                        d = _from_iso(ed)
                        rec.edit_date = d.replace(tzinfo=_UTC) if d.tzinfo is None else d
            except (TypeError, ValueError, OverflowError, OSError):
                raise self._bad(path, i, mid, f"bad edit date {_show(get('edited_unixtime', get('edited')))}") from None
        if not keys.isdisjoint(_REPLY_KEYS):
            reply = get("reply_to_message_id")
            if reply is None and rec.kind == "service":
                # pin / game score / payment / wallpaper service messages point at a message;
                # Telethon exposes that as reply_to, so we do the same.
                reply = get("message_id", get("game_message_id", get("invoice_message_id")))
            if reply is not None:
                if type(reply) is not int or reply not in _INT64:
                    raise self._bad(path, i, mid, f"bad reply_to_message_id {_show(reply)}")
                rec.reply_to_message_id = reply
        if "reply_to_peer_id" in keys:
            rec.reply_to_peer_id = self._opt_peer(m, "reply_to_peer_id", path, i, mid)
        if "forwarded_from_id" in keys:
            rec.forwarded_from_id = self._opt_peer(m, "forwarded_from_id", path, i, mid)
        if "forwarded_from" in keys:
            v = m["forwarded_from"]
            # null = forwarded from a hidden/deleted sender: "" keeps "this is a forward".
            rec.forwarded_from = v if type(v) is str else ""
        if "saved_from" in keys and type(m["saved_from"]) is str:
            rec.saved_from = m["saved_from"]
        if "via_bot" in keys and type(m["via_bot"]) is str:
            rec.via_bot = m["via_bot"]
        if "reactions" in keys and type(m["reactions"]) is list:
            rec.reactions = m["reactions"]
        if "inline_bot_buttons" in keys and type(m["inline_bot_buttons"]) is list:
            rec.inline_buttons = m["inline_bot_buttons"]
        if "media_group_id" in keys or "grouped_id" in keys:
            v = get("media_group_id", get("grouped_id"))
            if v is not None:
                try:
                    rec.grouped_id = int(v)
                except (TypeError, ValueError):
                    raise self._bad(path, i, mid, f"bad grouped id {_show(v)}") from None
                if rec.grouped_id not in _INT64:
                    raise self._bad(path, i, mid, f"bad grouped id {_show(v)}: out of the 64-bit range")
        if "mime_type" in keys and type(m["mime_type"]) is str:
            rec.mime_type = m["mime_type"]
        if "duration_seconds" in keys:
            rec.duration_seconds = d = _int_or_none(m["duration_seconds"])
            if d is not None and d not in _INT32:
                raise self._bad(path, i, mid, f"bad duration_seconds {_show(d)}: out of range")
        if keys.isdisjoint(_MEDIA_ANY):
            return
        if rec.kind == "message":
            mt = get("media_type")
            if mt is not None:
                rec.media_type = _MEDIA_TYPES.get(mt, "other") if type(mt) is str else "other"
            else:
                for key, kind in _MEDIA_KEYS:
                    if get(key) is not None:
                        rec.media_type = kind
                        break
        for key, kind, size_key in _FILE_KEYS:
            v = get(key)
            if v:
                if type(v) is not str:
                    raise self._bad(path, i, mid, f"bad {key} path {_show(v)}")
                rec.files.append(self._file(v, kind, m, size_key, path, i, mid))

    def _opt_peer(self, m: dict, key: str, path: str, i: int, mid: int) -> int | None:
        v = m[key]
        if v is None:
            return None
        try:
            return self._peers[v]
        except (KeyError, TypeError):
            return self._peer(v, path, i, mid, key)

    def _file(self, value: str, kind: str, m: dict, size_key: str, path: str, i: int, mid: int) -> FileRecord:
        get = m.get
        rec = FileRecord(kind=kind, status="not_included", size=_int_or_none(get(size_key)))
        if kind != "thumbnail":
            rec.width = _int_or_none(get("width"))
            rec.height = _int_or_none(get("height"))
        if kind == "file":
            name = get("file_name")
            rec.file_name = name if type(name) is str else None
            mime = get("mime_type")
            rec.mime_type = mime if type(mime) is str else None
            rec.duration_seconds = _int_or_none(get("duration_seconds"))
        for field, v, valid in (("size", rec.size, _INT64), ("width", rec.width, _INT32),
                                ("height", rec.height, _INT32), ("duration_seconds", rec.duration_seconds, _INT32)):
            if v is not None and v not in valid:
                raise self._bad(path, i, mid, f"bad {field} {_show(v)} of the {kind}: out of range")
        if _not_included(value):
            return rec
        full = self._resolve(value, path, i, mid)
        if rec.file_name is None:
            rec.file_name = os.path.basename(full)
        if self._on_disk(full, value, path, i, mid):
            rec.status = "present"
            rec.source_path = full
        else:
            rec.status = "missing"
        return rec

    def _on_disk(self, full: str, value: str, path: str, i: int, mid: int | None) -> bool:
        """Whether a media file named by the export (resolved by ``_resolve``) is there; one that is there only
        through a symlink leading outside the export directory is an error."""
        if not os.path.isfile(full):
            return False
        if self._real_base is None:
            self._real_base = os.path.join(os.path.realpath(self.base), "")
        if not os.path.realpath(full).startswith(self._real_base):
            raise self._bad(path, i, mid, f"media path {_show(value)} leads outside the export directory (symlink)")
        return True

    def _resolve(self, rel: str, path: str, i: int, mid: int) -> str:
        """Absolute path of a media file named by the export; it must stay inside the export dir."""
        if "\x00" in rel:
            raise self._bad(path, i, mid, f"bad media path {_show(rel)}")
        full = os.path.normpath(os.path.join(self.base, rel))
        if not full.startswith(self._base_prefix):
            raise self._bad(path, i, mid, f"media path {_show(rel)} leads outside the export directory")
        return full


def iter_export(path: str | os.PathLike, *, chat_filter: ChatFilter = None,
                account_id: int | None = None, checkpoints: bool = False,
                resume: dict[str, Any] | None = None, stored: StoredMessages | None = None) -> Iterator[Record]:
    """Stream normalized records from a Telegram Desktop ``result.json``.

    ``chat_filter``: ``None`` (all chats), a callable taking the ``ChatRecord`` and
    returning whether to keep the chat, or a collection of marked chat ids. Skipped
    chats are still read through (JSON has no index) but produce no records.

    ``account_id``: the user's own account the export was made with (its user id), for exports that do not say
    (single-chat ones); a full-account export's ``personal_information`` names it otherwise. Every message
    records it (``MessageRecord.account_id``).

    Forum topics: ``topic_created``/``topic_edit`` service messages yield a ``TopicRecord`` (General's comes with
    the chat's first one), and each message after the first topic gets its ``topic_id``; messages before it are
    given General by the writer once it knows the chat is a forum.

    ``checkpoints``: yield a ``ResumePoint`` (lib/resume.py) now and then among the records; ``resume``: the
    ``position`` of one such point: read on from there without reading the file before it (same file, same
    ``chat_filter``).

    ``stored``: what the store holds (``StoredMessages``): each message is hashed as it was read (the bytes of its
    element, see ``_Layout``), and one stored with that hash outside a forum is counted in an ``UnchangedMessages``
    record instead of being built — a run of them is not even decoded (``_Stream.values``); the others carry
    their hash (``MessageRecord.content_hash``).

    Raises ``TelegramDataError`` for bad input; records before the bad spot have
    already been yielded.
    """
    parser = _Parser(path, chat_filter, account_id)
    parser.checkpoints = checkpoints
    parser.stored = stored
    return chain.from_iterable(parser.batches(resume))


def detect_export_kind(path: str | os.PathLike) -> str:
    """``"single_chat"`` or ``"full_account"``; ``TelegramDataError`` if not a Telegram export.

    Reads only as far as the first ``chats``/``left_chats``/``messages`` key (right at
    the start in Telegram Desktop's output).
    """
    source = str(path)
    with open(path, "rb") as f:
        rs = _Stream(f, source, chunk=1 << 16)
        if rs.peek() != b"{":
            raise TelegramDataError(source, "$", "not a Telegram export: the top level is not a JSON object")
        personal = False
        for key in rs.members("$"):
            if key in ("chats", "left_chats"):
                return FULL_ACCOUNT
            if key == "messages":
                return SINGLE_CHAT
            personal = personal or key == "personal_information"
            rs.skip(key)
    if personal:  # an account export with no chats selected
        return FULL_ACCOUNT
    raise TelegramDataError(source, "$", "not a Telegram export: no 'messages', 'chats' or 'personal_information'")
