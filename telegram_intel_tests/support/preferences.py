"""Helpers for the preference-training tests: feedback rows written into the bot's ``persona_feedback`` table
(migration 0015_bots) with SQL, as the bot writes them (prompt = the chat messages the model saw, reply,
rating ±1, correction)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa


def insert_feedback(engine, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert feedback rows (``bot_user_id``, ``prompt``, ``reply``, ``rating``, optional ``correction``,
    ``persona``, ``adapter``); returns their ids."""
    ids = []
    with engine.begin() as conn:
        for r in rows:
            ids.append(conn.execute(sa.text(
                "INSERT INTO persona_feedback (persona, bot_user_id, prompt, reply, rating, correction, adapter) "
                "VALUES (:persona, :u, CAST(:prompt AS jsonb), :reply, :rating, :correction, :adapter) RETURNING id"
            ), {"persona": r.get("persona", "owner"), "u": r["bot_user_id"], "prompt": json.dumps(r["prompt"]),
                "reply": r["reply"], "rating": r["rating"], "correction": r.get("correction"),
                "adapter": r.get("adapter")}).scalar_one())
    return ids


def chat(*turns: str, system: str = "You are the account owner.") -> list[dict[str, str]]:
    """A prompt: the system message, then alternating user / assistant turns ending with the user's."""
    roles = ["user", "assistant"]
    return [{"role": "system", "content": system}] + [{"role": roles[i % 2], "content": t}
                                                       for i, t in enumerate(turns)]
