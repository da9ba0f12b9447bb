"""The real-time listener fed real Telethon event objects, writing to the real database."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import timedelta

import pytest
import sqlalchemy as sa
from telethon import events
from telethon.tl import types

from telegram_intel.db.sync_state import DatabaseSyncStore
from telegram_intel.pipeline.listener import Listener, run_listener
from telegram_intel.sources.telethon.source import TelethonSource
from telegram_intel_tests.support import telethon_fakes as f
from telegram_intel_tests.support.telethon import (
    ALICE,
    BOB,
    DEV,
    DEV_ID,
    FAMILY,
    FAMILY_ID,
    STRANGER,
    NoSleep,
    build_client,
    make_config,
)


def rows(engine, sql):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).all()


async def until(predicate, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


def test_new_edited_deleted_and_album_events_are_stored(engine, storage_dir):
    client = build_client(dev_count=10)
    listener = Listener(TelethonSource(client, DatabaseSyncStore(engine, storage_dir), make_config(), sleep=NoSleep()))

    async def scenario():
        await listener.prepare()  # whitelist + catch-up from the cursors
        live = client._finish(f.message(11, DEV, "live hello", sender=ALICE))
        await listener.on_new_message(events.NewMessage.Event(live))
        edited = client._finish(f.message(11, DEV, "live hello, edited", sender=ALICE,
                                          edit_date=f.T0 + timedelta(minutes=30)))
        await listener.on_message_edited(events.MessageEdited.Event(edited))
        album = [client._finish(f.message(i, DEV, "trip" if i == 12 else "", sender=BOB, grouped_id=777,
                                          media=f.photo_media(50 + i))) for i in (12, 13)]
        for m in album:  # NewMessage also fires for album parts: the Album event writes them
            await listener.on_new_message(events.NewMessage.Event(m))
        assert not rows(engine, f"SELECT 1 FROM telegram_messages WHERE chat_id = {DEV_ID} AND message_id = 12")
        await listener.on_album(events.Album.Event(album))
        await listener.on_message_deleted(events.MessageDeleted.Event([3, 11], types.PeerChannel(DEV.id)))
        await listener.on_message_deleted(events.MessageDeleted.Event([5004], None))  # basic group: no peer
        # chats outside the whitelist are ignored
        await listener.on_new_message(events.NewMessage.Event(
            client._finish(f.message(6100, STRANGER, "psst", sender=STRANGER))))
        await listener.on_message_deleted(events.MessageDeleted.Event([1, 2], types.PeerChannel(999)))

    asyncio.run(scenario())

    live = rows(engine, f"SELECT text, edit_date, deleted_at FROM telegram_messages WHERE chat_id = {DEV_ID} AND message_id = 11")
    assert live[0].text == "live hello, edited" and live[0].edit_date and live[0].deleted_at
    assert rows(engine, "SELECT text FROM telegram_message_edits")[0].text == "live hello"
    deleted = rows(engine, "SELECT chat_id, message_id FROM telegram_messages WHERE deleted_at IS NOT NULL ORDER BY 1, 2")
    assert [tuple(r) for r in deleted] == [(DEV_ID, 3), (DEV_ID, 11), (FAMILY_ID, 5004)]
    album = rows(engine, f"SELECT m.message_id, m.grouped_id, f.status FROM telegram_messages m JOIN telegram_files f "
                         f"USING (chat_id, message_id) WHERE m.chat_id = {DEV_ID} AND m.message_id IN (12, 13) ORDER BY 1")
    assert [tuple(r) for r in album] == [(12, 777, "present"), (13, 777, "present")]
    assert not rows(engine, f"SELECT 1 FROM telegram_messages WHERE chat_id = {STRANGER.id}")
    s = listener.stats
    assert (s.new, s.edited, s.deleted, s.albums, s.errors) == (3, 1, 3, 1, 0)
    assert "new=3" in s.line(True, 3) and "deleted=3" in s.line(True, 3)


def test_a_failing_write_is_counted_and_does_not_stop_the_listener(engine, storage_dir, caplog):
    client = build_client(dev_count=3)
    source = TelethonSource(client, DatabaseSyncStore(engine, storage_dir), make_config(), sleep=NoSleep())
    listener = Listener(source, catch_up=False)
    real_write = source.store.write
    calls = []

    def write_failing_once(records):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real_write(records)

    async def scenario():
        await listener.prepare()
        source.store.write = write_failing_once
        bad = client._finish(f.message(4, DEV, "lost to a failed write", sender=ALICE))
        await listener.on_new_message(events.NewMessage.Event(bad))
        ok = client._finish(f.message(5, DEV, "fine", sender=ALICE))
        await listener.on_new_message(events.NewMessage.Event(ok))

    with caplog.at_level(logging.ERROR, logger="telegram_intel.sources.telethon"):
        asyncio.run(scenario())
    assert listener.stats.errors == 1 and listener.stats.new == 1
    assert rows(engine, f"SELECT text FROM telegram_messages WHERE chat_id = {DEV_ID}")[0].text == "fine"


def test_run_reconnects_after_network_loss_and_stops_cleanly(engine, storage_dir, caplog):
    client = build_client(dev_count=5)
    client.connect_failures = [ConnectionError("no network"), OSError("host unreachable")]
    listener = Listener(TelethonSource(client, DatabaseSyncStore(engine, storage_dir), make_config(), sleep=NoSleep()),
                        status_interval=0.02, max_backoff=0.01)

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(listener.run(stop))
        await until(lambda: listener.connected)
        client.messages[DEV_ID][6] = f.message(6, DEV, "sent while offline", sender=ALICE)
        client.drop_connection()
        await until(lambda: listener.stats.connects == 2 and listener.connected)
        await asyncio.sleep(0.05)  # let a status line be written
        stop.set()
        await asyncio.wait_for(task, 5)

    with caplog.at_level(logging.INFO, logger="telegram_intel.sources.telethon"):
        asyncio.run(scenario())
    assert [c for c in client.calls if c[0] == "connect"] == [("connect",)] * 4
    assert client.calls[-1] == ("disconnect",) and not client.connected
    assert {type(e).__name__ for _, e in client.handlers} == {"NewMessage", "Album", "MessageEdited", "MessageDeleted"}
    # the catch-up after reconnecting fetched the message sent while the connection was down
    assert rows(engine, f"SELECT text FROM telegram_messages WHERE chat_id = {DEV_ID} AND message_id = 6")
    assert any("listener: connected" in r.message for r in caplog.records)
    assert any("reconnecting" in r.message for r in caplog.records)


def test_sigterm_shuts_the_listener_down(engine, storage_dir):
    client = build_client(dev_count=2)
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    async def scenario():
        task = asyncio.create_task(run_listener(make_config(), engine, storage_dir, client=client, catch_up=False))
        await until(lambda: client.connected)
        os.kill(os.getpid(), signal.SIGTERM)
        return await asyncio.wait_for(task, 5)

    try:
        stats = asyncio.run(scenario())
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    assert stats.connects == 1 and client.calls[-1] == ("disconnect",)


def test_a_session_that_is_not_logged_in_fails_at_once(engine, storage_dir):
    from telegram_intel.sources.telethon.source import TelegramNotAuthorized

    client = build_client(dev_count=1)
    client.authorized = False
    listener = Listener(TelethonSource(client, DatabaseSyncStore(engine, storage_dir), make_config(), sleep=NoSleep()))
    with pytest.raises(TelegramNotAuthorized):
        asyncio.run(listener.run(asyncio.Event()))


def test_messages_of_the_decision_engines_chats_are_decided_after_they_are_stored(engine, storage_dir,
                                                                                  decision_settings, tmp_path):
    from openpyxl import load_workbook

    from telegram_intel.pipeline.decisions.engine import DecisionEngine
    from telegram_intel.pipeline.decisions.listener_hook import ListenerDecisions

    client = build_client(dev_count=10)
    decisions = ListenerDecisions(DecisionEngine(engine, decision_settings()), {DEV_ID})
    listener = Listener(TelethonSource(client, DatabaseSyncStore(engine, storage_dir), make_config(), sleep=NoSleep()),
                        decisions=decisions)

    async def scenario():
        await listener.prepare()
        order = client._finish(f.message(11, DEV, "Order: 3 x blue mugs for Anna, total 45 USD", sender=ALICE))
        await listener.on_new_message(events.NewMessage.Event(order))
        await listener.on_new_message(events.NewMessage.Event(order))  # delivered twice: decided once
        other = client._finish(f.message(5100, FAMILY, "Order: 2 x tea for Bob, total 9 USD", sender=BOB))
        await listener.on_new_message(events.NewMessage.Event(other))  # stored, but not a decision-engine chat

    asyncio.run(scenario())

    assert rows(engine, f"SELECT 1 FROM telegram_messages WHERE chat_id = {DEV_ID} AND message_id = 11")
    decided = rows(engine, "SELECT chat_id, message_ids, source, action FROM decisions")
    assert [(r.chat_id, r.message_ids, r.source, r.action) for r in decided] == [(DEV_ID, [11], "listener",
                                                                                  "spreadsheet_row")]
    sheet = load_workbook(tmp_path / "orders.xlsx")["orders"]
    assert [r[-1] for r in sheet.iter_rows(min_row=2, values_only=True)] == [f"{DEV_ID}:msg:11"]
    assert listener.stats.errors == 0
