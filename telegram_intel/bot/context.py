"""``BotContext``: what every router of the bot is given (aiogram passes it to handlers as ``ctx``)."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from telegram_intel.bot.logs import user_ref
from telegram_intel.bot.metrics import BotMetrics
from telegram_intel.bot.settings import BotSettings

log = logging.getLogger("telegram_intel.bot")


@dataclass
class BotContext:
    settings: BotSettings
    engine: Engine
    metrics: BotMetrics = field(default_factory=BotMetrics)
    voice: Any = None  # pipeline.bot_voice.VoiceInsightService when the voice feature is on
    persona: Any = None  # pipeline.persona_chat.PersonaChat when the persona feature is on
    extras: dict[str, Any] = field(default_factory=dict)  # services of other features (e.g. decisions)
    started_at: float = field(default_factory=time.monotonic)
    bot_username: str | None = None

    def user_ref(self, user_id: int | None) -> str | None:
        # keyed with the bot's token: Telegram ids are few enough to hash them all, so a public salt would not do
        return user_ref(user_id, hashlib.sha256(f"log:{self.settings.token}".encode()).hexdigest())

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admins
