"""Persona training: ``sft_dataset`` → ``lora_adapter`` → ``persona_eval`` (the work is in ``pipeline/training.py``).

Files live under the storage folder (``datasets/<version>/``, ``adapters/<watermark>/<run>/``); the registry
tables (``sft_datasets``, ``persona_adapters``, ``persona_evaluations``) say which is the latest and how it scored,
so each asset can also be materialized on its own from the UI.
"""

from pathlib import Path

import dagster as dg
from pydantic import Field

from telegram_intel.defs.metadata import materialize_result
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.training import pipes as training_pipes
from telegram_intel.defs.training.resources import PersonaTrainingResource
from telegram_intel.lib.sft import DEFAULT_SYSTEM_PROMPT, SftConfig, Watermark
from telegram_intel.pipeline import training as work

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
    try:
        version, report = work.build_sft_dataset(
            telegram.engine, telegram.settings().storage_dir, owner=config.owner, cfg=config.sft_config(),
            until=Watermark.parse(config.until) if config.until else None, run_id=context.run.run_id,
            log=context.log.info)
    except work.TrainingError as exc:
        raise dg.Failure(str(exc)) from exc
    return materialize_result(report, data_version=version, path=dg.MetadataValue.path(report.values["path"]))


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


def _axolotl_trainer(context: dg.AssetExecutionContext, persona_training: PersonaTrainingResource):
    """axolotl in its own environment through Dagster Pipes (see ``axolotl.py``)."""
    from telegram_intel.defs.training import axolotl

    def train(dataset_dir: Path, out_dir: Path, base_path: str, params) -> tuple[str, dict]:
        if not persona_training.axolotl_venv:
            raise dg.Failure("trainer 'axolotl' needs persona_training.axolotl_venv (see defs/training/axolotl.py)")
        cfg = axolotl.axolotl_config(base_model=base_path, dataset_dir=dataset_dir, output_dir=out_dir, params=params,
                                     device="cpu" if persona_training.device == "cpu" else "cuda")
        config_path = axolotl.write_axolotl_config(out_dir / "axolotl.yaml", cfg)
        reported = axolotl.run_axolotl(context, venv=Path(persona_training.axolotl_venv), config_path=config_path,
                                       device=persona_training.device)
        return cfg["output_dir"], {**reported, "config_path": str(config_path)}

    return train


@dg.asset(deps=[sft_dataset], group_name="training", kinds={"pytorch"}, pool="heavy_ml")
def lora_adapter(context: dg.AssetExecutionContext, config: LoraAdapterConfig, telegram: TelegramIntelResource,
                 persona_training: PersonaTrainingResource) -> dg.MaterializeResult:
    """A LoRA adapter of the base model trained on the latest `sft_dataset` (loss on the owner's reply only):
    `<storage>/adapters/<watermark>/<base>-<settings>/adapter/` (+ `merged/` with `merge`), one `persona_adapters`
    row. peft on CPU by default (SmolLM2-135M; a tiny random model in tests); `trainer: axolotl` runs axolotl in its
    own environment through Dagster Pipes from a YAML we generate, streaming its logs. `persona_training.compute`
    runs the peft loop through Dagster Pipes instead: a subprocess, or a Kubernetes pod on a GPU node."""
    settings = telegram.settings()
    persona_training.apply_threads()
    try:
        version, report = work.train_adapter(
            telegram.engine, settings.storage_dir, dataset_version=config.dataset_version,
            base_model=config.base_model or persona_training.base_model,
            trainer=config.trainer or persona_training.trainer, params=config.params(),
            device=persona_training.device, merge=config.merge, models_path=persona_training.models_path(settings),
            run_id=context.run.run_id, log=context.log.info,
            external={"axolotl": _axolotl_trainer(context, persona_training),
                      **training_pipes.external_trainers(context, persona_training, storage_dir=settings.storage_dir,
                                                         merge=config.merge)})
    except work.TrainingError as exc:
        raise dg.Failure(str(exc)) from exc
    paths = {k: dg.MetadataValue.path(report.values[k]) for k in ("path", "merged_path") if k in report.values}
    return materialize_result(report, data_version=version, **paths)


# ---------------------------------------------------------------------------------------------------------------


class PersonaEvalConfig(dg.Config):
    adapter_id: int | None = Field(default=None, description="persona_adapters id (default: the latest).")
    split: str = Field(default="test", description="Held-out split to score (test, or val).")
    max_examples: int = Field(default=200, description="Held-out examples scored for perplexity.")
    style_examples: int = Field(default=16, description="Held-out prompts generated for the style score.")
    samples: int = Field(default=5, description="Generations shown in the table.")
    max_new_tokens: int = 40
    max_seq_len: int = 512
    compare: bool = Field(default=True, description="Also compare with the adapter before it (a preference "
                          "adapter's parent, else the base model): perplexity and a blind A/B of real vs generated "
                          "replies judged by the style classifier.")


@dg.asset(
    deps=[lora_adapter, "dpo_adapter"],
    group_name="training",
    kinds={"pytorch", "scikitlearn"},
    pool="heavy_ml",
    check_specs=[dg.AssetCheckSpec(
        "persona_eval_adapter_beats_base", asset="persona_eval",
        description="The adapter's held-out perplexity on the owner's replies is lower than the base model's "
                    "(WARN otherwise: the adapter did not learn the owner's style).")],
)
def persona_eval(context: dg.AssetExecutionContext, config: PersonaEvalConfig, telegram: TelegramIntelResource,
                 persona_training: PersonaTrainingResource) -> dg.MaterializeResult:
    """Held-out quality of the latest `lora_adapter` against its base model: perplexity of the owner's real
    replies (lower is better), a table of sample generations, and a style score — the mean P(owner) that a
    character-n-gram logistic regression (owner vs other people, trained on the train split) gives generations of
    the adapter and of the base model. Written to `persona_evaluations`.

    With `compare` (default) it also measures the adapter against the one before it — a `dpo_adapter`'s parent SFT
    adapter, else the base model: perplexity on the same held-out replies and a blind A/B (each real reply and a
    generated one, shuffled, scored by the style classifier; per-item results in `persona_evaluations.metrics`)."""
    persona_training.apply_threads()
    try:
        report = work.evaluate_adapter(
            telegram.engine, adapter_id=config.adapter_id, split=config.split, max_examples=config.max_examples,
            style_examples=config.style_examples, samples=config.samples, max_new_tokens=config.max_new_tokens,
            max_seq_len=config.max_seq_len, device=persona_training.device, run_id=context.run.run_id,
            log=context.log.info)
        if config.compare:
            from telegram_intel.pipeline import preferences

            report = preferences.merge_reports(report, preferences.compare_with_previous(
                telegram.engine, evaluation_id=report.values["evaluation_id"], max_new_tokens=config.max_new_tokens,
                max_seq_len=config.max_seq_len, device=persona_training.device, log=context.log.info))
    except work.TrainingError as exc:
        raise dg.Failure(str(exc)) from exc
    return materialize_result(report)
