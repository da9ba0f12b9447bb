"""The retraining job the retrain sensor launches (also runnable by hand from the UI)."""

import dagster as dg

from telegram_intel.defs.training.assets import lora_adapter, persona_eval, sft_dataset

persona_training_job = dg.define_asset_job(
    "persona_training_job",
    selection=dg.AssetSelection.assets(sft_dataset, lora_adapter, persona_eval),
    description="Rebuild the SFT dataset from clean_messages, train a LoRA adapter on it and evaluate it.",
)
