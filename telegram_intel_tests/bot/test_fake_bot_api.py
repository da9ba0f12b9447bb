"""The fake Bot API answers aiogram like Telegram does (the contract the bot tests rely on)."""

from __future__ import annotations

import asyncio
import io

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramUnauthorizedError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from telegram_intel_tests.support.bot import (
    USER_ID,
    BotRunner,
    callback_update,
    make_bot,
    message_update,
)


def test_aiogram_calls_are_recorded_and_answered_with_api_shapes(fake_bot_api):
    fake_bot_api.add_file("F1", b"OggS-bytes", "voice/file_1.oga")

    async def scenario():
        bot = make_bot(fake_bot_api)
        try:
            me = await bot.get_me()
            sent = await bot.send_message(USER_ID, "<b>hi</b>", parse_mode="HTML", reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="👍", callback_data="pf:1:up")]]))
            edited = await bot.edit_message_text("<i>edited</i>", chat_id=USER_ID, message_id=sent.message_id,
                                                 parse_mode="HTML")
            file = await bot.get_file("F1")
            buf = io.BytesIO()
            await bot.download_file(file.file_path, buf)
            with pytest.raises(TelegramBadRequest, match="can't parse entities"):
                await bot.send_message(USER_ID, "a < b <x>", parse_mode="HTML")
            with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
                await bot.send_message(USER_ID, "x", reply_markup=InlineKeyboardMarkup(
                    inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="y" * 65)]]))
            with pytest.raises(TelegramBadRequest, match="not modified"):
                await bot.edit_message_text("<i>edited</i>", chat_id=USER_ID, message_id=sent.message_id,
                                            parse_mode="HTML")
            with pytest.raises(TelegramBadRequest, match="invalid file_id"):
                await bot.get_file("nope")
            with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
                await bot.answer_callback_query("never-issued")
            return me, sent, edited, file, buf.getvalue()
        finally:
            await bot.session.close()

    me, sent, edited, file, data = asyncio.run(scenario())
    assert me.is_bot and me.username == "telegram_intel_test_bot"
    assert sent.chat.id == USER_ID and sent.text == "<b>hi</b>"
    assert edited.text == "<i>edited</i>" and edited.edit_date
    assert file.file_path == "voice/file_1.oga" and data == b"OggS-bytes"
    assert fake_bot_api.file_downloads == ["voice/file_1.oga"]
    call = fake_bot_api.calls("sendMessage")[0]
    assert call.params["chat_id"] == USER_ID and call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "pf:1:up"
    assert [c.error is not None for c in fake_bot_api.calls("sendMessage")] == [False, True, True]


def test_wrong_token_is_refused(fake_bot_api):
    async def scenario():
        bot = make_bot(fake_bot_api, token="42:wrong")
        try:
            await bot.get_me()
        finally:
            await bot.session.close()

    with pytest.raises(TelegramUnauthorizedError):
        asyncio.run(scenario())


def test_polling_delivers_pushed_updates_and_callbacks(fake_bot_api):
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}", reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="ok", callback_data="ok")]]))

    @router.callback_query(F.data == "ok")
    async def pressed(query) -> None:
        await query.answer("thanks")

    dp = Dispatcher()
    dp.include_router(router)
    runner = BotRunner(dp, lambda: make_bot(fake_bot_api)).start()
    try:
        fake_bot_api.push_update(message_update("hello"))
        sent = fake_bot_api.wait_for("sendMessage", timeout=10)[0]
        assert sent.params["text"] == "echo: hello"
        fake_bot_api.push_update(callback_update("ok", message=sent.result))
        answered = fake_bot_api.wait_for("answerCallbackQuery", timeout=10)[0]
        assert answered.params["text"] == "thanks"
    finally:
        runner.stop()
    assert fake_bot_api.pending_updates() == 0 or fake_bot_api.calls("getUpdates")
