"""Real-time listener: new, edited and deleted messages and albums of whitelisted chats.

Writes go through ``TelethonSource.store_messages`` (the same mapping and upsert as the history
sync); deletions become tombstones. After every (re)connect the listener first catches up each
chat from its sync cursor, so messages sent while it was offline are not lost; it never moves
cursors itself (a message seen live says nothing about the ones before it).
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from telethon import events
from telethon.tl import functions

from telegram_intel.db.sync_state import DatabaseSyncStore
from telegram_intel.lib.records import CHANNEL_ID_OFFSET
from telegram_intel.pipeline.decisions.listener_hook import ListenerDecisions, listener_chats
from telegram_intel.pipeline.decisions.service import build_engine
from telegram_intel.sources.telethon.source import (
    TelegramNotAuthorized,
    TelegramRetryLater,
    TelethonSource,
    log,
)


@dataclass
class ListenerStats:
    started: float = field(default_factory=time.monotonic)
    connects: int = 0
    new: int = 0
    edited: int = 0
    deleted: int = 0
    albums: int = 0
    errors: int = 0
    last_event: float | None = None

    def line(self, connected: bool, chats: int) -> str:
        idle = f"{time.monotonic() - self.last_event:.0f}s ago" if self.last_event else "never"
        return (f"listener: {'connected' if connected else 'DISCONNECTED'}, {chats} chats, up "
                f"{time.monotonic() - self.started:.0f}s, connects={self.connects}, new={self.new}, "
                f"edited={self.edited}, deleted={self.deleted}, albums={self.albums}, errors={self.errors}, "
                f"last event {idle}")


class Listener:
    def __init__(self, source: TelethonSource, *, status_interval: float = 60.0, catch_up: bool = True,
                 max_backoff: float = 300.0, decisions: ListenerDecisions | None = None) -> None:
        self.source = source
        # new messages and albums of the decision engine's chats go to it after they are stored
        self.decisions = decisions
        self.client = source.client
        self.status_interval = status_interval
        self.catch_up = catch_up
        self.max_backoff = max_backoff
        self.chats: dict[int, Any] = {}  # whitelisted chat id -> entity
        self.stats = ListenerStats()
        self.connected = False

    # -- handlers (each takes a real telethon event object) -------------------------------------
    async def _store(self, chat_id: int | None, messages: list[Any]) -> bool:
        if chat_id not in self.chats:
            return False
        try:
            await self.source.store_messages(self.chats[chat_id], messages)
        except Exception as exc:  # one bad event must not stop the listener
            self.stats.errors += 1
            log.exception(f"storing {len(messages)} message(s) of {chat_id} failed: {exc}")
            return False
        self.stats.last_event = time.monotonic()
        return True

    async def on_new_message(self, event: events.NewMessage.Event) -> None:
        if event.message.grouped_id:
            return  # the Album event writes the whole group in one transaction
        if await self._store(event.chat_id, [event.message]):
            self.stats.new += 1
            await self._decide(event.chat_id, [event.message])

    async def on_album(self, event: events.Album.Event) -> None:
        if await self._store(event.chat_id, list(event.messages)):
            self.stats.albums += 1
            self.stats.new += len(event.messages)
            await self._decide(event.chat_id, list(event.messages))

    async def _decide(self, chat_id: int | None, messages: list[Any]) -> None:
        if self.decisions is None or chat_id is None:
            return
        try:
            await self.decisions.on_messages(chat_id, messages, lambda m: self.client.download_media(m, bytes))
        except Exception as exc:  # a failing decision must not stop the listener; the audit table has the rest
            self.stats.errors += 1
            log.error(f"decision for {len(messages)} message(s) of {chat_id} failed: {type(exc).__name__}")

    async def on_message_edited(self, event: events.MessageEdited.Event) -> None:
        if await self._store(event.chat_id, [event.message]):
            self.stats.edited += 1

    async def on_message_deleted(self, event: events.MessageDeleted.Event) -> None:
        chat_id = event.chat_id  # set for channels/supergroups only
        if chat_id is not None and chat_id not in self.chats:
            return
        non_channel = [c for c in self.chats if c > -CHANNEL_ID_OFFSET]
        try:
            n = await asyncio.to_thread(self.source.store.mark_deleted, event.deleted_ids,
                                        chat_id=chat_id, non_channel_chats=non_channel)
        except Exception as exc:
            self.stats.errors += 1
            log.exception(f"tombstoning {event.deleted_ids} failed: {exc}")
            return
        self.stats.deleted += n
        self.stats.last_event = time.monotonic()

    def register(self) -> None:
        self.client.add_event_handler(self.on_new_message, events.NewMessage())
        self.client.add_event_handler(self.on_album, events.Album())
        self.client.add_event_handler(self.on_message_edited, events.MessageEdited())
        self.client.add_event_handler(self.on_message_deleted, events.MessageDeleted())

    # -- lifecycle --------------------------------------------------------------------------------
    async def prepare(self) -> None:
        """Whitelist → entities; then catch up each chat from its cursor."""
        self.chats = {record.chat_id: entity for entity, record in await self.source.sync_chats()}
        # Any request tells Telegram to start pushing updates to this connection.
        await self.client(functions.updates.GetStateRequest())
        if self.catch_up:
            for entity in self.chats.values():
                res = await self.source.sync_history(entity)
                if res.messages_seen:
                    log.info(f"caught up {res.messages_seen} message(s) in {res.chat_id}")

    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(self.status_interval)
            log.info(self.stats.line(self.connected, len(self.chats)))

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set: connect, catch up, handle events; reconnect with backoff on loss."""
        self.register()
        status = asyncio.create_task(self._status_loop())
        first_backoff = min(1.0, self.max_backoff)
        backoff = first_backoff
        try:
            while not stop.is_set():
                try:
                    await self.client.connect()
                    if not await self.client.is_user_authorized():
                        raise TelegramNotAuthorized("the Telegram session is not logged in: run `telegram-intel login`")
                    self.connected = True
                    self.stats.connects += 1
                    await self.prepare()
                    log.info(self.stats.line(True, len(self.chats)))
                    backoff = first_backoff
                    lost = asyncio.ensure_future(self.client.disconnected)
                    stopping = asyncio.ensure_future(stop.wait())
                    await asyncio.wait({lost, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    stopping.cancel()
                    if stop.is_set():
                        lost.cancel()
                        break
                    lost.result()  # re-raises the network error, if any
                    raise ConnectionError("disconnected from Telegram")
                except TelegramRetryLater as exc:
                    self.connected = False
                    log.warning(f"{exc}; pausing")
                    await self._pause(exc.seconds, stop)
                except (ConnectionError, OSError, TimeoutError) as exc:
                    self.connected = False
                    log.warning(f"connection lost ({type(exc).__name__}: {exc}); reconnecting in {backoff:.0f}s")
                    await self._pause(backoff, stop)
                    backoff = min(backoff * 2, self.max_backoff)
        finally:
            status.cancel()
            self.connected = False
            await self.client.disconnect()
            log.info("listener stopped. " + self.stats.line(False, len(self.chats)))


def install_signal_handlers(stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM end the listener cleanly (processes started in the background may begin with
    both ignored; installing loop handlers overrides that)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_listener(config, engine, storage_dir, *, client: Any = None, status_interval: float = 60.0,
                       catch_up: bool = True) -> ListenerStats:
    from telegram_intel.sources.telethon.config import make_client

    client = client or make_client(config)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    chats = listener_chats()
    decisions = ListenerDecisions(build_engine(engine), chats) if chats else None
    listener = Listener(TelethonSource(client, DatabaseSyncStore(engine, storage_dir), config),
                        status_interval=status_interval,
                        catch_up=catch_up, decisions=decisions)
    await listener.run(stop)
    return listener.stats
