"""Preference training of the persona's LoRA adapter with TRL (DPO on pairs, KTO on unpaired ratings); no Dagster.

The adapter trained by ``lora.train_lora`` is loaded on its base model and trained further. With a ``PeftModel``
and ``ref_model=None``, TRL 1.16's ``DPOTrainer`` / ``KTOTrainer`` copy the loaded adapter into a frozen ``ref``
adapter and compute the reference log-probabilities with it, so the reference is the SFT adapter we start from
(not the bare base model) and no second model is held in memory. Only the trained ``default`` adapter is saved.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PreferenceParams", "PreferenceResult", "train_preference"]

DPO, KTO = "dpo", "kto"


@dataclass
class PreferenceParams:
    beta: float = 0.1
    learning_rate: float = 5e-5
    max_steps: int = 30
    batch_size: int = 4
    grad_accum: int = 1
    max_length: int = 512
    loss_type: str = "sigmoid"  # DPO loss; KTO uses its own ("kto")
    desirable_weight: float = 1.0
    undesirable_weight: float = 1.0
    warmup_ratio: float = 0.0
    seed: int = 0
    logging_steps: int = 1


@dataclass
class PreferenceResult:
    adapter_dir: str
    method: str
    steps: int
    losses: list[float]
    history: list[dict[str, float]]  # TRL's per-step log (loss, rewards/margins, rewards/accuracies, ...)
    eval_metrics: dict[str, float]
    trainable_params: int
    total_params: int
    seconds: float
    train_examples: int
    eval_examples: int
    device: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0


def _drop_gguf_marker(model) -> None:
    """A base converted from GGUF (``lora.convert_smollm2``) keeps ``quantization_config: gguf`` in its config
    although its weights are plain de-quantized tensors (transformers always de-quantizes GGUF on load); the
    ``Trainer`` TRL builds on refuses any GGUF-marked model, so the stale marker goes."""
    quantizer = getattr(model, "hf_quantizer", None)
    method = str(getattr(getattr(quantizer, "quantization_config", None), "quant_method", "") or "")
    if quantizer is not None and method.lower().endswith("gguf"):
        model.hf_quantizer = None
        try:
            model.is_quantized = False
        except AttributeError:  # where it is a property derived from hf_quantizer
            pass
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config


def _trl_rows(records: Sequence[dict[str, Any]], method: str) -> list[dict[str, Any]]:
    """TRL's conversational format (our ids dropped: TRL's tokenizer map keeps only what it knows)."""
    if method == DPO:
        return [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]} for r in records]
    return [{"prompt": r["prompt"], "completion": r["completion"], "label": bool(r["label"])} for r in records]


def train_preference(
    base_path: str,
    parent_adapter: str,
    method: str,
    train_records: Sequence[dict[str, Any]],
    out_dir: Path,
    params: PreferenceParams | None = None,
    *,
    eval_records: Sequence[dict[str, Any]] = (),
    device: str = "cpu",
    log: Callable[[str], None] | None = None,
) -> PreferenceResult:
    """Continue training ``parent_adapter`` (a peft LoRA folder for ``base_path``) with DPO (``records`` with
    ``prompt``/``chosen``/``rejected``) or KTO (``prompt``/``completion``/``label``); saves ``adapter/`` and
    ``training.json`` under ``out_dir``."""
    import datasets
    import torch
    from peft import PeftModel
    from transformers import PrinterCallback, TrainerCallback
    from trl import DPOConfig, DPOTrainer, KTOConfig, KTOTrainer

    from telegram_intel.ml.lora import _device, load_base

    params = params or PreferenceParams()
    if method not in (DPO, KTO):
        raise ValueError(f"unknown preference method {method!r}: use dpo or kto")
    if not train_records:
        raise ValueError("no preference examples to train on")
    if method == KTO and params.batch_size < 2:
        raise ValueError("KTO needs batch_size >= 2 (its KL estimate pairs each completion with another prompt)")
    device = _device(device)
    on_gpu = device.startswith("cuda")
    bf16 = on_gpu and torch.cuda.is_bf16_supported()
    torch.manual_seed(params.seed)
    datasets.disable_progress_bars()
    tokenizer, model = load_base(base_path, device, "bfloat16" if bf16 else "float32")
    _drop_gguf_marker(model)
    total_params = sum(p.numel() for p in model.parameters())
    model = PeftModel.from_pretrained(model, parent_adapter, is_trainable=True)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    out_dir = Path(out_dir)
    work_dir = out_dir / "trainer"
    common = dict(
        output_dir=str(work_dir), max_steps=params.max_steps, per_device_train_batch_size=params.batch_size,
        per_device_eval_batch_size=params.batch_size, gradient_accumulation_steps=params.grad_accum,
        learning_rate=params.learning_rate, warmup_steps=int(params.max_steps * params.warmup_ratio),
        logging_steps=params.logging_steps,
        beta=params.beta, max_length=params.max_length, seed=params.seed, report_to=[], save_strategy="no",
        eval_strategy="no", disable_tqdm=True, use_cpu=not on_gpu, bf16=bf16, dataloader_num_workers=0,
    )
    train_ds = datasets.Dataset.from_list(_trl_rows(train_records, method))
    eval_ds = datasets.Dataset.from_list(_trl_rows(eval_records, method)) if eval_records else None
    if method == DPO:
        trainer = DPOTrainer(model=model, ref_model=None, processing_class=tokenizer, train_dataset=train_ds,
                             eval_dataset=eval_ds, args=DPOConfig(loss_type=[params.loss_type], **common))
    else:
        trainer = KTOTrainer(model=model, ref_model=None, processing_class=tokenizer, train_dataset=train_ds,
                             eval_dataset=eval_ds, args=KTOConfig(desirable_weight=params.desirable_weight,
                                                                  undesirable_weight=params.undesirable_weight,
                                                                  **common))
    trainer.remove_callback(PrinterCallback)  # it prints every log dict to stdout; the log callback below reports

    class _Log(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            if log and logs and "loss" in logs and (state.global_step % max(1, params.max_steps // 10) == 0
                                                    or state.global_step == params.max_steps):
                extra = "".join(f" {k} {logs[k]:.3f}" for k in ("rewards/margins", "rewards/accuracies", "kl")
                                if k in logs)
                log(f"{method} step {state.global_step}/{params.max_steps} loss {logs['loss']:.4f}{extra}")

    trainer.add_callback(_Log())
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    history = [{k: float(v) for k, v in h.items() if isinstance(v, (int, float))}
               for h in trainer.state.log_history if "loss" in h]
    eval_metrics: dict[str, float] = {}
    if eval_ds is not None and len(eval_ds):
        eval_metrics = {k: float(v) for k, v in trainer.evaluate().items() if isinstance(v, (int, float))}
    adapter_dir = out_dir / "adapter"
    trainer.model.save_pretrained(adapter_dir, selected_adapters=["default"])
    tokenizer.save_pretrained(adapter_dir)
    shutil.rmtree(work_dir, ignore_errors=True)
    result = PreferenceResult(
        adapter_dir=str(adapter_dir), method=method, steps=int(trainer.state.global_step),
        losses=[round(h["loss"], 5) for h in history], history=history, eval_metrics=eval_metrics,
        trainable_params=trainable, total_params=total_params, seconds=seconds, train_examples=len(train_records),
        eval_examples=len(eval_records), device=device, params=asdict(params))
    (out_dir / "training.json").write_text(json.dumps({**asdict(result), "base_model_path": base_path,
                                                       "parent_adapter": parent_adapter,
                                                       "steps_per_second": result.steps_per_second}, indent=2))
    return result
