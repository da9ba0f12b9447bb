"""The training jobs: the retrain sensor launches ``persona_training_job``, the preference sensor
``preference_training_job`` (both runnable by hand from the UI)."""

import dagster as dg

from telegram_intel.defs.training.assets import lora_adapter, persona_eval, sft_dataset
from telegram_intel.defs.training.preferences import dpo_adapter, preference_dataset

persona_training_job = dg.define_asset_job(
    "persona_training_job",
    selection=dg.AssetSelection.assets(sft_dataset, lora_adapter, persona_eval),
    description="Rebuild the SFT dataset from clean_messages, train a LoRA adapter on it and evaluate it.",
)

preference_training_job = dg.define_asset_job(
    "preference_training_job",
    selection=dg.AssetSelection.assets(preference_dataset, dpo_adapter, persona_eval),
    description="Turn the persona bot's 👍/👎 feedback into preference data, train the newest SFT adapter further "
                "on it with DPO or KTO, and evaluate it against that adapter.",
)
