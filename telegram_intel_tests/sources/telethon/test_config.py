"""Configuration errors come before any network call; login never logs what the user types."""

from __future__ import annotations

import asyncio
import logging
import stat

import click
import pytest
from click.testing import CliRunner
from telethon import errors

from telegram_intel.cli.live import register
from telegram_intel.sources.telethon.config import (
    TelegramConfigError,
    account_names,
    load_telegram_config,
    parse_allowed_chats,
)
from telegram_intel.sources.telethon.login import login, secure_session_file
from telegram_intel_tests.support import telethon_fakes as f
from telegram_intel_tests.support.telethon import ME

HASH = "0123456789abcdef0123456789abcdef"
STRING_SESSION = "1" + "A" * 350 + "="


def env(tmp_path, **over):
    session = tmp_path / "me.session"
    session.touch()
    base = {"TELEGRAM_FEATURE_ENABLED": "true", "TELEGRAM_API_ID": "12345", "TELEGRAM_API_HASH": HASH,
            "TELEGRAM_SESSION": str(session), "TELEGRAM_ALLOWED_CHATS": "-1001234567890, @devchat",
            "TELEGRAM_INTEL_HOME": str(tmp_path)}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_a_complete_configuration(tmp_path):
    cfg = load_telegram_config(env(tmp_path, TELEGRAM_MEDIA_TYPES="photo, voice", TELEGRAM_MEDIA_MAX_MB="5",
                                   TELEGRAM_SYNC_SINCE="2024-01-31", TELEGRAM_TAKEOUT="yes"))
    assert cfg.api_id == 12345 and cfg.allowed.ids == {-1001234567890} and cfg.allowed.usernames == {"devchat"}
    assert cfg.media_types == {"photo", "voice"} and cfg.media_max_bytes == 5 * 1024 * 1024
    assert cfg.since.isoformat() == "2024-01-31T00:00:00+00:00" and cfg.takeout
    assert HASH not in repr(cfg) and HASH not in cfg.describe() and str(tmp_path) in cfg.session
    assert load_telegram_config(env(tmp_path, TELEGRAM_SESSION=STRING_SESSION)).session_is_string


@pytest.mark.parametrize("over, message", [
    ({"TELEGRAM_FEATURE_ENABLED": None}, "TELEGRAM_FEATURE_ENABLED=true"),
    ({"TELEGRAM_FEATURE_ENABLED": "maybe"}, "is not a boolean"),
    ({"TELEGRAM_API_ID": None}, "TELEGRAM_API_ID is not set"),
    ({"TELEGRAM_API_ID": "12ab"}, "positive integer"),
    ({"TELEGRAM_API_HASH": ""}, "TELEGRAM_API_HASH is not set"),
    ({"TELEGRAM_API_HASH": "secret-but-wrong"}, "32 hexadecimal characters (got 16 characters)"),
    ({"TELEGRAM_SESSION": "/nowhere/x.session"}, "run `telegram-intel login` first"),
    ({"TELEGRAM_ALLOWED_CHATS": " , "}, "TELEGRAM_ALLOWED_CHATS is empty"),
    ({"TELEGRAM_ALLOWED_CHATS": "-100123, not a chat!"}, "'not a chat!' is neither a chat id"),
    ({"TELEGRAM_MEDIA_TYPES": "photo,holograms"}, "unknown media type(s) ['holograms']"),
    ({"TELEGRAM_MEDIA_MAX_MB": "lots"}, "TELEGRAM_MEDIA_MAX_MB"),
    ({"TELEGRAM_SYNC_SINCE": "last tuesday"}, "TELEGRAM_SYNC_SINCE"),
])
def test_configuration_errors_say_what_to_fix(tmp_path, over, message):
    with pytest.raises(TelegramConfigError) as info:
        load_telegram_config(env(tmp_path, **over))
    assert message in str(info.value)
    assert "secret-but-wrong" not in str(info.value)


