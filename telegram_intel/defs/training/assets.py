"""Persona training: ``sft_dataset`` → ``lora_adapter`` → ``persona_eval``.

Files live under the storage folder (``datasets/<version>/``, ``adapters/<watermark>/<run>/``); the registry
tables (``sft_datasets``, ``persona_adapters``, ``persona_evaluations``) say which is the latest and how it scored,
so each asset can also be materialized on its own from the UI.
"""

import hashlib
import json
import re
import time
from pathlib import Path

import dagster as dg
from pydantic import Field

from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.training.resources import PersonaTrainingResource
from telegram_intel.lib.plots.charts import bar_chart_markdown
from telegram_intel.lib.plots.training import line_chart_markdown, smooth
from telegram_intel.lib.sft import (
    DEFAULT_SYSTEM_PROMPT,
    SftConfig,
    SplitRecords,
    Watermark,
    build_examples,
    write_dataset,
)
from telegram_intel.pipeline import training as store

CLEAN_MESSAGES_DEP = dg.AssetDep("clean_messages", partition_mapping=dg.AllPartitionMapping())


class SftDatasetConfig(dg.Config):
    """Which replies become examples and how they are cut."""

    owner: str = Field(default="me", description="Whose replies: 'me' (the export owner), a user id or @username.")
    window_min: int = Field(default=6, description="Fewest context messages per example (when the chat has them).")
    window_max: int = Field(default=10, description="Most context messages per example.")
    session_gap_minutes: float = Field(default=60.0, description="A pause this long starts a new session.")
    implicit_replies: bool = Field(default=True, description="Also use owner messages that follow someone else's "
                                   "message without pressing 'reply'.")
    train_fraction: float = Field(default=0.8)
    val_fraction: float = Field(default=0.1)
    persona: str = Field(default="the account owner", description="How the system prompt names the persona.")
    system_prompt: str = Field(default=DEFAULT_SYSTEM_PROMPT, description="'{persona}' is replaced.")
    until: str | None = Field(default=None, description="Watermark key: only messages up to it (the retrain sensor "
                              "sets it, so the run trains on exactly what it counted).")

    def sft_config(self) -> SftConfig:
        test = round(1.0 - self.train_fraction - self.val_fraction, 6)
        return SftConfig(window_min=self.window_min, window_max=self.window_max,
                         session_gap_minutes=self.session_gap_minutes, implicit_replies=self.implicit_replies,
                         splits=(self.train_fraction, self.val_fraction, test), persona=self.persona,
                         system_prompt=self.system_prompt)


