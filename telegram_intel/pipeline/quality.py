"""Great Expectations 1.x validations run in SQL against the project database."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

TELEGRAM_EPOCH = datetime(2013, 8, 1, tzinfo=timezone.utc)  # Telegram launched in August 2013


@dataclass
class Outcome:
    expectation: str
    success: bool
    result: dict[str, Any]


def validate_query(database_url: str, query: str, expectations: list) -> list[Outcome]:
    """Validate the rows of ``query`` (a SELECT) with the given GX expectations."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    ds = ctx.data_sources.add_sql(name="telegram_intel", connection_string=database_url)
    batch = ds.add_query_asset(name="rows", query=query).add_batch_definition_whole_table("all").get_batch()
    outcomes = []
    for exp in expectations:
        res = batch.validate(exp)
        outcomes.append(Outcome(type(exp).__name__, bool(res.success), dict(res.result)))
    return outcomes


def message_expectations() -> list:
    import great_expectations as gx

    latest = datetime.now(timezone.utc) + timedelta(days=1)
    return [
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["chat_id", "message_id"]),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="chat_id"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="message_id"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="date"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="date", min_value=TELEGRAM_EPOCH, max_value=latest),
        gx.expectations.ExpectColumnValuesToBeInSet(column="kind", value_set=["message", "service"]),
    ]


def user_expectations() -> list:
    import great_expectations as gx

    return [
        gx.expectations.ExpectColumnValuesToBeUnique(column="user_id"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="user_id"),
    ]


def chat_expectations() -> list:
    import great_expectations as gx

    from telegram_intel.lib.records import CHAT_TYPES

    return [
        gx.expectations.ExpectColumnValuesToBeUnique(column="chat_id"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="chat_id"),
        gx.expectations.ExpectColumnValuesToBeInSet(column="type", value_set=list(CHAT_TYPES)),
    ]
