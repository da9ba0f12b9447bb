"""The ingest domain's resources (its assets, checks, jobs, sensors and schedule are found by the root's loader)."""

import dagster as dg

from telegram_intel.defs.ingest.resources import TelethonSourceResource

defs = dg.Definitions(resources={"telethon": TelethonSourceResource()})