@dg.asset(
    deps=[CLEAN_MESSAGES_DEP],
    group_name="training",
    kinds={"python", "postgres"},
    tags={"telegram_intel/pii": "masked"},
)
def sft_dataset(context: dg.AssetExecutionContext, config: SftDatasetConfig,
                telegram: TelegramIntelResource) -> dg.MaterializeResult:
    """The owner's replies as chat-format SFT examples: `<storage>/datasets/<version>/{train,val,test}.jsonl`.

    Each example: a persona system prompt, 6–10 context messages (reply chain first, then the messages just before
    the reply in its session; other people as pseudonyms, PII masked — read from `clean_messages`) and the owner's
    reply as the only trained turn. Media-only replies are dropped. Threads (reply chains and the session windows
    drawn from them) go wholly to train/val/test (80/10/10) by a stable hash. The version is the data watermark
    (newest message used) plus a hash of the settings; `sft_datasets` records it."""
    cfg = config.sft_config()
    until = Watermark.parse(config.until) if config.until else None
    with telegram.connect() as conn:
        try:
            owner_ids = store.resolve_owner_ids(conn, config.owner)
        except store.OwnerNotFound as exc:
            raise dg.Failure(str(exc)) from exc
        messages = store.load_clean_messages(conn, until)
    started = time.perf_counter()
    examples = build_examples(messages, owner_ids, cfg)
    if not examples:
        raise dg.Failure(f"no replies of {config.owner!r} with context in clean_messages (messages read: "
                         f"{len(messages)}); materialize clean_messages first")
    watermark = max(Watermark.of(m) for m in messages)
    fingerprint = hashlib.sha256(f"{cfg.fingerprint()}:{sorted(owner_ids)}".encode()).hexdigest()[:8]
    version = f"{watermark.key}-{fingerprint}"
    folder = telegram.settings().storage_dir / "datasets" / version
    manifest = {"version": version, "watermark": watermark.key, "owner_ids": owner_ids,
                "config": json.loads(json.dumps(cfg.__dict__, default=list)), "format": "axolotl chat_template"}
    stats = write_dataset(folder, examples, manifest=manifest)
    store.record_dataset(telegram.engine, version=version, owner_ids=owner_ids, watermark=watermark,
                         path=str(folder), config=manifest["config"], stats=stats, run_id=context.run.run_id)
    context.log.info(f"{stats['examples']} examples ({stats['by_split']}) from {len(messages):,} clean messages in "
                     f"{time.perf_counter() - started:.1f}s → {folder}")
    hist = stats["reply_chars_histogram"]
    ctx = stats["context_messages_distribution"]
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "watermark": watermark.key,
            "path": dg.MetadataValue.path(str(folder)),
            "owner_ids": dg.MetadataValue.json(owner_ids),
            "examples": stats["examples"],
            "train_examples": stats["by_split"]["train"],
            "val_examples": stats["by_split"]["val"],
            "test_examples": stats["by_split"]["test"],
            "threads": stats["threads"],
            "threads_by_split": dg.MetadataValue.json(stats["threads_by_split"]),
            "explicit_replies": stats["explicit_replies"],
            "implicit_replies": stats["implicit_replies"],
            "avg_reply_chars": stats["avg_reply_chars"],
            "avg_context_chars": stats["avg_context_chars"],
            "avg_context_messages": stats["avg_context_messages"],
            "messages_read": len(messages),
            "reply_length_histogram": dg.MetadataValue.md(bar_chart_markdown(
                list(hist), list(hist.values()), title="Owner replies by length (characters)")),
            "context_length_histogram": dg.MetadataValue.md(bar_chart_markdown(
                list(ctx), list(ctx.values()), title="Examples by context messages")),
            "stats": dg.MetadataValue.json(stats),
        },
        data_version=dg.DataVersion(version),
    )


# ---------------------------------------------------------------------------------------------------------------


