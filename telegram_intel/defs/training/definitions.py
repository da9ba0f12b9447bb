"""The training domain's resources (its assets, checks, jobs and sensors are found by the root's defs-folder loader)."""

import dagster as dg

from telegram_intel.defs.training.resources import PersonaTrainingResource

defs = dg.Definitions(resources={"persona_training": PersonaTrainingResource()})
