"""SQL behind the training assets, the retrain sensor and the ``reply`` command (no Dagster here).

Reads ``clean_messages`` (PII masked, people pseudonymized), resolves the owner, computes and compares data
watermarks, and keeps the registry tables ``sft_datasets``, ``persona_adapters`` and ``persona_evaluations``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.plots.training import line_chart_markdown, smooth
from telegram_intel.lib.report import CheckOutcome, Report
from telegram_intel.lib.sft import (
    ChatMessage,
    SftConfig,
    SplitRecords,
    Watermark,
    build_examples,
    write_dataset,
)

__all__ = [
    "OwnerNotFound",
    "count_messages_after",
    "current_watermark",
    "get_adapter",
    "get_dataset",
    "last_trained",
    "latest_adapter",
    "latest_dataset",
    "stale_adapter_awaiting_retrain",
    "load_clean_messages",
    "record_adapter",
    "record_dataset",
    "record_evaluation",
    "resolve_owner_ids",
]


class OwnerNotFound(ValueError):
    pass


def resolve_owner_ids(conn: Connection, owner: str | int) -> list[int]:
    """User ids for ``"me"`` (the export owner: ``telegram_users.is_owner``), ``account:<name>`` (one of several
    accounts, by its TELEGRAM_ACCOUNTS name), a numeric user id or an ``@username``. With several accounts in the
    store, "me" is ambiguous (a dataset speaks as one person): the error lists the accounts to choose from."""
    s = str(owner).strip()
    if s.lower().startswith("account:"):
        name = s.split(":", 1)[1].strip().lower()
        ids = conn.execute(sa.text("SELECT account_id FROM telegram_accounts WHERE name = :n"),
                           {"n": name}).scalars().all()
        if not ids:
            raise OwnerNotFound(f"no account named {name!r}: {_accounts(conn) or 'no named accounts are stored'}")
        return list(ids)
    if s.lower() in ("me", "owner", "self"):
        ids = conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE is_owner ORDER BY user_id")).scalars().all()
        if not ids:
            raise OwnerNotFound("no user is marked as the owner (is_owner): import a full-account export, or give "
                                "the owner's user id")
        if len(ids) > 1 and conn.execute(sa.text("SELECT count(*) FROM telegram_accounts")).scalar_one() > 1:
            raise OwnerNotFound(f"{len(ids)} of your accounts are stored; choose the one the dataset speaks as: "
                                f"{_accounts(conn)}")
        return list(ids)
    if re.fullmatch(r"-?\d+", s):
        return [int(s)]
    ids = conn.execute(sa.text("SELECT user_id FROM telegram_users WHERE lower(username) = lower(:u)"),
                       {"u": s.lstrip("@")}).scalars().all()
    if not ids:
        raise OwnerNotFound(f"no user matches {s!r}")
    return list(ids)


def _accounts(conn: Connection) -> str:
    rows = conn.execute(sa.text("SELECT account_id, name FROM telegram_accounts ORDER BY account_id")).all()
    return ", ".join(f"account:{name}" if name else str(aid) for aid, name in rows)


def load_clean_messages(conn: Connection, until: Watermark | None = None) -> list[ChatMessage]:
    """Every ``clean_messages`` row with text, up to and including ``until`` (all when None); opted-out users
    never appear (the corpus purges them)."""
    where, params = "c.text <> ''", {}
    if until is not None:
        where += " AND (c.date, c.chat_id, c.message_id) <= (:d, :c, :m)"
        params = {"d": until.date, "c": until.chat_id, "m": until.message_id}
    rows = conn.execution_options(stream_results=True, yield_per=20_000).execute(sa.text(
        "SELECT c.chat_id, c.message_id, c.date, c.sender_id, c.sender_pseudonym, c.reply_to_message_id, c.text, "
        "m.topic_id FROM clean_messages c LEFT JOIN telegram_messages m USING (chat_id, message_id) "
        f"WHERE {where} ORDER BY c.chat_id, c.date, c.message_id"
    ), params)
    return [ChatMessage(chat_id=r.chat_id, message_id=r.message_id, date=r.date, sender_id=r.sender_id,
                        text=r.text, speaker=r.sender_pseudonym, reply_to_message_id=r.reply_to_message_id,
                        topic_id=r.topic_id)
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
    """The newest adapter that is not stale (stale: trained on words of someone who opted out or was erased; its
    files are gone, see ``pipeline/privacy.py``)."""
    row = conn.execute(sa.text("SELECT * FROM persona_adapters WHERE stale_at IS NULL "
                               "ORDER BY created_at DESC, id DESC LIMIT 1")).first()
    return dict(row._mapping) if row is not None else None


def stale_adapter_awaiting_retrain(conn: Connection) -> dict[str, Any] | None:
    """The newest adapter when it is stale (no usable adapter made after it): the retrain sensor replaces it."""
    row = conn.execute(sa.text("SELECT * FROM persona_adapters ORDER BY created_at DESC, id DESC LIMIT 1")).first()
    return dict(row._mapping) if row is not None and row.stale_at is not None else None


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


# -- the work of the training assets ------------------------------------------------------------------------------

class TrainingError(RuntimeError):
    """A training step cannot run (no dataset, no examples, an unknown trainer): the message says what to do."""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:48] or "model"


def _cell(text: str, limit: int = 120) -> str:
    text = " ".join((text or "").split()).replace("|", "\\|")
    return (text[: limit - 1] + "…" if len(text) > limit else text) or "∅"


def opted_out_in_dataset(conn: Connection, records: list[dict[str, Any]]) -> list[int]:
    """Opted-out users (``telegram_users.is_ignored``) whose messages (a reply or a context message) are in
    ``records``; must be empty, since the corpus purges them before a dataset is built."""
    pairs = {pair for r in records for pair in record_message_ids(r)}
    if not pairs:
        return []
    chats, msgs = zip(*sorted(pairs))
    return list(conn.execute(sa.text(
        "SELECT DISTINCT u.user_id FROM unnest(CAST(:chats AS bigint[]), CAST(:msgs AS bigint[])) AS p(chat_id, "
        "message_id) JOIN telegram_messages m ON m.chat_id = p.chat_id AND m.message_id = p.message_id "
        "JOIN telegram_users u ON u.user_id = m.sender_id WHERE u.is_ignored ORDER BY u.user_id"
    ), {"chats": list(chats), "msgs": list(msgs)}).scalars())


def record_message_ids(record: dict[str, Any]) -> list[tuple[int, int]]:
    """(chat_id, message_id) of a record's reply (``id``) and context messages (``context_keys``)."""
    out = []
    for key in (record.get("id"), *(record.get("context_keys") or [])):
        chat, _, msg = str(key or "").rpartition(":")
        if chat and msg:
            out.append((int(chat), int(msg)))
    return out


