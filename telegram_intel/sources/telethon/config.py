"""Live Telegram settings from the environment, validated before any network call.

Secrets (API hash, session) never appear in ``repr``/logs; the phone number, login code and 2FA
password are never part of the configuration at all (``login`` asks for them interactively).

Several accounts: ``TELEGRAM_ACCOUNTS`` names them (e.g. ``work,personal``); each account's settings are the
``TELEGRAM_<NAME>_<SETTING>`` variables (``TELEGRAM_WORK_SESSION``, ``TELEGRAM_WORK_ALLOWED_CHATS``, …), falling
back to the plain ``TELEGRAM_<SETTING>`` for anything not set per account (the API id/hash usually). Each account
needs a session of its own; by default ``telegram-<name>.session`` in the data folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from telegram_intel.config import load_settings

DEFAULT_MEDIA_TYPES = ("photo", "voice", "video_note")
DEFAULT_MEDIA_MAX_BYTES = 20 * 1024 * 1024

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_API_HASH = re.compile(r"^[0-9a-fA-F]{32}$")
# Telethon StringSession: version "1" + url-safe base64 of (dc, ip, port, 256-byte key): ~350 chars.
_STRING_SESSION = re.compile(r"^1[A-Za-z0-9_\-]+=*$")
_ACCOUNT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class TelegramConfigError(ValueError):
    """A missing or malformed TELEGRAM_* setting; the message names the variable and the fix."""


@dataclass(frozen=True)
class ChatWhitelist:
    """TELEGRAM_ALLOWED_CHATS: marked ids and/or usernames (lower case, without @); ``everything`` for ``*``."""

    ids: frozenset[int] = frozenset()
    usernames: frozenset[str] = frozenset()
    everything: bool = False

    def matches(self, chat_id: int, usernames: tuple[str, ...] = ()) -> bool:
        return self.everything or chat_id in self.ids or any(u.lower() in self.usernames for u in usernames if u)

    def __bool__(self) -> bool:
        return self.everything or bool(self.ids or self.usernames)


@dataclass(frozen=True)
class TelegramConfig:
    api_id: int
    api_hash: str = field(repr=False)
    session: str = field(repr=False)  # a StringSession string, or a session file path
    allowed: ChatWhitelist
    enabled: bool
    media_types: frozenset[str] = frozenset(DEFAULT_MEDIA_TYPES)
    media_max_bytes: int = DEFAULT_MEDIA_MAX_BYTES
    since: datetime | None = None  # first sync of a chat goes back to here (None: full history)
    takeout: bool = False
    flood_sleep_threshold: int = 60  # FloodWait up to this many seconds is slept, longer ends the run
    participants: bool = True
    fetch_bios: bool = False
    account: str | None = None  # the name in TELEGRAM_ACCOUNTS; None: the single, unnamed account
    comments: bool = True  # read the comments under channel posts from the linked discussion group

    @property
    def session_is_string(self) -> bool:
        return is_string_session(self.session)

    @property
    def session_path(self) -> Path | None:
        return None if self.session_is_string else Path(self.session)

    def describe(self) -> str:
        """Safe one-line summary for logs (no hash, no session contents)."""
        where = "string session" if self.session_is_string else f"session file {self.session}"
        chats = "all chats" if self.allowed.everything else (
            f"{len(self.allowed.ids)} chat ids, {len(self.allowed.usernames)} usernames")
        return f"api_id={self.api_id}, {where}, {chats}, media={sorted(self.media_types) or 'none'}"


def is_string_session(value: str) -> bool:
    return len(value) > 100 and "/" not in value and "." not in value and bool(_STRING_SESSION.match(value))


def parse_flag(env, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise TelegramConfigError(f"{name}={raw!r} is not a boolean: use true/false, 1/0, yes/no or on/off")


def parse_allowed_chats(raw: str | None, name: str = "TELEGRAM_ALLOWED_CHATS") -> ChatWhitelist:
    ids: set[int] = set()
    usernames: set[str] = set()
    everything = False
    for item in (raw or "").replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        if item == "*":
            everything = True
            continue
        if re.fullmatch(r"-?\d+", item):
            ids.add(int(item))
            continue
        name_part = re.sub(r"^(?:https?://)?(?:t\.me/|telegram\.me/)", "", item).lstrip("@")
        if not _USERNAME.match(name_part):
            raise TelegramConfigError(
                f"{name}: {item!r} is neither a chat id (e.g. -1001234567890) nor a username (e.g. @some_group)"
            )
        usernames.add(name_part.lower())
    return ChatWhitelist(frozenset(ids), frozenset(usernames), everything)


def parse_since(raw: str | None) -> datetime | None:
    if not raw or not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        try:
            value = datetime.combine(date.fromisoformat(raw.strip()), datetime.min.time())
        except ValueError:
            raise TelegramConfigError(f"TELEGRAM_SYNC_SINCE={raw!r} is not an ISO date (e.g. 2024-01-31)") from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def default_session_path(env=None, account: str | None = None) -> Path:
    return load_settings(env).home / (f"telegram-{account}.session" if account else "telegram.session")


def account_names(env=None) -> list[str]:
    """The accounts TELEGRAM_ACCOUNTS names, in order (empty: one unnamed account)."""
    env = os.environ if env is None else env
    names: list[str] = []
    for item in (env.get("TELEGRAM_ACCOUNTS") or "").split(","):
        name = item.strip().lower()
        if not name:
            continue
        if not _ACCOUNT.match(name):
            raise TelegramConfigError(
                f"TELEGRAM_ACCOUNTS: {item.strip()!r} is not an account name (a letter, then letters, digits or _; "
                "at most 32)")
        if name in names:
            raise TelegramConfigError(f"TELEGRAM_ACCOUNTS names {name!r} twice")
        names.append(name)
    return names


class _AccountEnv:
    """The environment as one account sees it: TELEGRAM_<NAME>_X wins over TELEGRAM_X."""

    def __init__(self, env, account: str) -> None:
        self.env, self.prefix = env, f"TELEGRAM_{account.upper()}_"

    def get(self, name: str, default=None):
        if name.startswith("TELEGRAM_"):
            own = self.env.get(self.prefix + name.removeprefix("TELEGRAM_"))
            if own is not None:
                return own
        return self.env.get(name, default)

    def __getitem__(self, name: str):
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None


def load_telegram_config(env=None, *, require_enabled: bool = True, require_session: bool = True,
                         require_chats: bool = True, account: str | None = None) -> TelegramConfig:
    """Read and check TELEGRAM_* variables. Raises TelegramConfigError with a message that says what to fix.

    ``require_session``: the session file must exist (``sync``/``listen``); ``login`` creates it.
    ``account``: one of TELEGRAM_ACCOUNTS (its TELEGRAM_<NAME>_* variables first).
    """
    env = os.environ if env is None else env
    if account is not None:
        names = account_names(env)
        if account.lower() not in names:
            raise TelegramConfigError(
                f"Telegram account {account!r} is not configured: TELEGRAM_ACCOUNTS lists {names or 'none'}")
        account = account.lower()
        settings_env = env
        env = _AccountEnv(env, account)
    enabled = parse_flag(env, "TELEGRAM_FEATURE_ENABLED", False)
    if require_enabled and not enabled:
        raise TelegramConfigError(
            "Telegram is disabled: set TELEGRAM_FEATURE_ENABLED=true to sync or listen (it is off by default)"
        )
    raw_id = (env.get("TELEGRAM_API_ID") or "").strip()
    if not raw_id:
        raise TelegramConfigError("TELEGRAM_API_ID is not set: create an app at https://my.telegram.org/apps")
    if not raw_id.isdigit() or int(raw_id) <= 0:
        raise TelegramConfigError(f"TELEGRAM_API_ID must be a positive integer, got {raw_id!r}")
    api_hash = (env.get("TELEGRAM_API_HASH") or "").strip()
    if not api_hash:
        raise TelegramConfigError("TELEGRAM_API_HASH is not set: copy it from https://my.telegram.org/apps")
    if not _API_HASH.match(api_hash):
        # The value is a secret: say what is wrong with it without echoing it.
        raise TelegramConfigError(f"TELEGRAM_API_HASH must be 32 hexadecimal characters (got {len(api_hash)} characters)")

    if account is None:
        session = (env.get("TELEGRAM_SESSION") or "").strip() or str(default_session_path(env))
    else:  # never the shared TELEGRAM_SESSION: two accounts cannot share a session
        own = settings_env.get(f"TELEGRAM_{account.upper()}_SESSION")
        session = (own or "").strip() or str(default_session_path(settings_env, account))
    if not is_string_session(session):
        path = Path(session).expanduser()
        if path.suffix != ".session":
            path = path.with_name(path.name + ".session")  # Telethon's SQLiteSession appends it anyway
        if require_session and not path.is_file():
            raise TelegramConfigError(
                f"no Telegram session at {path}: run `telegram-intel login` first, or set TELEGRAM_SESSION "
                "to a session file or a string session"
            )
        if not require_session and not path.parent.is_dir():
            raise TelegramConfigError(f"TELEGRAM_SESSION: folder {path.parent} does not exist")
        session = str(path.resolve())

    chats_var = "TELEGRAM_ALLOWED_CHATS" if account is None else f"TELEGRAM_{account.upper()}_ALLOWED_CHATS"
    allowed = parse_allowed_chats(env.get("TELEGRAM_ALLOWED_CHATS"), chats_var)
    if require_chats and not allowed:
        raise TelegramConfigError(
            f"{chats_var} is empty: list the chats to sync as ids and/or @usernames "
            "(comma-separated), or '*' for every dialog"
        )

    raw_types = env.get("TELEGRAM_MEDIA_TYPES")
    if raw_types is None:
        media_types = frozenset(DEFAULT_MEDIA_TYPES)
    elif raw_types.strip().lower() in ("", "none"):
        media_types = frozenset()
    else:
        from telegram_intel.lib.records import MEDIA_TYPES

        media_types = frozenset(t.strip().lower() for t in raw_types.split(",") if t.strip())
        unknown = sorted(media_types - set(MEDIA_TYPES) - {"all"})
        if unknown:
            raise TelegramConfigError(
                f"TELEGRAM_MEDIA_TYPES: unknown media type(s) {unknown}; known: {', '.join(MEDIA_TYPES)}, all, none"
            )
        if "all" in media_types:
            media_types = frozenset(MEDIA_TYPES)
    raw_max = (env.get("TELEGRAM_MEDIA_MAX_MB") or "").strip()
    try:
        max_bytes = int(float(raw_max) * 1024 * 1024) if raw_max else DEFAULT_MEDIA_MAX_BYTES
    except ValueError:
        raise TelegramConfigError(f"TELEGRAM_MEDIA_MAX_MB must be a number of megabytes, got {raw_max!r}") from None
    raw_flood = (env.get("TELEGRAM_FLOOD_SLEEP_THRESHOLD") or "60").strip()
    if not raw_flood.isdigit():
        raise TelegramConfigError(f"TELEGRAM_FLOOD_SLEEP_THRESHOLD must be whole seconds, got {raw_flood!r}")

    return TelegramConfig(
        api_id=int(raw_id),
        api_hash=api_hash,
        session=session,
        allowed=allowed,
        enabled=enabled,
        media_types=media_types,
        media_max_bytes=max_bytes,
        since=parse_since(env.get("TELEGRAM_SYNC_SINCE")),
        takeout=parse_flag(env, "TELEGRAM_TAKEOUT", False),
        flood_sleep_threshold=int(raw_flood),
        participants=parse_flag(env, "TELEGRAM_SYNC_PARTICIPANTS", True),
        fetch_bios=parse_flag(env, "TELEGRAM_FETCH_BIOS", False),
        account=account,
        comments=parse_flag(env, "TELEGRAM_SYNC_COMMENTS", True),
    )


def make_client(config: TelegramConfig):
    """A TelegramClient for the configured session (constructing it does not connect)."""
    from telethon import TelegramClient
    from telethon.sessions import SQLiteSession, StringSession

    session = StringSession(config.session) if config.session_is_string else SQLiteSession(config.session)
    client = TelegramClient(session, config.api_id, config.api_hash,
                            flood_sleep_threshold=config.flood_sleep_threshold, auto_reconnect=True)
    if config.session_path is not None and config.session_path.exists():
        config.session_path.chmod(0o600)  # sqlite creates it 0644 under the default umask
    return client
