"""Settings of the decision engine, read from the environment when ``load_decision_settings`` is called (never at
import time). Secrets come only from the environment (or are handed in by the caller); ``describe()`` never shows
them.

| variable | default | meaning |
|---|---|---|
| ``TELEGRAM_INTEL_DECISIONS_MODE`` | ``approve`` | ``act`` (run at once), ``approve`` (ask with buttons first), ``dry_run`` (plan only) |
| ``TELEGRAM_INTEL_DECISIONS_THRESHOLD`` | ``0.6`` | below this confidence the bot asks a follow-up question |
| ``TELEGRAM_INTEL_DECISIONS_ALBUM_WINDOW_S`` | ``1.5`` | an album is complete after this long without a new part |
| ``TELEGRAM_INTEL_LLM_*`` | offline | the primary endpoint (``telegram_intel.llm.config``) |
| ``TELEGRAM_INTEL_DECISIONS_VISION_MODEL`` | the primary model | the model asked when a unit has images |
| ``TELEGRAM_INTEL_DECISIONS_FALLBACK_BASE_URL`` / ``_API_KEY`` / ``_MODEL`` | unset | the fallback endpoint |
| ``TELEGRAM_INTEL_DECISIONS_CHAIN_MODELS`` | the primary model | ``extract=m1,enrich=m2,format=m3`` for ``llm_chain`` |
| ``TELEGRAM_INTEL_WOOCOMMERCE_URL`` / ``_CONSUMER_KEY`` / ``_CONSUMER_SECRET`` | unset | the shop (HTTPS) |
| ``TELEGRAM_INTEL_WORDPRESS_USER`` / ``_APP_PASSWORD`` | unset | WordPress application password for media uploads |
| ``TELEGRAM_INTEL_GRAPH_TOKEN`` / ``_ITEM_ID`` / ``_TABLE`` | unset / unset / ``Table1`` | Excel workbook in OneDrive |
| ``TELEGRAM_INTEL_DECISIONS_XLSX`` | ``$STORAGE_DIR/decisions/orders.xlsx`` | the local workbook (used when Graph is not configured) |
| ``TELEGRAM_INTEL_DECISIONS_ACTIONS`` | unset | extra actions: ``name=package.module:Class,...`` |
| ``TELEGRAM_INTEL_DECISIONS_ACTION_ATTEMPTS`` | ``3`` | attempts per action run (exponential backoff between) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from telegram_intel.config import load_settings
from telegram_intel.lib.decisions import ROW_COLUMNS, MediaPolicy
from telegram_intel.llm.config import LLMSettings, load_llm_settings

MODES = ("act", "approve", "dry_run")
GRAPH_URL = "https://graph.microsoft.com/v1.0"


class DecisionConfigError(ValueError):
    """A setting of the decision engine is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class WooCommerceSettings:
    url: str | None = None
    consumer_key: str = field(default="", repr=False)
    consumer_secret: str = field(default="", repr=False)
    wp_user: str | None = None
    wp_app_password: str = field(default="", repr=False)
    timeout_s: float = 30.0

    @property
    def configured(self) -> bool:
        return bool(self.url and self.consumer_key and self.consumer_secret)


@dataclass(frozen=True)
class GraphSettings:
    token: str = field(default="", repr=False)
    item_id: str | None = None
    table: str = "Table1"
    base_url: str = GRAPH_URL
    timeout_s: float = 30.0

    @property
    def configured(self) -> bool:
        return bool(self.token and self.item_id)


