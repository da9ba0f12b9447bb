"""An engine built from the environment, for the bot, the listener hook and the Dagster retry job: LLM calls are
accounted in ``llm_calls`` (tagged ``component=decisions`` and the endpoint's role)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from telegram_intel.db.llm_calls import SqlCallRecorder
from telegram_intel.pipeline.decisions.config import DecisionSettings, load_decision_settings
from telegram_intel.pipeline.decisions.engine import DecisionEngine
from telegram_intel.pipeline.decisions.providers import ProviderChain


def build_engine(db: Engine, settings: DecisionSettings | None = None) -> DecisionEngine:
    settings = settings or load_decision_settings()
    chain = ProviderChain.from_settings(settings, SqlCallRecorder(db), tags={"component": "decisions"})
    return DecisionEngine(db, settings, chain=chain)
