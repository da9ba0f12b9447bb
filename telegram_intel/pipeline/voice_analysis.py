"""The work behind ``voice_insights`` without Dagster: every mode of a transcript runs at the same time (one
thread per (transcript, mode) call, ``concurrency`` transcripts in flight), each mode through its own LLM client
(its model, temperature, max_tokens, timeout; one shared rate limiter per endpoint), with an offline method for
modes that have one and a per-mode circuit breaker."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.engine import Engine

from telegram_intel.db.llm_calls import SqlCallRecorder
from telegram_intel.lib.cleaning import CleaningConfig, clean_message
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.report import Report
from telegram_intel.llm.client import LLMClient
from telegram_intel.llm.config import LLMSettings, build_client
from telegram_intel.llm.errors import LLMError
from telegram_intel.llm.prompts import load_prompt
from telegram_intel.pipeline.voice import (
    purge_opted_out,
    text_sha256,
    transcripts_for_insights,
    upsert_insights,
)
from telegram_intel.pipeline.voice_modes import (
    EXTRACTIVE_METHOD,
    FALLBACK_SUFFIX,
    VoiceMode,
    extractive_insight,
)

log = logging.getLogger(__name__)

# Transcripts go to the LLM with PII masked like clean_messages (phones, emails, URLs, cards, IBANs); nothing is
# dropped (a short "ok" is still a voice message to analyse).
_MASK_ONLY = CleaningConfig(drop_service=False, drop_empty=False, drop_media_only=False, drop_emoji_only=False,
                            mask_pii=True, pseudonymize=False)
ERROR_TEXT_LIMIT = 500


def mask_transcript(text: str) -> str:
    return clean_message(text, config=_MASK_ONLY).text


def offline_method(mode: VoiceMode) -> str | None:
    return EXTRACTIVE_METHOD if mode.offline == "extractive" else None


def run_offline(mode: VoiceMode, text: str, language: str | None) -> dict[str, Any]:
    if mode.offline == "extractive":
        return extractive_insight(text, language)
    raise ValueError(f"mode {mode.name} has no offline method")


@dataclass
class ModePlan:
    """How one mode runs in this run: through ``client`` (LLM) or offline; ``method`` is what its rows will say."""

    mode: VoiceMode
    client: LLMClient | None = None
    llm_model: str | None = None
    prompt_name: str | None = None
    prompt_version: str | None = None

    @property
    def uses_llm(self) -> bool:
        return self.client is not None

    @property
    def method(self) -> str | None:
        if self.client is not None:
            return f"llm:{self.llm_model}:{self.prompt_name}@{self.prompt_version}"
        return offline_method(self.mode)

    def describe(self) -> dict[str, Any]:
        return {"method": self.method, "llm_model": self.llm_model, "prompt": self.mode.prompt,
                "prompt_version": self.prompt_version, "offline": self.mode.offline}


def build_plans(modes: Sequence[VoiceMode], settings: LLMSettings | None, engine: Engine | None,
                tags: dict[str, Any]) -> list[ModePlan]:
    """One plan per mode; with ``settings`` (LLM enabled) each mode gets its own client."""
    plans = []
    for mode in modes:
        name, directory = mode.prompt_location
        prompt = load_prompt(name, directory)
        if settings is None:
            plans.append(ModePlan(mode=mode, prompt_name=name, prompt_version=prompt.version))
            continue
        mode_settings = replace(
            settings,
            model=mode.resolved_model(settings.model),
            temperature=mode.temperature if mode.temperature is not None else settings.temperature,
            max_tokens=mode.max_tokens if mode.max_tokens is not None else settings.max_tokens,
            timeout_s=mode.timeout_s if mode.timeout_s is not None else settings.timeout_s,
        )
        client = build_client(mode_settings, SqlCallRecorder(engine) if engine is not None else None, tags={**tags, "mode": mode.name})
        client.prompts_dir = directory
        plans.append(ModePlan(mode=mode, client=client, llm_model=mode_settings.model, prompt_name=name,
                              prompt_version=prompt.version))
    return plans


@dataclass(frozen=True)
class InsightTask:
    chat_id: int
    message_id: int
    date: datetime
    transcript_model: str
    transcript_sha256: str
    text: str  # masked
    language: str | None
    duration_s: float | None
    modes: tuple[str, ...]  # the modes to (re)compute for this transcript


@dataclass
class RunStats:
    rows: int = 0
    transcripts: int = 0
    methods: Counter = field(default_factory=Counter)
    status: Counter = field(default_factory=Counter)  # "<MODE>:<status>"
    llm_ok: Counter = field(default_factory=Counter)
    llm_failed: Counter = field(default_factory=Counter)
    fallbacks: Counter = field(default_factory=Counter)
    skipped_after_breaker: Counter = field(default_factory=Counter)
    failure_kinds: Counter = field(default_factory=Counter)
    peak_concurrent_calls: int = 0
    seconds: float = 0.0


class InsightRunner:
    def __init__(self, plans: Sequence[ModePlan], *, concurrency: int = 4, breaker_limit: int = 5) -> None:
        self.plans = {p.mode.name: p for p in plans}
        self.concurrency = max(1, int(concurrency))
        self.breaker_limit = max(1, int(breaker_limit))
        self.stats = RunStats()
        self._lock = threading.Lock()
        self._consecutive_failures: Counter = Counter()
        self._in_flight = 0

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.stats.peak_concurrent_calls = max(self.stats.peak_concurrent_calls, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _breaker_open(self, mode: str) -> bool:
        with self._lock:
            return self._consecutive_failures[mode] >= self.breaker_limit

    def _llm_outcome(self, mode: str, ok: bool, kind: str | None = None) -> None:
        with self._lock:
            if ok:
                self._consecutive_failures[mode] = 0
                self.stats.llm_ok[mode] += 1
            else:
                self._consecutive_failures[mode] += 1
                self.stats.llm_failed[mode] += 1
                self.stats.failure_kinds[kind or "error"] += 1

    def _run_one(self, task: InsightTask, plan: ModePlan) -> dict[str, Any]:
        mode = plan.mode
        started_at = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        row: dict[str, Any] = {
            "chat_id": task.chat_id, "message_id": task.message_id, "mode": mode.name, "date": task.date,
            "transcript_model": task.transcript_model, "transcript_sha256": task.transcript_sha256,
            "method": plan.method, "llm_model": None, "status": "ok", "result": None, "error": None,
        }
        llm_error: str | None = None
        if plan.uses_llm and not self._breaker_open(mode.name):
            variables = {"transcript": task.text, "language": task.language or "",
                         "duration_s": round(task.duration_s or 0.0, 1)}
            self._enter()
            try:
                result = plan.client.complete_json(plan.prompt_name, variables, mode.schema, model=plan.llm_model,
                                                   tags={"mode": mode.name})
            except LLMError as exc:
                llm_error = f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT]
                self._llm_outcome(mode.name, False, type(exc).__name__)
            else:
                self._llm_outcome(mode.name, True)
                row.update(method=result.method, llm_model=result.model, result=result.data)
            finally:
                self._leave()
        elif plan.uses_llm:
            llm_error = "LLM not called: too many consecutive failures in this run (circuit breaker)"
            with self._lock:
                self.stats.skipped_after_breaker[mode.name] += 1
        if row["result"] is None:
            if mode.offline and (llm_error is not None or not plan.uses_llm):
                row["result"] = run_offline(mode, task.text, task.language)
                if llm_error is not None:
                    row.update(method=f"{offline_method(mode)}{FALLBACK_SUFFIX}", error=llm_error)
                    with self._lock:
                        self.stats.fallbacks[mode.name] += 1
            else:
                row.update(status="error", error=llm_error or "no method for this mode")
        row["started_at"] = started_at
        row["finished_at"] = datetime.now(timezone.utc)
        row["latency_s"] = round(time.perf_counter() - t0, 4)
        return row

    def run(self, tasks: Sequence[InsightTask], write: Callable[[list[dict[str, Any]]], None], *,
            batch_size: int = 32, progress: Callable[[RunStats, int], None] | None = None) -> RunStats:
        """Analyse ``tasks`` batch by batch; each batch's rows are written (one transaction) before the next."""
        started = time.perf_counter()
        workers = self.concurrency * max(1, len(self.plans))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="voice-insight") as pool:
            for offset in range(0, len(tasks), max(1, batch_size)):
                chunk = tasks[offset: offset + batch_size]
                # the modes of one transcript are submitted together, so they run side by side
                futures = [pool.submit(self._run_one, task, self.plans[name]) for task in chunk for name in task.modes]
                rows = [f.result() for f in futures]
                write(rows)
                self.stats.rows += len(rows)
                self.stats.transcripts += len(chunk)
                for row in rows:
                    self.stats.methods[row["method"] or "none"] += 1
                    self.stats.status[f"{row['mode']}:{row['status']}"] += 1
                self.stats.seconds = time.perf_counter() - started
                if progress:
                    progress(self.stats, len(tasks))
        self.stats.seconds = time.perf_counter() - started
        return self.stats

    def close(self) -> None:
        for plan in self.plans.values():
            if plan.client is not None:
                plan.client.close()


