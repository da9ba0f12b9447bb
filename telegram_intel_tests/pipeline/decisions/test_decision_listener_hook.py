"""The listener hook: real Telethon TL messages (an album of a whitelisted chat) become one decision."""

from __future__ import annotations

import asyncio

from telethon.tl import types

from telegram_intel.pipeline.decisions.engine import DecisionEngine
from telegram_intel.pipeline.decisions.listener_hook import ListenerDecisions, listener_chats, part_from_telethon
from telegram_intel_tests.support import telethon_fakes as tf
from telegram_intel_tests.support.decisions import jpeg_bytes


def test_album_from_a_whitelisted_chat_is_one_product(engine, decision_settings, woocommerce_server):
    chat = tf.channel(1500, "Shop chat")
    chat_id = -1001500
    sender = tf.user(42, "Owner")
    album = []
    for i in range(3):
        m = tf.message(70 + i, chat, "Oak stool for sale 40 USD" if i == 0 else "", sender=sender)
        m.media, m.grouped_id = tf.photo_media(900 + i), 555
        album.append(m)
    part = part_from_telethon(album[0], chat_id)
    assert (part.media_group_id, part.media[0].file_size, part.sender_id) == ("555", 145_000, 42)

    hook = ListenerDecisions(DecisionEngine(engine, decision_settings()), listener_chats({
        "TELEGRAM_INTEL_DECISIONS_LISTENER_CHATS": f"{chat_id}, -100999"}))

    async def download(message: types.Message) -> bytes:
        return jpeg_bytes((message.id, 10, 10))

    outcome = asyncio.run(hook.on_messages(chat_id, album, download))
    assert outcome.kind == "done" and len(woocommerce_server.products[0]["images"]) == 3
    assert asyncio.run(hook.on_messages(chat_id, album[1:], download)).kind == "duplicate"
    assert asyncio.run(hook.on_messages(-100777, album, download)) is None  # not whitelisted
    assert len(woocommerce_server.products) == 1
