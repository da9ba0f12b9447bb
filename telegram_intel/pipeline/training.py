"""SQL behind the training assets, the retrain sensor and the ``reply`` command (no Dagster here).

Reads ``clean_messages`` (PII masked, people pseudonymized), resolves the owner, computes and compares data
watermarks, and keeps the registry tables ``sft_datasets``, ``persona_adapters`` and ``persona_evaluations``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from telegram_intel.lib.sft import ChatMessage, Watermark

__all__ = [
    "OwnerNotFound",
    "count_messages_after",
    "current_watermark",
    "get_adapter",
    "get_dataset",
    "last_trained",
    "latest_adapter",
    "latest_dataset",
    "load_clean_messages",
    "record_adapter",
    "record_dataset",
    "record_evaluation",
    "resolve_owner_ids",
]


class OwnerNotFound(ValueError):
    pass


def resolve_owner_ids(conn: Connection, owner: str | int) -> list[int]:
    """User ids for ``"me"`` (the export owner: ``telegram_users.is_owner``), a numeric user id or an
    ``@username``."""
    s = str(owner).strip()
    if s.lower() in ("me", "owner", "self"):
        ids = conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE is_owner ORDER BY user_id")).scalars().all()
        if not ids:
            raise OwnerNotFound("no user is marked as the owner (is_owner): import a full-account export, or give "
                                "the owner's user id")
        return list(ids)
    if re.fullmatch(r"-?\d+", s):
        return [int(s)]
    ids = conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE lower(username) = lower(:u)"),
                       {"u": s.lstrip("@")}).scalars().all()
    if not ids:
        raise OwnerNotFound(f"no user matches {s!r}")
    return list(ids)


def load_clean_messages(conn: Connection, until: Watermark | None = None) -> list[ChatMessage]:
    """Every ``clean_messages`` row with text, up to and including ``until`` (all when None); opted-out users
    never appear (the corpus purges them)."""
    where, params = "c.text <> ''", {}
    if until is not None:
        where += " AND (c.date, c.chat_id, c.message_id) <= (:d, :c, :m)"
        params = {"d": until.date, "c": until.chat_id, "m": until.message_id}
    rows = conn.execution_options(stream_results=True, yield_per=20_000).execute(sa.text(
        "SELECT c.chat_id, c.message_id, c.date, c.sender_id, c.sender_pseudonym, c.reply_to_message_id, c.text "
        f"FROM clean_messages c WHERE {where} ORDER BY c.chat_id, c.date, c.message_id"
    ), params)
    return [ChatMessage(chat_id=r.chat_id, message_id=r.message_id, date=r.date, sender_id=r.sender_id,
                        text=r.text, speaker=r.sender_pseudonym, reply_to_message_id=r.reply_to_message_id)
            for r in rows]


# -- watermarks ------------------------------------------------------------------------------------------------

_NEW = "FROM telegram_messages WHERE kind <> 'service'"


def current_watermark(conn: Connection) -> Watermark | None:
    """The newest non-service message (its ``(date, chat_id, message_id)``); an index-only scan of
    ``ix_telegram_messages_watermark``."""
    row = conn.execute(sa.text(
        f"SELECT date, chat_id, message_id {_NEW} ORDER BY date DESC, chat_id DESC, message_id DESC LIMIT 1"
    )).first()
    return Watermark(row.date.replace(microsecond=0), row.chat_id, row.message_id) if row else None


def count_messages_after(conn: Connection, watermark: Watermark | None, *, limit: int | None = None) -> int:
    """Non-service messages newer than ``watermark`` (all when None), counted up to ``limit`` at most: the sensor
    only needs to know whether the threshold is reached, so a large backlog costs no more than the threshold."""
    where, params = "", {}
    if watermark is not None:
        where = " AND (date, chat_id, message_id) > (:d, :c, :m)"
        params = {"d": watermark.date, "c": watermark.chat_id, "m": watermark.message_id}
    inner = f"SELECT 1 {_NEW}{where}" + (f" LIMIT {int(limit)}" if limit is not None else "")
    return int(conn.execute(sa.text(f"SELECT count(*) FROM ({inner}) AS n"), params).scalar_one())


def last_trained(conn: Connection) -> tuple[Watermark, datetime] | None:
    """The watermark of the newest-data adapter and when that adapter was made."""
    row = conn.execute(sa.text(
        "SELECT watermark_date, watermark_chat_id, watermark_message_id, created_at FROM persona_adapters "
        "WHERE watermark_date IS NOT NULL "
        "ORDER BY watermark_date DESC, watermark_chat_id DESC, watermark_message_id DESC, created_at DESC LIMIT 1"
    )).first()
    if row is None:
        return None
    return Watermark(row.watermark_date, row.watermark_chat_id, row.watermark_message_id), row.created_at


# -- registry --------------------------------------------------------------------------------------------------


def _wm_cols(wm: Watermark | None) -> dict[str, Any]:
    return {"watermark": wm.key if wm else "empty", "watermark_date": wm.date if wm else None,
            "watermark_chat_id": wm.chat_id if wm else None, "watermark_message_id": wm.message_id if wm else None}


def record_dataset(engine: Engine, *, version: str, owner_ids: list[int], watermark: Watermark | None, path: str,
                   config: dict, stats: dict, run_id: str | None) -> None:
    from psycopg.types.json import Jsonb

    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO sft_datasets (version, owner_ids, watermark, watermark_date, watermark_chat_id, "
            "watermark_message_id, path, config, stats, examples, dagster_run_id) VALUES (:version, :owner_ids, "
            ":watermark, :watermark_date, :watermark_chat_id, :watermark_message_id, :path, :config, :stats, "
            ":examples, :run_id) ON CONFLICT (version) DO UPDATE SET path = EXCLUDED.path, stats = EXCLUDED.stats, "
            "examples = EXCLUDED.examples, dagster_run_id = EXCLUDED.dagster_run_id, created_at = now()"
        ), {"version": version, "owner_ids": Jsonb(owner_ids), **_wm_cols(watermark), "path": path,
            "config": Jsonb(config), "stats": Jsonb(stats), "examples": int(stats.get("examples", 0)),
            "run_id": run_id})


def _dataset(row) -> dict[str, Any] | None:
    return dict(row._mapping) if row is not None else None


def latest_dataset(conn: Connection) -> dict[str, Any] | None:
    return _dataset(conn.execute(sa.text("SELECT * FROM sft_datasets ORDER BY created_at DESC LIMIT 1")).first())


def get_dataset(conn: Connection, version: str) -> dict[str, Any] | None:
    return _dataset(conn.execute(sa.text("SELECT * FROM sft_datasets WHERE version = :v"), {"v": version}).first())


def record_adapter(engine: Engine, *, dataset: dict[str, Any], base_model: str, base_model_path: str, trainer: str,
                   path: str, merged_path: str | None, metrics: dict, run_id: str | None) -> int:
    from psycopg.types.json import Jsonb

    with engine.begin() as conn:
        return int(conn.execute(sa.text(
            "INSERT INTO persona_adapters (dataset_version, watermark, watermark_date, watermark_chat_id, "
            "watermark_message_id, base_model, base_model_path, trainer, path, merged_path, metrics, dagster_run_id) "
            "VALUES (:dv, :watermark, :watermark_date, :watermark_chat_id, :watermark_message_id, :bm, :bmp, :tr, "
            ":path, :merged, :metrics, :run_id) RETURNING id"
        ), {"dv": dataset["version"], "watermark": dataset["watermark"], "watermark_date": dataset["watermark_date"],
            "watermark_chat_id": dataset["watermark_chat_id"],
            "watermark_message_id": dataset["watermark_message_id"], "bm": base_model, "bmp": base_model_path,
            "tr": trainer, "path": path, "merged": merged_path, "metrics": Jsonb(metrics), "run_id": run_id}
        ).scalar_one())


def latest_adapter(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(sa.text("SELECT * FROM persona_adapters ORDER BY created_at DESC, id DESC LIMIT 1")).first()
    return dict(row._mapping) if row is not None else None


def get_adapter(conn: Connection, adapter_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.text("SELECT * FROM persona_adapters WHERE id = :i"), {"i": adapter_id}).first()
    return dict(row._mapping) if row is not None else None


def record_evaluation(engine: Engine, *, adapter_id: int, split: str, examples: int, base_ppl: float,
                      adapter_ppl: float, style_adapter: float | None, style_base: float | None, metrics: dict,
                      run_id: str | None) -> int:
    from psycopg.types.json import Jsonb

    with engine.begin() as conn:
        return int(conn.execute(sa.text(
            "INSERT INTO persona_evaluations (adapter_id, split, examples, base_perplexity, adapter_perplexity, "
            "style_score_adapter, style_score_base, metrics, dagster_run_id) VALUES (:a, :s, :n, :bp, :ap, :sa, "
            ":sb, :m, :r) RETURNING id"
        ), {"a": adapter_id, "s": split, "n": examples, "bp": base_ppl, "ap": adapter_ppl, "sa": style_adapter,
            "sb": style_base, "m": Jsonb(metrics), "r": run_id}).scalar_one())
