"""The sync domain's resources (its assets, checks, jobs and sensors are found by the root's defs-folder loader)."""

import dagster as dg

from telegram_intel.defs.sync.resources import TelethonSourceResource

defs = dg.Definitions(resources={"telethon": TelethonSourceResource()})
