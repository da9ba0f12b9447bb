"""Checks of the rows a partition holds; the assets run them right after writing (``check_specs``), so each
result is about the partition just materialized."""

from __future__ import annotations

from datetime import datetime

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from telegram_intel.lib.intents import INTENTS
from telegram_intel.lib.summaries import MAX_KEYWORDS, MIN_KEYWORDS, available_keywords

INTENT_LABELS_KEY = dg.AssetKey("intent_labels")
MESSAGE_SUMMARIES_KEY = dg.AssetKey("message_summaries")

CONFIDENCE_TOLERANCE = 0.01

INTENT_CHECK_SPECS = [
    dg.AssetCheckSpec(
        "intent_labels_valid", asset=INTENT_LABELS_KEY, blocking=True,
        description="Every label is one of the six intents; confidences have exactly the six intents as keys; "
                    "the row's confidence is the label's confidence and lies in [0, 1].",
    ),
    dg.AssetCheckSpec(
        "intent_confidences_sum_to_one", asset=INTENT_LABELS_KEY, blocking=True,
        description=f"Per-class confidences of every row sum to 1 (± {CONFIDENCE_TOLERANCE}).",
    ),
]

SUMMARY_CHECK_SPECS = [
    dg.AssetCheckSpec(
        "message_summaries_not_empty", asset=MESSAGE_SUMMARIES_KEY, blocking=True,
        description="Every summary has visible text.",
    ),
    dg.AssetCheckSpec(
        "message_summaries_keyword_count", asset=MESSAGE_SUMMARIES_KEY, blocking=False,
        description=f"{MIN_KEYWORDS}–{MAX_KEYWORDS} keywords per message; fewer only when message and reply "
                    f"context together have fewer than {MIN_KEYWORDS} content words (\"Привет!\").",
    ),
]

_WINDOW = "date >= :start AND date < :end"


def intent_check_results(conn: Connection, start: datetime, end: datetime) -> list[dg.AssetCheckResult]:
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
    return [
        dg.AssetCheckResult(
            check_name="intent_labels_valid", asset_key=INTENT_LABELS_KEY, passed=invalid == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"rows": row["rows"], "invalid_label": row["bad_label"], "invalid_keys": row["bad_keys"],
                      "invalid_confidence": row["bad_confidence"]},
        ),
        dg.AssetCheckResult(
            check_name="intent_confidences_sum_to_one", asset_key=INTENT_LABELS_KEY, passed=row["bad_sum"] == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"rows": row["rows"], "rows_off_by_more_than_tolerance": row["bad_sum"],
                      "max_abs_error": float(row["max_sum_error"] or 0.0), "tolerance": CONFIDENCE_TOLERANCE},
        ),
    ]


def summary_check_results(conn: Connection, start: datetime, end: datetime) -> list[dg.AssetCheckResult]:
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
    return [
        dg.AssetCheckResult(
            check_name="message_summaries_not_empty", asset_key=MESSAGE_SUMMARIES_KEY, passed=counts["empty"] == 0,
            severity=dg.AssetCheckSeverity.ERROR, metadata={"rows": counts["rows"], "empty": counts["empty"]},
        ),
        dg.AssetCheckResult(
            check_name="message_summaries_keyword_count", asset_key=MESSAGE_SUMMARIES_KEY,
            passed=counts["too_many"] == 0 and not too_few, severity=dg.AssetCheckSeverity.WARN,
            metadata={"rows": counts["rows"], "more_than_max": counts["too_many"],
                      "fewer_than_min_with_more_available": len(too_few),
                      "fewer_than_min_short_texts": len(short) - len(too_few),
                      "examples": dg.MetadataValue.json(too_few[:10])},
        ),
    ]
