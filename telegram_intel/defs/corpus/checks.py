"""Blocking checks on ``clean_messages``: nothing downstream (embeddings, labels, LLM calls) may see an opted-out
user's message or an unmasked phone, email, card or IBAN."""


import json
from datetime import datetime

import dagster as dg

from telegram_intel.defs.corpus.assets import clean_messages
from telegram_intel.defs.partitions import covered_bounds, daily_message_partitions
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.pipeline.corpus import (
    CHECKED_PII,
    IGNORED_USER_ROWS,
    ignored_users_with_rows,
    unmasked_pii,
)
from telegram_intel.pipeline.quality import validate_query


def run_window(context: dg.AssetCheckExecutionContext) -> tuple[datetime, datetime] | None:
    """[start, end) of the partition(s) the run materialized, from the run's tags; None for a run of the check
    alone (then the whole table is checked). The checks are not partitioned themselves: partitioned asset checks
    are still a preview feature in Dagster 1.13."""
    tags = context.run.tags
    key = tags.get("dagster/partition")
    first, last = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
    if key:
        first = last = key
    if not (first and last):
        return None
    try:
        lo = daily_message_partitions.time_window_for_partition_key(first).start
        hi = daily_message_partitions.time_window_for_partition_key(last).end
    except Exception:  # a partition key of another partitioning: check everything
        return None
    return covered_bounds(lo, hi)  # the first partition also covers the messages before it


@dg.asset_check(
    asset=clean_messages,
    blocking=True,
    description="No row from a user marked is_ignored, at any date (Great Expectations: the query of such rows "
    "has 0 rows).",
)
def clean_messages_no_ignored_users(telegram: TelegramIntelResource) -> dg.AssetCheckResult:
    import great_expectations as gx

    url = telegram.engine.url.render_as_string(hide_password=False)
    (outcome,) = validate_query(url, IGNORED_USER_ROWS, [gx.expectations.ExpectTableRowCountToEqual(value=0)])
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_of_ignored_users": int(outcome.result.get("observed_value", 0) or 0),
            "ignored_users_with_rows": dg.MetadataValue.json(ignored_users_with_rows(telegram.engine)),
        },
    )


@dg.asset_check(
    asset=clean_messages,
    blocking=True,
    description="Re-runs PII detection on the cleaned text of the run's partitions (all rows when run alone): no "
    "phone, email, card or IBAN left.",
)
def clean_messages_no_unmasked_pii(
    context: dg.AssetCheckExecutionContext, telegram: TelegramIntelResource
) -> dg.AssetCheckResult:
    window = run_window(context)
    rows, found, examples = unmasked_pii(telegram.engine, window)
    return dg.AssetCheckResult(
        passed=not found,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_checked": rows,
            "window": f"[{window[0].isoformat()}, {window[1].isoformat()})" if window else "all rows",
            "unmasked": dg.MetadataValue.json({t: found.get(t, 0) for t in CHECKED_PII}),
            "examples": dg.MetadataValue.json(json.loads(json.dumps(examples))),
        },
    )
