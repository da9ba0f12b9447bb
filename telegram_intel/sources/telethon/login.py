"""Interactive login: phone → code → 2FA password.

The phone number, code and password are passed straight to Telegram and never logged or stored.
A file session is created 0600 before Telethon writes the auth key into it; a string session is
returned for the caller to print (it is a credential: whoever holds it is logged in).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telethon import errors

from telegram_intel.sources.telethon.config import TelegramConfig
from telegram_intel.sources.telethon.mapping import display_name

MAX_ATTEMPTS = 3


def secure_session_file(path: Path) -> None:
    """Create the session file owner-only (sqlite keeps the mode of an existing file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    path.chmod(0o600)


def make_login_client(config: TelegramConfig, *, string_session: bool) -> Any:
    from telethon import TelegramClient
    from telethon.sessions import SQLiteSession, StringSession

    if string_session or config.session_is_string:
        session = StringSession(config.session if config.session_is_string else None)
    else:
        secure_session_file(config.session_path)
        session = SQLiteSession(str(config.session_path))
    return TelegramClient(session, config.api_id, config.api_hash)


async def login(
    client: Any,
    *,
    ask_phone: Callable[[], str],
    ask_code: Callable[[], str],
    ask_password: Callable[[], str],
    say: Callable[[str], None] = print,
    session_path: Path | None = None,
) -> Any:
    """Log the client's session in; returns the account (``types.User``)."""
    await client.connect()
    try:
        if not await client.is_user_authorized():
            phone = ask_phone().strip()
            sent = await client.send_code_request(phone)
            for attempt in range(MAX_ATTEMPTS):
                try:
                    await client.sign_in(phone=phone, code=ask_code().strip(), phone_code_hash=sent.phone_code_hash)
                    break
                except (errors.PhoneCodeInvalidError, errors.PhoneCodeEmptyError):
                    if attempt == MAX_ATTEMPTS - 1:
                        raise
                    say("That code is not valid; try again.")
                except errors.SessionPasswordNeededError:
                    await _password(client, ask_password, say)
                    break
        me = await client.get_me()
        say(f"Logged in as {display_name(me) or 'account'} (user id {me.id}).")
        return me
    finally:
        await client.disconnect()
        if session_path is not None and session_path.exists():
            session_path.chmod(0o600)


async def _password(client: Any, ask_password: Callable[[], str], say: Callable[[str], None]) -> None:
    for attempt in range(MAX_ATTEMPTS):
        try:
            await client.sign_in(password=ask_password())
            return
        except errors.PasswordHashInvalidError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            say("Wrong two-step verification password; try again.")
