"""Great Expectations 1.x validations run in SQL against the project database."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any


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
