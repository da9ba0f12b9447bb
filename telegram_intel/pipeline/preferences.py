"""Preference training from the persona bot's feedback (seed 003, phase 9); the work behind ``preference_dataset``,
``dpo_adapter``, the comparison part of ``persona_eval`` and ``preference_training_sensor`` (no Dagster here).

* Feedback: ``persona_feedback`` rows (written by the bot, migration 0015_bots): prompt, generated reply, rating
  ±1, optional correction. Rows of people who opted out (``telegram_users.is_ignored``) or were erased
  (``erased_users``) are never read.
* Dataset: ``<storage>/preferences/<version>/{pairs,ratings}.{train,test}.jsonl`` + ``manifest.json`` (no table:
  the manifests are the registry, like the adapter folders); version ``fb<newest feedback id>-<settings hash>``.
* Adapter: a ``persona_adapters`` row with ``trainer`` ``dpo`` / ``kto``, the parent's SFT dataset and watermark
  (so the privacy scrub that stales the parent stales it too) and ``metrics.parent_adapter_id``; files under
  ``<storage>/adapters/<watermark>/<method>-p<parent>-<hash>/`` with a ``manifest.json`` (parent, pairs digest,
  metrics). ``latest_adapter`` — the bot's and ``reply``'s adapter — is then the preference-trained one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.plots.training import line_chart_markdown
from telegram_intel.lib.preferences import (
    DPO,
    KTO,
    FeedbackRow,
    PreferenceConfig,
    blind_ab,
    build_preferences,
    choose_method,
    dataset_digest,
)
from telegram_intel.lib.report import Report
from telegram_intel.lib.sft import SplitRecords, read_jsonl
from telegram_intel.pipeline import training

__all__ = [
    "PREFERENCE_TRAINERS",
    "PreferenceError",
    "build_preference_dataset",
    "compare_with_previous",
    "count_feedback_after",
    "last_trained_feedback_id",
    "latest_sft_adapter",
    "load_feedback",
    "newest_feedback_id",
    "scrub_preference_data",
    "train_preference_adapter",
]

log_ = logging.getLogger(__name__)

PREFERENCE_TRAINERS = (DPO, KTO)
FILES = {"pairs": ("pairs.train.jsonl", "pairs.test.jsonl"), "ratings": ("ratings.train.jsonl", "ratings.test.jsonl")}


class PreferenceError(RuntimeError):
    """A preference step cannot run (no feedback table, too little feedback, no adapter to start from)."""


# -- feedback --------------------------------------------------------------------------------------------------

_ALLOWED = ("NOT EXISTS (SELECT 1 FROM erased_users e WHERE e.user_id = f.bot_user_id) AND NOT EXISTS (SELECT 1 "
            "FROM telegram_users u WHERE u.user_id = f.bot_user_id AND u.is_ignored)")


def _require_table(conn: Connection) -> None:
    if conn.execute(sa.text("SELECT to_regclass('persona_feedback')")).scalar() is None:
        raise PreferenceError("table persona_feedback does not exist: upgrade the database (migration 0015_bots), "
                              "and collect 👍/👎 feedback with the persona bot")


def load_feedback(conn: Connection, until_id: int | None = None) -> tuple[list[FeedbackRow], int]:
    """(feedback rows up to ``until_id`` (all when None) of people who may be used, rows left out because their
    person opted out or was erased)."""
    _require_table(conn)
    cap = "f.id <= :until" if until_id is not None else "TRUE"
    params = {"until": until_id}
    rows = conn.execute(sa.text(
        "SELECT f.id, f.persona, f.bot_user_id, f.prompt, f.reply, f.rating, f.correction, f.adapter, f.created_at "
        f"FROM persona_feedback f WHERE {cap} AND {_ALLOWED} ORDER BY f.id"), params).all()
    excluded = conn.execute(sa.text(f"SELECT count(*) FROM persona_feedback f WHERE {cap} AND NOT ({_ALLOWED})"),
                            params).scalar_one()
    return [FeedbackRow(id=r.id, persona=r.persona, bot_user_id=r.bot_user_id, prompt=r.prompt, reply=r.reply,
                        rating=int(r.rating), correction=r.correction, adapter=r.adapter, created_at=r.created_at)
            for r in rows], int(excluded)


def newest_feedback_id(conn: Connection) -> int | None:
    _require_table(conn)
    return conn.execute(sa.text("SELECT max(id) FROM persona_feedback")).scalar()


def count_feedback_after(conn: Connection, after_id: int | None, *, limit: int | None = None) -> int:
    """Feedback rows newer than ``after_id`` (all when None), counted up to ``limit`` (a primary-key range scan)."""
    _require_table(conn)
    inner = "SELECT 1 FROM persona_feedback WHERE id > :a" + (f" LIMIT {int(limit)}" if limit is not None else "")
    return int(conn.execute(sa.text(f"SELECT count(*) FROM ({inner}) AS n"), {"a": after_id or 0}).scalar_one())


def last_trained_feedback_id(conn: Connection) -> int | None:
    """The newest feedback id any preference adapter was trained with (stale ones included: that feedback was
    used, a replacement needs new feedback or a new SFT adapter)."""
    return conn.execute(sa.text(
        "SELECT max((metrics->>'feedback_watermark')::bigint) FROM persona_adapters WHERE trainer IN ('dpo', 'kto')"
    )).scalar()


def latest_sft_adapter(conn: Connection) -> dict[str, Any] | None:
    """The newest usable adapter trained on the SFT data (the one preference training starts from)."""
    row = conn.execute(sa.text(
        "SELECT * FROM persona_adapters WHERE stale_at IS NULL AND trainer NOT IN ('dpo', 'kto') "
        "ORDER BY created_at DESC, id DESC LIMIT 1")).first()
    return dict(row._mapping) if row is not None else None


def preference_adapter_of(conn: Connection, parent_id: int) -> dict[str, Any] | None:
    """The newest preference adapter trained from ``parent_id``."""
    row = conn.execute(sa.text(
        "SELECT * FROM persona_adapters WHERE trainer IN ('dpo', 'kto') AND (metrics->>'parent_adapter_id')::bigint "
        "= :p ORDER BY created_at DESC, id DESC LIMIT 1"), {"p": parent_id}).first()
    return dict(row._mapping) if row is not None else None


# -- the dataset -------------------------------------------------------------------------------------------------


def _manifests(storage_dir: Path) -> list[dict[str, Any]]:
    out = []
    for path in (Path(storage_dir) / "preferences").glob("*/manifest.json"):
        try:
            out.append({**json.loads(path.read_text(encoding="utf-8")), "path": str(path.parent)})
        except (OSError, json.JSONDecodeError):
            continue  # a half-written folder is not a dataset
    return sorted(out, key=lambda m: m.get("created_at", ""))


def get_preference_dataset(storage_dir: Path, version: str | None = None, *,
                           run_id: str | None = None) -> dict[str, Any] | None:
    """The manifest (with ``path``) of ``version``, else of the dataset ``run_id`` wrote, else the newest one."""
    manifests = _manifests(storage_dir)
    if version:
        return next((m for m in manifests if m.get("version") == version), None)
    if run_id:
        mine = [m for m in manifests if m.get("dagster_run_id") == run_id]
        if mine:
            return mine[-1]
    return manifests[-1] if manifests else None


def load_records(folder: Path, kind: str) -> dict[str, list[dict[str, Any]]]:
    """``{"train": [...], "test": [...]}`` of ``pairs`` or ``ratings``."""
    train, test = (Path(folder) / name for name in FILES[kind])
    return {"train": read_jsonl(train) if train.exists() else [], "test": read_jsonl(test) if test.exists() else []}


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return {"lines": len(records), "sha256": hashlib.sha256(text.encode()).hexdigest()}


def build_preference_dataset(engine: Engine, storage_dir: Path, *, cfg: PreferenceConfig, until_id: int | None,
                             run_id: str | None, log: Callable[[str], None] = log_.info) -> tuple[str, Report]:
    """Pairs and ratings from ``persona_feedback`` (see ``lib.preferences``) under
    ``<storage>/preferences/<version>/``; returns the version and the report."""
    started = time.perf_counter()
    with engine.connect() as conn:
        # the newest id read, counting left-out rows, is the watermark the sensor compares against
        cap = until_id if until_id is not None else newest_feedback_id(conn)
        rows, excluded = load_feedback(conn, cap if cap is not None else 0)
    if not rows:
        raise PreferenceError(f"no usable feedback in persona_feedback{f' up to id {until_id}' if until_id else ''} "
                              f"({excluded} rows of opted-out or erased people left out): rate persona replies "
                              "with 👍/👎 in the bot first")
    prefs = build_preferences(rows, cfg)
    stats = {**prefs.stats, "excluded_opted_out_or_erased": excluded}
    method = choose_method(len(prefs.pairs["train"]), len(prefs.ratings["train"]), cfg.min_pairs)
    if method is None:
        raise PreferenceError(f"too little feedback to train on: {stats['pairs_by_split']} pairs and "
                              f"{stats['ratings_by_split']} rated replies by split (invalid rows: "
                              f"{stats['invalid_rows']}); DPO needs {cfg.min_pairs} training pairs, KTO 2 ratings")
    watermark = int(cap)
    version = f"fb{watermark:08d}-{cfg.fingerprint()}"
    folder = Path(storage_dir) / "preferences" / version
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for kind, split_sets in (("pairs", prefs.pairs), ("ratings", prefs.ratings)):
        for split, name in zip(("train", "test"), FILES[kind]):
            files[name] = _write_jsonl(folder / name, split_sets[split])
    trained = prefs.pairs["train"] if method == DPO else prefs.ratings["train"]
    manifest = {
        "version": version, "method": method, "feedback_watermark": watermark, "config": cfg.__dict__,
        "stats": stats, "files": files, "train_digest": dataset_digest(trained),
        # ids only: lets a privacy scrub find the datasets (and adapters) that used a person's feedback
        "bot_user_ids": sorted({r.bot_user_id for r in rows}),
        "created_at": datetime.now(timezone.utc).isoformat(), "dagster_run_id": run_id,
        "format": "TRL conversational: pairs = prompt/chosen/rejected (DPO), ratings = prompt/completion/label (KTO)",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    log(f"{len(rows)} feedback rows → {stats['pairs_by_split']} pairs, {stats['ratings_by_split']} ratings; "
        f"method {method} → {folder}")
    counts = {"liked": stats["thumbs_up"], "disliked": stats["thumbs_down"], "corrections": stats["corrections"],
              "pairs": sum(stats["pairs_by_split"].values()), "invalid": stats["invalid_rows"],
              "excluded (privacy)": excluded}
    return version, Report(
        values={"version": version, "path": str(folder), "method": method, "feedback_watermark": watermark,
                "feedback_rows": len(rows), "excluded_opted_out_or_erased": excluded,
                "invalid_rows": stats["invalid_rows"], "thumbs_up": stats["thumbs_up"],
                "thumbs_down": stats["thumbs_down"], "corrections": stats["corrections"],
                "train_pairs": stats["pairs_by_split"]["train"], "test_pairs": stats["pairs_by_split"]["test"],
                "train_ratings": stats["ratings_by_split"]["train"], "test_ratings": stats["ratings_by_split"]["test"],
                "pairs_from_corrections": stats["pairs_from_corrections"],
                "pairs_from_ratings": stats["pairs_from_ratings"], "conversations": stats["conversations"],
                "train_digest": manifest["train_digest"], "seconds": round(time.perf_counter() - started, 3)},
        json={"stats": stats, "files": files},
        markdown={"feedback": bar_chart_markdown(list(counts), list(counts.values()), title="Feedback used")})


# -- the adapter -------------------------------------------------------------------------------------------------


def train_preference_adapter(engine: Engine, storage_dir: Path, *, dataset_version: str | None,
                             parent_adapter_id: int | None, params: Any, device: str, run_id: str | None,
                             log: Callable[[str], None] = log_.info) -> tuple[str, Report]:
    """DPO (pairs) or KTO (ratings), as the dataset chose, on top of the newest SFT adapter (or
    ``parent_adapter_id``); recorded in ``persona_adapters``; returns the data version and the report."""
    from telegram_intel.ml import dpo

    manifest = get_preference_dataset(storage_dir, dataset_version, run_id=None if dataset_version else run_id)
    if manifest is None:
        raise PreferenceError(f"no preference dataset {dataset_version or ''} under {storage_dir}/preferences: "
                              "materialize preference_dataset first")
    with engine.connect() as conn:
        parent = training.get_adapter(conn, parent_adapter_id) if parent_adapter_id else latest_sft_adapter(conn)
        if parent is None:
            which = f"adapter {parent_adapter_id}" if parent_adapter_id else "SFT adapter"
            raise PreferenceError(f"no {which} to start from: materialize lora_adapter first (preference training "
                                  "refines the SFT adapter)")
        if parent["stale_at"] is not None:
            raise PreferenceError(f"adapter {parent['id']} is stale ({parent['stale_reason']}): train a new one")
        sft = training.dataset_or_fail(conn, parent["dataset_version"])
    if not Path(parent["path"]).exists():
        raise PreferenceError(f"adapter {parent['id']}'s files are missing ({parent['path']})")
    method = manifest["method"]
    records = load_records(Path(manifest["path"]), "pairs" if method == DPO else "ratings")
    run_hash = hashlib.sha256(json.dumps([manifest["version"], parent["id"], params.__dict__], sort_keys=True)
                              .encode()).hexdigest()[:8]
    out_dir = Path(storage_dir) / "adapters" / parent["watermark"] / f"{method}-p{parent['id']}-{run_hash}"
    out_dir.mkdir(parents=True, exist_ok=True)
    log(f"{method.upper()} on adapter {parent['id']} ({parent['base_model']}) with {len(records['train'])} train / "
        f"{len(records['test'])} held-out examples of {manifest['version']} → {out_dir}")
    try:
        result = dpo.train_preference(parent["base_model_path"], parent["path"], method, records["train"], out_dir,
                                      params, eval_records=records["test"], device=device, log=log)
    except ValueError as exc:
        raise PreferenceError(str(exc)) from exc
    margins = [h.get("rewards/margins") for h in result.history if "rewards/margins" in h]
    accuracies = [h.get("rewards/accuracies") for h in result.history if "rewards/accuracies" in h]
    ev = result.eval_metrics
    metrics = {
        "method": method, "parent_adapter_id": parent["id"], "parent_path": parent["path"],
        "preference_dataset": manifest["version"], "feedback_watermark": manifest["feedback_watermark"],
        "pairs_digest": manifest["train_digest"], "steps": result.steps, "losses": result.losses,
        "final_loss": result.losses[-1] if result.losses else None, "reward_margins": margins,
        "reward_accuracies": accuracies, "kl": [h["kl"] for h in result.history if "kl" in h],
        "eval": ev, "trainable_params": result.trainable_params, "total_params": result.total_params,
        "train_seconds": round(result.seconds, 2), "steps_per_second": round(result.steps_per_second, 3),
        "train_examples": result.train_examples, "eval_examples": result.eval_examples, "device": result.device,
        "params": result.params, "trainer": method,
    }
    (out_dir / "manifest.json").write_text(json.dumps({
        **metrics, "base_model": parent["base_model"], "base_model_path": parent["base_model_path"],
        "sft_dataset": sft["version"], "adapter_path": result.adapter_dir,
        "created_at": datetime.now(timezone.utc).isoformat(), "dagster_run_id": run_id}, indent=2), encoding="utf-8")
    adapter_id = training.record_adapter(engine, dataset=sft, base_model=parent["base_model"],
                                         base_model_path=parent["base_model_path"], trainer=method,
                                         path=result.adapter_dir, merged_path=None, metrics=metrics, run_id=run_id)
    values = {
        "adapter_id": adapter_id, "path": result.adapter_dir, "method": method, "parent_adapter_id": parent["id"],
        "base_model": parent["base_model"], "preference_dataset": manifest["version"],
        "feedback_watermark": manifest["feedback_watermark"], "pairs_digest": manifest["train_digest"][:16],
        "train_examples": result.train_examples, "eval_examples": result.eval_examples, "steps": result.steps,
        "final_loss": metrics["final_loss"], "reward_margin": margins[-1] if margins else None,
        "reward_accuracy": accuracies[-1] if accuracies else None,
        "eval_loss": ev.get("eval_loss"), "eval_reward_margin": ev.get("eval_rewards/margins"),
        "eval_reward_accuracy": ev.get("eval_rewards/accuracies"), "trainable_params": result.trainable_params,
        "train_seconds": metrics["train_seconds"], "steps_per_second": metrics["steps_per_second"],
        "device": result.device,
    }
    curves = {"loss": result.losses, "reward margin": [m for m in margins if m is not None]}
    return f"{manifest['version']}:{adapter_id}", Report(
        values={k: v for k, v in values.items() if v is not None},
        json={"losses": result.losses, "reward_margins": margins, "reward_accuracies": accuracies, "eval": ev,
              "params": result.params},
        markdown={"loss_curve": line_chart_markdown(curves, title=f"{method.upper()} loss and reward margin")})


# -- privacy ----------------------------------------------------------------------------------------------------


def _remove_tree(path: Path, root: Path) -> int:
    """Delete the folder ``path`` when it lies under ``root``; the number of files removed."""
    import shutil

    try:
        path.resolve().relative_to(Path(root).resolve())
    except ValueError:
        return 0
    if not path.is_dir():
        return 0
    n = sum(1 for p in path.rglob("*") if p.is_file())
    shutil.rmtree(path)
    return n


def scrub_preference_data(engine: Engine, storage_dir: Path, user_ids: list[int], *, reason: str) -> dict[str, Any]:
    """Delete the preference datasets that hold feedback of ``user_ids`` (their manifests list the bot user ids)
    and mark the adapters trained on them stale (files deleted, evaluations removed), as ``privacy`` does with
    SFT data; the next preference run rebuilds from ``persona_feedback``, which no longer yields their rows."""
    ids = {int(u) for u in user_ids}
    out: dict[str, Any] = {"datasets_removed": [], "adapters_stale": [], "evaluations_removed": 0,
                           "files_removed": 0}
    touched = [m for m in _manifests(storage_dir) if ids & {int(u) for u in m.get("bot_user_ids") or []}]
    if not touched:
        return out
    with engine.begin() as conn:
        adapters = conn.execute(sa.text(
            "UPDATE persona_adapters SET stale_at = COALESCE(stale_at, now()), stale_reason = COALESCE(stale_reason, "
            ":r) WHERE trainer IN ('dpo', 'kto') AND metrics->>'preference_dataset' = ANY(:v) RETURNING id, path"),
            {"r": reason, "v": [m["version"] for m in touched]}).all()
        if adapters:
            out["evaluations_removed"] = conn.execute(sa.text(
                "DELETE FROM persona_evaluations WHERE adapter_id = ANY(:ids)"),
                {"ids": [a.id for a in adapters]}).rowcount
    for a in adapters:
        out["adapters_stale"].append(int(a.id))
        out["files_removed"] += _remove_tree(Path(a.path).parent, storage_dir)
    for m in touched:
        out["files_removed"] += _remove_tree(Path(m["path"]), storage_dir)
        out["datasets_removed"].append(m["version"])
    log_.info("preference data of %s person(s) removed (%s): %s datasets, %s adapters stale", len(ids), reason,
              len(out["datasets_removed"]), len(out["adapters_stale"]))
    return out


# -- comparison for persona_eval ---------------------------------------------------------------------------------


def compare_with_previous(engine: Engine, *, evaluation_id: int, max_new_tokens: int, max_seq_len: int,
                          device: str, seed: int = 0, log: Callable[[str], None] = log_.info) -> Report:
    """The evaluated adapter against the one before it — its parent for a preference adapter, else the base
    model: held-out perplexity of the owner's real replies, and a blind A/B in which each real reply and a
    generated one, in shuffled order, are scored by the style classifier (owner vs other people, trained on the
    train split). Per-item results go to ``persona_evaluations.metrics`` (``ab_items``) and the metadata."""
    from psycopg.types.json import Jsonb

    from telegram_intel.lib.style import StyleClassifier, texts_by_author
    from telegram_intel.ml import lora

    with engine.connect() as conn:
        ev = conn.execute(sa.text("SELECT * FROM persona_evaluations WHERE id = :i"), {"i": evaluation_id}).one()
        adapter = training.get_adapter(conn, ev.adapter_id)
        dataset = training.dataset_or_fail(conn, adapter["dataset_version"])
        parent_id = (adapter["metrics"] or {}).get("parent_adapter_id")
        parent = training.get_adapter(conn, int(parent_id)) if parent_id else None
    records = SplitRecords.load(Path(dataset["path"]))
    held = (getattr(records, ev.split, None) or [])[: ev.examples]
    gens = list((ev.metrics or {}).get("generations") or [])
    real = [g["real"] for g in gens]
    new = [g["adapter"] for g in gens]
    started = time.perf_counter()
    usable_parent = parent is not None and parent["stale_at"] is None and Path(parent["path"]).exists()
    if usable_parent:
        tokenizer, model = lora.load_with_adapter(adapter["base_model_path"], adapter["path"], device)
        model.load_adapter(parent["path"], adapter_name="previous")
        model.set_adapter("previous")
        model.eval()
        old_ppl, _ = lora.reply_perplexity(model, tokenizer, held, max_len=max_seq_len)
        old = [lora.generate_reply(model, tokenizer, r["messages"][:-1], max_new_tokens=max_new_tokens)
               for r in held[: len(gens)]]
        previous = f"adapter {parent['id']} ({parent['trainer']})"
    else:
        old_ppl, old = float(ev.base_perplexity), [g["base"] for g in gens]
        previous = "base model"
    owner_train, others_train = texts_by_author(records.train)
    classifier = StyleClassifier().fit(owner_train, others_train)
    items, summary = blind_ab(real, {"new": new, "previous": old}, classifier.owner_probability, seed=seed)
    new_ppl = float(ev.adapter_perplexity)
    comparison = {"previous": previous, "previous_adapter_id": parent["id"] if usable_parent else None,
                  "new_perplexity": new_ppl, "previous_perplexity": old_ppl, "ab_summary": summary,
                  "previous_generations": old if usable_parent else None,
                  "seconds": round(time.perf_counter() - started, 2)}
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE persona_evaluations SET metrics = metrics || :m WHERE id = :i"),
                     {"m": Jsonb({"comparison": comparison, "ab_items": items}), "i": evaluation_id})
    log(f"vs {previous}: perplexity {old_ppl:.2f} → {new_ppl:.2f}; blind A/B, generated reply taken for the real "
        f"one: new {summary['new']['passed_as_real']:.2f}, previous {summary['previous']['passed_as_real']:.2f}")
    rows = ["| item | pair | A | B | P(owner) A | P(owner) B | real | classifier picked |",
            "|---|---|---|---|---|---|---|---|"]
    for it in items[:12]:
        rows.append(f"| {it['item']} | real vs {it['candidate']} | {training._cell(it['A'], 60)} | "
                    f"{training._cell(it['B'], 60)} | {it['p_A']:.3f} | {it['p_B']:.3f} | {it['real_is']} | "
                    f"{it['picked']} |")
    values = {"compared_with": previous, "previous_adapter_id": comparison["previous_adapter_id"],
              "previous_perplexity": round(old_ppl, 4), "new_perplexity": round(new_ppl, 4),
              "perplexity_vs_previous": round(new_ppl / old_ppl, 4) if old_ppl else None,
              "ab_items": len(items),
              "ab_new_passed_as_real": summary["new"]["passed_as_real"],
              "ab_previous_passed_as_real": summary["previous"]["passed_as_real"],
              "ab_new_style_score": summary["new"]["mean_p_generated"],
              "ab_previous_style_score": summary["previous"]["mean_p_generated"],
              "ab_real_style_score": summary["new"]["mean_p_real"]}
    return Report(values={k: v for k, v in values.items() if v is not None},
                  json={"blind_ab_summary": summary},
                  markdown={"blind_ab": "\n".join(rows)})


def merge_reports(first: Report, second: Report) -> Report:
    """``first`` with ``second``'s entries added (``second`` wins on a shared name)."""
    return Report(values={**first.values, **second.values}, markdown={**first.markdown, **second.markdown},
                  json={**first.json, **second.json}, checks={**first.checks, **second.checks})

