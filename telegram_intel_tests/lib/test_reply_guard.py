from __future__ import annotations

from telegram_intel.lib.reply_guard import guard_reply


def test_secrets_and_pii_are_removed():
    out = guard_reply("token 123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0, AKIAIOSFODNN7EXAMPLE, "
                      "ghp_0123456789abcdefghijklmnopqrstuvwxyz, mail me@example.com, пароль: qwerty123")
    assert "AAHfiq" not in out.text and "AKIA" not in out.text and "ghp_" not in out.text and "qwerty" not in out.text
    assert "me@example.com" not in out.text and "[EMAIL]" in out.text
    assert sorted(set(out.removed)) == ["AWS_KEY", "BOT_TOKEN", "EMAIL", "GITHUB_TOKEN", "PASSWORD"]


def test_ordinary_replies_pass_unchanged_and_long_ones_are_cut():
    text = "see you at 7, the report is 1234 words and costs $1,299"
    assert guard_reply(text).text == text and guard_reply(text).removed == []
    long = guard_reply("word " * 100, max_chars=50)
    assert long.truncated and len(long.text) <= 51 and long.text.endswith("…")