def dataset_of_run(conn: Connection, run_id: str) -> dict | None:
    """The dataset a run wrote (the latest one when that run wrote none)."""
    row = conn.execute(sa.text("SELECT version FROM sft_datasets WHERE dagster_run_id = :r "
                               "ORDER BY created_at DESC LIMIT 1"), {"r": run_id}).scalar()
    return get_dataset(conn, row) if row else latest_dataset(conn)


def dataset_or_fail(conn: Connection, version: str | None) -> dict:
    dataset = get_dataset(conn, version) if version else latest_dataset(conn)
    if dataset is None:
        raise TrainingError(f"no SFT dataset {version or ''} recorded: materialize sft_dataset first")
    return dataset


def build_sft_dataset(engine: Engine, storage_dir: Path, *, owner: str, cfg: SftConfig, until: Watermark | None,
                      run_id: str | None, log: Callable[[str], None] = logging.getLogger(__name__).info
                      ) -> tuple[str, Report]:
    """The owner's replies as chat-format SFT examples under ``<storage>/datasets/<version>/`` (see
    ``lib.sft.build_examples``), recorded in ``sft_datasets``; returns the version and the report."""
    with engine.connect() as conn:
        try:
            owner_ids = resolve_owner_ids(conn, owner)
        except OwnerNotFound as exc:
            raise TrainingError(str(exc)) from exc
        messages = load_clean_messages(conn, until)
    started = time.perf_counter()
    examples = build_examples(messages, owner_ids, cfg)
    if not examples:
        raise TrainingError(f"no replies of {owner!r} with context in clean_messages (messages read: "
                            f"{len(messages)}); materialize clean_messages first")
    watermark = max(Watermark.of(m) for m in messages)
    fingerprint = hashlib.sha256(f"{cfg.fingerprint()}:{sorted(owner_ids)}".encode()).hexdigest()[:8]
    version = f"{watermark.key}-{fingerprint}"
    folder = storage_dir / "datasets" / version
    manifest = {"version": version, "watermark": watermark.key, "owner_ids": owner_ids,
                "config": json.loads(json.dumps(cfg.__dict__, default=list)), "format": "axolotl chat_template"}
    stats = write_dataset(folder, examples, manifest=manifest)
    record_dataset(engine, version=version, owner_ids=owner_ids, watermark=watermark, path=str(folder),
                   config=manifest["config"], stats=stats, run_id=run_id)
    log(f"{stats['examples']} examples ({stats['by_split']}) from {len(messages):,} clean messages in "
        f"{time.perf_counter() - started:.1f}s → {folder}")
    hist, ctx = stats["reply_chars_histogram"], stats["context_messages_distribution"]
    return version, Report(
        values={"version": version, "watermark": watermark.key, "path": str(folder), "examples": stats["examples"],
                "train_examples": stats["by_split"]["train"], "val_examples": stats["by_split"]["val"],
                "test_examples": stats["by_split"]["test"], "threads": stats["threads"],
                "explicit_replies": stats["explicit_replies"], "implicit_replies": stats["implicit_replies"],
                "avg_reply_chars": stats["avg_reply_chars"], "avg_context_chars": stats["avg_context_chars"],
                "avg_context_messages": stats["avg_context_messages"], "messages_read": len(messages)},
        json={"owner_ids": owner_ids, "threads_by_split": stats["threads_by_split"], "stats": stats},
        markdown={"reply_length_histogram": bar_chart_markdown(list(hist), list(hist.values()),
                                                               title="Owner replies by length (characters)"),
                  "context_length_histogram": bar_chart_markdown(list(ctx), list(ctx.values()),
                                                                 title="Examples by context messages")})


