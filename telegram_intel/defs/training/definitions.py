import dagster as dg

from telegram_intel.defs.training.assets import lora_adapter, persona_eval, sft_dataset
from telegram_intel.defs.training.checks import sft_dataset_format_valid, sft_dataset_splits_disjoint
from telegram_intel.defs.training.jobs import persona_training_job
from telegram_intel.defs.training.resources import PersonaTrainingResource

defs = dg.Definitions(
    assets=[sft_dataset, lora_adapter, persona_eval],
    asset_checks=[sft_dataset_format_valid, sft_dataset_splits_disjoint],
    jobs=[persona_training_job],
    resources={"persona_training": PersonaTrainingResource()},
)
