import dagster as dg

from telegram_intel.defs.graph.assets import entities, knowledge_graph

defs = dg.Definitions(assets=[entities, knowledge_graph])
