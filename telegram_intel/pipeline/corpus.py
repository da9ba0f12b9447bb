"""The work behind the ``clean_messages`` asset, without Dagster (the benchmark and tests call it directly).

One call cleans every message dated in ``[lo, hi)`` and makes ``clean_messages`` for that window exactly what the
current configuration says, in one transaction: rows are upserted (unchanged rows are not rewritten), rows that
left the corpus (deleted messages, opted-out senders, a stricter filter) are deleted, and so are the rows derived
from them downstream. Rows of opted-out users are also purged everywhere, whatever their date, on every run, and
so are the summaries / intent labels of other people's replies that used a purged text as reply context.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from telegram_intel.config import Settings
from telegram_intel.lib.cleaning import (
    DROP_REASONS,
    CleaningConfig,
    clean_message,
)
from telegram_intel.lib.language import detect_lang
from telegram_intel.lib.pii import PII_TYPES, find_pii
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.pseudonyms import Pseudonymizer
from telegram_intel.lib.report import Report

__all__ = [
    "CLEANER_VERSION",
    "DERIVED_MESSAGE_TABLES",
    "options_fingerprint",
    "CleanStats",
    "PseudonymSecretError",
    "clean_range",
    "purge_ignored_users",
    "purge_reply_context",
    "resolve_pseudonym_secret",
]

CLEANER_VERSION = "clean-1"

#: Tables keyed by (chat_id, message_id) that are derived from ``clean_messages``: a message that leaves the
#: corpus leaves them too (the ones that do not exist yet are skipped).
DERIVED_MESSAGE_TABLES = ("message_embeddings", "intent_labels", "message_summaries", "entity_mentions")

#: Advisory lock of the corpus writers (every clean_range window, opt-out and erasure in pipeline/privacy.py).
CORPUS_LOCK = 7244516602

PSEUDONYM_SECRET_ENV = "TELEGRAM_INTEL_PSEUDONYM_SECRET"
MIN_SECRET_LENGTH = 16


# ---------------------------------------------------------------------------------------------------------------
# Pseudonym secret


class PseudonymSecretError(RuntimeError):
    pass


def resolve_pseudonym_secret(settings: Settings, explicit: str | None = None) -> tuple[str, str]:
    """The HMAC key for pseudonyms and where it came from: ``explicit`` (the resource field), else
    ``$TELEGRAM_INTEL_PSEUDONYM_SECRET``, else — only on the embedded demo database — a random key generated once
    and kept in ``$TELEGRAM_INTEL_HOME/secrets/pseudonym_secret`` (mode 0600). With a configured database
    (production) and no key, this fails: a key made up on the spot would silently change every pseudonym."""
    for value, source in ((explicit, "resource"), (os.environ.get(PSEUDONYM_SECRET_ENV), "env")):
        if value:
            if len(value) < MIN_SECRET_LENGTH:
                raise PseudonymSecretError(
                    f"the pseudonym secret ({source}) is shorter than {MIN_SECRET_LENGTH} characters; use e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
                )
            return value, source
    if settings.database_url:
        raise PseudonymSecretError(
            f"{PSEUDONYM_SECRET_ENV} is not set. With a configured database (TELEGRAM_INTEL_DATABASE_URL) the "
            "pseudonym key must be given explicitly and kept: it is what makes user_XXXX pseudonyms stable across "
            "runs and machines, and changing it changes every pseudonym. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, store it in your secret manager and "
            f"export {PSEUDONYM_SECRET_ENV} (or set the `corpus` resource's pseudonym_secret)."
        )
    return _demo_secret(settings.home / "secrets" / "pseudonym_secret"), "file"


def _demo_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)  # our own file: never leave the key readable by others
        value = path.read_text(encoding="utf-8").strip()
        if len(value) < MIN_SECRET_LENGTH:
            raise PseudonymSecretError(f"{path} holds no usable secret; delete it to generate a new one") from None
        return value
    value = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def secret_fingerprint(secret: str) -> str:
    """Short, non-reversible id of the key (shows in metadata which key made the pseudonyms)."""
    return hmac.new(secret.encode("utf-8"), b"telegram_intel pseudonym key fingerprint", hashlib.sha256).hexdigest()[:8]


# ---------------------------------------------------------------------------------------------------------------
# Options and stats


#: The options that decide which rows ``clean_messages`` holds and how they read (part of ``cleaner_version``).
FINGERPRINT_FIELDS = ("drop_service", "drop_empty", "drop_media_only", "drop_emoji_only", "mask_pii", "pii_types",
                      "keep_domains", "pseudonymize", "pseudonymize_owner")
READ_BATCH = 5000


def options_fingerprint(config: CleaningConfig) -> str:
    data = {k: (list(v) if isinstance(v, tuple) else v) for k in FINGERPRINT_FIELDS for v in [getattr(config, k)]}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]


@dataclass
class CleanStats:
    rows_in: int = 0
    rows_out: int = 0
    inserted: int = 0
    updated: int = 0
    removed: int = 0  # rows of this window that left the corpus
    purged_ignored: int = 0  # rows of opted-out users purged (any date)
    derived_purged: dict[str, int] = field(default_factory=dict)
    dropped: Counter = field(default_factory=Counter)
    pii: Counter = field(default_factory=Counter)
    languages: Counter = field(default_factory=Counter)
    pseudonyms_replaced: int = 0
    transcripts: int = 0
    cleaner_version: str = ""
    seconds: float = 0.0

    @property
    def unchanged(self) -> int:
        return self.rows_out - self.inserted - self.updated


# ---------------------------------------------------------------------------------------------------------------
# Reading


def _pseudonymizer(conn: Connection, secret: str, options: CleaningConfig) -> Pseudonymizer:
    names: dict[str, int] = {}
    owners: list[int] = []
    for uid, display, first, last, username, is_owner in conn.execute(sa.text(
        "SELECT user_id, display_name, first_name, last_name, username, is_owner FROM telegram_users"
    )):
        for name in {display, " ".join(p for p in (first, last) if p)}:
            name = " ".join((name or "").split())
            # a one-word name ("Can", "Alexander") would also hit ordinary words: full names only
            if name and " " in name:
                names.setdefault(name, uid)
        if username:
            names[f"@{username}"] = uid
        if is_owner:
            owners.append(uid)
    return Pseudonymizer(secret, names, keep_ids=() if options.pseudonymize_owner else owners)


#: Voice messages: the newest non-empty, non-error transcript (any model) becomes the message text, and the row is
#: marked ``is_transcript``.
TRANSCRIPT_JOIN = (
    " LEFT JOIN LATERAL (SELECT vt.text FROM voice_transcripts vt WHERE vt.chat_id = m.chat_id"
    " AND vt.message_id = m.message_id AND coalesce(vt.text, '') <> '' AND vt.status <> 'error'"
    " ORDER BY vt.updated_at DESC LIMIT 1) t ON true"
)


# ---------------------------------------------------------------------------------------------------------------
# Writing

_LOAD_COLUMNS = ("chat_id", "message_id", "date", "sender_id", "sender_pseudonym", "reply_to_message_id", "text",
                 "lang", "is_transcript", "pii_counts", "cleaner_version", "source_updated_at")
_COMPARED = [c for c in _LOAD_COLUMNS if c not in ("chat_id", "message_id")]

_UPSERT = f"""
INSERT INTO clean_messages AS c ({", ".join(_LOAD_COLUMNS)}, updated_at)
SELECT {", ".join(_LOAD_COLUMNS)}, now() FROM _clean_load
ON CONFLICT (chat_id, message_id) DO UPDATE SET
    {", ".join(f"{col} = EXCLUDED.{col}" for col in _COMPARED)},
    -- updated_at means "text changed at": message_embeddings re-embeds rows whose text is newer than the vector
    updated_at = CASE WHEN c.text IS DISTINCT FROM EXCLUDED.text THEN now() ELSE c.updated_at END
