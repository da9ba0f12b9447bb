"""A test double of TelegramClient serving real Telethon TL objects, and builders for those objects.

The double implements the client methods the live code calls (``iter_dialogs``, ``iter_messages``,
``iter_participants``, ``download_media``, ``get_messages``, ``get_entity``, ``takeout``, request
calls, connection and auth methods) with the real semantics that matter: ``min_id``/``reverse``/
``offset_date`` filtering, messages finished with the entities Telegram would attach, expiring file
references, and faults (``FloodWaitError``, ``ConnectionError``, …) injected at chosen points.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from telethon import errors, utils
from telethon._updates import EntityCache
from telethon.tl import functions, types
from telethon.tl.custom.dialog import Dialog

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
_hashes = itertools.count(1000)


# -- TL builders ---------------------------------------------------------------------------------
def user(uid: int, first: str | None, last: str | None = None, username: str | None = None, *,
         bot: bool = False, is_self: bool = False, lang: str | None = None) -> types.User:
    return types.User(id=uid, access_hash=next(_hashes), first_name=first, last_name=last, username=username,
                      bot=bot, is_self=is_self, bot_info_version=1 if bot else None, lang_code=lang)


def channel(cid: int, title: str, *, megagroup: bool = True, username: str | None = None,
            participants: int | None = None) -> types.Channel:
    return types.Channel(id=cid, title=title, photo=types.ChatPhotoEmpty(), date=T0 - timedelta(days=400),
                         megagroup=megagroup, broadcast=not megagroup, access_hash=next(_hashes),
                         username=username, participants_count=participants)


def group(cid: int, title: str, participants: int = 3) -> types.Chat:
    return types.Chat(id=cid, title=title, photo=types.ChatPhotoEmpty(), participants_count=participants,
                      date=T0 - timedelta(days=300), version=1)


def peer_of(entity: Any) -> Any:
    return utils.get_peer(entity)


def message(mid: int, chat: Any, text: str = "", *, sender: Any = None, date: datetime | None = None,
            **kwargs: Any) -> types.Message:
    return types.Message(id=mid, peer_id=peer_of(chat), date=date or T0 + timedelta(minutes=mid),
                         message=text, from_id=peer_of(sender) if sender is not None else None, **kwargs)


def service(mid: int, chat: Any, action: Any, *, sender: Any = None, date: datetime | None = None,
            **kwargs: Any) -> types.MessageService:
    return types.MessageService(id=mid, peer_id=peer_of(chat), date=date or T0 + timedelta(minutes=mid),
                                action=action, from_id=peer_of(sender) if sender is not None else None, **kwargs)


def photo_media(pid: int, *, ref: bytes = b"ref") -> types.MessageMediaPhoto:
    sizes = [types.PhotoStrippedSize("i", b"\x01\x02"), types.PhotoSize("m", 320, 240, 21_000),
             types.PhotoSizeProgressive("y", 1280, 960, [10_000, 60_000, 145_000])]
    return types.MessageMediaPhoto(photo=types.Photo(id=pid, access_hash=1, file_reference=ref, date=T0,
                                                     sizes=sizes, dc_id=2))


_DOC_KINDS: dict[str, tuple[str, list[Any]]] = {
    "voice": ("audio/ogg", [types.DocumentAttributeAudio(duration=7, voice=True, waveform=b"\x00\x1f")]),
    "video_note": ("video/mp4", [types.DocumentAttributeVideo(duration=5.8, w=384, h=384, round_message=True)]),
    "video": ("video/mp4", [types.DocumentAttributeVideo(duration=12.9, w=1280, h=720, supports_streaming=True),
                            types.DocumentAttributeFilename("clip.mp4")]),
    "animation": ("video/mp4", [types.DocumentAttributeImageSize(320, 240), types.DocumentAttributeAnimated(),
                                types.DocumentAttributeVideo(duration=2, w=320, h=240),
                                types.DocumentAttributeFilename("funny.gif.mp4")]),
    "sticker": ("image/webp", [types.DocumentAttributeImageSize(512, 512),
                               types.DocumentAttributeSticker(alt="😀", stickerset=types.InputStickerSetEmpty()),
                               types.DocumentAttributeFilename("sticker.webp")]),
    "audio": ("audio/mpeg", [types.DocumentAttributeAudio(duration=201, title="Song", performer="Band"),
                             types.DocumentAttributeFilename("song.mp3")]),
    "document": ("application/pdf", [types.DocumentAttributeFilename("report.pdf")]),
}


def doc_media(did: int, kind: str, *, size: int = 4096, ref: bytes = b"ref") -> types.MessageMediaDocument:
    mime, attrs = _DOC_KINDS[kind]
    doc = types.Document(id=did, access_hash=1, file_reference=ref, date=T0, mime_type=mime, size=size,
                         dc_id=2, attributes=copy.deepcopy(attrs))
    return types.MessageMediaDocument(document=doc, voice=kind == "voice" or None, round=kind == "video_note" or None)


def media_blob(media: Any) -> tuple[str, bytes]:
    """Deterministic bytes for a media object (what Telegram would send back)."""
    if isinstance(media, types.MessageMediaPhoto):
        return ".jpg", b"JPEG" + str(media.photo.id).encode() * 50
    doc = media.document
    ext = {"audio/ogg": ".oga", "video/mp4": ".mp4", "image/webp": ".webp", "audio/mpeg": ".mp3",
           "application/pdf": ".pdf"}.get(doc.mime_type, ".bin")
    return ext, b"DOC" + str(doc.id).encode() * 50


# -- faults -----------------------------------------------------------------------------------------
@dataclass
class Fault:
    """Raise ``exc`` in ``method`` when it is about to produce item number ``after`` (0 = on the call)."""

    method: str
    exc: BaseException
    after: int = 0
    times: int = 1


def flood(seconds: int) -> errors.FloodWaitError:
    return errors.FloodWaitError(request=None, capture=seconds)


# -- the client double ------------------------------------------------------------------------------
class _Session:
    def __init__(self, text: str = "1FAKESESSION") -> None:
        self.text = text
        self.takeout_id = None

    def save(self) -> str:
        return self.text


class FakeTelegramClient:
    def __init__(self, *, me: types.User, dialogs: list[Any], messages: dict[int, list[Any]] | None = None,
                 participants: dict[int, list[types.User]] | None = None, others: list[Any] = (),
                 bios: dict[int, str] | None = None, members_count: dict[int, int] | None = None,
                 linked: dict[int, int] | None = None, threads: dict[tuple[int, int], list[Any]] | None = None
                 ) -> None:
        self.me = me
        self._self_id = me.id
        self._mb_entity_cache = EntityCache()
        self.dialog_entities = list(dialogs)
        self.entities: dict[int, Any] = {utils.get_peer_id(e): e for e in [me, *dialogs, *others]}
        for users in (participants or {}).values():
            self.entities.update({u.id: u for u in users})
        self.messages: dict[int, dict[int, Any]] = {
            cid: {m.id: m for m in msgs} for cid, msgs in (messages or {}).items()
        }
        self.participants = participants or {}
        self.bios = bios or {}
        self.members_count = members_count or {}
        # channel (marked id) -> its discussion group (marked id), as full_chat.linked_chat_id tells
        self.linked = linked or {}
        # (channel marked id, post id) -> the comments under the post: messages of the discussion group
        self.threads = threads or {}
        self.faults: list[Fault] = []
        self.calls: list[tuple] = []
        self.expired_refs: set[bytes] = {b"expired"}
        self.takeout_delay: int | None = None
        self.takeout_used = False
        # connection / auth
        self.authorized = True
        self.connect_failures: list[BaseException] = []
        self.connected = False
        self._lost: asyncio.Future | None = None
        self.handlers: list[tuple[Any, Any]] = []
        self.session = _Session()

    # faults
    def fail(self, method: str, exc: BaseException, after: int = 0, times: int = 1) -> None:
        self.faults.append(Fault(method, exc, after, times))

    def _maybe_fail(self, method: str, position: int) -> None:
        for fault in self.faults:
            if fault.method == method and fault.after == position and fault.times > 0:
                fault.times -= 1
                raise fault.exc

    def _finish(self, msg: Any) -> Any:
        msg = copy.copy(msg)
        msg._finish_init(self, self.entities, None)
        return msg

    # the methods the live code uses
    async def iter_dialogs(self, limit=None, **kwargs):
        self.calls.append(("iter_dialogs",))
        for i, entity in enumerate(self.dialog_entities):
            self._maybe_fail("iter_dialogs", i)
            tl = types.Dialog(peer=utils.get_peer(entity), top_message=0, read_inbox_max_id=0,
                              read_outbox_max_id=0, unread_count=0, unread_mentions_count=0,
                              unread_reactions_count=0, unread_poll_votes_count=0,
                              notify_settings=types.PeerNotifySettings())
            yield Dialog(self, tl, self.entities, None)

    async def iter_messages(self, entity, limit=None, *, min_id=0, reverse=False, offset_date=None,
                            wait_time=None, ids=None, reply_to=None, **kwargs):
        cid = utils.get_peer_id(entity)
        if reply_to is not None:  # a post's comments (messages.getReplies): served from the discussion group
            self.calls.append(("iter_messages", cid, min_id, offset_date, wait_time, reply_to))
            msgs = sorted(self.threads.get((cid, reply_to), []), key=lambda m: m.id, reverse=not reverse)
        else:
            self.calls.append(("iter_messages", cid, min_id, offset_date, wait_time))
            msgs = sorted(self.messages.get(cid, {}).values(), key=lambda m: m.id, reverse=not reverse)
        if offset_date is not None:
            msgs = [m for m in msgs if (m.date >= offset_date if reverse else m.date < offset_date)]
        n = 0
        for m in msgs:
            if m.id <= min_id:
                continue
            self._maybe_fail("iter_messages", n)
            yield self._finish(m)
            n += 1
            if limit is not None and n >= limit:
                break
        self._maybe_fail("iter_messages", n)

    async def iter_participants(self, entity, limit=None, **kwargs):
        cid = utils.get_peer_id(entity)
        self.calls.append(("iter_participants", cid))
        if isinstance(entity, types.Channel) and entity.broadcast:
            raise errors.ChatAdminRequiredError(request=None)
        for i, u in enumerate(self.participants.get(cid, [])):
            self._maybe_fail("iter_participants", i)
            yield u

    async def get_messages(self, entity, limit=None, *, ids=None, **kwargs):
        cid = utils.get_peer_id(entity)
        self.calls.append(("get_messages", cid, ids))
        self._maybe_fail("get_messages", 0)
        stored = self.messages.get(cid, {}).get(ids)
        if stored is None:
            return None
        fresh = self._finish(stored)
        media = copy.copy(fresh.media)
        if isinstance(media, types.MessageMediaPhoto):
            media.photo = copy.copy(media.photo)
            media.photo.file_reference = b"fresh"
        elif isinstance(media, types.MessageMediaDocument):
            media.document = copy.copy(media.document)
            media.document.file_reference = b"fresh"
        fresh.media = media
        return fresh

    async def download_media(self, msg, file=None, **kwargs):
        self.calls.append(("download_media", msg.chat_id, msg.id))
        self._maybe_fail("download_media", 0)
        media = msg.media
        obj = media.photo if isinstance(media, types.MessageMediaPhoto) else media.document
        if obj.file_reference in self.expired_refs:
            raise errors.FileReferenceExpiredError(request=None)
        ext, data = media_blob(media)
        path = Path(file) / f"{type(obj).__name__.lower()}_{obj.id}{ext}"
        path.write_bytes(data)
        return str(path)

    async def get_entity(self, target):
        self.calls.append(("get_entity", target))
        self._maybe_fail("get_entity", 0)
        if isinstance(target, str):
            for e in self.entities.values():
                if (getattr(e, "username", None) or "").lower() == target.lstrip("@").lower():
                    return e
            raise ValueError(f'No user has "{target}" as username')
        if target in self.entities:
            return self.entities[target]
        raise ValueError(f"Could not find the input entity for {target}")

    async def __call__(self, request, ordered=False):
        self.calls.append(("request", type(request).__name__))
        self._maybe_fail("request", 0)
        if isinstance(request, functions.channels.GetFullChannelRequest):
            cid = utils.get_peer_id(request.channel)
            linked = self.linked.get(cid)
            return _NS(full_chat=_NS(participants_count=self.members_count.get(cid),
                                     linked_chat_id=utils.resolve_id(linked)[0] if linked else None))
        if isinstance(request, functions.users.GetFullUserRequest):
            return _NS(full_user=_NS(about=self.bios.get(utils.get_peer_id(request.id))))
        if isinstance(request, functions.updates.GetStateRequest):
            return None
        raise NotImplementedError(type(request).__name__)

    def takeout(self, finalize=True, **kwargs):
        client = self

        class _Takeout:
            async def __aenter__(self_inner):
                client.calls.append(("takeout", kwargs))
                if client.takeout_delay is not None:
                    raise errors.TakeoutInitDelayError(request=None, capture=client.takeout_delay)
                client.takeout_used = True
                return client

            async def __aexit__(self_inner, *exc):
                return False

        return _Takeout()

    # connection and auth
    async def connect(self):
        self.calls.append(("connect",))
        if self.connect_failures:
            raise self.connect_failures.pop(0)
        self.connected = True
        self._lost = asyncio.get_running_loop().create_future()

    async def disconnect(self):
        self.calls.append(("disconnect",))
        self.connected = False
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)

    def is_connected(self) -> bool:
        return self.connected

    @property
    def disconnected(self) -> asyncio.Future:
        return self._lost

    def drop_connection(self) -> None:
        """Simulate a network loss Telethon could not recover from."""
        self.connected = False
        self._lost.set_exception(ConnectionError("network is unreachable"))

    async def is_user_authorized(self) -> bool:
        return self.authorized

    def add_event_handler(self, callback, event=None):
        self.handlers.append((callback, event))

    async def get_me(self, input_peer=False):
        return self.me


class _NS:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)
