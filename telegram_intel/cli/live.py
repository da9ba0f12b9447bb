"""`telegram-intel login | sync | listen`: the live-account commands (wired in by ``register``)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys

import click

from telegram_intel.config import load_settings

EX_TEMPFAIL = 75  # sysexits: "try again later" (FloodWait, takeout awaiting approval)


def _config(**kwargs):
    from telegram_intel.sources.telethon.config import (
        TelegramConfigError,
        load_telegram_config,
    )

    try:
        return load_telegram_config(**kwargs)
    except TelegramConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # Telethon's INFO lines are connection chatter; ours carry the progress.
    logging.getLogger("telethon").setLevel(logging.INFO if verbose else logging.WARNING)


@click.command("login")
@click.option("--string-session", is_flag=True,
              help="Print a string session (for TELEGRAM_SESSION) instead of writing a session file.")
@click.option("--account", default=None,
              help="Which of TELEGRAM_ACCOUNTS (its TELEGRAM_<NAME>_* settings and session); default: the single one.")
def login_cmd(string_session: bool, account: str | None) -> None:
    """Log in to Telegram interactively: phone number, login code, then the 2FA password if set.

    Needs TELEGRAM_API_ID and TELEGRAM_API_HASH. The session goes to TELEGRAM_SESSION (a file path;
    default $TELEGRAM_INTEL_HOME/telegram.session) with mode 0600. Nothing you type is logged.
    """
    from telegram_intel.sources.telethon.login import login, make_login_client

    config = _config(require_enabled=False, require_session=False, require_chats=False, account=account)
    string_session = string_session or config.session_is_string
    client = make_login_client(config, string_session=string_session)
    asyncio.run(login(
        client,
        ask_phone=lambda: click.prompt("Phone number (international format, e.g. +441234567890)"),
        ask_code=lambda: click.prompt("Login code (sent by Telegram)"),
        ask_password=lambda: click.prompt("Two-step verification password", hide_input=True),
        say=click.echo,
        session_path=None if string_session else config.session_path,
    ))
    if string_session:
        click.echo("String session (a credential: keep it secret; put it in TELEGRAM_SESSION):", err=True)
        click.echo(client.session.save())
    else:
        click.echo(f"Session saved to {config.session_path} (mode 0600).")


@click.command("sync")
@click.option("--chat", "chats", multiple=True,
              help="Sync only these chats (id or @username; repeatable) instead of TELEGRAM_ALLOWED_CHATS.")
@click.option("--since", default=None, help="First sync of a chat goes back to this date (default: full history).")
@click.option("--no-media", is_flag=True, help="Do not download media this run.")
@click.option("--takeout/--no-takeout", default=None, help="Read history through a takeout session.")
@click.option("--participants/--no-participants", default=None, help="Also sync group members.")
@click.option("--json", "as_json", is_flag=True, help="Print per-chat results as JSON.")
@click.option("--account", default=None,
              help="Which of TELEGRAM_ACCOUNTS (its TELEGRAM_<NAME>_* settings and session); default: the single one.")
@click.option("-v", "--verbose", is_flag=True)
def sync_cmd(chats, since, no_media, takeout, participants, as_json, account, verbose) -> None:
    """Incremental history sync of the whitelisted chats into the database (resumable)."""
    from telegram_intel.db.engine import open_engine
    from telegram_intel.db.sync_state import DatabaseSyncStore
    from telegram_intel.sources.telethon.config import (
        TelegramConfigError,
        parse_allowed_chats,
        parse_since,
    )
    from telegram_intel.sources.telethon.source import (
        TelegramNotAuthorized,
        TelegramRetryLater,
        run_sync,
    )

    config = _config(require_chats=not chats, account=account)
    try:
        changes = {}
        if chats:
            changes["allowed"] = parse_allowed_chats(",".join(chats), "--chat")
        if since:
            changes["since"] = parse_since(since)
    except TelegramConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if no_media:
        changes["media_types"] = frozenset()
    if takeout is not None:
        changes["takeout"] = takeout
    if participants is not None:
        changes["participants"] = participants
    config = dataclasses.replace(config, **changes)
    _logging(verbose)
    settings = load_settings()
    with open_engine(settings) as engine:
        try:
            results = asyncio.run(run_sync(config, DatabaseSyncStore(engine, settings.storage_dir)))
        except TelegramRetryLater as exc:
            click.echo(f"telegram-intel sync: {exc}", err=True)
            sys.exit(EX_TEMPFAIL)
        except TelegramNotAuthorized as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False))
        return
    for r in results:
        click.echo(f"{r.chat_id:>16} {(r.title or '')[:32]:<32} {r.messages_new:>7} new {r.messages_updated:>6} "
                   f"updated {r.files_downloaded:>5} files  cursor {r.cursor_before} -> {r.cursor_after}")


@click.command("listen")
@click.option("--status-interval", default=60.0, show_default=True, help="Seconds between status lines.")
@click.option("--no-catch-up", is_flag=True, help="Skip the history catch-up after each (re)connect.")
@click.option("--account", default=None,
              help="Which of TELEGRAM_ACCOUNTS (its TELEGRAM_<NAME>_* settings and session); default: the single one.")
@click.option("-v", "--verbose", is_flag=True)
def listen_cmd(status_interval: float, no_catch_up: bool, account: str | None, verbose: bool) -> None:
    """Real-time listener: new, edited, deleted messages and albums of whitelisted chats.

    Runs until SIGINT/SIGTERM; reconnects after network loss. See deploy/telegram-listener.service.
    """
    from telegram_intel.db.engine import open_engine
    from telegram_intel.pipeline.listener import run_listener
    from telegram_intel.sources.telethon.source import TelegramNotAuthorized

    config = _config(account=account)
    _logging(verbose)
    logging.getLogger("telegram_intel.sources.telethon").info("starting listener: " + config.describe())
    settings = load_settings()
    with open_engine(settings) as engine:
        try:
            asyncio.run(run_listener(config, engine, settings.storage_dir, status_interval=status_interval,
                                     catch_up=not no_catch_up))
        except TelegramNotAuthorized as exc:
            raise click.ClickException(str(exc)) from None


def register(main: click.Group) -> None:
    """Add the live commands to the main `telegram-intel` group."""
    for command in (login_cmd, sync_cmd, listen_cmd):
        main.add_command(command)
