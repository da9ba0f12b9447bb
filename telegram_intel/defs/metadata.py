"""Metadata values for asset materializations built from the work layer's plain results."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.report import Report

DEFAULT_WEB_URL = "http://127.0.0.1:8765"


def as_json(value: Any) -> dg.MetadataValue:
    return dg.MetadataValue.json(value)


def bar_chart(pairs: Sequence[tuple[str, float]], title: str) -> dg.MetadataValue:
    """A bar chart (PNG in Markdown) of ``(label, value)`` pairs."""
    return dg.MetadataValue.md(bar_chart_markdown([str(k) for k, _ in pairs], [v for _, v in pairs], title=title))


def web_ui_url(path: str, base: str | None = None) -> dg.MetadataValue:
    """A link into the contacts web UI (``base``, else $TELEGRAM_INTEL_WEB_URL, else the default local port)."""
    root = (base or os.environ.get("TELEGRAM_INTEL_WEB_URL") or DEFAULT_WEB_URL).rstrip("/")
    return dg.MetadataValue.url(f"{root}{path}")


def prefixed(counts: Mapping[str, int], prefix: str) -> dict[str, int]:
    """The entries of ``counts`` whose key starts with ``prefix``, without it."""
    return {k[len(prefix):]: v for k, v in counts.items() if k.startswith(prefix)}


def materialize_result(report: Report, *, asset_key: dg.AssetKey | None = None, data_version: str | None = None,
                       **extra: Any) -> dg.MaterializeResult:
    """A work-layer ``Report`` as a ``MaterializeResult`` (its checks as ``AssetCheckResult``s); ``extra`` adds or
    overrides metadata entries."""
    metadata: dict[str, Any] = dict(report.values)
    metadata.update({k: dg.MetadataValue.md(v) for k, v in report.markdown.items()})
    metadata.update({k: dg.MetadataValue.json(v) for k, v in report.json.items()})
    metadata.update(extra)
    checks = [dg.AssetCheckResult(
        check_name=name, passed=bool(c.passed), metadata=c.metadata,
        severity=dg.AssetCheckSeverity.WARN if c.warn_only else dg.AssetCheckSeverity.ERROR)
        for name, c in report.checks.items()]
    return dg.MaterializeResult(asset_key=asset_key, metadata=metadata, check_results=checks or None,
                                data_version=dg.DataVersion(data_version) if data_version else None)
