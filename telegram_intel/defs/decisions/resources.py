"""``DecisionsResource``: the decision engine's settings for Dagster runs (the retry job)."""

from __future__ import annotations

import os

import dagster as dg
from pydantic import Field

from telegram_intel.pipeline.decisions.config import DecisionSettings, load_decision_settings

# field → environment variable it stands for; unset fields fall back to that variable at run time
_FIELDS = {
    "mode": "TELEGRAM_INTEL_DECISIONS_MODE",
    "xlsx_path": "TELEGRAM_INTEL_DECISIONS_XLSX",
    "woocommerce_url": "TELEGRAM_INTEL_WOOCOMMERCE_URL",
    "woocommerce_consumer_key": "TELEGRAM_INTEL_WOOCOMMERCE_CONSUMER_KEY",
    "woocommerce_consumer_secret": "TELEGRAM_INTEL_WOOCOMMERCE_CONSUMER_SECRET",
    "wordpress_user": "TELEGRAM_INTEL_WORDPRESS_USER",
    "wordpress_app_password": "TELEGRAM_INTEL_WORDPRESS_APP_PASSWORD",
    "graph_token": "TELEGRAM_INTEL_GRAPH_TOKEN",
    "graph_item_id": "TELEGRAM_INTEL_GRAPH_ITEM_ID",
    "graph_table": "TELEGRAM_INTEL_GRAPH_TABLE",
    "graph_base_url": "TELEGRAM_INTEL_GRAPH_BASE_URL",
}


class DecisionsResource(dg.ConfigurableResource):
    """Where the decision engine's actions go: the WooCommerce shop, the Excel table (Microsoft Graph) or the local
    workbook. Give secrets as `dg.EnvVar(...)`; every field left unset falls back to its `TELEGRAM_INTEL_*`
    variable at run time (`telegram_intel/pipeline/decisions/config.py` lists them). LLM endpoints come from the
    `TELEGRAM_INTEL_LLM_*` / `TELEGRAM_INTEL_DECISIONS_FALLBACK_*` variables."""

    mode: str | None = Field(default=None, description="act | approve | dry_run (the bot's mode).")
    xlsx_path: str | None = Field(default=None, description="Local workbook (default $STORAGE/decisions/orders.xlsx).")
    woocommerce_url: str | None = None
    woocommerce_consumer_key: str | None = Field(default=None, repr=False)
    woocommerce_consumer_secret: str | None = Field(default=None, repr=False)
    wordpress_user: str | None = None
    wordpress_app_password: str | None = Field(default=None, repr=False)
    graph_token: str | None = Field(default=None, repr=False)
    graph_item_id: str | None = None
    graph_table: str | None = None
    graph_base_url: str | None = None

    def settings(self, storage_dir: str | None = None) -> DecisionSettings:
        env = dict(os.environ)
        if storage_dir:
            env.setdefault("TELEGRAM_INTEL_STORAGE_DIR", storage_dir)
        for name, var in _FIELDS.items():
            value = getattr(self, name)
            if value:
                env[var] = value
        return load_decision_settings(env)