class LoraAdapterConfig(dg.Config):
    """LoRA settings of one training run (the base model and trainer default to the resource's)."""

    dataset_version: str | None = Field(default=None, description="sft_datasets version (default: the latest).")
    base_model: str | None = Field(default=None, description="Overrides the resource's base_model.")
    trainer: str | None = Field(default=None, description="peft | axolotl; overrides the resource's.")
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] = Field(default=["q_proj", "k_proj", "v_proj", "o_proj"])
    learning_rate: float = 2e-4
    max_steps: int = Field(default=60, description="Optimizer steps.")
    batch_size: int = 4
    grad_accum: int = 1
    max_seq_len: int = 512
    seed: int = 0
    merge: bool = Field(default=False, description="Also save the adapter merged into the base (for serving).")

    def params(self):
        from telegram_intel.ml.lora import LoraParams

        return LoraParams(r=self.r, alpha=self.alpha, dropout=self.dropout, target_modules=tuple(self.target_modules),
                          learning_rate=self.learning_rate, max_steps=self.max_steps, batch_size=self.batch_size,
                          grad_accum=self.grad_accum, max_seq_len=self.max_seq_len, seed=self.seed,
                          log_every=max(1, self.max_steps // 10))


def _dataset_or_fail(conn, version: str | None) -> dict:
    dataset = store.get_dataset(conn, version) if version else store.latest_dataset(conn)
    if dataset is None:
        raise dg.Failure(f"no SFT dataset {version or ''} recorded: materialize sft_dataset first")
    return dataset


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:48] or "model"


@dg.asset(deps=[sft_dataset], group_name="training", kinds={"pytorch"})
def lora_adapter(context: dg.AssetExecutionContext, config: LoraAdapterConfig, telegram: TelegramIntelResource,
                 persona_training: PersonaTrainingResource) -> dg.MaterializeResult:
    """A LoRA adapter of the base model trained on the latest `sft_dataset` (loss on the owner's reply only):
    `<storage>/adapters/<watermark>/<base>-<settings>/adapter/` (+ `merged/` with `merge`), one `persona_adapters`
    row. peft on CPU by default (SmolLM2-135M; a tiny random model in tests); `trainer: axolotl` runs axolotl in its
    own environment through Dagster Pipes from a YAML we generate, streaming its logs."""
    from telegram_intel.ml import lora

    settings = telegram.settings()
    persona_training.apply_threads()
    with telegram.connect() as conn:
        dataset = _dataset_or_fail(conn, config.dataset_version)
    records = SplitRecords.load(Path(dataset["path"]))
    if not records.train:
        raise dg.Failure(f"dataset {dataset['version']} has no training examples")
    params = config.params()
    trainer = config.trainer or persona_training.trainer
    corpus = [m["content"] for r in records.train for m in r["messages"]]
    base_name, base_path = lora.resolve_base_model(config.base_model or persona_training.base_model,
                                                   persona_training.models_path(settings), corpus=corpus,
                                                   log=context.log.info)
    run_hash = hashlib.sha256(json.dumps([dataset["version"], base_path, trainer, params.__dict__], sort_keys=True,
                                         default=list).encode()).hexdigest()[:8]
    out_dir = settings.storage_dir / "adapters" / dataset["watermark"] / f"{_slug(base_name)}-{run_hash}"
    out_dir.mkdir(parents=True, exist_ok=True)
    context.log.info(f"training {trainer} LoRA on {base_name} with {len(records.train)} examples of "
                     f"{dataset['version']} → {out_dir}")

    merged_dir = None
    if trainer == "peft":
        result = lora.train_lora(base_path, records.train, out_dir, params, val_records=records.val,
                                 device=persona_training.device, merge=config.merge, log=context.log.info)
        adapter_dir, merged_dir = result.adapter_dir, result.merged_dir
        metrics = {"steps": result.steps, "losses": result.losses, "final_loss": result.losses[-1],
                   "val_loss": result.val_loss, "trainable_params": result.trainable_params,
                   "total_params": result.total_params, "tokens": result.tokens,
                   "tokens_per_second": round(result.tokens_per_second, 1), "train_seconds": round(result.seconds, 2),
                   "examples": result.examples}
    elif trainer == "axolotl":
        from telegram_intel.defs.training import axolotl

        if not persona_training.axolotl_venv:
            raise dg.Failure("trainer 'axolotl' needs persona_training.axolotl_venv (see defs/training/axolotl.py)")
        cfg = axolotl.axolotl_config(base_model=base_path, dataset_dir=Path(dataset["path"]), output_dir=out_dir,
                                     params=params, device="cpu" if persona_training.device == "cpu" else "cuda")
        config_path = axolotl.write_axolotl_config(out_dir / "axolotl.yaml", cfg)
        reported = axolotl.run_axolotl(context, venv=Path(persona_training.axolotl_venv), config_path=config_path,
                                       device=persona_training.device)
        adapter_dir = cfg["output_dir"]
        losses = list(reported.get("losses") or [])
        metrics = {"steps": len(losses), "losses": losses, "final_loss": losses[-1] if losses else None,
                   "val_loss": (reported.get("eval_losses") or [None])[-1],
                   "trainable_params": reported.get("trainable_params"), "total_params": reported.get("total_params"),
                   "samples_per_second": reported.get("train_samples_per_second"),
                   "train_seconds": reported.get("train_runtime") or reported.get("wall_seconds"),
                   "axolotl_config": str(config_path), "examples": len(records.train)}
    else:
        raise dg.Failure(f"unknown trainer {trainer!r}: use peft or axolotl")

    metrics.update({"params": params.__dict__ | {"target_modules": list(params.target_modules)}, "trainer": trainer})
    adapter_id = store.record_adapter(telegram.engine, dataset=dataset, base_model=base_name,
                                      base_model_path=base_path, trainer=trainer, path=str(adapter_dir),
                                      merged_path=merged_dir, metrics=metrics, run_id=context.run.run_id)
    losses = metrics["losses"]
    trainable, total = metrics.get("trainable_params"), metrics.get("total_params")
    metadata = {
        "adapter_id": adapter_id,
        "path": dg.MetadataValue.path(str(adapter_dir)),
        "base_model": base_name,
        "base_model_path": base_path,
        "dataset_version": dataset["version"],
        "watermark": dataset["watermark"],
        "trainer": trainer,
        "device": persona_training.device,
        "steps": metrics["steps"],
        "final_loss": metrics["final_loss"],
        "val_loss": metrics["val_loss"],
        "trainable_params": trainable,
        "total_params": total,
        "trainable_percent": round(100.0 * trainable / total, 4) if trainable and total else None,
        "train_examples": len(records.train),
        "loss_curve": dg.MetadataValue.md(line_chart_markdown(
            {"loss": losses, "moving average (10)": smooth(losses)}, title="Training loss (reply tokens)")),
        "losses": dg.MetadataValue.json(losses),
        "lora": dg.MetadataValue.json(metrics["params"]),
    }
    if "tokens_per_second" in metrics:
        metadata["tokens_per_second"] = metrics["tokens_per_second"]
        metadata["train_seconds"] = metrics["train_seconds"]
    if metrics.get("samples_per_second") is not None:
        metadata["samples_per_second"] = metrics["samples_per_second"]
    if merged_dir:
        metadata["merged_path"] = dg.MetadataValue.path(merged_dir)
    return dg.MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None},
                                data_version=dg.DataVersion(f"{dataset['version']}:{adapter_id}"))


