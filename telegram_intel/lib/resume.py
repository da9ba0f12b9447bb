"""Resume points of a streamed source: where a long import can pick up again after an interruption.

A resumable source (``export_parser.iter_export(..., checkpoints=True)``) yields a ``ResumePoint`` among its
records now and then: every message record yielded before it lies before ``offset``, so reading again from the
point (``iter_export(..., resume=point.position)``) yields every message after it, and none of those before it.
The writer commits the latest point with each message batch (``db.loader.TelegramWriter``); the ingest resumes an
interrupted run from the last point below which every batch committed (``pipeline.ingest``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """``offset``: the byte offset reading resumes at; ``position``: what the source needs to resume there (plain
    JSON values: it is stored with the checkpoint); ``messages_before``: message elements of the source before
    ``offset`` (what a resumed run does not read again)."""

    offset: int
    position: dict[str, Any]
    messages_before: int