#: trainer name → (dataset folder, output folder, base model path, params) → (adapter folder, reported metrics)
ExternalTrainer = Callable[[Path, Path, str, Any], tuple[str, dict[str, Any]]]


def train_adapter(engine: Engine, storage_dir: Path, *, dataset_version: str | None, base_model: str, trainer: str,
                  params: Any, device: str, merge: bool, models_path: Path, run_id: str | None,
                  external: dict[str, ExternalTrainer] | None = None,
                  log: Callable[[str], None] = logging.getLogger(__name__).info) -> tuple[str, Report]:
    """Train a LoRA adapter on a recorded SFT dataset (peft here; other trainers, e.g. axolotl through Dagster
    Pipes, are handed in as ``external``), record it in ``persona_adapters``; returns the data version and report."""
    from telegram_intel.ml import lora

    with engine.connect() as conn:
        dataset = dataset_or_fail(conn, dataset_version)
    records = SplitRecords.load(Path(dataset["path"]))
    if not records.train:
        raise TrainingError(f"dataset {dataset['version']} has no training examples")
    corpus = [m["content"] for r in records.train for m in r["messages"]]
    base_name, base_path = lora.resolve_base_model(base_model, models_path, corpus=corpus, log=log)
    run_hash = hashlib.sha256(json.dumps([dataset["version"], base_path, trainer, params.__dict__], sort_keys=True,
                                         default=list).encode()).hexdigest()[:8]
    out_dir = storage_dir / "adapters" / dataset["watermark"] / f"{_slug(base_name)}-{run_hash}"
    out_dir.mkdir(parents=True, exist_ok=True)
    log(f"training {trainer} LoRA on {base_name} with {len(records.train)} examples of {dataset['version']} → {out_dir}")
    merged_dir = None
    if trainer == "peft" and trainer not in (external or {}):  # else peft runs through Dagster Pipes
        result = lora.train_lora(base_path, records.train, out_dir, params, val_records=records.val, device=device,
                                 merge=merge, log=log)
        adapter_dir, merged_dir = result.adapter_dir, result.merged_dir
        metrics = {"steps": result.steps, "losses": result.losses, "final_loss": result.losses[-1],
                   "val_loss": result.val_loss, "trainable_params": result.trainable_params,
                   "total_params": result.total_params, "tokens": result.tokens,
                   "tokens_per_second": round(result.tokens_per_second, 1), "train_seconds": round(result.seconds, 2),
                   "examples": result.examples}
    elif trainer in (external or {}):
        adapter_dir, reported = external[trainer](Path(dataset["path"]), out_dir, base_path, params)
        losses = list(reported.get("losses") or [])
        metrics = {"steps": len(losses), "losses": losses, "final_loss": losses[-1] if losses else None,
                   "val_loss": (reported.get("eval_losses") or [None])[-1],
                   "trainable_params": reported.get("trainable_params"), "total_params": reported.get("total_params"),
                   "samples_per_second": reported.get("train_samples_per_second"),
                   "train_seconds": reported.get("train_runtime") or reported.get("wall_seconds"),
                   "axolotl_config": reported.get("config_path"), "examples": len(records.train)}
    else:
        raise TrainingError(f"unknown trainer {trainer!r}: use peft or axolotl")
    metrics.update({"params": params.__dict__ | {"target_modules": list(params.target_modules)}, "trainer": trainer})
    adapter_id = record_adapter(engine, dataset=dataset, base_model=base_name, base_model_path=base_path,
                                trainer=trainer, path=str(adapter_dir), merged_path=merged_dir, metrics=metrics,
                                run_id=run_id)
    losses = metrics["losses"]
    trainable, total = metrics.get("trainable_params"), metrics.get("total_params")
    values = {
        "adapter_id": adapter_id, "path": str(adapter_dir), "base_model": base_name, "base_model_path": base_path,
        "dataset_version": dataset["version"], "watermark": dataset["watermark"], "trainer": trainer,
        "device": device, "steps": metrics["steps"], "final_loss": metrics["final_loss"],
        "val_loss": metrics["val_loss"], "trainable_params": trainable, "total_params": total,
        "trainable_percent": round(100.0 * trainable / total, 4) if trainable and total else None,
        "train_examples": len(records.train), "tokens_per_second": metrics.get("tokens_per_second"),
        "train_seconds": metrics.get("train_seconds") if "tokens_per_second" in metrics else None,
        "samples_per_second": metrics.get("samples_per_second"), "merged_path": merged_dir,
    }
    return f"{dataset['version']}:{adapter_id}", Report(
        values={k: v for k, v in values.items() if v is not None},
        json={"losses": losses, "lora": metrics["params"]},
        markdown={"loss_curve": line_chart_markdown({"loss": losses, "moving average (10)": smooth(losses)},
                                                    title="Training loss (reply tokens)")})


