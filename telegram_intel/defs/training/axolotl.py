"""The GPU path of ``lora_adapter``: axolotl in its own virtual environment, launched through Dagster Pipes.

axolotl pins older transformers/peft/accelerate/datasets/trl than this project, so it never shares our
environment. We write its YAML from the same LoRA settings the peft path uses, then run
``axolotl_pipes_entry.py`` with the axolotl environment's Python under ``PipesSubprocessClient``; that script runs
``axolotl train CONFIG --launcher python``, streams every output line into the run's logs and reports the loss
curve and throughput back as materialization metadata. The same script runs standalone on a GPU box or in a
Kubernetes job (any Pipes client). Set it up once with::

    python3.11 -m venv /opt/axolotl-venv
    /opt/axolotl-venv/bin/pip install axolotl==0.21.0 dagster-pipes==1.13.27
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg

from telegram_intel.ml import axolotl_pipes_entry
from telegram_intel.ml.lora import LoraParams

PIPES_ENTRY = Path(axolotl_pipes_entry.__file__)  # a standalone script: runs in the axolotl environment

#: axolotl's fused LoRA kernels are Triton/CUDA only: on CPU they must be off or training fails at start.
CPU_KERNEL_FLAGS = ("lora_mlp_kernel", "lora_qkv_kernel", "lora_o_kernel", "lora_embedding_kernel")


def _dataset_entry(path: Path) -> dict[str, Any]:
    return {
        "path": str(path),
        "ds_type": "json",
        "type": "chat_template",
        "split": "train",
        "field_messages": "messages",
        "message_property_mappings": {"role": "role", "content": "content"},
        # the per-message "train" flag in our files: only the owner's final reply carries loss
        "message_field_training": "train",
        "roles_to_train": ["assistant"],
        "train_on_eos": "turn",
    }


def axolotl_config(*, base_model: str, dataset_dir: Path, output_dir: Path, params: LoraParams,
                   device: str = "cuda", chat_template: str = "tokenizer_default_fallback_chatml") -> dict[str, Any]:
    """The axolotl YAML (as a dict) for our SFT files and LoRA settings."""
    dataset_dir, output_dir = Path(dataset_dir), Path(output_dir)
    gpu = device != "cpu"
    cfg: dict[str, Any] = {
        "base_model": base_model,
        "chat_template": chat_template,
        "datasets": [_dataset_entry(dataset_dir / "train.jsonl")],
        "dataset_prepared_path": str(output_dir / "prepared"),
        "output_dir": str(output_dir / "adapter"),
        "adapter": "lora",
        "lora_r": params.r,
        "lora_alpha": params.alpha,
        "lora_dropout": params.dropout,
        "lora_target_modules": list(params.target_modules),
        "sequence_len": params.max_seq_len,
        "sample_packing": False,
        "pad_to_sequence_len": False,
        "micro_batch_size": params.batch_size,
        "gradient_accumulation_steps": params.grad_accum,
        "max_steps": params.max_steps,
        "num_epochs": 1,
        "learning_rate": params.learning_rate,
        "lr_scheduler": "cosine",
        "warmup_ratio": params.warmup_ratio,
        "weight_decay": params.weight_decay,
        "max_grad_norm": params.max_grad_norm,
        "optimizer": "adamw_torch",
        "seed": params.seed,
        "logging_steps": 1,
        "save_safetensors": True,
        "bf16": "auto" if gpu else False,
        "fp16": False,
        "tf32": False,
        "gradient_checkpointing": gpu,
        "sdp_attention": gpu,
        "flash_attention": False,
        "load_in_4bit": False,
        "load_in_8bit": False,
        "strict": False,
        "use_tensorboard": False,
    }
    if (dataset_dir / "val.jsonl").exists() and (dataset_dir / "val.jsonl").stat().st_size:
        cfg["test_datasets"] = [_dataset_entry(dataset_dir / "val.jsonl")]
        cfg["eval_strategy"] = "steps"
        cfg["eval_steps"] = max(1, params.max_steps // 4)
    else:
        cfg["val_set_size"] = 0
    if not gpu:
        cfg.update({flag: False for flag in CPU_KERNEL_FLAGS})
    return cfg


def write_axolotl_config(path: Path, cfg: dict[str, Any]) -> Path:
    import yaml

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def venv_executables(venv: Path) -> tuple[Path, Path]:
    """(python, axolotl) of the axolotl environment."""
    venv = Path(venv).expanduser()
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    return bindir / "python", bindir / "axolotl"


def axolotl_command(venv: Path, config_path: Path) -> list[str]:
    """What the Pipes entry script runs (also what to type by hand to reproduce a run)."""
    _, axolotl = venv_executables(venv)
    return [str(axolotl), "train", str(config_path), "--launcher", "python"]


def pipes_command(venv: Path) -> list[str]:
    python, _ = venv_executables(venv)
    return [str(python), str(PIPES_ENTRY)]


def axolotl_env(device: str) -> dict[str, str]:
    env = {"AXOLOTL_DO_NOT_TRACK": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "WANDB_MODE": "disabled",
           "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def run_axolotl(context: dg.AssetExecutionContext, *, venv: Path, config_path: Path, device: str) -> dict[str, Any]:
    """Run axolotl through Pipes; returns the metadata values the entry script reported."""
    python, axolotl = venv_executables(venv)
    for exe in (python, axolotl):
        if not exe.exists():
            raise dg.Failure(f"{exe} not found: create the axolotl environment first (see "
                             "telegram_intel/defs/training/axolotl.py) and point axolotl_venv at it")
    client = dg.PipesSubprocessClient(env=axolotl_env(device))
    invocation = client.run(
        context=context,
        command=pipes_command(venv),
        extras={"command": axolotl_command(venv, config_path)},
    )
    result = invocation.get_materialize_result()
    return {k: getattr(v, "value", v) for k, v in (result.metadata or {}).items()}
