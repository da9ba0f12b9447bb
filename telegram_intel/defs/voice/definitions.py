"""The voice domain's resources (its assets, checks, jobs and sensors are found by the root's defs-folder loader)."""

import dagster as dg

from telegram_intel.defs.voice.resources import WhisperResource

defs = dg.Definitions(resources={"whisper": WhisperResource()})