def evaluate_adapter(engine: Engine, *, adapter_id: int | None, split: str, max_examples: int, style_examples: int,
                     samples: int, max_new_tokens: int, max_seq_len: int, device: str, run_id: str | None,
                     log: Callable[[str], None] = logging.getLogger(__name__).info) -> Report:
    """Held-out perplexity of the owner's replies under the adapter and its base model, sample generations and a
    style score (see the ``persona_eval`` asset), recorded in ``persona_evaluations``. The report's check
    ``persona_eval_adapter_beats_base`` warns when the adapter does not lower perplexity."""
    from telegram_intel.lib.style import StyleClassifier, texts_by_author
    from telegram_intel.ml import lora

    with engine.connect() as conn:
        adapter = get_adapter(conn, adapter_id) if adapter_id else latest_adapter(conn)
        if adapter is None:
            raise TrainingError("no adapter recorded: materialize lora_adapter first")
        dataset = dataset_or_fail(conn, adapter["dataset_version"])
    records = SplitRecords.load(Path(dataset["path"]))
    held = getattr(records, split, None) or records.val or records.test
    if not held:
        raise TrainingError(f"dataset {dataset['version']} has no held-out examples")
    split = split if getattr(records, split, None) else ("val" if records.val else "test")
    held = held[:max_examples]
    tokenizer, model = lora.load_with_adapter(adapter["base_model_path"], adapter["path"], device)
    started = time.perf_counter()
    adapter_ppl, tokens = lora.reply_perplexity(model, tokenizer, held, max_len=max_seq_len)
    prompts = [r["messages"][:-1] for r in held[: max(style_examples, samples)]]
    gen_adapter = [lora.generate_reply(model, tokenizer, p, max_new_tokens=max_new_tokens) for p in prompts]
    with model.disable_adapter():
        base_ppl, _ = lora.reply_perplexity(model, tokenizer, held, max_len=max_seq_len)
        gen_base = [lora.generate_reply(model, tokenizer, p, max_new_tokens=max_new_tokens) for p in prompts]
    owner_train, others_train = texts_by_author(records.train)
    owner_held, others_held = texts_by_author(held)
    classifier = StyleClassifier().fit(owner_train, others_train)
    real = [r["messages"][-1]["content"] for r in held[: len(prompts)]]
    style_adapter, style_base = classifier.score(gen_adapter), classifier.score(gen_base)
    style_real = classifier.score(real)
    accuracy = classifier.accuracy(owner_held, others_held)
    seconds = time.perf_counter() - started
    better = adapter_ppl < base_ppl
    rows = ["| context (last turn) | real reply | base | adapter |", "|---|---|---|---|"]
    for p, r, b, a in list(zip(prompts, real, gen_base, gen_adapter))[:samples]:
        rows.append(f"| {_cell(p[-1]['content'], 80)} | {_cell(r)} | {_cell(b)} | {_cell(a)} |")
    metrics = {"reply_tokens": tokens, "style_score_real_replies": style_real, "style_classifier_accuracy": accuracy,
               "generations": [{"real": r, "base": b, "adapter": a} for r, b, a in zip(real, gen_base, gen_adapter)],
               "seconds": round(seconds, 2)}
    eval_id = record_evaluation(engine, adapter_id=adapter["id"], split=split, examples=len(held), base_ppl=base_ppl,
                                adapter_ppl=adapter_ppl, style_adapter=style_adapter, style_base=style_base,
                                metrics=metrics, run_id=run_id)
    log(f"perplexity base {base_ppl:.2f} → adapter {adapter_ppl:.2f}; style P(owner) base {style_base:.3f} → "
        f"adapter {style_adapter:.3f} (real replies {style_real:.3f})")
    ppl = {"base_perplexity": round(base_ppl, 4), "adapter_perplexity": round(adapter_ppl, 4),
           "held_out_examples": len(held), "split": split}
    values = {"evaluation_id": eval_id, "adapter_id": adapter["id"], "base_model": adapter["base_model"],
              "dataset_version": dataset["version"], **ppl,
              "perplexity_ratio": round(adapter_ppl / base_ppl, 4) if base_ppl else None, "reply_tokens": tokens,
              "style_score_adapter": round(style_adapter, 4), "style_score_base": round(style_base, 4),
              "style_score_real_replies": round(style_real, 4),
              "style_classifier_accuracy": round(accuracy, 4) if accuracy is not None else None,
              "eval_seconds": round(seconds, 2)}
    return Report(values={k: v for k, v in values.items() if v is not None},
                  json={"style_classifier_train_texts": {"owner": len(owner_train), "others": len(others_train)}},
                  markdown={"sample_generations": "\n".join(rows)},
                  checks={"persona_eval_adapter_beats_base": CheckOutcome(
                      better, {**ppl, "adapter_better": better}, warn_only=True)})
