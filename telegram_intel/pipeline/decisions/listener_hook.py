"""Messages of whitelisted chats of the user account (the Telethon listener, ``pipeline/listener.py``) as decision
units. Telethon delivers an album as one ``events.Album`` (all its messages at once), so no debounce is needed here;
the idempotency key (chat + grouped id, or chat + message id) is the same kind the bot uses, so a unit decided once is
never decided again, whichever way it arrived.

``telegram-intel listen`` wires it in when ``TELEGRAM_INTEL_DECISIONS_LISTENER_CHATS`` (comma-separated marked chat
ids) names any chat: ``Listener`` hands each stored new message and album of those chats to
``ListenerDecisions.on_messages``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from telegram_intel.lib.decisions import MediaItem, MessagePart, assemble
from telegram_intel.pipeline.decisions.engine import DecisionEngine, Outcome

Download = Callable[[Any], Awaitable[bytes]]


def listener_chats(env: Mapping[str, str] | None = None) -> set[int]:
    env = os.environ if env is None else env
    raw = env.get("TELEGRAM_INTEL_DECISIONS_LISTENER_CHATS") or ""
    try:
        return {int(x) for x in raw.replace(";", ",").split(",") if x.strip()}
    except ValueError:
        raise ValueError(f"TELEGRAM_INTEL_DECISIONS_LISTENER_CHATS must be comma-separated chat ids, not {raw!r}") \
            from None


def _file_name(document: Any) -> str | None:
    for attribute in getattr(document, "attributes", None) or []:
        if type(attribute).__name__ == "DocumentAttributeFilename":
            return attribute.file_name
    return None


def part_from_telethon(message: Any, chat_id: int) -> MessagePart:
    """A ``telethon.tl.types.Message`` as a ``MessagePart``; a photo's size is its largest size's bytes."""
    media: list[MediaItem] = []
    photo = getattr(getattr(message, "media", None), "photo", None)
    document = getattr(getattr(message, "media", None), "document", None)
    if photo is not None:
        sizes = [max(s.sizes) if hasattr(s, "sizes") else getattr(s, "size", 0) for s in photo.sizes
                 if hasattr(s, "sizes") or hasattr(s, "size")]
        media.append(MediaItem("photo", f"telethon:photo:{photo.id}", f"photo:{photo.id}", None,
                               max(sizes) if sizes else None))
    elif document is not None:
        mime = document.mime_type or "application/octet-stream"
        kind = "video" if mime.startswith("video/") else "document"
        media.append(MediaItem(kind, f"telethon:doc:{document.id}", f"doc:{document.id}", mime, document.size,
                               _file_name(document)))
    sender = getattr(message, "from_id", None)
    return MessagePart(chat_id=chat_id, message_id=int(message.id), sender_id=getattr(sender, "user_id", None),
                       text=message.message or "", media=tuple(media),
                       media_group_id=str(message.grouped_id) if message.grouped_id else None, date=message.date)


class ListenerDecisions:
    def __init__(self, engine: DecisionEngine, chats: Iterable[int]) -> None:
        self.engine = engine
        self.chats = set(chats)

    async def on_messages(self, chat_id: int, messages: Sequence[Any], download: Download) -> Outcome | None:
        """Decide one message or one album of a whitelisted chat; None for other chats. ``download(message)``
        returns a message's media bytes (``client.download_media(message, bytes)``); only images are fetched."""
        if chat_id not in self.chats or not messages:
            return None
        pairs = [(m, part_from_telethon(m, chat_id)) for m in messages]
        unit = assemble([p for _, p in pairs], source="listener")
        contents: dict[str, bytes] = {}
        for message, part in pairs:
            for item in part.media:
                if item.is_image:
                    contents[item.file_unique_id] = await download(message)
        return await asyncio.to_thread(self.engine.submit, unit, contents)