def needs_insight(existing: dict[str, Any] | None, sha: str, target: str, force: bool) -> bool:
    if force or not existing:
        return True
    if existing.get("sha") != sha or existing.get("status") != "ok":
        return True
    if existing.get("method") == target:
        return False
    # offline never replaces an LLM answer of the same transcript
    return not (target.startswith("offline:") and str(existing.get("method", "")).startswith("llm:"))


def analyse_window(engine: Engine, lo: datetime, hi: datetime, modes: Sequence[Any], *, mode: str, requested: str,
                   settings: Any, tags: dict[str, Any], llm_description: dict[str, Any],
                   llm_usage: Callable[[], dict[str, Any]], concurrency: int = 4, breaker_limit: int = 5,
                   batch_size: int = 32, force: bool = False, label: str = "") -> Report:
    """Run the selected voice modes over the transcripts of ``[lo, hi)`` that lack an up-to-date row per mode
    (concurrently per transcript; offline fallback per mode), write ``voice_insights`` and report what was done."""
    plans = build_plans(modes, settings, engine, tags)
    skipped = {p.mode.name: "no LLM configured and no offline method" for p in plans if p.method is None}
    active = [p for p in plans if p.method is not None]
    targets = {p.mode.name: p.method for p in active}
    log.info("modes: %s%s", "; ".join(f"{p.mode.name} → {p.method}" for p in active),
             f"; skipped: {', '.join(skipped)}" if skipped else "")

    with engine.begin() as conn:
        purged = purge_opted_out(conn)
        rows = transcripts_for_insights(conn, lo, hi)
    tasks: list[InsightTask] = []
    up_to_date = 0
    for r in rows:
        sha = text_sha256(r.text)
        existing = r.existing or {}
        todo = tuple(name for name, target in targets.items()
                     if needs_insight(existing.get(name), sha, target, force))
        up_to_date += len(targets) - len(todo)
        if todo:
            tasks.append(InsightTask(chat_id=r.chat_id, message_id=r.message_id, date=r.date,
                                     transcript_model=r.model, transcript_sha256=sha, text=mask_transcript(r.text),
                                     language=r.language, duration_s=r.duration_s, modes=todo))
    log.info("%s of %s transcripts in %s to analyse (%s mode rows up to date)", len(tasks), len(rows), label,
             up_to_date)

    def write(batch: list[dict[str, Any]]) -> None:
        with engine.begin() as conn:
            upsert_insights(conn, batch)

    def progress(stats: RunStats, total: int) -> None:
        log.info("analysed %s/%s transcripts (%s rows, %s offline fallbacks) in %.1fs", stats.transcripts, total,
                 stats.rows, sum(stats.fallbacks.values()), stats.seconds)

    runner = InsightRunner(active, concurrency=concurrency, breaker_limit=breaker_limit)
    try:
        stats = runner.run(tasks, write, batch_size=batch_size, progress=progress)
    finally:
        runner.close()

    methods = dict(stats.methods)
    metadata: dict[str, Any] = {
        "mode": mode,
        "method_requested": requested,
        "modes": ({p.mode.name: p.describe() for p in active}),
        "modes_skipped": (skipped),
        "transcripts_in_partition": len(rows),
        "transcripts_analysed": stats.transcripts,
        "rows_written": stats.rows,
        "rows_up_to_date": up_to_date,
        "methods_written": (methods),

        "status": (dict(stats.status)),
        "errors": sum(n for key, n in stats.status.items() if key.endswith(":error")),
        "llm_fallbacks": (dict(stats.fallbacks)),
        "peak_concurrent_llm_calls": stats.peak_concurrent_calls,
        "opted_out_rows_purged": (purged),
        "duration_s": round(stats.seconds, 3),
        "window": f"[{lo.isoformat()}, {hi.isoformat()})",
        **{k: v for k, v in llm_description.items() if v is not None},
    }
    if mode == "llm":
        metadata.update({
            "llm_answers": (dict(stats.llm_ok)),
            "llm_failed": (dict(stats.llm_failed)),
            "llm_failure_kinds": (dict(stats.failure_kinds)),
            "llm_skipped_after_breaker": (dict(stats.skipped_after_breaker)),
            **llm_usage(),
        })
    json_values = {k: v for k, v in metadata.items() if isinstance(v, dict)}
    return Report(values={k: v for k, v in metadata.items() if k not in json_values}, json=json_values,
                  markdown={"methods_chart": bar_chart_markdown(list(methods), list(methods.values()),
                                                                title=f"voice_insights rows by method ({label})")})
