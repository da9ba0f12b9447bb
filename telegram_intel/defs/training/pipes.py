"""The peft path of ``lora_adapter`` outside the step's process: ``ml/pipes_entry.py`` task ``lora`` through Dagster
Pipes, in a subprocess or a Kubernetes pod (``persona_training.compute``, see ``defs/pipes.py``). The adapter is
written under the storage folder, which the pod mounts at the same path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from telegram_intel.defs.pipes import ComputeConfigError
from telegram_intel.defs.training.resources import PersonaTrainingResource


def external_trainers(context: dg.AssetExecutionContext, persona_training: PersonaTrainingResource, *,
                      storage_dir: Path, merge: bool) -> dict[str, Any]:
    """``{"peft": trainer}`` when peft runs through Pipes; empty when it runs in this process."""
    compute = persona_training.compute
    try:
        mode = compute.resolved_mode()
    except ComputeConfigError as exc:
        raise dg.Failure(str(exc)) from exc
    if mode == "in_process":
        return {}

    def train(dataset_dir: Path, out_dir: Path, base_path: str, params) -> tuple[str, dict]:
        extras = {"task": "lora", "dataset_dir": str(dataset_dir), "out_dir": str(out_dir), "base_path": base_path,
                  "params": {**params.__dict__, "target_modules": list(params.target_modules)},
                  "device": compute.setting("device") or persona_training.device, "merge": merge,
                  "torch_threads": persona_training.torch_threads}
        try:
            outcome = compute.launch(context, extras, storage_dir=storage_dir)
        except ComputeConfigError as exc:
            raise dg.Failure(str(exc)) from exc
        context.log.info(f"LoRA trained through Pipes ({outcome.where}) in {outcome.result['train_runtime']} s")
        return outcome.result["adapter_dir"], {**outcome.result, "launched": outcome.where}

    return {"peft": train}
