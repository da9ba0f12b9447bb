"""The corpus domain's resources (its assets, checks, jobs and sensors are found by the root's defs-folder loader)."""

import dagster as dg

from telegram_intel.defs.corpus.resources import CorpusResource

defs = dg.Definitions(resources={"corpus": CorpusResource()})
