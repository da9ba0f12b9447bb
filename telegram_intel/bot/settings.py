"""``BotSettings``: the bot service's configuration, read from the environment when ``from_env`` is called
(never at import time). Secrets (the bot token, API keys) come only from the environment and never appear in
``repr`` or ``describe``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

TELEGRAM_API_URL = "https://api.telegram.org"
DEFAULT_FEATURES = ("voice", "persona")


class BotConfigError(ValueError):
    """A bot setting is missing or malformed; the message names the variable."""


def _ints(name: str, raw: str | None) -> tuple[int, ...]:
    values = []
    for part in (raw or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise BotConfigError(f"{name} must be comma-separated Telegram user ids, not {part!r}")
        values.append(int(part))
    return tuple(values)


def _number(name: str, raw: str | None, kind: type, default: Any, minimum: float = 0) -> Any:
    if raw is None or not raw.strip():
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        raise BotConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, not {raw!r}") from None
    if value < minimum:
        raise BotConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


@dataclass(frozen=True)
class BotSettings:
    token: str = field(default="", repr=False)
    api_url: str = TELEGRAM_API_URL
    #: Routers to include, in order (``telegram_intel.bot.<feature>``); persona, the catch-all for text, runs last.
    features: tuple[str, ...] = DEFAULT_FEATURES
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464  # 0 picks a free port
    #: Messages per user per minute; more are dropped with one notice.
    rate_limit_per_minute: int = 20
    #: Who may use the bot (empty: everyone) and who may change models (/set_model).
    allowed_users: tuple[int, ...] = ()
    admins: tuple[int, ...] = ()
    # -- voice insight (seed 004)
    whisper_model: str = "base"
    whisper_language: str = "auto"  # ru | en | auto
    voice_modes: tuple[str, ...] = ()  # empty: every enabled mode (DEFAULT, TONE and custom ones)
    modes_file: str | None = None  # custom modes (YAML/JSON), hot-reloaded
    voice_cache_hours: float = 24.0  # results kept by audio hash, then deleted; 0 = not kept at all
    max_voice_seconds: int = 600
    max_file_mb: float = 20.0  # the Bot API's getFile limit
    # -- persona chat (seed 003)
    persona: str = "owner"
    persona_name: str = "the account owner"
    persona_owner: str = "me"  # whose past messages are retrieved: me | a user id | @username
    persona_base_url: str | None = None
    persona_api_key: str = field(default="", repr=False)
    persona_model: str | None = None
    persona_adapter: str | None = None  # the adapter version/path the inference server serves (stored per reply)
    persona_embedder: str | None = None  # retrieval embedder (None: full-text search only)
    retrieval_k: int = 4
    memory_turns: int = 12  # newest turns kept per user
    memory_days: float = 30.0  # memory and unrated replies older than this are deleted
    reply_max_tokens: int = 160
    reply_timeout_s: float = 30.0
    reply_temperature: float = 0.7

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> BotSettings:
        env = os.environ if env is None else env
        g = env.get
        features = tuple(f.strip().lower() for f in (g("TELEGRAM_INTEL_BOT_FEATURES") or "").split(",") if f.strip())
        values: dict[str, Any] = {
            "token": (g("TELEGRAM_INTEL_BOT_TOKEN") or "").strip(),
            "api_url": (g("TELEGRAM_INTEL_BOT_API_URL") or TELEGRAM_API_URL).strip().rstrip("/"),
            "features": features or DEFAULT_FEATURES,
            "metrics_host": g("TELEGRAM_INTEL_BOT_METRICS_HOST") or "127.0.0.1",
            "metrics_port": _number("TELEGRAM_INTEL_BOT_METRICS_PORT", g("TELEGRAM_INTEL_BOT_METRICS_PORT"), int, 9464),
            "rate_limit_per_minute": _number("TELEGRAM_INTEL_BOT_RATE_LIMIT", g("TELEGRAM_INTEL_BOT_RATE_LIMIT"),
                                             int, 20, 1),
            "allowed_users": _ints("TELEGRAM_INTEL_BOT_ALLOWED_USERS", g("TELEGRAM_INTEL_BOT_ALLOWED_USERS")),
            "admins": _ints("TELEGRAM_INTEL_BOT_ADMINS", g("TELEGRAM_INTEL_BOT_ADMINS")),
            "whisper_model": (g("TELEGRAM_INTEL_WHISPER_MODEL") or "base").strip(),
            "whisper_language": (g("TELEGRAM_INTEL_BOT_VOICE_LANGUAGE") or "auto").strip(),
            "modes_file": g("TELEGRAM_INTEL_VOICE_MODES_FILE") or None,
            "voice_cache_hours": _number("TELEGRAM_INTEL_BOT_VOICE_CACHE_HOURS",
                                         g("TELEGRAM_INTEL_BOT_VOICE_CACHE_HOURS"), float, 24.0),
            "persona": (g("TELEGRAM_INTEL_BOT_PERSONA") or "owner").strip(),
            "persona_name": (g("TELEGRAM_INTEL_BOT_PERSONA_NAME") or "the account owner").strip(),
            "persona_owner": (g("TELEGRAM_INTEL_PERSONA_OWNER") or "me").strip(),
            "persona_base_url": g("TELEGRAM_INTEL_PERSONA_BASE_URL") or g("TELEGRAM_INTEL_LLM_BASE_URL") or None,
            "persona_api_key": g("TELEGRAM_INTEL_PERSONA_API_KEY") or g("TELEGRAM_INTEL_LLM_API_KEY") or "",
            "persona_model": g("TELEGRAM_INTEL_PERSONA_MODEL") or g("TELEGRAM_INTEL_LLM_MODEL") or None,
            "persona_adapter": g("TELEGRAM_INTEL_PERSONA_ADAPTER") or None,
            "persona_embedder": g("TELEGRAM_INTEL_PERSONA_EMBEDDER") or None,
            "memory_turns": _number("TELEGRAM_INTEL_BOT_MEMORY_TURNS", g("TELEGRAM_INTEL_BOT_MEMORY_TURNS"), int, 12),
            "memory_days": _number("TELEGRAM_INTEL_BOT_MEMORY_DAYS", g("TELEGRAM_INTEL_BOT_MEMORY_DAYS"), float, 30.0),
            "reply_max_tokens": _number("TELEGRAM_INTEL_BOT_REPLY_MAX_TOKENS", g("TELEGRAM_INTEL_BOT_REPLY_MAX_TOKENS"),
                                        int, 160, 1),
            "reply_timeout_s": _number("TELEGRAM_INTEL_BOT_REPLY_TIMEOUT_S", g("TELEGRAM_INTEL_BOT_REPLY_TIMEOUT_S"),
                                       float, 30.0, 0.1),
        }
        modes = g("TELEGRAM_INTEL_BOT_VOICE_MODES")
        if modes:
            values["voice_modes"] = tuple(m.strip().upper() for m in modes.split(",") if m.strip())
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> BotSettings:
        return replace(self, **changes)

    def require_token(self) -> str:
        token = self.token
        if not token:
            raise BotConfigError("TELEGRAM_INTEL_BOT_TOKEN is not set: create a bot with @BotFather and export its "
                                 "token")
        head, _, tail = token.partition(":")
        if not head.isdigit() or len(tail) < 20:
            raise BotConfigError("TELEGRAM_INTEL_BOT_TOKEN does not look like a bot token (<digits>:<secret> from "
                                 "@BotFather)")
        return token

    def describe(self) -> dict[str, Any]:
        """Safe to log and show on /health: no token, no keys."""
        hidden = {"token", "persona_api_key"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in hidden}
