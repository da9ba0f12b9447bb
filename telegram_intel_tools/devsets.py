"""The development sets (``telegram_intel_tests/data/devsets/``) and their visible / unseen split.

The sets were written for this purpose from the label definitions alone (by writers who did not see the taxonomy,
keyword lists, training data or sample generator). Each item falls into the *visible* part (about 60 %: used while
developing and choosing parameters) or the *unseen* part (about 40 %: scored only to report) by a hash of its id or
text, so the split never changes when items are added.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

DEVSETS = Path(__file__).resolve().parent.parent / "telegram_intel_tests" / "data" / "devsets"
PARTS = ("visible", "unseen", "all")


def part_of(key: str) -> str:
    return "visible" if int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 5 < 3 else "unseen"


def load(name: str, part: str = "visible", *, key: str = "id") -> list[dict[str, Any]]:
    """Rows of ``<name>/dev.jsonl`` in ``part`` (``visible``, ``unseen`` or ``all``)."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    path = DEVSETS / name / "dev.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if part == "all" or part_of(str(r.get(key) or r.get("text"))) == part]
