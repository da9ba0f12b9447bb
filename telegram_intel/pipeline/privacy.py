"""Privacy a user can operate: find a person, opt them out (or back in), or erase them everywhere.

* ``resolve_users(engine, query)`` — people matching an id, an ``@username`` or part of a name.
* ``set_ignored(engine, user_id, True)`` — opt-out: ``telegram_users.is_ignored`` is set and everything derived from
  the person's messages goes now, in one transaction (clean corpus rows and what was made from them, the summaries
  and intent labels of *other people's* replies that used their text as reply context, profiles, graph, activity,
  transcripts); SFT datasets that hold their words are rebuilt and adapters trained on them are marked stale (their
  files deleted; the retrain sensor trains a replacement). ``False`` opts them back in: the next enrichment run
  over their dates recomputes their rows.
* ``forget_user(engine, user_id)`` — erasure: the person's raw messages (sent by them, forwarded from them, the
  private chat with them), edit history, files rows and the media files on disk no other message uses, every
  derived row, their user row; datasets rebuilt, adapters stale. Their id (only the id) stays in ``erased_users``:
  imports drop anything of that id from then on (``db.loader``), and the Dagster sensor
  ``erased_people_run_records_sensor`` deletes the runs whose records name it.

Nothing here returns or logs message text.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from telegram_intel.config import load_settings
from telegram_intel.lib.erasure import scrub_erased
from telegram_intel.lib.sft import SftConfig, SplitRecords, Watermark, build_examples, write_dataset
from telegram_intel.pipeline import corpus, graph, preferences, profiles, training, voice
from telegram_intel.pipeline.decisions import engine as decision_engine

__all__ = [
    "ForgetReport",
    "TrainingScrub",
    "UnknownUser",
    "UserMatch",
    "erased_awaiting_run_record_scrub",
    "forget_user",
    "is_erased",
    "mark_run_records_scrubbed",
    "resolve_users",
    "scrub_training_data",
    "set_ignored",
]

log = logging.getLogger(__name__)


class UnknownUser(LookupError):
    """No such person in ``telegram_users`` (nor any message of theirs)."""


@dataclass(frozen=True)
class UserMatch:
    user_id: int
    username: str | None
    display_name: str | None
    message_count: int
    is_ignored: bool

    def describe(self) -> str:
        """One line for prompts and lists: name, @username, id, messages, opt-out state (never message text)."""
        parts = [self.display_name or "(no name)"]
        if self.username:
            parts.append(f"@{self.username}")
        parts.append(f"id {self.user_id}")
        parts.append(f"{self.message_count} messages")
        if self.is_ignored:
            parts.append("opted out")
        return " · ".join(parts)


# ---------------------------------------------------------------------------------------------------------------
# Finding people

_MATCH_COLUMNS = """
    SELECT u.user_id, u.username, COALESCE(u.display_name, NULLIF(concat_ws(' ', u.first_name, u.last_name), ''))
           AS display_name,
           (SELECT count(*) FROM telegram_messages m WHERE m.sender_id = u.user_id) AS message_count, u.is_ignored
    FROM telegram_users u
