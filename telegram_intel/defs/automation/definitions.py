import dagster as dg

from telegram_intel.defs.automation.schedules import sync_and_enrichment_job, sync_and_enrichment_schedule
from telegram_intel.defs.automation.sensors import retrain_after_new_messages_sensor

# persona_training_job comes with the sensor (its target); the training assets it selects are in
# defs/training/definitions.py.
defs = dg.Definitions(
    jobs=[sync_and_enrichment_job],
    schedules=[sync_and_enrichment_schedule],
    sensors=[retrain_after_new_messages_sensor],
)
