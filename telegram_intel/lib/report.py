"""What a unit of work reports back: plain values the orchestrator shows as metadata, and check outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CheckOutcome:
    passed: bool
    metadata: dict[str, Any] = field(default_factory=dict)
    warn_only: bool = False  # a failure is a warning, not an error


@dataclass
class Report:
    """``values``: numbers and strings; ``markdown``: tables and charts (Markdown, PNGs inline); ``json``: nested
    structures; ``checks``: outcomes of the asset's own checks by check name."""

    values: dict[str, Any] = field(default_factory=dict)
    markdown: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, CheckOutcome] = field(default_factory=dict)
