"""The embeddings domain's resources (its assets, checks, jobs and sensors are found by the root's defs-folder loader)."""

import dagster as dg

from telegram_intel.defs.embeddings.resources import EmbedderResource

defs = dg.Definitions(resources={"embedder": EmbedderResource()})