# ---------------------------------------------------------------------------------------------------------------


class PersonaEvalConfig(dg.Config):
    adapter_id: int | None = Field(default=None, description="persona_adapters id (default: the latest).")
    split: str = Field(default="test", description="Held-out split to score (test, or val).")
    max_examples: int = Field(default=200, description="Held-out examples scored for perplexity.")
    style_examples: int = Field(default=16, description="Held-out prompts generated for the style score.")
    samples: int = Field(default=5, description="Generations shown in the table.")
    max_new_tokens: int = 40
    max_seq_len: int = 512


def _cell(text: str, limit: int = 120) -> str:
    text = " ".join((text or "").split()).replace("|", "\\|")
    return (text[: limit - 1] + "…" if len(text) > limit else text) or "∅"


@dg.asset(
    deps=[lora_adapter],
    group_name="training",
    kinds={"pytorch", "scikitlearn"},
    check_specs=[dg.AssetCheckSpec(
        "persona_eval_adapter_beats_base", asset="persona_eval",
        description="The adapter's held-out perplexity on the owner's replies is lower than the base model's "
                    "(WARN otherwise: the adapter did not learn the owner's style).")],
)
def persona_eval(context: dg.AssetExecutionContext, config: PersonaEvalConfig, telegram: TelegramIntelResource,
                 persona_training: PersonaTrainingResource):
    """Held-out quality of the latest `lora_adapter` against its base model: perplexity of the owner's real
    replies (lower is better), a table of sample generations, and a style score — the mean P(owner) that a
    character-n-gram logistic regression (owner vs other people, trained on the train split) gives generations of
    the adapter and of the base model. Written to `persona_evaluations`."""
    from telegram_intel.lib.style import StyleClassifier, texts_by_author
    from telegram_intel.ml import lora

    with telegram.connect() as conn:
        adapter = store.get_adapter(conn, config.adapter_id) if config.adapter_id else store.latest_adapter(conn)
        if adapter is None:
            raise dg.Failure("no adapter recorded: materialize lora_adapter first")
        dataset = _dataset_or_fail(conn, adapter["dataset_version"])
    records = SplitRecords.load(Path(dataset["path"]))
    held = getattr(records, config.split, None) or records.val or records.test
    if not held:
        raise dg.Failure(f"dataset {dataset['version']} has no held-out examples")
    split = config.split if getattr(records, config.split, None) else ("val" if records.val else "test")
    held = held[: config.max_examples]
    device = persona_training.device
    persona_training.apply_threads()
    tokenizer, model = lora.load_with_adapter(adapter["base_model_path"], adapter["path"], device)
    started = time.perf_counter()
    adapter_ppl, tokens = lora.reply_perplexity(model, tokenizer, held, max_len=config.max_seq_len)
    prompts = [r["messages"][:-1] for r in held[: max(config.style_examples, config.samples)]]
    gen_adapter = [lora.generate_reply(model, tokenizer, p, max_new_tokens=config.max_new_tokens) for p in prompts]
    with model.disable_adapter():
        base_ppl, _ = lora.reply_perplexity(model, tokenizer, held, max_len=config.max_seq_len)
        gen_base = [lora.generate_reply(model, tokenizer, p, max_new_tokens=config.max_new_tokens) for p in prompts]
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
    for p, r, b, a in list(zip(prompts, real, gen_base, gen_adapter))[: config.samples]:
        rows.append(f"| {_cell(p[-1]['content'], 80)} | {_cell(r)} | {_cell(b)} | {_cell(a)} |")
    metrics = {"reply_tokens": tokens, "style_score_real_replies": style_real, "style_classifier_accuracy": accuracy,
               "generations": [{"real": r, "base": b, "adapter": a} for r, b, a in zip(real, gen_base, gen_adapter)],
               "seconds": round(seconds, 2)}
    eval_id = store.record_evaluation(telegram.engine, adapter_id=adapter["id"], split=split, examples=len(held),
                                      base_ppl=base_ppl, adapter_ppl=adapter_ppl, style_adapter=style_adapter,
                                      style_base=style_base, metrics=metrics, run_id=context.run.run_id)
    context.log.info(f"perplexity base {base_ppl:.2f} → adapter {adapter_ppl:.2f}; style P(owner) base "
                     f"{style_base:.3f} → adapter {style_adapter:.3f} (real replies {style_real:.3f})")
    ppl_meta = {"base_perplexity": round(base_ppl, 4), "adapter_perplexity": round(adapter_ppl, 4),
                "held_out_examples": len(held), "split": split}
    metadata = {
            "evaluation_id": eval_id,
            "adapter_id": adapter["id"],
            "base_model": adapter["base_model"],
            "dataset_version": dataset["version"],
            **ppl_meta,
            "perplexity_ratio": round(adapter_ppl / base_ppl, 4) if base_ppl else None,
            "reply_tokens": tokens,
            "style_score_adapter": round(style_adapter, 4),
            "style_score_base": round(style_base, 4),
            "style_score_real_replies": round(style_real, 4),
            "style_classifier_accuracy": round(accuracy, 4) if accuracy is not None else None,
            "style_classifier_train_texts": dg.MetadataValue.json(
                {"owner": len(owner_train), "others": len(others_train)}),
            "sample_generations": dg.MetadataValue.md("\n".join(rows)),
            "eval_seconds": round(seconds, 2),
    }
    yield dg.MaterializeResult(metadata={k: v for k, v in metadata.items() if v is not None})
    yield dg.AssetCheckResult(
        check_name="persona_eval_adapter_beats_base",
        passed=better,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**ppl_meta, "adapter_better": better},
        description=None if better else "the adapter does not lower held-out perplexity: more data or steps needed",
    )
