"""Outer middlewares of the dispatcher: who may use the bot, per-user rate limiting, and per-update timing,
error counting and structured logging (ids and outcomes, never text)."""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from telegram_intel.bot.context import BotContext

log = logging.getLogger("telegram_intel.bot")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def _user_of(update: Update) -> tuple[str, Any, Any]:
    """(update type, the event, its sender)."""
    kind = update.event_type
    event = update.event
    return kind, event, getattr(event, "from_user", None)


class UpdateMiddleware(BaseMiddleware):
    """Counts, times and logs every update; a handler's exception is answered with a friendly message and
    counted instead of surfacing (its text may quote the user, so only the type is logged)."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx

    async def __call__(self, handler: Handler, update: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(update, Update)
        kind, event, user = _user_of(update)
        started = time.perf_counter()
        outcome = "ok"
        try:
            result = await handler(update, data)
            if result is not None and getattr(result, "name", None) == "UNHANDLED":
                outcome = "unhandled"
            return result
        except Exception as exc:
            outcome = "error"
            self.ctx.metrics.errors.labels("dispatch", type(exc).__name__).inc()
            log.error("update failed", exc_info=True, extra={"update_id": update.update_id, "update_type": kind,
                                                             "user": self.ctx.user_ref(getattr(user, "id", None))})
            await _apologize(event)
            return None
        finally:
            seconds = time.perf_counter() - started
            self.ctx.metrics.updates.labels(kind, outcome).inc()
            log.info("update handled", extra={"update_id": update.update_id, "update_type": kind, "outcome": outcome,
                                              "user": self.ctx.user_ref(getattr(user, "id", None)),
                                              "duration_ms": round(seconds * 1000, 1)})


async def _apologize(event: Any) -> None:
    from aiogram.types import CallbackQuery, Message

    try:
        if isinstance(event, Message):
            await event.answer("Sorry, something went wrong on my side. Please try again later.")
        elif isinstance(event, CallbackQuery):
            await event.answer("Something went wrong, please try again.")
    except Exception:  # the API itself may be what failed
        log.warning("could not send the error notice")


class AccessMiddleware(BaseMiddleware):
    """Users outside ``allowed_users`` (when set) are ignored; everyone else counts as active."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx

    async def __call__(self, handler: Handler, update: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(update, Update)
        _, _, user = _user_of(update)
        if user is None or user.is_bot:
            return None
        allowed = self.ctx.settings.allowed_users
        if allowed and user.id not in allowed:
            log.info("update from a user not allowed", extra={"user": self.ctx.user_ref(user.id)})
            return None
        self.ctx.metrics.seen(user.id)
        return await handler(update, data)


class RateLimitMiddleware(BaseMiddleware):
    """At most ``limit`` messages per user in any ``window_s`` seconds (a sliding window kept in memory: the
    service is one process). The first message over the limit gets a notice saying when to try again; later
    ones in the same window are dropped silently. Button presses are not limited (they are cheap and bounded by
    the replies that carry them)."""

    def __init__(self, ctx: BotContext, limit: int, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.limit = max(1, int(limit))
        self.window_s = window_s
        self.clock = clock
        self._hits: dict[int, collections.deque[float]] = {}
        self._noticed: dict[int, float] = {}

    def allow(self, user_id: int) -> tuple[bool, float]:
        now = self.clock()
        hits = self._hits.setdefault(user_id, collections.deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return False, hits[0] + self.window_s - now
        hits.append(now)
        if len(self._hits) > 10_000:  # forget idle users so the table stays small
            for uid in [u for u, h in self._hits.items() if not h or h[-1] <= now - self.window_s]:
                del self._hits[uid]
                self._noticed.pop(uid, None)
        return True, 0.0

    async def __call__(self, handler: Handler, update: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(update, Update)
        if update.message is None or update.message.from_user is None:
            return await handler(update, data)
        user_id = update.message.from_user.id
        ok, wait_s = self.allow(user_id)
        if ok:
            return await handler(update, data)
        self.ctx.metrics.rate_limited.inc()
        now = self.clock()
        if self._noticed.get(user_id, -1e18) <= now - self.window_s:
            self._noticed[user_id] = now
            await update.message.answer(f"Too many messages: please wait {max(1, round(wait_s))} s and try again.")
        log.info("rate limited", extra={"user": self.ctx.user_ref(user_id)})
        return None