WHERE ({", ".join(f"c.{col}" for col in _COMPARED)}) IS DISTINCT FROM ({", ".join(f"EXCLUDED.{col}" for col in _COMPARED)})
RETURNING (xmax = 0) AS inserted
"""


def _purge_derived(conn: Connection, keys_table: str, stats: CleanStats) -> None:
    for table in DERIVED_MESSAGE_TABLES:
        n = conn.execute(sa.text(
            f"DELETE FROM {table} d USING {keys_table} k WHERE d.chat_id = k.chat_id AND d.message_id = k.message_id"
        )).rowcount
        if n:
            stats.derived_purged[table] = stats.derived_purged.get(table, 0) + n


#: Rows computed with the replied-to message's text as context (the summary quotes it, the LLM saw it).
REPLY_CONTEXT_TABLES = ("message_summaries", "intent_labels")


def purge_reply_context(conn: Connection, parents_table: str, stats: CleanStats | None = None) -> int:
    """Delete the rows of ``REPLY_CONTEXT_TABLES`` (and the UI's ``ai_*`` columns) of every message that replies to
    a message in ``parents_table`` (chat_id, message_id): they were made with the parent's text as reply context.
    The next labels run recomputes them from what ``clean_messages`` holds then. Returns the replies affected."""
    conn.execute(sa.text(
        "CREATE TEMP TABLE IF NOT EXISTS _context_replies (chat_id bigint, message_id bigint) ON COMMIT DROP"))
    conn.execute(sa.text("TRUNCATE _context_replies"))
    replies = conn.execute(sa.text(
        f"INSERT INTO _context_replies SELECT DISTINCT r.chat_id, r.message_id FROM telegram_messages r "
        f"JOIN {parents_table} p ON p.chat_id = r.chat_id AND p.message_id = r.reply_to_message_id"
    )).rowcount
    if not replies:
        return 0
    for table in REPLY_CONTEXT_TABLES:
        n = conn.execute(sa.text(
            f"DELETE FROM {table} d USING _context_replies k WHERE d.chat_id = k.chat_id AND d.message_id = k.message_id"
        )).rowcount
        if n and stats is not None:
            key = f"{table}_reply_context"
            stats.derived_purged[key] = stats.derived_purged.get(key, 0) + n
    conn.execute(sa.text(
        "UPDATE telegram_messages m SET ai_summary = NULL, ai_keywords = NULL, ai_processed = false "
        "FROM _context_replies k WHERE m.chat_id = k.chat_id AND m.message_id = k.message_id "
        "AND (m.ai_summary IS NOT NULL OR m.ai_keywords IS NOT NULL OR m.ai_processed)"
    ))
    return replies


def purge_ignored_users(conn: Connection, stats: CleanStats | None = None) -> int:
    """Delete every ``clean_messages`` row (and derived row) of users marked ``is_ignored``, at any date, and the
    summaries / intent labels of the messages replying to the rows purged now (they quoted them as context)."""
    stats = stats if stats is not None else CleanStats()
    conn.execute(sa.text(
        "CREATE TEMP TABLE IF NOT EXISTS _ignored_keys (chat_id bigint, message_id bigint) ON COMMIT DROP"
    ))
    conn.execute(sa.text("TRUNCATE _ignored_keys"))
    conn.execute(sa.text(
        "INSERT INTO _ignored_keys SELECT m.chat_id, m.message_id FROM telegram_users u "
        "JOIN telegram_messages m ON m.sender_id = u.user_id WHERE u.is_ignored "
        "UNION SELECT c.chat_id, c.message_id FROM telegram_users u "
        "JOIN clean_messages c ON c.sender_id = u.user_id WHERE u.is_ignored"
    ))
    conn.execute(sa.text(
        "CREATE TEMP TABLE IF NOT EXISTS _ignored_purged (chat_id bigint, message_id bigint) ON COMMIT DROP"
    ))
    conn.execute(sa.text("TRUNCATE _ignored_purged"))
    n = conn.execute(sa.text(
        "WITH gone AS (DELETE FROM clean_messages c USING _ignored_keys k WHERE c.chat_id = k.chat_id "
        "AND c.message_id = k.message_id RETURNING c.chat_id, c.message_id) INSERT INTO _ignored_purged SELECT * FROM gone"
    )).rowcount
    _purge_derived(conn, "_ignored_keys", stats)
    if n:
        purge_reply_context(conn, "_ignored_purged", stats)
    # The UI columns on telegram_messages hold AI output about the message too.
    conn.execute(sa.text(
        "UPDATE telegram_messages m SET ai_summary = NULL, ai_keywords = NULL, ai_processed = false "
        "FROM _ignored_keys k WHERE m.chat_id = k.chat_id AND m.message_id = k.message_id "
        "AND (m.ai_summary IS NOT NULL OR m.ai_keywords IS NOT NULL OR m.ai_processed)"
    ))
    conn.execute(sa.text(
        "DELETE FROM user_activity a USING telegram_users u WHERE u.user_id = a.user_id AND u.is_ignored"
    ))
    stats.purged_ignored += n
    return n


def clean_range(
    engine: Engine,
    lo: datetime,
    hi: datetime,
    options: CleaningConfig,
    *,
    secret: str | None,
    log: Callable[[str], None] | None = None,
) -> CleanStats:
    """Clean every message dated in ``[lo, hi)`` into ``clean_messages`` (see the module docstring)."""
    started = time.perf_counter()
    stats = CleanStats()
    config = options
    if options.pseudonymize and not secret:
        raise PseudonymSecretError("pseudonymize=True needs a secret")
    stats.cleaner_version = f"{CLEANER_VERSION}+{options_fingerprint(options)}" + (
        f"+k{secret_fingerprint(secret)}" if options.pseudonymize and secret else "")
    from psycopg.types.json import Jsonb

    with engine.begin() as conn:
        pz = _pseudonymizer(conn, secret, options) if options.pseudonymize else None
        join, transcript = TRANSCRIPT_JOIN, "t.text"
        # The same lock for every window: concurrent partitions would otherwise race on the global purge.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": CORPUS_LOCK})
        purge_ignored_users(conn, stats)
        conn.execute(sa.text(
            "CREATE TEMP TABLE _clean_load (chat_id bigint, message_id bigint, date timestamptz, sender_id bigint, "
            "sender_pseudonym varchar(32), reply_to_message_id bigint, text text, lang varchar(8), "
            "is_transcript boolean, pii_counts jsonb, cleaner_version varchar(32), source_updated_at timestamptz, "
            "PRIMARY KEY (chat_id, message_id)) ON COMMIT DROP"
        ))
        raw = conn.connection.driver_connection
        # A second connection streams the source rows (server-side cursor) while this transaction writes.
        with engine.connect() as reader:
            result = reader.execution_options(stream_results=True, yield_per=READ_BATCH).execute(sa.text(
                "SELECT m.chat_id, m.message_id, m.kind, m.date, m.sender_id, m.reply_to_message_id, m.has_media, "
                "m.media_type, m.action, m.updated_at, m.deleted_at IS NOT NULL AS deleted, coalesce(u.is_ignored, false) AS ignored, "
                # an opted-out user's text is not even read
                "CASE WHEN coalesce(u.is_ignored, false) THEN NULL ELSE m.text END AS text, "
                f"CASE WHEN coalesce(u.is_ignored, false) THEN NULL ELSE {transcript} END AS transcript "
                f"FROM telegram_messages m LEFT JOIN telegram_users u ON u.user_id = m.sender_id{join} "
                "WHERE m.date >= :lo AND m.date < :hi ORDER BY m.date, m.chat_id, m.message_id"
            ), {"lo": lo, "hi": hi})
            with raw.cursor() as cur, cur.copy(f"COPY _clean_load ({', '.join(_LOAD_COLUMNS)}) FROM STDIN") as cp:
                for r in result:
                    stats.rows_in += 1
                    if r.ignored:
                        stats.dropped["ignored_user"] += 1
                        continue
                    if r.deleted:
                        stats.dropped["deleted"] += 1
                        continue
                    text, kind, is_transcript = r.text or "", r.kind, False
                    if r.transcript:
                        text = f"{text}\n{r.transcript}" if text.strip() else r.transcript
                        is_transcript = True
                    if kind == "service" and not options.drop_service:
                        # kept service messages say what happened, e.g. "[SERVICE:pin_message]"
                        text, kind = f"[SERVICE:{r.action or 'unknown'}]", "message"
                    res = clean_message(text, kind=kind, has_media=bool(r.has_media) and not is_transcript,
                                        config=config, pseudonymizer=pz)
                    if not res.kept:
                        stats.dropped[res.dropped_reason] += 1
                        continue
                    out_text = res.text
                    if not out_text and r.has_media:
                        # media-only messages kept (drop_media_only=False): a placeholder says what was sent
                        out_text = f"[MEDIA:{r.media_type or 'file'}]"
                    lang = detect_lang(out_text)
                    stats.rows_out += 1
                    stats.pii.update(res.pii_counts)
                    stats.languages[lang or "none"] += 1
                    stats.pseudonyms_replaced += res.pseudonyms
                    stats.transcripts += is_transcript
                    sender_pseudonym = pz.pseudonym(r.sender_id) if pz is not None and r.sender_id else None
                    cp.write_row((r.chat_id, r.message_id, r.date, r.sender_id, sender_pseudonym,
                                  r.reply_to_message_id, out_text, lang, is_transcript,
                                  Jsonb(res.pii_counts) if res.pii_counts else None, stats.cleaner_version,
                                  r.updated_at))
                    if log and stats.rows_in % 50_000 == 0:
                        log(f"cleaned {stats.rows_in:,} messages ({stats.rows_in / (time.perf_counter() - started):,.0f}/s)")
        for (inserted,) in conn.execute(sa.text(_UPSERT)):
            if inserted:
                stats.inserted += 1
            else:
                stats.updated += 1
        conn.execute(sa.text("CREATE TEMP TABLE _clean_removed (chat_id bigint, message_id bigint) ON COMMIT DROP"))
        stats.removed = conn.execute(sa.text(
            "WITH gone AS (DELETE FROM clean_messages c WHERE c.date >= :lo AND c.date < :hi AND NOT EXISTS "
            "(SELECT 1 FROM _clean_load l WHERE l.chat_id = c.chat_id AND l.message_id = c.message_id) "
            "RETURNING c.chat_id, c.message_id) INSERT INTO _clean_removed SELECT * FROM gone"
        ), {"lo": lo, "hi": hi}).rowcount
        if stats.removed:
            _purge_derived(conn, "_clean_removed", stats)
    stats.seconds = time.perf_counter() - started
    return stats


def clean_report(stats: CleanStats, lo: datetime, hi: datetime) -> Report:
    """What a ``clean_range`` run did, for the asset's metadata."""
    reasons = [*DROP_REASONS, "deleted", "ignored_user"]
    dropped = {r: stats.dropped.get(r, 0) for r in reasons}
    return Report(
        values={
            "rows_in": stats.rows_in, "rows_out": stats.rows_out, "rows_inserted": stats.inserted,
            "rows_updated": stats.updated, "rows_unchanged": stats.unchanged, "rows_removed": stats.removed,
            "rows_purged_ignored_users": stats.purged_ignored, "pii_masked_total": sum(stats.pii.values()),
            "pseudonyms_replaced": stats.pseudonyms_replaced, "transcripts": stats.transcripts,
            "cleaner_version": stats.cleaner_version, "window": f"[{lo.isoformat()}, {hi.isoformat()})",
            "duration_s": round(stats.seconds, 3),
        },
        json={"derived_rows_purged": stats.derived_purged, "dropped": dropped,
              "pii_masked": {t: stats.pii.get(t, 0) for t in PII_TYPES},
              "languages": dict(stats.languages.most_common())},
        markdown={"dropped_chart": bar_chart_markdown(reasons, [dropped[r] for r in reasons],
                                                      title="Messages dropped, by reason")},
    )


# -- checks ---------------------------------------------------------------------------------------------------------

#: What must never survive cleaning. URLs are not here: kept domains are allowed through on purpose.
CHECKED_PII = ("PHONE", "EMAIL", "CARD", "IBAN")
#: Rows of opted-out users in the corpus (there must be none).
IGNORED_USER_ROWS = ("SELECT c.chat_id, c.message_id, c.sender_id FROM clean_messages c "
                     "JOIN telegram_users u ON u.user_id = c.sender_id WHERE u.is_ignored")


def ignored_users_with_rows(engine: Engine, limit: int = 20) -> dict[str, int]:
    """Opted-out user id → their rows in ``clean_messages`` (empty unless something leaks)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT c.sender_id, count(*) FROM clean_messages c JOIN telegram_users u ON u.user_id = c.sender_id "
            "WHERE u.is_ignored GROUP BY 1 ORDER BY 2 DESC LIMIT :n"), {"n": limit}).all()
    return {str(u): n for u, n in rows}


def unmasked_pii(engine: Engine, window: tuple[datetime, datetime] | None) -> tuple[int, Counter, list[dict]]:
    """Re-run PII detection over the clean text of ``window`` (all rows for None): rows checked, spans left per
    type, and up to 10 examples (where and which type, never the value)."""
    found: Counter = Counter()
    examples: list[dict] = []
    rows = 0
    sql = "SELECT chat_id, message_id, text FROM clean_messages"
    params = {}
    if window is not None:
        sql += " WHERE date >= :lo AND date < :hi"
        params = {"lo": window[0], "hi": window[1]}
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(sa.text(sql), params)
        for chat_id, message_id, text in result:
            rows += 1
            spans = find_pii(text, types=CHECKED_PII)
            if spans:
                found.update(sp.type for sp in spans)
                if len(examples) < 10:
                    examples.append({"chat_id": chat_id, "message_id": message_id,
                                     "types": sorted({sp.type for sp in spans})})
    return rows, found, examples
