"""``TelethonSource``: whitelisted chats, participants and message history from a live account.

Records and cursors go to a ``SyncStore`` (``db.sync_state.DatabaseSyncStore``: the same idempotent writer as
the export import).
History is read oldest-first above a per-chat ``min_id`` cursor in batches of 100 (Telegram's page
size); each batch is one transaction, and the cursor moves only after that commit. A run stopped
at any point therefore resumes where the last commit left off, and re-reading a batch is a no-op.

Several accounts: each ``TelethonSource`` is one account's session; the account (``get_me()``) is stored as an
owner and every message records it, so a chat two accounts share is one chat whose messages list both.
Forum topics come with the messages (topic service messages → ``telegram_topics``). Channel comments: for each
post in a synced batch that has comments (``MessageReplies.comments``), the thread is read from the linked
discussion group (``iter_messages(channel, reply_to=post)``) and stored under the group, linked to the post.

Telegram limits: FloodWait up to ``flood_sleep_threshold`` seconds is slept (bounded retries);
longer ones, and a takeout session awaiting approval, raise ``TelegramRetryLater`` with the
seconds to wait, so the scheduler retries later instead of looping. Dropped connections are
retried with backoff from the last committed cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from telethon import errors, utils
from telethon.tl import functions, types

from telegram_intel.lib.records import ChatRecord, MessageRecord, Record, UserRecord
from telegram_intel.sources.base import SyncStore
from telegram_intel.sources.telethon import mapping as tm
from telegram_intel.sources.telethon.config import TelegramConfig

log = logging.getLogger("telegram_intel.sources.telethon")

HISTORY_BATCH = 100  # messages per Telegram history request, and per transaction


class TelegramRetryLater(RuntimeError):
    """Telegram asked us to wait longer than we sleep in-process (FloodWait, takeout approval)."""

    def __init__(self, seconds: int, reason: str) -> None:
        self.seconds = int(seconds)
        self.reason = reason
        super().__init__(f"{reason}: retry after {self.seconds} s")


class TelegramNotAuthorized(RuntimeError):
    """The session has no logged-in account (never a retryable network error)."""


@dataclass
class ChatSyncResult:
    chat_id: int
    title: str | None
    cursor_before: int
    cursor_after: int
    messages_seen: int = 0
    messages_new: int = 0
    messages_updated: int = 0
    files_downloaded: int = 0
    batches: int = 0
    participants: int | None = None
    comments: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _usernames(entity: Any) -> tuple[str, ...]:
    names = [getattr(entity, "username", None)]
    names += [u.username for u in getattr(entity, "usernames", None) or () if getattr(u, "active", True)]
    return tuple(n for n in names if n)


class TelethonSource:
    """One connected client (or a test double with the same methods), one store."""

    def __init__(
        self,
        client: Any,
        store: SyncStore,
        config: TelegramConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_retries: int = 5,
        logger: logging.Logger | logging.LoggerAdapter | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.storage_dir = Path(store.storage_dir)
        self.config = config
        self.sleep = sleep
        self.max_retries = max_retries
        self.log = logger or log
        self.peers: dict[int, Any] = {}  # entities seen this run, by marked id (names for senders, forwards)
        self.resolved: dict[str, int] = {}  # username -> chat id, resolved once per process
        self._chats_stored: set[int] = set()
        self._users_stored: set[int] = set()
        self._history_client: Any = None  # a takeout proxy while one is open
        self.account_id: int | None = None  # the logged-in account (get_me), once known
        self._linked: dict[int, int] = {}  # channel -> its discussion group (full_chat.linked_chat_id)

    # -- Telegram calls with FloodWait / disconnect handling ----------------------------------
    async def _wait_or_raise(self, exc: BaseException, attempt: int, what: str) -> None:
        if isinstance(exc, errors.FloodWaitError):
            if exc.seconds > self.config.flood_sleep_threshold:
                raise TelegramRetryLater(exc.seconds, f"FloodWait while {what}") from exc
            delay = exc.seconds
        else:
            delay = min(2 ** attempt, 60)
        if attempt >= self.max_retries:
            raise exc
        self.log.warning(f"{what}: {type(exc).__name__}; retrying in {delay} s (attempt {attempt + 1})")
        await self.sleep(delay)

    async def _request(self, make: Callable[[], Awaitable[Any]], what: str) -> Any:
        attempt = 0
        while True:
            try:
                return await make()
            except (errors.FloodWaitError, ConnectionError, TimeoutError) as exc:
                await self._wait_or_raise(exc, attempt, what)
                attempt += 1

    # -- chats ---------------------------------------------------------------------------------
    async def _members_count(self, entity: Any) -> int | None:
        if isinstance(entity, types.Channel):
            try:
                full = await self._request(
                    lambda: self.client(functions.channels.GetFullChannelRequest(entity)), "reading channel info")
            except errors.RPCError as exc:  # e.g. private channel we were removed from
                self.log.warning(f"no member count for {utils.get_peer_id(entity)}: {exc}")
                return None
            linked = getattr(full.full_chat, "linked_chat_id", None)
            if linked:
                self._linked[utils.get_peer_id(entity)] = utils.get_peer_id(types.PeerChannel(linked))
            return full.full_chat.participants_count
        return getattr(entity, "participants_count", None)

    async def sync_account(self) -> int:
        """The logged-in account → ``telegram_users`` (as an owner) and ``telegram_accounts``; returns its id."""
        me = await self._request(lambda: self.client.get_me(), "reading the logged-in account")
        if me is None:
            raise TelegramNotAuthorized("the Telegram session is not logged in: run `telegram-intel login`")
        self.peers[me.id] = me
        await asyncio.to_thread(self.store.write, [tm.owner_record(me, account_name=self.config.account)])
        self._users_stored.add(me.id)
        self.account_id = me.id
        return me.id

    async def sync_chats(self) -> list[tuple[Any, ChatRecord]]:
        """Dialogs → whitelist → ``telegram_chats``. Returns the selected (entity, record) pairs."""
        if self.account_id is None:  # first: messages and cursors are the account's
            await self.sync_account()
        allowed = self.config.allowed
        selected: dict[int, Any] = {}

        async def scan() -> None:
            async for dialog in self.client.iter_dialogs():
                entity = dialog.entity
                cid = utils.get_peer_id(entity)
                self.peers[cid] = entity
                names = _usernames(entity)
                for name in names:
                    self.resolved[name.lower()] = cid
                if allowed.matches(cid, names):
                    selected[cid] = entity

        await self._request(scan, "listing dialogs")
        await self._resolve_missing(selected)
        records = []
        for cid, entity in selected.items():
            count = await self._members_count(entity)
            records.append(tm.chat_record(entity, members_count=count, linked_chat_id=self._linked.get(cid)))
        if records:
            topics = [tm.general_topic(r.chat_id) for r in records if r.is_forum]
            await asyncio.to_thread(self.store.write, [*records, *topics])
            self._chats_stored.update(r.chat_id for r in records)
        self.log.info(f"{len(records)} whitelisted chats")
        return [(selected[r.chat_id], r) for r in records]

    async def _resolve_missing(self, selected: dict[int, Any]) -> None:
        """Whitelisted chats that are not among the dialogs (e.g. public channels not joined)."""
        allowed = self.config.allowed
        names = [u for u in allowed.usernames if u not in self.resolved]
        if names:  # earlier runs stored the chat with its username: no ResolveUsername call needed
            self.resolved.update(await asyncio.to_thread(self.store.chat_ids_by_username, names))
        # (target, fallback): an id remembered for a username may not be resolvable from this
        # session's entity cache (string sessions keep none), so the username is the fallback.
        wanted: list[tuple[Any, str | None]] = [(cid, None) for cid in allowed.ids if cid not in selected]
        for name in allowed.usernames:
            cid = self.resolved.get(name)
            if cid not in selected:
                wanted.append((cid, name) if cid is not None else (name, None))
        for target, fallback in wanted:
            entity, problem = None, None
            for candidate in (target, fallback):
                if candidate is None or (isinstance(candidate, int) and candidate in selected):
                    continue
                try:
                    entity = await self._request(lambda t=candidate: self.client.get_entity(t), f"resolving {candidate}")
                    break
                except (ValueError, errors.RPCError) as exc:
                    problem = exc
            if entity is None:
                if problem is not None:
                    self.log.warning(f"whitelisted chat {fallback or target!r} not found: {problem}")
                continue
            cid = utils.get_peer_id(entity)
            self.peers[cid] = entity
            for name in _usernames(entity):
                self.resolved[name.lower()] = cid
            selected[cid] = entity

    # -- participants --------------------------------------------------------------------------
    async def sync_participants(self, entity: Any) -> int:
        """Members of a group → ``telegram_users`` (names, username, bot flag; bio when configured)."""
        users: list[Any] = []

        async def scan() -> None:
            users.clear()
            async for user in self.client.iter_participants(entity):
                users.append(user)

        try:
            await self._request(scan, f"listing members of {utils.get_peer_id(entity)}")
        except errors.ChatAdminRequiredError:
            self.log.info(f"members of {utils.get_peer_id(entity)} are only visible to admins; skipped")
            return 0
        records = []
        for user in users:
            if not isinstance(user, types.User):
                continue
            self.peers[user.id] = user
            bio = None
            if self.config.fetch_bios:
                full = await self._request(
                    lambda u=user: self.client(functions.users.GetFullUserRequest(u)), "reading a user's bio")
                bio = full.full_user.about
            records.append(tm.user_record(user, bio=bio))
        if records:
            await asyncio.to_thread(self.store.write, records)
            self._users_stored.update(r.user_id for r in records)
        return len(records)

    # -- messages ------------------------------------------------------------------------------
    def _user_records(self, messages: list[Any]) -> list[UserRecord]:
        out: dict[int, UserRecord] = {}
        for msg in messages:
            for entity in tm.entities_of(msg):
                pid = utils.get_peer_id(entity)
                self.peers.setdefault(pid, entity)
                if isinstance(entity, types.User) and pid not in self._users_stored:
                    out[pid] = tm.user_record(entity)
        return list(out.values())

    def _wants(self, rec: MessageRecord) -> bool:
        return bool(rec.files) and rec.media_type in self.config.media_types

    async def _download(self, chat: Any, msg: Any, folder: Path) -> str | None:
        """Download one message's media; an expired file reference re-fetches the message once."""
        refreshed = False
        while True:
            try:
                return await self._request(
                    lambda m=msg: self.client.download_media(m, file=str(folder)), f"downloading media of {msg.id}")
            except (errors.FileReferenceExpiredError, errors.FileReferenceInvalidError):
                if refreshed:
                    raise
                refreshed = True
                fresh = await self._request(
                    lambda: self.client.get_messages(chat, ids=msg.id), f"re-fetching message {msg.id}")
                if fresh is None:  # deleted meanwhile
                    return None
                msg = fresh

    async def _attach_media(self, chat: Any, messages: list[Any], records: list[MessageRecord], folder: Path) -> int:
        done = 0
        for msg, rec in zip(messages, records):
            if not rec.files:
                continue
            main = rec.files[0]
            if not self._wants(rec) or (main.size or 0) > self.config.media_max_bytes:
                for f in rec.files:
                    f.status = "not_included"
                continue
            try:
                path = await self._download(chat, msg, folder)
            except errors.RPCError as exc:  # the message still lands; its file stays "pending"
                self.log.warning(f"media of message {rec.message_id} in {rec.chat_id} not downloaded: {exc}")
                continue
            if path:
                main.status, main.source_path = "present", path
                done += 1
        return done

    async def store_messages(self, chat: Any, messages: list[Any], *, post: tuple[int, int] | None = None
                             ) -> tuple[Any, int]:
        """Map, download and write messages of one chat in one transaction. Returns (stats, files).

        ``post``: the messages are the comments under this channel post (its chat id, message id)."""
        messages = [m for m in messages if isinstance(m, (types.Message, types.MessageService))]
        users = self._user_records(messages)
        records = [r for r in (tm.message_record(m, self.peers) for m in messages) if r is not None]
        for rec in records:
            rec.account_id = self.account_id
            if post is not None and rec.post_chat_id is None:
                rec.post_chat_id, rec.post_message_id = post
        topics: list[Record] = [t for t in map(tm.topic_record, messages) if t is not None]
        cid = utils.get_peer_id(chat)
        # A chat row must exist before its messages (foreign key); once per chat and run.
        head: list[Record] = []
        if cid not in self._chats_stored:
            head.append(tm.chat_record(chat, linked_chat_id=self._linked.get(cid)))
            if tm.is_forum(chat):
                head.append(tm.general_topic(cid))
        with tempfile.TemporaryDirectory(dir=self.storage_dir, prefix=".download-") as tmp:
            files = await self._attach_media(chat, messages, records, Path(tmp))
            stats = await asyncio.to_thread(self.store.write, [*head, *users, *topics, *records])
        # Remembered only after the commit, so a retried batch writes them again.
        self._chats_stored.add(cid)
        self._users_stored.update(u.user_id for u in users)
        return stats, files

    @contextlib.asynccontextmanager
    async def takeout(self) -> AsyncIterator[None]:
        """Route history reads through a takeout session (lower flood limits for big backfills)."""
        if not self.config.takeout:
            yield
            return
        try:
            async with self.client.takeout(
                finalize=True, users=True, chats=True, megagroups=True, channels=True,
                files=bool(self.config.media_types), max_file_size=self.config.media_max_bytes,
            ) as takeout:
                self._history_client = takeout
                try:
                    yield
                finally:
                    self._history_client = None
        except errors.TakeoutInitDelayError as exc:
            # The user must approve the takeout in another session; this is a retry, not a failure.
            raise TelegramRetryLater(exc.seconds, "takeout session awaiting approval") from exc

    async def sync_history(self, entity: Any, *, on_batch: Callable[[ChatSyncResult], None] | None = None
                           ) -> ChatSyncResult:
        """New messages of one chat above its cursor (first run: full history, or back to ``since``)."""
        cid = utils.get_peer_id(entity)
        before = await asyncio.to_thread(self.store.get_cursor, cid, self.account_id or 0)
        result = ChatSyncResult(cid, tm.display_name(entity), before, before)
        attempt = 0
        while True:
            try:
                await self._history_pass(entity, result, on_batch)
                break
            except (errors.FloodWaitError, ConnectionError, TimeoutError) as exc:
                progress = result.batches
                await self._wait_or_raise(exc, attempt, f"reading history of {cid}")
                # Retries are counted per stretch without progress: a long backfill may hit several.
                attempt = attempt + 1 if result.batches == progress else 1
        await asyncio.to_thread(self.store.mark_scanned, cid)
        return result

    async def _history_pass(self, entity: Any, result: ChatSyncResult, on_batch) -> None:
        cursor = await asyncio.to_thread(self.store.get_cursor, result.chat_id, self.account_id or 0)
        kwargs: dict[str, Any] = {"min_id": cursor, "reverse": True}
        if cursor == 0 and self.config.since is not None:
            kwargs["offset_date"] = self.config.since
        client = self._history_client or self.client
        if self._history_client is not None:
            kwargs["wait_time"] = 0  # takeout sessions have their own, higher limits
        batch: list[Any] = []
        async for msg in client.iter_messages(entity, **kwargs):
            batch.append(msg)
            if len(batch) >= HISTORY_BATCH:
                await self._commit(entity, batch, result, on_batch)
                batch = []
        if batch:
            await self._commit(entity, batch, result, on_batch)

    async def sync_comments(self, channel: Any, posts: list[Any]) -> int:
        """Comments under the given posts of a channel (those whose ``replies`` say they have some), read from the
        linked discussion group and stored there, each linked to its post. Returns how many were stored."""
        cid = utils.get_peer_id(channel)
        done = 0
        for post in posts:
            replies = getattr(post, "replies", None)
            if not (isinstance(replies, types.MessageReplies) and replies.comments and replies.replies):
                continue
            comments: list[Any] = []

            async def scan(p=post) -> None:
                comments.clear()
                async for msg in self.client.iter_messages(channel, reply_to=p.id, reverse=True):
                    comments.append(msg)

            try:
                await self._request(scan, f"reading comments of post {post.id} in {cid}")
            except errors.RPCError as exc:  # e.g. the discussion group is private to us
                self.log.warning(f"comments of post {post.id} in {cid} not read: {exc}")
                continue
            if not comments:
                continue
            group = getattr(comments[0], "chat", None) or self.peers.get(tm.marked_id(comments[0].peer_id))
            if group is None:
                group = await self._request(lambda: self.client.get_entity(comments[0].peer_id), "resolving a group")
            self.peers[utils.get_peer_id(group)] = group
            if replies.channel_id:
                self._linked.setdefault(utils.get_peer_id(group), cid)
            stats, _ = await self.store_messages(group, comments, post=(cid, post.id))
            done += stats.messages_seen
        return done

    async def _commit(self, entity: Any, batch: list[Any], result: ChatSyncResult, on_batch) -> None:
        stats, files = await self.store_messages(entity, batch)
        if self.config.comments and isinstance(entity, types.Channel) and entity.broadcast:
            result.comments += await self.sync_comments(entity, batch)
        # Only now, after the batch's transaction committed, may the cursor move past it.
        result.cursor_after = await asyncio.to_thread(
            self.store.set_cursor, result.chat_id, max(m.id for m in batch), self.account_id or 0)
        result.batches += 1
        result.messages_seen += stats.messages_seen
        result.messages_new += stats.messages_new
        result.messages_updated += stats.messages_updated
        result.files_downloaded += files
        if on_batch:
            on_batch(result)

    # -- everything ----------------------------------------------------------------------------
    async def sync_all(self, *, on_batch: Callable[[ChatSyncResult], None] | None = None) -> list[ChatSyncResult]:
        chats = await self.sync_chats()
        results = []
        async with self.takeout():
            for entity, record in chats:
                members = None
                if self.config.participants and record.type in ("group", "supergroup"):
                    members = await self.sync_participants(entity)
                res = await self.sync_history(entity, on_batch=on_batch)
                res.participants = members
                self.log.info(
                    f"chat {res.chat_id} ({res.title}): {res.messages_new} new, {res.messages_updated} updated, "
                    f"{res.files_downloaded} files, cursor {res.cursor_before} -> {res.cursor_after}")
                results.append(res)
        return results


async def run_sync(config: TelegramConfig, store: SyncStore, *, client: Any = None, logger=None,
                   on_batch=None) -> list[ChatSyncResult]:
    """Connect (the session must already be authorized), sync every whitelisted chat, disconnect."""
    from telegram_intel.sources.telethon.config import make_client

    client = client or make_client(config)
    await client.connect()
    try:
        if not await client.is_user_authorized():
            raise TelegramNotAuthorized("the Telegram session is not logged in: run `telegram-intel login`")
        source = TelethonSource(client, store, config, logger=logger)
        return await source.sync_all(on_batch=on_batch)
    finally:
        await client.disconnect()
