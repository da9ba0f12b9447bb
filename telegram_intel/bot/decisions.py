"""Decision engine feature (seed 001): messages, photos, documents, videos and albums sent to the bot are routed by
an LLM (or the offline rules) to an action — a WooCommerce draft product, a spreadsheet row, an LLM chain — or get
a follow-up question with buttons (``telegram_intel/pipeline/decisions``).

Albums: Telegram delivers one update per photo, sharing a ``media_group_id``. Each part is stored as it arrives
(``decision_album_parts``) and (re)starts a short per-album timer (``TELEGRAM_INTEL_DECISIONS_ALBUM_WINDOW_S``,
1.5 s); when it fires, the stored parts become one unit and one decision. A restart inside the window loses nothing
(pending albums are decided on the next update), and a re-delivered part or update is a no-op: the unit's key is
unique in ``decisions``.

Text: with the persona feature on, plain text goes to the persona unless it answers an open question of this
engine or starts with ``/decide``; without it, every text is a candidate for an action.

Enable with ``TELEGRAM_INTEL_BOT_FEATURES=decisions`` (plus others). Exposes ``build_router(ctx)`` and ``router``,
``setup`` / ``shutdown`` / ``forget`` hooks for ``telegram_intel.bot.app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatAction
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from telegram_intel.bot.context import BotContext
from telegram_intel.lib.decisions import (
    DRAFT_PRODUCT,
    LLM_CHAIN,
    SPREADSHEET_ROW,
    MediaItem,
    MediaRejected,
    MessagePart,
    assemble,
    validate_media,
)
from telegram_intel.pipeline.decisions.engine import DecisionEngine, Outcome

log = logging.getLogger("telegram_intel.bot")

LABELS = {DRAFT_PRODUCT: "🛍 Draft product", SPREADSHEET_ROW: "📊 Spreadsheet row", LLM_CHAIN: "📝 Note"}
MAX_TEXT = 4096


class DecisionCallback(CallbackData, prefix="dec"):
    op: str  # choose | approve | reject
    decision: int
    choice: str = ""


def part_from_message(message: Message) -> MessagePart:
    """The Bot API message as a ``MessagePart`` (the largest photo size; document and video with their type)."""
    media: list[MediaItem] = []
    if message.photo:
        p = message.photo[-1]
        media.append(MediaItem("photo", p.file_id, p.file_unique_id, None, p.file_size, None, p.width, p.height))
    if message.document:
        d = message.document
        media.append(MediaItem("document", d.file_id, d.file_unique_id, d.mime_type, d.file_size, d.file_name))
    if message.video:
        v = message.video
        media.append(MediaItem("video", v.file_id, v.file_unique_id, v.mime_type, v.file_size, v.file_name,
                               v.width, v.height))
    return MessagePart(chat_id=message.chat.id, message_id=message.message_id,
                       sender_id=message.from_user.id if message.from_user else None,
                       text=message.text or message.caption or "", media=tuple(media),
                       media_group_id=message.media_group_id, date=message.date)


class DecisionBotService:
    """The engine plus the bot's album timers. Engine calls (SQL, HTTP, LLM) run in worker threads."""

    def __init__(self, engine: DecisionEngine, *, window_s: float | None = None) -> None:
        self.engine = engine
        self.window_s = engine.settings.album_window_s if window_s is None else window_s
        self._timers: dict[tuple[int, str], asyncio.Task] = {}
        self._recovered = False
        self.decided: list[Outcome] = []  # what happened, newest last (the /health page and tests read it)

    # -- albums --------------------------------------------------------------------------------------------------

    async def add_album_part(self, bot: Bot, part: MessagePart) -> None:
        await asyncio.to_thread(self.engine.record_album_part, part)
        self._schedule(bot, part.chat_id, str(part.media_group_id), self.window_s)

    def _schedule(self, bot: Bot, chat_id: int, group: str, delay: float) -> None:
        key = (chat_id, group)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._timers[key] = asyncio.get_running_loop().create_task(self._flush_later(bot, chat_id, group, delay))

    async def _flush_later(self, bot: Bot, chat_id: int, group: str, delay: float) -> None:
        await asyncio.sleep(delay)
        self._timers.pop((chat_id, group), None)
        try:
            parts = await asyncio.to_thread(self.engine.album_parts, chat_id, group)
            if parts:
                await self.process(bot, parts)
        except Exception:  # no update is being handled here, so the middleware cannot answer for us
            log.exception("deciding an album failed", extra={"chat_id": chat_id})
            with contextlib.suppress(Exception):
                await bot.send_message(chat_id, "Sorry, I could not process that album. Please send it again.")

    async def recover(self, bot: Bot) -> None:
        """Albums whose parts were stored before a restart are decided now (once per process)."""
        if self._recovered:
            return
        self._recovered = True
        for chat_id, group in await asyncio.to_thread(self.engine.pending_albums):
            if (chat_id, group) not in self._timers:
                self._schedule(bot, chat_id, group, 0)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Until no album timer is pending (tests; a clean shutdown)."""
        deadline = time.monotonic() + timeout
        while self._timers and time.monotonic() < deadline:
            await asyncio.gather(*list(self._timers.values()), return_exceptions=True)

    # -- deciding ------------------------------------------------------------------------------------------------

    async def _download(self, bot: Bot, unit_media: tuple[MediaItem, ...]) -> dict[str, bytes]:
        """The images of the unit (for the vision model and the product photos); other files are decided on their
        description. Files the policy refuses are not downloaded at all."""
        contents: dict[str, bytes] = {}
        try:
            validate_media(unit_media, self.engine.settings.media_policy)
        except MediaRejected:
            return contents  # the engine refuses the unit and says why
        for item in unit_media:
            if not item.is_image:
                continue
            buffer = io.BytesIO()
            await bot.download(item.file_id, destination=buffer)
            contents[item.file_unique_id] = buffer.getvalue()
        return contents

    async def process(self, bot: Bot, parts: list[MessagePart]) -> Outcome:
        unit = assemble(parts)
        if await asyncio.to_thread(self.engine.decided, unit):
            outcome = Outcome("duplicate", message="Already handled.")  # a re-delivered update: not answered again
            self.decided.append(outcome)
            return outcome
        with contextlib.suppress(Exception):  # a progress hint only
            await bot.send_chat_action(unit.chat_id, ChatAction.TYPING)
        contents = await self._download(bot, unit.media)
        outcome = await asyncio.to_thread(self.engine.submit, unit, contents)
        self.decided.append(outcome)
        await send_outcome(bot, unit.chat_id, outcome, reply_to=unit.message_ids[0])
        return outcome


def _keyboard(outcome: Outcome) -> InlineKeyboardMarkup | None:
    if outcome.kind == "followup":
        rows = [[InlineKeyboardButton(text=LABELS.get(o, o), callback_data=DecisionCallback(
            op="choose", decision=outcome.decision_id, choice=o).pack())] for o in outcome.options]
        rows.append([InlineKeyboardButton(text="✖ Cancel", callback_data=DecisionCallback(
            op="choose", decision=outcome.decision_id, choice="cancel").pack())])
        return InlineKeyboardMarkup(inline_keyboard=rows)
    if outcome.kind == "approval":
        return InlineKeyboardMarkup(inline_keyboard=[[
            InlineKeyboardButton(text="✅ Approve", callback_data=DecisionCallback(
                op="approve", decision=outcome.decision_id).pack()),
            InlineKeyboardButton(text="✖ Reject", callback_data=DecisionCallback(
                op="reject", decision=outcome.decision_id).pack())]])
    return None


async def send_outcome(bot: Bot, chat_id: int, outcome: Outcome, *, reply_to: int | None = None) -> None:
    if outcome.kind == "duplicate":
        return  # a re-delivered update: it was answered the first time
    text = outcome.message[:MAX_TEXT] or outcome.kind
    kwargs: dict[str, Any] = {"reply_markup": _keyboard(outcome)}
    if reply_to is not None:
        kwargs["reply_to_message_id"] = reply_to
    await bot.send_message(chat_id, text, **kwargs)


def _service(ctx: BotContext) -> DecisionBotService:
    return ctx.extras["decisions"]


def build_router(ctx: BotContext | None = None) -> Router:
    """Handlers take the ``BotContext`` from the dispatcher (``ctx``), so one definition serves every dispatcher."""
    router = Router(name="decisions")

    @router.callback_query(DecisionCallback.filter())
    async def on_button(query: CallbackQuery, callback_data: DecisionCallback, bot: Bot, ctx: BotContext) -> None:
        service = _service(ctx)
        chat_id = query.message.chat.id if query.message else query.from_user.id
        engine = service.engine
        if callback_data.op == "choose":
            outcome = await asyncio.to_thread(engine.choose, chat_id, callback_data.decision, callback_data.choice)
        elif callback_data.op == "approve":
            outcome = await asyncio.to_thread(engine.approve, chat_id, callback_data.decision)
        else:
            outcome = await asyncio.to_thread(engine.reject, chat_id, callback_data.decision)
        await query.answer()
        if query.message is not None and outcome.kind != "stale":
            with contextlib.suppress(Exception):  # the message may be too old to edit; the answer still goes out
                await query.message.edit_reply_markup(reply_markup=None)
        ctx.metrics.updates.labels("decision_button", outcome.kind).inc()
        await send_outcome(bot, chat_id, outcome)

    not_audio = F.document.func(lambda d: d is not None and not (d.mime_type or "").startswith("audio/"))

    @router.message(F.photo | F.video | not_audio)  # audio documents are the voice feature's
    async def on_media(message: Message, bot: Bot, ctx: BotContext) -> None:
        service = _service(ctx)
        await service.recover(bot)
        part = part_from_message(message)
        if part.media_group_id:
            await service.add_album_part(bot, part)
            return
        started = time.monotonic()
        outcome = await service.process(bot, [part])
        ctx.metrics.processing.labels("decisions", outcome.kind).observe(time.monotonic() - started)

    @router.message(Command("decide"))
    async def on_decide(message: Message, command: CommandObject, bot: Bot, ctx: BotContext) -> None:
        if not (command.args or "").strip():
            await message.answer("Usage: /decide TEXT — e.g. /decide order 3 mugs for Anna, 45 USD")
            return
        part = part_from_message(message)
        part = MessagePart(**{**part.__dict__, "text": command.args.strip()})
        await _service(ctx).process(bot, [part])

    @router.message(F.text & ~F.text.startswith("/"))
    async def on_text(message: Message, bot: Bot, ctx: BotContext) -> None:
        service = _service(ctx)
        await service.recover(bot)
        answered = await asyncio.to_thread(service.engine.answer, message.chat.id, message.text)
        if answered is not None:
            await send_outcome(bot, message.chat.id, answered, reply_to=message.message_id)
            return
        if "persona" in ctx.settings.features:
            raise SkipHandler()  # plain chat is the persona's
        await service.process(bot, [part_from_message(message)])

    return router


router = build_router()


async def setup(ctx: BotContext) -> None:
    """The engine from the environment (``TELEGRAM_INTEL_DECISIONS_*``, ``TELEGRAM_INTEL_LLM_*``), unless given."""
    if "decisions" not in ctx.extras:
        from telegram_intel.pipeline.decisions.service import build_engine

        ctx.extras["decisions"] = DecisionBotService(await asyncio.to_thread(build_engine, ctx.engine))
    log.info("decision engine ready", extra=_service(ctx).engine.settings.describe())


async def shutdown(ctx: BotContext) -> None:
    """Pending album timers are dropped: their parts are stored and decided after the restart."""
    service = ctx.extras.get("decisions")
    if service is not None:
        for timer in list(service._timers.values()):
            timer.cancel()
        service.engine.chain.close()


async def forget(ctx: BotContext, user_id: int) -> dict[str, int]:
    """/forget: the user's decisions (with their outcomes and open questions) and stored album parts."""
    from telegram_intel.pipeline.decisions.engine import forget_sender

    return await asyncio.to_thread(forget_sender, ctx.engine, user_id)
