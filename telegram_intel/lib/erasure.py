"""References to an erased person inside other people's messages: reactions they left (``recent`` entries of the
export's ``reactions``, which carry their name and ``from_id``) and ids in text entities. Used when a person is
forgotten (``pipeline/privacy.py``) and on every later import (``db/loader.py``), so a re-imported export does not
bring their name back through someone else's message. Names written in other people's text are those people's
words and stay."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

__all__ = ["names_erased", "scrub_erased"]


def _peer_ids(value: Any) -> set[int]:
    """The user ids a ``from_id`` / ``user_id`` / ``peer_id`` value names (``"user123"``, ``123``, ``"123"``)."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        return {value}
    if isinstance(value, str):
        s = value[4:] if value.startswith("user") else value
        if s.lstrip("-").isdigit():
            return {int(s)}
    return set()


def _names(item: dict[str, Any], erased: Collection[int]) -> bool:
    return any(_peer_ids(item.get(key)) & set(erased) for key in ("from_id", "peer_id"))


def scrub_erased(value: Any, erased: Collection[int]) -> tuple[Any, int]:
    """A copy of ``value`` (JSON-like) without what names an erased id: list items that are objects whose
    ``from_id`` / ``peer_id`` is erased are dropped (an object with a ``count`` beside such a list counts them out),
    and a ``user_id`` of an erased id is removed from the object holding it. Returns (value, references removed)."""
    if not erased:
        return value, 0
    if isinstance(value, list):
        out, removed = [], 0
        for item in value:
            if isinstance(item, dict) and _names(item, erased):
                removed += 1
                continue
            item, n = scrub_erased(item, erased)
            removed += n
            out.append(item)
        return out, removed
    if isinstance(value, dict):
        out, removed, dropped = {}, 0, 0
        for key, item in value.items():
            if key == "user_id" and _peer_ids(item) & set(erased):
                removed += 1
                continue
            new, n = scrub_erased(item, erased)
            if n and isinstance(item, list):
                dropped += len(item) - len(new)
            removed += n
            out[key] = new
        if dropped and isinstance(value.get("count"), int) and not isinstance(value.get("count"), bool):
            out["count"] = max(0, value["count"] - dropped)
        return out, removed
    return value, 0


def names_erased(value: Any, erased: Collection[int]) -> bool:
    """Whether ``value`` holds a reference ``scrub_erased`` would remove."""
    return bool(erased) and scrub_erased(value, erased)[1] > 0
