"""Checks of the rows a partition holds; the assets run them right after writing (``check_specs``), so each
result is about the partition just materialized (the SQL is in ``pipeline/labels.py``)."""

from __future__ import annotations

import dagster as dg

from telegram_intel.lib.summaries import MAX_KEYWORDS, MIN_KEYWORDS
from telegram_intel.pipeline.labels import CONFIDENCE_TOLERANCE

INTENT_LABELS_KEY = dg.AssetKey("intent_labels")
MESSAGE_SUMMARIES_KEY = dg.AssetKey("message_summaries")

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
