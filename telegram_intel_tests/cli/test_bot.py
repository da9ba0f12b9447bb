"""`telegram-intel bot` as a process: starts against the (fake) Bot API, serves /health and /metrics, answers,
writes JSON logs without message text, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

from telegram_intel_tests.support.bot import message_update


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bot_env(ti_env, api, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_INTEL_BOT", "TELEGRAM_INTEL_LLM",
                                                                      "TELEGRAM_INTEL_PERSONA"))}
    env.update(TELEGRAM_INTEL_BOT_TOKEN=api.token, TELEGRAM_INTEL_BOT_API_URL=api.url,
               TELEGRAM_INTEL_BOT_METRICS_PORT=str(port), TELEGRAM_INTEL_BOT_FEATURES="persona")
    return env


def test_bot_service_runs_and_stops_on_sigterm(ti_env, fake_bot_api, engine):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "telegram_intel.cli", "bot"], env=bot_env(ti_env, fake_bot_api, port),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT,
                                                                                            signal.SIGTERM)])
    try:
        fake_bot_api.wait_for("getUpdates", timeout=90)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            assert json.loads(response.read())["status"] == "ok"
        fake_bot_api.push_update(message_update("/start"))
        assert "AI persona" in fake_bot_api.wait_for("sendMessage", timeout=30)[0].params["text"]
        fake_bot_api.push_update(message_update("my plan is XYZZY-42, keep it"))
        fake_bot_api.wait_for("sendMessage", 2, timeout=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert b"telegram_intel_bot_updates_total" in response.read()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr[-2000:]
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert "bot started" in names and "signal received, stopping" in names and names[-1] == "bot stopped"
    assert "XYZZY" not in stderr and fake_bot_api.token not in stderr
    assert all(isinstance(e.get("user"), (str, type(None))) for e in events)  # hashed, never the numeric id


def test_bot_without_token_or_with_bad_settings_says_what_is_wrong(ti_env, monkeypatch):
    from click.testing import CliRunner

    from telegram_intel.cli.main import main

    monkeypatch.delenv("TELEGRAM_INTEL_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["bot"])
    assert result.exit_code == 2 and "TELEGRAM_INTEL_BOT_TOKEN is not set" in result.output
    monkeypatch.setenv("TELEGRAM_INTEL_BOT_TOKEN", "123456:" + "a" * 35)
    result = CliRunner().invoke(main, ["bot", "--features", "voice,weather"])
    assert result.exit_code == 2 and "unknown feature(s) weather" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
