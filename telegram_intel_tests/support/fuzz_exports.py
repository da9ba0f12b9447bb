"""Property-based fuzzing of the export import (hypothesis), shared by the test suite and ``bench/fuzz_import.py``.

A case is a real fixture export, mutated the ways bad input has broken the import: a value of the wrong type
(``media_type`` holding a list), NUL characters in names, values nested hundreds or thousands of levels deep, unknown
fields, over-long strings, huge integers, lone surrogates, a message id twice, a single-chat layout, and cut or
corrupted bytes. ``import_case`` imports it into the real database; the contract is that every case ends in an
import or in a ``TelegramDataError`` naming the file and where in it, never in another exception.

The committed-data check: ``BASELINE`` fixtures are imported first; the fuzzed ones (``FUZZED``) have other chat
ids, so whatever a case does, the baseline chats' rows (chat, messages, files, history) must stay exactly as they
were. Users are shared between the exports (the same owner and people), so their rows may take names a case wrote.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path

import sqlalchemy as sa
from hypothesis import strategies as st

from telegram_intel.lib.records import TelegramDataError
from telegram_intel.pipeline.ingest import import_export

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram-desktop-exports"
BASELINE = ("telegram_2020-01.result.json", "telegram_2021-06_supergroup.result.json")
FUZZED = (
    "telegram_2023-01.result.json",
    "telegram_2023-10_audio-video.result.json",
    "telegram_2024-01_inline-bot-buttons.result.json",
    "telegram_2024-05_boosts_file-name_etc.result.json",
    "telegram_2025-12.result.json",
)
# Keys the parser reads (where a wrong type can hurt), plus one it does not. Hypothesis favours the first element
# of sampled_from: the lists lead with keys whose bad value need not end the import.
MESSAGE_KEYS = (
    "unknown_field", "media_type", "id", "type", "date", "date_unixtime", "edited", "edited_unixtime", "from", "from_id", "actor", "actor_id",
    "text", "text_entities", "media_type", "photo", "file", "file_name", "thumbnail", "mime_type", "width", "height",
    "duration_seconds", "forwarded_from", "forwarded_from_id", "saved_from", "via_bot", "reply_to_message_id",
    "reply_to_peer_id", "reactions", "inline_bot_buttons", "media_group_id", "action", "poll", "sticker_emoji",
    "contact_information", "location_information",
)
CHAT_KEYS = ("unknown_field", "name", "type", "id", "messages")
TOP_KEYS = ("unknown_field", "personal_information", "chats", "left_chats", "contacts", "frequent_contacts")
OWNER_KEYS = ("user_id", "first_name", "last_name", "username", "bio")
TEXT_KEYS = ("from", "actor", "forwarded_from", "via_bot", "saved_from", "file_name", "mime_type", "action", "text",
             "media_type", "sticker_emoji")
DEPTHS = (200, 254, 255, 256, 300, 600, 990, 1000, 1023, 1024, 1025, 2000, 5000)


@functools.cache
def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def nested(depth: int, container: str, leaf: bytes = b"1") -> bytes:
    """The JSON text of a value ``depth`` levels deep (json.dumps itself recurses once per level)."""
    if container == "list":
        return b"[" * depth + leaf + b"]" * depth
    return b'{"k":' * depth + leaf + b"}" * depth


_DEEP = re.compile(rb'"@deep@(\d+)@(list|dict)@(\w+)@"')
_LEAVES = {b"int": b"1", b"str": b'"s"', b"null": b"null", b"obj": b"{}"}


# Literals json.dumps cannot write: put in place of these strings after serializing.
LITERALS = {'"@bigint@"': b"9" * 5000, '"@nan@"': b"NaN", '"@inf@"': b"-Infinity", '"@surrogate@"': b'"\\udc00x"'}
scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**80), max_value=2**80)
           | st.sampled_from([2**63, -(2**63) - 1, 2**31, 2**200, *(k.strip('"') for k in LITERALS)])
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(
    scalars, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
    max_leaves=8,
)
texts_with_nul = st.tuples(st.text(max_size=10), st.text(max_size=10)).map(lambda ab: ab[0] + "\x00" + ab[1])
odd_texts = (texts_with_nul | st.text(min_size=100, max_size=400) | st.just("\ud800 lone surrogate")
             | st.just("x" * 70_000))
# Stands for a deep value in the document; replaced by its text after serializing (see nested).
deep_values = st.builds("@deep@{}@{}@{}@".format, st.sampled_from(DEPTHS), st.sampled_from(["list", "dict"]),
                        st.sampled_from(["int", "str", "null", "obj"]))


def _messages(doc: dict) -> list[dict]:
    if "messages" in doc and isinstance(doc["messages"], list):
        return [m for m in doc["messages"] if isinstance(m, dict)]
    chats = doc.get("chats", {}).get("list", []) if isinstance(doc.get("chats"), dict) else []
    return [m for c in chats if isinstance(c, dict) and isinstance(c.get("messages"), list)
            for m in c["messages"] if isinstance(m, dict)]


def _chats(doc: dict) -> list[dict]:
    if "messages" in doc:
        return [doc]
    chats = doc.get("chats", {}).get("list", []) if isinstance(doc.get("chats"), dict) else []
    return [c for c in chats if isinstance(c, dict)]


@st.composite
def mutated_exports(draw) -> tuple[str, bytes]:
    """(what was done, the bytes of a ``result.json``)."""
    name = draw(st.sampled_from(FUZZED))
    doc = copy.deepcopy(_fixture(name))
    done = [name]
    if draw(st.integers(0, 5)) == 0:  # the single-chat layout: one chat object is the whole file
        doc = copy.deepcopy(draw(st.sampled_from(_chats(doc))))
        done.append("single-chat")
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(("message", "message", "message", "nul", "deep", "chat", "top", "owner",
                                   "delete", "duplicate", "entity")))
        messages, chats = _messages(doc), _chats(doc)
        if op in ("message", "nul", "deep", "delete", "duplicate", "entity") and not messages:
            op = "chat"
        if op == "chat" and not chats:
            op = "top"
        if op == "message":
            key = draw(st.sampled_from(MESSAGE_KEYS))
            draw(st.sampled_from(messages))[key] = draw(json_values | odd_texts | deep_values)
        elif op == "nul":
            key = draw(st.sampled_from(TEXT_KEYS))
            draw(st.sampled_from(messages))[key] = draw(texts_with_nul)
        elif op == "deep":
            key = draw(st.sampled_from(MESSAGE_KEYS))
            draw(st.sampled_from(messages))[key] = draw(deep_values)
        elif op == "chat":
            key = draw(st.sampled_from(CHAT_KEYS))
            draw(st.sampled_from(chats))[key] = draw(json_values | texts_with_nul | deep_values)
        elif op == "top":
            doc[draw(st.sampled_from(TOP_KEYS))] = draw(json_values | deep_values)
        elif op == "owner":
            info = doc.get("personal_information")
            if isinstance(info, dict):
                info[draw(st.sampled_from(OWNER_KEYS))] = draw(json_values | odd_texts)
        elif op == "delete":
            m = draw(st.sampled_from(messages))
            m.pop(draw(st.sampled_from(sorted(m))), None)
        elif op == "duplicate":  # the same key twice, the second copy changed (a later batch re-writes it)
            chat = draw(st.sampled_from([c for c in chats if isinstance(c.get("messages"), list)] or chats))
            if isinstance(chat.get("messages"), list) and chat["messages"]:
                twin = copy.deepcopy(draw(st.sampled_from(chat["messages"])))
                if isinstance(twin, dict):
                    twin[draw(st.sampled_from(MESSAGE_KEYS))] = draw(json_values | odd_texts)
                chat["messages"].append(twin)
        elif op == "entity":
            m = draw(st.sampled_from(messages))
            m["text"] = draw(st.lists(st.text(max_size=5) | st.fixed_dictionaries(
                {"type": st.sampled_from(["plain", "bold", "link"]) | json_values, "text": st.text(max_size=5) | json_values}
            ) | json_values, max_size=4))
        done.append(op)
    indent = draw(st.sampled_from([1, None]))  # tdesktop's layout, or one line
    data = json.dumps(doc, indent=indent, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    for literal, raw in LITERALS.items():
        data = data.replace(literal.encode(), raw)
    data = _DEEP.sub(lambda m: nested(int(m[1]), m[2].decode(), _LEAVES[m[3]]), data)
    if draw(st.integers(0, 7)) == 0:
        cut = draw(st.sampled_from(("truncate", "flip", "insert", "drop")))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if cut == "truncate":
            data = data[:at]
        elif cut == "flip":
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
        elif cut == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        else:
            data = data[:at] + data[at + draw(st.integers(1, 64)):]
        done.append(f"bytes:{cut}@{at}")
    return " ".join(done), data


def import_case(engine, storage_dir: Path, path: Path) -> str:
    """``"imported"`` or ``"rejected"`` (a ``TelegramDataError`` naming the file and where); any other exception
    propagates: that is a crash."""
    try:
        import_export(engine, path, storage_dir)
    except TelegramDataError as exc:
        assert exc.source == str(path.resolve()), f"the error names another input: {exc}"
        assert exc.where and exc.problem, f"the error says neither where nor what: {exc}"
        return "rejected"
    return "imported"


def import_baseline(engine, storage_dir: Path) -> list[int]:
    """Import the baseline fixtures; their chat ids."""
    for name in BASELINE:
        import_export(engine, FIXTURES / name, storage_dir)
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT chat_id FROM telegram_chats ORDER BY 1")).scalars().all()


def baseline_rows(engine, chats: list[int]) -> dict[str, list]:
    """Every stored row of the baseline chats (compare before and after fuzzing)."""
    queries = {
        "telegram_chats": "SELECT * FROM telegram_chats WHERE chat_id = ANY(:c) ORDER BY chat_id",
        "telegram_messages": "SELECT *, raw::text AS raw_text FROM telegram_messages WHERE chat_id = ANY(:c) "
                             "ORDER BY chat_id, message_id",
        "telegram_files": "SELECT * FROM telegram_files WHERE chat_id = ANY(:c) ORDER BY chat_id, message_id, kind",
        "telegram_message_edits": "SELECT * FROM telegram_message_edits WHERE chat_id = ANY(:c) ORDER BY id",
    }
    with engine.connect() as conn:
        return {table: [tuple(r) for r in conn.execute(sa.text(sql), {"c": chats})] for table, sql in queries.items()}