def test_whitelist_forms():
    allowed = parse_allowed_chats("-1001234567890,42, @Some_Group, https://t.me/other_chan, *")
    assert allowed.ids == {-1001234567890, 42} and allowed.usernames == {"some_group", "other_chan"}
    assert allowed.everything and allowed.matches(7)
    assert parse_allowed_chats("@devchat").matches(-5, ("DevChat",))
    assert not parse_allowed_chats("@devchat").matches(-5, ("other",))


def test_cli_reports_config_errors_without_touching_the_network(tmp_path, monkeypatch):
    for k in list(__import__("os").environ):
        if k.startswith("TELEGRAM_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("TELEGRAM_INTEL_HOME", str(tmp_path))

    @click.group()
    def main():
        pass

    register(main)
    runner = CliRunner()
    result = runner.invoke(main, ["sync"])
    assert result.exit_code == 1 and "TELEGRAM_FEATURE_ENABLED=true" in result.output
    monkeypatch.setenv("TELEGRAM_FEATURE_ENABLED", "1")
    monkeypatch.setenv("TELEGRAM_API_ID", "5")
    monkeypatch.setenv("TELEGRAM_API_HASH", HASH)
    result = runner.invoke(main, ["listen"])
    assert result.exit_code == 1 and "run `telegram-intel login` first" in result.output
    result = runner.invoke(main, ["login"], env={"TELEGRAM_API_ID": ""})
    assert result.exit_code == 1 and "TELEGRAM_API_ID is not set" in result.output
    monkeypatch.setenv("TELEGRAM_ACCOUNTS", "work")
    result = runner.invoke(main, ["sync", "--account", "play"])
    assert result.exit_code == 1 and "account 'play' is not configured" in result.output
    result = runner.invoke(main, ["listen", "--account", "work"])  # its own session, which is not there yet
    assert result.exit_code == 1 and "telegram-work.session" in result.output
    assert {"login", "sync", "listen"} <= set(main.commands)


class AuthClient(f.FakeTelegramClient):
    """The double with Telegram's login protocol: code, then (optionally) the 2FA password."""

    def __init__(self, session_path, password=None):
        super().__init__(me=ME, dialogs=[])
        self.authorized = False
        self.password = password
        self.session_path = session_path
        self.seen: list[tuple] = []

    async def send_code_request(self, phone, **kw):
        self.seen.append(("send_code", phone))
        return f._NS(phone_code_hash="hash123")

    async def sign_in(self, phone=None, code=None, *, password=None, phone_code_hash=None, **kw):
        self.seen.append(("sign_in", phone, code, password))
        if password is not None:
            if password != self.password:
                raise errors.PasswordHashInvalidError(request=None)
        elif code != "12345":
            raise errors.PhoneCodeInvalidError(request=None)
        elif self.password:
            raise errors.SessionPasswordNeededError(request=None)
        self.authorized = True
        self.session_path.write_bytes(b"sqlite auth key")  # what Telethon's session does
        return ME


def test_login_with_code_and_2fa_keeps_secrets_out_of_logs_and_the_session_private(tmp_path, caplog):
    path = tmp_path / "sessions" / "me.session"
    secure_session_file(path)
    client = AuthClient(path, password="hunter2-pw")
    answers = {"code": iter(["00000", "12345"]), "password": iter(["wrong-pw", "hunter2-pw"])}
    said = []
    with caplog.at_level(logging.DEBUG):
        me = asyncio.run(login(client, ask_phone=lambda: " +15550001111 ", ask_code=lambda: next(answers["code"]),
                               ask_password=lambda: next(answers["password"]), say=said.append, session_path=path))
    assert me.id == ME.id and client.authorized
    assert ("send_code", "+15550001111") in client.seen and ("sign_in", None, None, "hunter2-pw") in client.seen
    assert said == ["That code is not valid; try again.", "Wrong two-step verification password; try again.",
                    "Logged in as Owner Person (user id 111)."]
    logged = caplog.text + " ".join(said)
    for secret in ("+15550001111", "12345", "hunter2-pw", "wrong-pw"):
        assert secret not in logged
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert client.calls[-1] == ("disconnect",)


def test_login_is_a_no_op_for_an_authorized_session(tmp_path):
    client = AuthClient(tmp_path / "x.session")
    client.authorized = True
    asyncio.run(login(client, ask_phone=lambda: pytest.fail("asked for the phone"), ask_code=lambda: "",
                      ask_password=lambda: "", say=lambda s: None))
    assert client.seen == []


def test_cli_sync_runs_end_to_end_and_exits_75_on_long_flood_waits(ti_env, tmp_path, monkeypatch, engine):
    import json

    from telegram_intel.sources.telethon import config as config_mod
    from telegram_intel_tests.support.telethon import ALLOWED, DEV_ID, build_client

    clients = [build_client(dev_count=20), build_client(dev_count=40)]
    clients[1].fail("iter_messages", f.flood(900), after=5)
    monkeypatch.setattr(config_mod, "make_client", lambda cfg: clients.pop(0))
    session = tmp_path / "cli.session"
    session.touch()
    for k, v in env(tmp_path, TELEGRAM_SESSION=str(session), TELEGRAM_ALLOWED_CHATS=ALLOWED,
                    TELEGRAM_INTEL_HOME=str(ti_env)).items():
        monkeypatch.setenv(k, v)

    @click.group()
    def main():
        pass

    register(main)
    result = CliRunner().invoke(main, ["sync", "--json", "--no-media", "--chat", str(DEV_ID)])
    assert result.exit_code == 0, result.output
    (dev,) = json.loads(result.stdout)
    assert (dev["chat_id"], dev["messages_new"], dev["cursor_after"]) == (DEV_ID, 20, 20)
    result = CliRunner().invoke(main, ["sync"])
    assert result.exit_code == 75 and "retry after 900 s" in result.stderr


def test_each_account_has_its_own_session_and_whitelist(tmp_path):
    work = tmp_path / "work.session"
    work.touch()
    (tmp_path / "telegram-home.session").touch()  # the default session of an account
    e = env(tmp_path, TELEGRAM_ACCOUNTS="Work, home", TELEGRAM_WORK_SESSION=str(work),
            TELEGRAM_WORK_ALLOWED_CHATS="@team_chat", TELEGRAM_HOME_MEDIA_TYPES="none")
    assert account_names(e) == ["work", "home"]
    w = load_telegram_config(e, account="work")
    h = load_telegram_config(e, account="home")
    assert (w.account, w.session, w.allowed.usernames) == ("work", str(work.resolve()), {"team_chat"})
    # home has no whitelist of its own: the shared one; never the shared session, though
    assert h.account == "home" and h.session.endswith("telegram-home.session")
    assert h.allowed.ids == {-1001234567890} and h.media_types == frozenset() and w.media_types
    assert w.api_id == h.api_id == 12345


@pytest.mark.parametrize("over, account, message", [
    ({"TELEGRAM_ACCOUNTS": "work"}, "play", "account 'play' is not configured: TELEGRAM_ACCOUNTS lists ['work']"),
    ({"TELEGRAM_ACCOUNTS": "work, 9lives"}, "work", "'9lives' is not an account name"),
    ({"TELEGRAM_ACCOUNTS": "work,work"}, "work", "names 'work' twice"),
    ({"TELEGRAM_ACCOUNTS": "work"}, "work", "no Telegram session at"),
    ({"TELEGRAM_ACCOUNTS": "work", "TELEGRAM_WORK_SESSION": "x", "TELEGRAM_WORK_ALLOWED_CHATS": ","}, "work",
     "TELEGRAM_WORK_ALLOWED_CHATS is empty"),
])
def test_account_configuration_errors_say_what_to_fix(tmp_path, over, account, message):
    (tmp_path / "x.session").touch()
    over = {k: str(tmp_path / v) if k.endswith("_SESSION") else v for k, v in over.items()}
    with pytest.raises(TelegramConfigError) as info:
        load_telegram_config(env(tmp_path, **over), account=account)
    assert message in str(info.value)
