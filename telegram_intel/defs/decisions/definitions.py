"""The decisions domain's resource (its assets, checks and jobs are found by the root's defs-folder loader)."""

import dagster as dg

from telegram_intel.defs.decisions.resources import DecisionsResource

defs = dg.Definitions(resources={"decisions": DecisionsResource()})
