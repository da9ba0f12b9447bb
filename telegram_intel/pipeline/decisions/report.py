"""What the Dagster assets ``decision_log`` and ``action_outcomes`` show for a window of days, and the check that no
action ran twice. Plain values (``lib.report.Report``); ``defs/decisions`` turns them into metadata."""

from __future__ import annotations

from datetime import datetime
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.report import CheckOutcome, Report

CONFIDENCE_BINS = 10


def decision_log_report(engine: Engine, start: datetime, end: datetime) -> Report:
    """Decisions made in [start, end): per action, status and method, the confidence histogram, tokens and cost."""
    window = {"s": start, "e": end}
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT coalesce(action, '(none)') AS action, status, coalesce(method, '(none)') AS method, confidence, "
            "prompt_tokens, completion_tokens, cost_usd FROM decisions WHERE created_at >= :s AND created_at < :e"),
            window).mappings().all()
    by_action: dict[str, int] = {}
    by_status: dict[str, int] = {}
    by_method: dict[str, int] = {}
    bins = [0] * CONFIDENCE_BINS
    for r in rows:
        by_action[r["action"]] = by_action.get(r["action"], 0) + 1
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        kind = r["method"].split(":")[0] + (":" + r["method"].split(":")[1] if r["method"].startswith("llm:") else "")
        by_method[kind] = by_method.get(kind, 0) + 1
        if r["confidence"] is not None:
            bins[min(int(r["confidence"] * CONFIDENCE_BINS), CONFIDENCE_BINS - 1)] += 1
    labels = [f"{i / CONFIDENCE_BINS:.1f}–{(i + 1) / CONFIDENCE_BINS:.1f}" for i in range(CONFIDENCE_BINS)]
    confidences = [r["confidence"] for r in rows if r["confidence"] is not None]
    report = Report()
    report.values.update(
        decisions=len(rows),
        followups=by_status.get("needs_followup", 0),
        refused=by_status.get("refused", 0),
        mean_confidence=round(sum(confidences) / len(confidences), 4) if confidences else 0.0,
        prompt_tokens=int(sum(r["prompt_tokens"] for r in rows)),
        completion_tokens=int(sum(r["completion_tokens"] for r in rows)),
        cost_usd=float(sum(r["cost_usd"] for r in rows)),
        offline_decisions=by_method.get("offline", 0),
    )
    report.json.update(decisions_per_action=by_action, decisions_per_status=by_status,
                       decisions_per_method=by_method, confidence_histogram=dict(zip(labels, bins)))
    report.markdown["confidence_histogram_plot"] = bar_chart_markdown(labels, bins, title="decision confidence")
    report.markdown["decisions_per_action_plot"] = bar_chart_markdown(
        list(by_action), list(by_action.values()), title="decisions per action")
    return report


def action_outcomes_report(engine: Engine, start: datetime, end: datetime) -> Report:
    """Action runs planned in [start, end): per status and action, the failure rate, retries, the latest errors."""
    window = {"s": start, "e": end}
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT o.id, o.decision_id, o.action, o.status, o.attempts, o.error FROM decision_outcomes o "
            "WHERE o.created_at >= :s AND o.created_at < :e ORDER BY o.id"), window).mappings().all()
    by_status: dict[str, int] = {}
    by_action: dict[str, dict[str, int]] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        per = by_action.setdefault(r["action"], {})
        per[r["status"]] = per.get(r["status"], 0) + 1
    ran = by_status.get("succeeded", 0) + by_status.get("failed", 0)
    failed = [r for r in rows if r["status"] == "failed"]
    report = Report()
    report.values.update(
        outcomes=len(rows), succeeded=by_status.get("succeeded", 0), failed=len(failed),
        failure_rate=round(len(failed) / ran, 4) if ran else 0.0,
        retried=sum(1 for r in rows if (r["attempts"] or 0) > 1),
        attempts=int(sum(r["attempts"] or 0 for r in rows)),
        awaiting=by_status.get("pending", 0), dry_runs=by_status.get("dry_run", 0),
    )
    report.json.update(outcomes_per_status=by_status, outcomes_per_action=by_action)
    if failed:
        lines = ["| outcome | decision | action | attempts | error |", "|---|---|---|---|---|"]
        lines += [f"| {r['id']} | {r['decision_id']} | {r['action']} | {r['attempts']} | "
                  f"{(r['error'] or '').replace('|', '/')[:160]} |" for r in failed[-20:]]
        report.markdown["failed_actions"] = "\n".join(lines)
    return report


def actions_ran_twice(engine: Engine, start: datetime, end: datetime) -> CheckOutcome:
    """No action succeeded twice for the same thing: two successful runs of one action for decisions sharing a
    message or an album (a key that was computed differently would slip past the unique constraints), or one
    external record (product id, spreadsheet row) created by two runs."""
    window = {"s": start, "e": end}
    with engine.connect() as conn:
        twice = conn.execute(sa.text("""
            SELECT oa.id AS first, ob.id AS second, oa.action FROM decision_outcomes oa
            JOIN decisions a ON a.id = oa.decision_id
            JOIN decision_outcomes ob ON ob.action = oa.action AND ob.id <> oa.id AND ob.status = 'succeeded'
            JOIN decisions b ON b.id = ob.decision_id AND b.chat_id = a.chat_id
            WHERE oa.status = 'succeeded' AND oa.created_at >= :s AND oa.created_at < :e
              AND ((a.media_group_id IS NOT NULL AND a.media_group_id = b.media_group_id)
                   OR EXISTS (SELECT 1 FROM jsonb_array_elements(a.message_ids) x
                              JOIN jsonb_array_elements(b.message_ids) y ON x = y))
            ORDER BY 1, 2 LIMIT 20"""), window).mappings().all()
        external = conn.execute(sa.text("""
            SELECT action, record, array_agg(id ORDER BY id) AS outcomes FROM (
                SELECT o.id, o.action, coalesce(o.result->>'product_id', (o.result->>'path') || '#' ||
                       (o.result->>'row'), (o.result->>'table') || '#' || (o.result->>'index')) AS record
                FROM decision_outcomes o
                WHERE o.status = 'succeeded' AND coalesce((o.result->>'reused')::boolean, false) = false
                  AND o.action IN (SELECT action FROM decision_outcomes WHERE created_at >= :s AND created_at < :e)
            ) runs WHERE record IS NOT NULL GROUP BY action, record HAVING count(*) > 1 LIMIT 20"""),
            window).mappings().all()
    pairs = [{"action": r["action"], "outcomes": [r["first"], r["second"]]} for r in twice if r["first"] < r["second"]]
    records = [{"action": r["action"], "record": r["record"], "outcomes": list(r["outcomes"])} for r in external]
    return CheckOutcome(passed=not pairs and not records,
                        metadata={"same_unit_twice": len(pairs), "same_record_twice": len(records),
                                  "examples": pairs[:5] + records[:5]})