@dataclass(frozen=True)
class DecisionSettings:
    mode: str = "approve"
    threshold: float = 0.6
    album_window_s: float = 1.5
    primary: LLMSettings = field(default_factory=LLMSettings)
    vision_model: str | None = None
    fallback: LLMSettings | None = None
    chain_models: Mapping[str, str] = field(default_factory=dict)
    woocommerce: WooCommerceSettings = field(default_factory=WooCommerceSettings)
    graph: GraphSettings = field(default_factory=GraphSettings)
    xlsx_path: Path = Path(".telegram_intel/storage/decisions/orders.xlsx")
    row_columns: tuple[str, ...] = (*ROW_COLUMNS, "ref")
    media_dir: Path = Path(".telegram_intel/storage/decisions/media")
    extra_actions: Mapping[str, str] = field(default_factory=dict)
    action_attempts: int = 3
    backoff_base_s: float = 1.0
    backoff_max_s: float = 30.0
    sku_prefix: str = "TI"
    media_policy: MediaPolicy = field(default_factory=MediaPolicy)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise DecisionConfigError(f"TELEGRAM_INTEL_DECISIONS_MODE must be one of {', '.join(MODES)}, "
                                      f"not {self.mode!r}")
        if not 0 <= self.threshold <= 1:
            raise DecisionConfigError(f"TELEGRAM_INTEL_DECISIONS_THRESHOLD must lie in [0, 1], not {self.threshold}")
        if self.action_attempts < 1:
            raise DecisionConfigError("TELEGRAM_INTEL_DECISIONS_ACTION_ATTEMPTS must be at least 1")

    def with_(self, **changes: Any) -> DecisionSettings:
        return replace(self, **changes)

    def describe(self) -> dict[str, Any]:
        """Safe for logs and metadata: which endpoints and backends are configured, never a key or token."""
        return {
            "mode": self.mode, "threshold": self.threshold,
            "primary": self.primary.endpoint if self.primary.is_enabled else None,
            "fallback": self.fallback.endpoint if self.fallback and self.fallback.is_enabled else None,
            "woocommerce": self.woocommerce.url if self.woocommerce.configured else None,
            "spreadsheet": "graph" if self.graph.configured else "xlsx",
        }


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise DecisionConfigError(f"{name} must be a number, not {raw!r}") from None


def _pairs(env: Mapping[str, str], name: str) -> dict[str, str]:
    raw = (env.get(name) or "").strip()
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in raw.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise DecisionConfigError(f"{name}: expected name=value pairs separated by commas, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def load_decision_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> DecisionSettings:
    """Settings from ``overrides`` (values that are not None) over the environment."""
    env = os.environ if env is None else env
    storage = load_settings(dict(env)).storage_dir
    fallback = None
    if env.get("TELEGRAM_INTEL_DECISIONS_FALLBACK_BASE_URL") or env.get("TELEGRAM_INTEL_DECISIONS_FALLBACK_API_KEY"):
        fallback = LLMSettings(base_url=env.get("TELEGRAM_INTEL_DECISIONS_FALLBACK_BASE_URL") or None,
                               api_key=env.get("TELEGRAM_INTEL_DECISIONS_FALLBACK_API_KEY") or "",
                               model=env.get("TELEGRAM_INTEL_DECISIONS_FALLBACK_MODEL") or "gpt-4o-mini")
    values: dict[str, Any] = dict(
        mode=(env.get("TELEGRAM_INTEL_DECISIONS_MODE") or "approve").strip().lower(),
        threshold=_float(env, "TELEGRAM_INTEL_DECISIONS_THRESHOLD", 0.6),
        album_window_s=_float(env, "TELEGRAM_INTEL_DECISIONS_ALBUM_WINDOW_S", 1.5),
        primary=load_llm_settings(env),
        vision_model=env.get("TELEGRAM_INTEL_DECISIONS_VISION_MODEL") or None,
        fallback=fallback,
        chain_models=_pairs(env, "TELEGRAM_INTEL_DECISIONS_CHAIN_MODELS"),
        woocommerce=WooCommerceSettings(
            url=env.get("TELEGRAM_INTEL_WOOCOMMERCE_URL") or None,
            consumer_key=env.get("TELEGRAM_INTEL_WOOCOMMERCE_CONSUMER_KEY") or "",
            consumer_secret=env.get("TELEGRAM_INTEL_WOOCOMMERCE_CONSUMER_SECRET") or "",
            wp_user=env.get("TELEGRAM_INTEL_WORDPRESS_USER") or None,
            wp_app_password=env.get("TELEGRAM_INTEL_WORDPRESS_APP_PASSWORD") or ""),
        graph=GraphSettings(token=env.get("TELEGRAM_INTEL_GRAPH_TOKEN") or "",
                            item_id=env.get("TELEGRAM_INTEL_GRAPH_ITEM_ID") or None,
                            table=env.get("TELEGRAM_INTEL_GRAPH_TABLE") or "Table1",
                            base_url=env.get("TELEGRAM_INTEL_GRAPH_BASE_URL") or GRAPH_URL),
        xlsx_path=Path(env.get("TELEGRAM_INTEL_DECISIONS_XLSX") or storage / "decisions" / "orders.xlsx"),
        media_dir=storage / "decisions" / "media",
        extra_actions=_pairs(env, "TELEGRAM_INTEL_DECISIONS_ACTIONS"),
        action_attempts=int(_float(env, "TELEGRAM_INTEL_DECISIONS_ACTION_ATTEMPTS", 3)),
    )
    values.update({k: v for k, v in overrides.items() if v is not None})
    return DecisionSettings(**values)