"""


def resolve_users(engine: Engine, query: str) -> list[UserMatch]:
    """People matching ``query``: a numeric id (exact), ``@username`` (exact, any case), else a username or a
    case-insensitive part of the display / first + last name. Exact matches come first, then the most active.

    An id with messages but no ``telegram_users`` row (a sender only seen in messages) still matches, by the name
    its messages carry."""
    q = " ".join((query or "").split())
    if not q:
        return []
    with engine.connect() as conn:
        if re.fullmatch(r"-?\d+", q):
            uid = int(q)
            rows = conn.execute(sa.text(_MATCH_COLUMNS + " WHERE u.user_id = :u"), {"u": uid}).all()
            if not rows:
                rows = conn.execute(sa.text(
                    "SELECT :u AS user_id, NULL AS username, max(sender_name) AS display_name, count(*) "
                    "AS message_count, false AS is_ignored FROM telegram_messages WHERE sender_id = :u "
                    "HAVING count(*) > 0"), {"u": uid}).all()
            return [UserMatch(*r) for r in rows]
        if q.startswith("@"):
            rows = conn.execute(sa.text(_MATCH_COLUMNS + " WHERE lower(u.username) = lower(:n)"),
                                {"n": q[1:]}).all()
            return [UserMatch(*r) for r in rows]
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = conn.execute(sa.text(
            _MATCH_COLUMNS + """
            WHERE lower(u.username) = lower(:q) OR u.display_name ILIKE :like
               OR concat_ws(' ', u.first_name, u.last_name) ILIKE :like
            ORDER BY (lower(u.username) = lower(:q) OR lower(u.display_name) = lower(:q)) DESC,
                     message_count DESC, u.user_id
            """), {"q": q, "like": like}).all()
    return [UserMatch(*r) for r in rows]


def is_erased(engine: Engine, user_id: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT 1 FROM erased_users WHERE user_id = :u"), {"u": user_id}).first() is not None


# ---------------------------------------------------------------------------------------------------------------
# Opt-out


def set_ignored(engine: Engine, user_id: int, ignored: bool) -> None:
    """Opt ``user_id`` out (``ignored=True``) or back in. Opting out removes now every row derived from their
    messages — including other people's reply summaries / intent labels that used their text as context — and
    rebuilds the SFT datasets that hold their words (adapters trained on them become stale). Opting back in only
    clears the flag: the next enrichment run over their dates recomputes their rows."""
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": corpus.CORPUS_LOCK})
        found = conn.execute(sa.text(
            "UPDATE telegram_users SET is_ignored = :v, updated_at = now() WHERE user_id = :u RETURNING user_id"),
            {"u": user_id, "v": bool(ignored)}).first()
        if found is None:
            raise UnknownUser(f"no user {user_id} in telegram_users")
        if not ignored:
            return
        keys = _message_keys(conn, user_id, sent_only=True)
        _purge_ignored(conn)
    scrub_training_data(engine, keys, reason="opt-out")
    # their 👍/👎 given to the persona bot: the preference datasets and adapters made from it go too
    preferences.scrub_preference_data(engine, load_settings().storage_dir, [user_id], reason="opt-out")


def _purge_ignored(conn: Connection) -> dict[str, int]:
    """Every purge the enrichment assets run for opted-out users, at once (they are idempotent)."""
    stats = corpus.CleanStats()
    counts = {"clean_messages": corpus.purge_ignored_users(conn, stats)}
    counts.update(stats.derived_purged)
    counts.update(profiles.purge_ignored(conn))
    for table, n in graph.purge_ignored_people(conn).items():
        counts[table] = counts.get(table, 0) + n
    counts.update(voice.purge_opted_out(conn))
    counts.update(decision_engine.purge_opted_out(conn))
    return counts


def _message_keys(conn: Connection, user_id: int, *, sent_only: bool) -> set[tuple[int, int]]:
    """(chat_id, message_id) of the person's messages: sent by them; unless ``sent_only``, also forwarded from
    them and every message of the private chat with them."""
    where = "sender_id = :u" if sent_only else "sender_id = :u OR forwarded_from_id = :u OR chat_id = :u"
    return {(c, m) for c, m in conn.execute(sa.text(
        f"SELECT chat_id, message_id FROM telegram_messages WHERE {where}"), {"u": user_id})}


# ---------------------------------------------------------------------------------------------------------------
# Training data: datasets that hold someone's words are rebuilt, adapters trained on them go stale


@dataclass
class TrainingScrub:
    datasets_rebuilt: list[str] = field(default_factory=list)
    examples_removed: int = 0
    adapters_stale: list[int] = field(default_factory=list)
    evaluations_removed: int = 0
    files_removed: int = 0


def _sft_config(config: dict[str, Any]) -> SftConfig:
    known = set(SftConfig.__dataclass_fields__)
    values = {k: v for k, v in (config or {}).items() if k in known}
    if "splits" in values:
        values["splits"] = tuple(values["splits"])
    return SftConfig(**values)


def _records_touch(folder: Path, keys: set[tuple[int, int]]) -> bool:
    if not folder.is_dir():
        return False
    records = SplitRecords.load(folder)
    for split in records.as_dict().values():
        for record in split:
            if any(pair in keys for pair in training.record_message_ids(record)):
                return True
    return False


def _inside(path: Path, root: Path | None) -> bool:
    if root is None:
        return True
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _remove_tree(path: Path, root: Path | None) -> int:
    """Delete ``path`` (file or folder) when it lies under ``root``; the number of files removed."""
    if not path.exists() or not _inside(path, root):
        return 0
    if path.is_file():
        path.unlink()
        return 1
    n = sum(1 for p in path.rglob("*") if p.is_file())
    shutil.rmtree(path)
    return n


def scrub_training_data(engine: Engine, keys: set[tuple[int, int]], *, reason: str,
                        data_root: Path | None = None) -> TrainingScrub:
    """Rebuild every SFT dataset whose examples (reply or context) include a message of ``keys`` from what
    ``clean_messages`` holds now (same folder, settings and watermark), and mark the adapters trained on it stale:
    their files are deleted (they learned from those words) along with their evaluations (which hold generations).
    Call it after the rows are gone from ``clean_messages``."""
    out = TrainingScrub()
    if not keys:
        return out
    with engine.connect() as conn:
        datasets = [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT version, owner_ids, watermark_date, watermark_chat_id, watermark_message_id, path, config, "
            "examples FROM sft_datasets ORDER BY created_at"))]
    for ds in datasets:
        folder = Path(ds["path"])
        if not _records_touch(folder, keys):
            continue
        until = (Watermark(ds["watermark_date"], ds["watermark_chat_id"], ds["watermark_message_id"])
                 if ds["watermark_date"] is not None else None)
        with engine.connect() as conn:
            messages = training.load_clean_messages(conn, until)
        examples = build_examples(messages, list(ds["owner_ids"]), _sft_config(ds["config"]))
        manifest_path = folder / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
        manifest.pop("files", None)
        manifest.update(rebuilt_at=datetime.now(timezone.utc).isoformat(), rebuilt_because=reason)
        stats = write_dataset(folder, examples, manifest=manifest)
        from psycopg.types.json import Jsonb

        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE sft_datasets SET stats = :s, examples = :n WHERE version = :v"),
                         {"s": Jsonb(stats), "n": stats["examples"], "v": ds["version"]})
            adapters = conn.execute(sa.text(
                "UPDATE persona_adapters SET stale_at = COALESCE(stale_at, now()), stale_reason = COALESCE("
                "stale_reason, :r) WHERE dataset_version = :v RETURNING id, path, merged_path"),
                {"v": ds["version"], "r": reason}).all()
            if adapters:
                out.evaluations_removed += conn.execute(sa.text(
                    "DELETE FROM persona_evaluations WHERE adapter_id = ANY(:ids)"),
                    {"ids": [a.id for a in adapters]}).rowcount
        for a in adapters:
            out.adapters_stale.append(int(a.id))
            # the adapter folder (adapter/, merged/, training.json, axolotl.yaml) is the parent of adapter/
            root = Path(a.path)
            folder_of_run = root.parent if root.name == "adapter" else root
            out.files_removed += _remove_tree(folder_of_run, data_root)
            if a.merged_path:
                out.files_removed += _remove_tree(Path(a.merged_path), data_root)
        out.datasets_rebuilt.append(ds["version"])
        out.examples_removed += max(0, int(ds["examples"] or 0) - stats["examples"])
        log.info("dataset %s rebuilt (%s): %s examples; %s adapters marked stale", ds["version"], reason,
                 stats["examples"], len(adapters))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Erasure


@dataclass
class ForgetReport:
    """What ``forget_user`` removed: rows per table, files on disk, datasets rebuilt, adapters made stale."""

    user_id: int
    rows: dict[str, int] = field(default_factory=dict)
    media_files_removed: int = 0
    training: TrainingScrub = field(default_factory=TrainingScrub)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "rows": dict(self.rows), "total_rows": self.total_rows,
                "media_files_removed": self.media_files_removed, "training": asdict(self.training)}

    def __str__(self) -> str:
        lines = [f"erased user {self.user_id} (their id is kept in erased_users, so imports skip them)"]
        for table, n in sorted(self.rows.items()):
            if n:
                lines.append(f"  {table:<36} {n:>8} rows")
        lines.append(f"  {'media files on disk':<36} {self.media_files_removed:>8}")
        t = self.training
        lines.append(f"  {'SFT datasets rebuilt':<36} {len(t.datasets_rebuilt):>8}"
                     + (f"  ({', '.join(t.datasets_rebuilt)}; {t.examples_removed} examples fewer)"
                        if t.datasets_rebuilt else ""))
        lines.append(f"  {'adapters marked stale':<36} {len(t.adapters_stale):>8}"
                     + (f"  (ids {', '.join(map(str, t.adapters_stale))}; {t.files_removed} files deleted; "
                        "the retrain sensor trains a replacement)" if t.adapters_stale else ""))
        return "\n".join(lines)


# Message-keyed tables, deleted before the messages (the ones with a foreign key to telegram_messages would go by
# cascade; deleting them explicitly gives the counts).
_KEYED_DERIVED = ("clean_messages", "message_embeddings", "intent_labels", "message_summaries", "entity_mentions",
                  "voice_insights", "voice_transcripts", "user_message_corpus")
_KEYED_RAW = ("telegram_message_edits", "telegram_files", "telegram_messages")


def forget_user(engine: Engine, user_id: int, *, media_root: Path | None = None,
                data_root: Path | None = None) -> ForgetReport:
    """Erase ``user_id`` everywhere (see the module docstring); returns what was removed. ``media_root`` is the
    storage folder media paths are relative to, ``data_root`` the folder datasets and adapters may be deleted
    from (both default to ``$TELEGRAM_INTEL_STORAGE_DIR``)."""
    if media_root is None or data_root is None:
        storage = load_settings().storage_dir
        media_root = media_root if media_root is not None else storage
        data_root = data_root if data_root is not None else storage
    uid = int(user_id)
    report = ForgetReport(uid)
    rows = report.rows
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": corpus.CORPUS_LOCK})
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": graph.GRAPH_LOCK})
        known = conn.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM telegram_users WHERE user_id = :u) OR EXISTS (SELECT 1 FROM "
            "telegram_messages WHERE sender_id = :u OR forwarded_from_id = :u OR chat_id = :u) OR EXISTS "
            "(SELECT 1 FROM erased_users WHERE user_id = :u)"), {"u": uid}).scalar_one()
        if not known:
            raise UnknownUser(f"no user {uid}: nothing to erase")
        conn.execute(sa.text("INSERT INTO erased_users (user_id) VALUES (:u) ON CONFLICT (user_id) DO UPDATE "
                             "SET run_records_scrubbed_at = NULL"), {"u": uid})
        conn.execute(sa.text(
            "CREATE TEMP TABLE _forget_keys ON COMMIT DROP AS SELECT chat_id, message_id FROM telegram_messages "
            "WHERE sender_id = :u OR forwarded_from_id = :u OR chat_id = :u "
            "UNION SELECT chat_id, message_id FROM clean_messages WHERE sender_id = :u"), {"u": uid})
        keys = {(c, m) for c, m in conn.execute(sa.text("SELECT chat_id, message_id FROM _forget_keys"))}
        paths = {p for (p,) in conn.execute(sa.text(
            "SELECT f.file_path FROM telegram_files f JOIN _forget_keys k USING (chat_id, message_id) "
            "WHERE f.file_path IS NOT NULL UNION SELECT t.file_path FROM voice_transcripts t "
            "JOIN _forget_keys k USING (chat_id, message_id) WHERE t.file_path IS NOT NULL"))}
        # Other people's replies that used their text as context (summaries quote it; the LLM saw it).
        stats = corpus.CleanStats()
        corpus.purge_reply_context(conn, "_forget_keys", stats)
        for table, n in stats.derived_purged.items():
            rows[table] = n
        for table in _KEYED_DERIVED:
            rows[table] = rows.get(table, 0) + conn.execute(sa.text(
                f"DELETE FROM {table} d USING _forget_keys k WHERE d.chat_id = k.chat_id "
                "AND d.message_id = k.message_id")).rowcount
        _delete_person_rows(conn, uid, rows)
        for table in _KEYED_RAW:
            rows[table] = conn.execute(sa.text(
                f"DELETE FROM {table} d USING _forget_keys k WHERE d.chat_id = k.chat_id "
                "AND d.message_id = k.message_id")).rowcount
        _scrub_references(conn, uid, rows)
        for table, where in (("telegram_sync_cursors", "chat_id = :u"), ("chat_statistics", "chat_id = :u"),
                             ("telegram_chats", "chat_id = :u"), ("telegram_users", "user_id = :u")):
            rows[table] = rows.get(table, 0) + conn.execute(sa.text(f"DELETE FROM {table} WHERE {where}"),
                                                            {"u": uid}).rowcount
        still_used = {p for (p,) in conn.execute(sa.text(
            "SELECT file_path FROM telegram_files WHERE file_path = ANY(:p) UNION "
            "SELECT file_path FROM voice_transcripts WHERE file_path = ANY(:p)"), {"p": sorted(paths)})}
    for rel in sorted(paths - still_used):
        path = Path(rel) if Path(rel).is_absolute() else media_root / rel
        if path.is_file() and _inside(path, media_root):
            path.unlink()
            report.media_files_removed += 1
    report.training = scrub_training_data(engine, keys, reason="erasure", data_root=data_root)
    prefs = preferences.scrub_preference_data(engine, data_root, [uid], reason="erasure")
    report.training.adapters_stale += prefs["adapters_stale"]
    report.training.files_removed += prefs["files_removed"]
    report.training.evaluations_removed += prefs["evaluations_removed"]
    log.info("erased user %s: %s rows, %s media files, %s datasets rebuilt, %s adapters stale", uid,
             report.total_rows, report.media_files_removed, len(report.training.datasets_rebuilt),
             len(report.training.adapters_stale))
    return report


def _delete_person_rows(conn: Connection, uid: int, rows: dict[str, int]) -> None:
    """Rows about the person rather than one message: profile, activity, graph, their person entity."""
    p = {"u": uid, "key": str(uid)}
    for table, where in (("telegram_user_ai_profiles", "user_id = :u"), ("user_message_corpus", "user_id = :u"),
                         ("user_activity", "user_id = :u OR chat_id = :u"),
                         ("user_reactions", "user_id = :u OR chat_id = :u"), ("reaction_statistics", "chat_id = :u"),
                         # the decision engine's audit of their messages (outcomes and open questions cascade)
                         ("decisions", "sender_id = :u OR chat_id = :u"),
                         ("decision_album_parts", "(part->>'sender_id')::bigint = :u OR chat_id = :u"),
                         # what the bot service keeps of them as a bot user (memory, ratings, cached voice results)
                         *((t, "bot_user_id = :u") for t in ("persona_feedback", "bot_persona_memory",
                                                             "bot_persona_replies", "bot_voice_cache", "bot_users"))):
        rows[table] = rows.get(table, 0) + conn.execute(sa.text(f"DELETE FROM {table} WHERE {where}"), p).rowcount
    # A forum topic they opened stays (others wrote in it), without naming them.
    rows["telegram_topics"] = rows.get("telegram_topics", 0) + conn.execute(sa.text(
        "UPDATE telegram_topics SET creator_id = NULL WHERE creator_id = :u"), p).rowcount
    entity_ids = list(conn.execute(sa.text(
        "SELECT id FROM entities WHERE user_id = :u OR (kind = 'person' AND key = :key)"), p).scalars())
    rows["entity_mentions"] = rows.get("entity_mentions", 0) + conn.execute(sa.text(
        "DELETE FROM entity_mentions WHERE sender_id = :u OR entity_id = ANY(:ids)"),
        {**p, "ids": entity_ids}).rowcount
    rows["graph_edges"] = conn.execute(sa.text(
        "DELETE FROM graph_edges WHERE (src_kind = 'user' AND src_id = :u) OR (dst_kind = 'user' AND dst_id = :u) "
        "OR (src_kind <> 'user' AND src_id = ANY(:ids)) OR (dst_kind <> 'user' AND dst_id = ANY(:ids))"),
        {**p, "ids": entity_ids}).rowcount
    rows["entities"] = conn.execute(sa.text("DELETE FROM entities WHERE id = ANY(:ids)"), {"ids": entity_ids}).rowcount
    entities, edges = graph.prune_unmentioned(conn)
    rows["entities"] += entities
    rows["graph_edges"] += edges


#: JSON columns of other people's rows that can name the person (reactions they left, ids in text entities, the
#: previous values kept by the edit history); the columns a table lacks are skipped.
_REFERENCE_COLUMNS = {"telegram_messages": (("chat_id", "message_id"), ("reactions", "entities", "raw")),
                      "telegram_message_edits": (("id",), ("entities", "previous"))}


def _scrub_references(conn: Connection, uid: int, rows: dict[str, int]) -> None:
    """Remove what other people's messages hold of the person (``lib.erasure``): reactions and entity ids."""
    for table, (keys, columns) in _REFERENCE_COLUMNS.items():
        types = dict(conn.execute(sa.text(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = :t"), {"t": table}).all())
        columns = [c for c in columns if types.get(c) in ("json", "jsonb")]
        if not columns:
            continue
        hit = " OR ".join(f"strpos({c}::text, :needle) > 0" for c in columns)
        changed = 0
        for row in conn.execute(sa.text(
                f"SELECT {', '.join(keys)}, {', '.join(columns)} FROM {table} WHERE {hit}"), {"needle": str(uid)}
                ).mappings().all():
            values, removed = {}, 0
            for c in columns:
                values[c], n = scrub_erased(row[c], {uid})
                removed += n
            if not removed:
                continue
            sets = ", ".join(f"{c} = CAST(:{c} AS {types[c]})" for c in columns)
            where = " AND ".join(f"{k} = :k_{k}" for k in keys)
            conn.execute(sa.text(f"UPDATE {table} SET {sets} WHERE {where}"),
                         {**{c: json.dumps(v, ensure_ascii=False) if v is not None else None
                             for c, v in values.items()}, **{f"k_{k}": row[k] for k in keys}})
            changed += 1
        rows[f"{table} (references in others' rows)"] = changed


# ---------------------------------------------------------------------------------------------------------------
# Dagster run records (the sensor in defs/privacy does the Dagster side)


def erased_awaiting_run_record_scrub(engine: Engine) -> list[int]:
    """Erased ids whose Dagster run records have not been scrubbed yet."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT user_id FROM erased_users WHERE run_records_scrubbed_at IS NULL ORDER BY erased_at, user_id"
        )).scalars())


def mark_run_records_scrubbed(engine: Engine, user_ids: list[int]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE erased_users SET run_records_scrubbed_at = now() WHERE user_id = ANY(:u)"),
                     {"u": list(user_ids)})
