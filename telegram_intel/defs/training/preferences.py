"""Preference training from the persona bot's 👍/👎 feedback: ``preference_dataset`` → ``dpo_adapter`` (then
``persona_eval`` compares it with the adapter it started from); the work is in ``pipeline/preferences.py``."""

import json
from pathlib import Path

import dagster as dg
from pydantic import Field

from telegram_intel.defs.metadata import materialize_result
from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.training.assets import lora_adapter
from telegram_intel.defs.training.resources import PersonaTrainingResource
from telegram_intel.lib.preferences import PreferenceConfig, validate_kto_record, validate_pair_record
from telegram_intel.pipeline import preferences as work


class PreferenceDatasetConfig(dg.Config):
    """How feedback becomes preference data."""

    test_fraction: float = Field(default=0.2, description="Share of conversations held out (reward accuracy).")
    min_pairs: int = Field(default=8, description="Training pairs needed for DPO; with fewer, KTO trains on the "
                           "unpaired 👍/👎 ratings.")
    max_pairs_per_prompt: int = Field(default=4, description="Most pairs drawn from the replies to one prompt.")
    until_feedback_id: int | None = Field(default=None, description="Only feedback up to this id (the preference "
                                          "sensor sets it, so the run trains on exactly what it counted).")

    def preference_config(self) -> PreferenceConfig:
        return PreferenceConfig(test_fraction=self.test_fraction, min_pairs=self.min_pairs,
                                max_pairs_per_prompt=self.max_pairs_per_prompt)


@dg.asset(
    group_name="training",
    kinds={"python", "postgres"},
    tags={"telegram_intel/pii": "masked"},
)
def preference_dataset(context: dg.AssetExecutionContext, config: PreferenceDatasetConfig,
                       telegram: TelegramIntelResource) -> dg.MaterializeResult:
    """The persona bot's 👍/👎 feedback (`persona_feedback`) as preference data under
    `<storage>/preferences/<version>/`: DPO pairs (a 👎 with the owner's correction: chosen = correction,
    rejected = reply; a 👍 and a 👎 on one prompt) and KTO ratings (every rated reply). Conversations go wholly to
    train or test; people who opted out or were erased are left out; text PII-masked. `method` says which trainer
    `dpo_adapter` will use: DPO with enough pairs, KTO otherwise."""
    try:
        version, report = work.build_preference_dataset(
            telegram.engine, telegram.settings().storage_dir, cfg=config.preference_config(),
            until_id=config.until_feedback_id, run_id=context.run.run_id, log=context.log.info)
    except work.PreferenceError as exc:
        raise dg.Failure(str(exc)) from exc
    return materialize_result(report, data_version=version, path=dg.MetadataValue.path(report.values["path"]))


@dg.asset_check(asset=preference_dataset, blocking=True,
                description="Every line of the pairs/ratings files is TRL's conversational format (a user-ended "
                            "prompt; one non-empty assistant chosen/rejected or completion + boolean label), in the "
                            "file of its split, and no conversation is in both train and test.")
def preference_dataset_format_valid(context: dg.AssetCheckExecutionContext,
                                    telegram: TelegramIntelResource) -> dg.AssetCheckResult:
    manifest = work.get_preference_dataset(telegram.settings().storage_dir, run_id=context.run.run_id)
    if manifest is None:
        return dg.AssetCheckResult(passed=False, metadata={"error": "no preference dataset written"})
    lines, invalid, examples, convs = 0, 0, [], {"train": set(), "test": set()}
    for kind, validate in (("pairs", validate_pair_record), ("ratings", validate_kto_record)):
        for split, name in zip(("train", "test"), work.FILES[kind]):
            path = Path(manifest["path"]) / name
            if not path.exists():
                invalid += 1
                examples.append({"file": name, "error": "missing"})
                continue
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    lines += 1
                    try:
                        obj = json.loads(line)
                        errors = validate(obj, split)
                    except json.JSONDecodeError as exc:
                        obj, errors = {}, [f"not JSON: {exc.msg}"]
                    if errors:
                        invalid += 1
                        if len(examples) < 10:
                            examples.append({"file": name, "line": n, "errors": errors[:3]})
                    else:
                        convs[split].add(obj["conversation"])
    shared = sorted(convs["train"] & convs["test"])
    return dg.AssetCheckResult(
        passed=invalid == 0 and lines > 0 and not shared,
        metadata={"version": manifest["version"], "lines": lines, "invalid_lines": invalid,
                  "conversations_in_both_splits": len(shared), "examples": dg.MetadataValue.json(examples)})


class DpoAdapterConfig(dg.Config):
    """Preference-training settings (the base model and adapter come from the parent adapter)."""

    dataset_version: str | None = Field(default=None, description="Preference dataset version (default: the one "
                                        "this run wrote, else the newest).")
    parent_adapter_id: int | None = Field(default=None, description="persona_adapters id to start from (default: "
                                          "the newest SFT adapter).")
    beta: float = Field(default=0.1, description="Strength of the pull towards the parent adapter (DPO/KTO beta).")
    learning_rate: float = 5e-5
    max_steps: int = 30
    batch_size: int = Field(default=4, description="KTO needs at least 2.")
    grad_accum: int = 1
    max_length: int = 512
    loss_type: str = Field(default="sigmoid", description="DPO loss (TRL loss_type: sigmoid, ipo, ...).")
    desirable_weight: float = Field(default=1.0, description="KTO weight of 👍 examples.")
    undesirable_weight: float = Field(default=1.0, description="KTO weight of 👎 examples.")
    seed: int = 0

    def params(self):
        from telegram_intel.ml.dpo import PreferenceParams

        return PreferenceParams(beta=self.beta, learning_rate=self.learning_rate, max_steps=self.max_steps,
                                batch_size=self.batch_size, grad_accum=self.grad_accum, max_length=self.max_length,
                                loss_type=self.loss_type, desirable_weight=self.desirable_weight,
                                undesirable_weight=self.undesirable_weight, seed=self.seed)


@dg.asset(deps=[preference_dataset, lora_adapter], group_name="training", kinds={"pytorch"}, pool="heavy_ml")
def dpo_adapter(context: dg.AssetExecutionContext, config: DpoAdapterConfig, telegram: TelegramIntelResource,
                persona_training: PersonaTrainingResource) -> dg.MaterializeResult:
    """The newest SFT `lora_adapter` trained further on `preference_dataset` with TRL — DPO on pairs, or KTO on
    unpaired ratings, as the dataset chose; the SFT adapter is the frozen reference. Writes
    `<storage>/adapters/<watermark>/<method>-p<parent>-<hash>/adapter/` with a `manifest.json` (parent adapter,
    pairs digest, metrics) and a `persona_adapters` row, so the bot and `reply` use it from then on. CPU by default;
    `persona_training.device: cuda` trains on a GPU (bf16 where supported)."""
    persona_training.apply_threads()
    try:
        version, report = work.train_preference_adapter(
            telegram.engine, telegram.settings().storage_dir, dataset_version=config.dataset_version,
            parent_adapter_id=config.parent_adapter_id, params=config.params(), device=persona_training.device,
            run_id=context.run.run_id, log=context.log.info)
    except work.PreferenceError as exc:
        raise dg.Failure(str(exc)) from exc
    return materialize_result(report, data_version=version, path=dg.MetadataValue.path(report.values["path"]))
