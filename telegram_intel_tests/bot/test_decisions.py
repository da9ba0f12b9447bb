"""The decisions feature of the bot: real aiogram polling the fake Bot API, the real engine on PostgreSQL, the
WooCommerce contract fake and the local workbook."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from telegram_intel.bot.decisions import DecisionBotService
from telegram_intel.pipeline.decisions.engine import DecisionEngine
from telegram_intel_tests.support.bot import USER_ID, callback_update, message_update, photo_update
from telegram_intel_tests.support.decisions import jpeg_bytes


@pytest.fixture
def decisions_bot(bot_harness, fake_bot_api, engine, decision_settings):
    def start(**settings):
        service = DecisionBotService(DecisionEngine(engine, decision_settings(**settings)), window_s=0.4)
        harness = bot_harness(features=("decisions",), extras={"decisions": service})
        return harness, service

    return start


def settle(harness, service, api, seconds: float = 0.0) -> None:
    """Every pushed update consumed and every album timer fired."""
    deadline = time.monotonic() + 20
    while api.pending_updates() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(seconds)
    harness.runner.run(service.wait_idle())


def count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def test_album_of_three_updates_is_one_decision_and_one_draft_product(decisions_bot, fake_bot_api, engine,
                                                                      woocommerce_server):
    harness, service = decisions_bot()
    updates = []
    for i in range(3):
        fake_bot_api.add_file(f"ALB{i}", jpeg_bytes((40 * i, 90, 160)), f"photos/alb{i}.jpg")
        updates.append(photo_update(f"ALB{i}", caption="Leather jacket, size L — 4 500 ₽" if i == 0 else None,
                                    media_group_id="album-1"))
    for update in updates:
        harness.send(update)
    [reply] = fake_bot_api.wait_for("sendMessage", count=1, timeout=30)
    assert "Draft product" in reply.params["text"] and "SKU TI-LEAJAC-" in reply.params["text"]
    settle(harness, service, fake_bot_api)
    [product] = woocommerce_server.products
    assert product["status"] == "draft" and product["regular_price"] == "4500.00" and len(product["images"]) == 3
    assert woocommerce_server.violations == []
    assert sorted(fake_bot_api.file_downloads) == ["photos/alb0.jpg", "photos/alb1.jpg", "photos/alb2.jpg"]

    harness.send(updates[1])  # Telegram re-delivers a part (e.g. after a webhook timeout)
    settle(harness, service, fake_bot_api, seconds=0.6)
    assert len(woocommerce_server.products) == 1
    assert count(engine, "SELECT count(*) FROM decisions") == 1
    assert len(fake_bot_api.calls("sendMessage")) == 1  # the duplicate is not answered again
    assert len(fake_bot_api.file_downloads) == 3  # nor are its photos downloaded again
    assert [o.kind for o in service.decided] == ["done", "duplicate"]
    assert count(engine, "SELECT count(*) FROM decision_album_parts") == 0


def test_ambiguous_text_gets_buttons_and_the_choice_adds_a_row(decisions_bot, fake_bot_api, engine, tmp_path):
    harness, service = decisions_bot()
    harness.send(message_update("blue mugs for Anna"))
    [question] = fake_bot_api.wait_for("sendMessage", count=1, timeout=30)
    buttons = [b for row in question.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["📊 Spreadsheet row", "🛍 Draft product", "✖ Cancel"]
    row_button = buttons[0]["callback_data"]

    harness.send(callback_update(row_button, message=question.result))
    calls = fake_bot_api.wait_for("sendMessage", count=2, timeout=30)
    assert calls[1].params["text"] == "Row added to the xlsx spreadsheet."
    fake_bot_api.wait_for("answerCallbackQuery", count=1)
    fake_bot_api.wait_for("editMessageReplyMarkup", count=1)
    sheet = load_workbook(tmp_path / "orders.xlsx")["orders"]
    assert sheet.max_row == 2 and sheet.cell(row=2, column=3).value == "blue mugs for Anna"

    harness.send(callback_update(row_button, message=question.result))  # a second tap
    calls = fake_bot_api.wait_for("sendMessage", count=3, timeout=30)
    assert calls[2].params["text"] == "That question was already answered."
    assert load_workbook(tmp_path / "orders.xlsx")["orders"].max_row == 2
    assert count(engine, "SELECT count(*) FROM decision_outcomes WHERE status = 'succeeded'") == 1

    harness.send(message_update("/decide Order: 2 pcs cups 10 USD"))  # the command form (used beside the persona)
    calls = fake_bot_api.wait_for("sendMessage", count=4, timeout=30)
    assert calls[3].params["text"] == "Row added to the xlsx spreadsheet."
    assert load_workbook(tmp_path / "orders.xlsx")["orders"].max_row == 3


def test_approve_mode_acts_only_after_the_button(decisions_bot, fake_bot_api, engine, woocommerce_server):
    harness, service = decisions_bot(mode="approve")
    fake_bot_api.add_file("ONE", jpeg_bytes(), "photos/one.jpg")
    harness.send(photo_update("ONE", caption="Vintage lamp for sale, 30 EUR"))
    [ask] = fake_bot_api.wait_for("sendMessage", count=1, timeout=30)
    assert ask.params["text"].startswith("Shall I do this? draft product “Vintage lamp for sale”, 30.00")
    assert woocommerce_server.products == []
    approve = ask.params["reply_markup"]["inline_keyboard"][0][0]
    assert approve["text"] == "✅ Approve"
    harness.send(callback_update(approve["callback_data"], message=ask.result))
    done = fake_bot_api.wait_for("sendMessage", count=2, timeout=30)[1]
    assert done.params["text"].startswith("Draft product ")
    assert len(woocommerce_server.products) == 1
    assert count(engine, "SELECT count(*) FROM decisions WHERE status = 'done' AND sender_id = %d" % USER_ID) == 1


def test_album_parts_stored_before_a_restart_are_decided_after_it(decisions_bot, fake_bot_api, engine,
                                                                   woocommerce_server):
    from telegram_intel.lib.decisions import MediaItem, MessagePart

    harness, service = decisions_bot()
    # the previous process stored two parts of an album and stopped inside the debounce window
    for i in range(2):
        fake_bot_api.add_file(f"OLD{i}", jpeg_bytes((10, 20 * i, 30)), f"photos/old{i}.jpg")
        service.engine.record_album_part(MessagePart(
            USER_ID, 9000 + i, USER_ID, "Wool scarf for sale 25 USD" if i == 0 else "",
            (MediaItem("photo", f"OLD{i}", f"u-OLD{i}", None, None, None, 800, 600),), "album-old"))
    assert woocommerce_server.products == []
    harness.send(message_update("hello"))  # the first update after the start
    calls = fake_bot_api.wait_for("sendMessage", count=2, timeout=30)
    assert any(c.params["text"].startswith("Draft product ") for c in calls)
    settle(harness, service, fake_bot_api)
    [product] = woocommerce_server.products
    assert product["regular_price"] == "25.00" and len(product["images"]) == 2
