"""The bot service: ``build_dispatcher`` (routers per feature + middlewares), the /health and /metrics server,
and ``run_bot`` (long polling until SIGTERM/SIGINT, then a clean shutdown).

Features are routers in ``telegram_intel.bot.<feature>`` enabled by configuration
(``TELEGRAM_INTEL_BOT_FEATURES``, default ``voice,persona``). A feature module exposes
``build_router(ctx: BotContext) -> aiogram.Router`` (preferred: a fresh router per dispatcher) or a module-level
``router``, and optionally ``async def setup(ctx)`` (load models, open clients), ``async def shutdown(ctx)`` and
``async def forget(ctx, user_id) -> dict[str, int]`` (delete that user's rows on /forget; counts per table).
``persona`` answers any remaining text, so it is always included last; ``extra_routers`` go before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import signal
import time
from collections.abc import Iterable, Sequence
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand
from aiohttp import web
from sqlalchemy.engine import Engine

from telegram_intel.bot.context import BotContext
from telegram_intel.bot.metrics import BotMetrics
from telegram_intel.bot.middleware import AccessMiddleware, RateLimitMiddleware, UpdateMiddleware
from telegram_intel.bot.settings import TELEGRAM_API_URL, BotConfigError, BotSettings

__all__ = ["BotConfigError", "BotContext", "BotSettings", "FEATURE_MODULES", "build_context", "build_dispatcher",
           "make_bot", "run_bot", "start_health_server"]

log = logging.getLogger("telegram_intel.bot")

FEATURE_MODULES = {
    "voice": "telegram_intel.bot.voice",
    "decisions": "telegram_intel.bot.decisions",
    "persona": "telegram_intel.bot.persona",
}
COMMANDS = {
    "start": "What this bot is",
    "help": "What it can do",
    "forget": "Delete our conversation, your feedback and cached results",
    "list_modes": "Voice analysis modes and their models",
    "set_model": "MODE MODEL: change a mode's model (admins)",
}


def feature_modules(features: Iterable[str]) -> list[Any]:
    """The modules of ``features`` in dispatch order (persona last); ``BotConfigError`` for an unknown one."""
    names = list(dict.fromkeys(features))
    unknown = [n for n in names if n not in FEATURE_MODULES]
    if unknown:
        raise BotConfigError(f"TELEGRAM_INTEL_BOT_FEATURES: unknown feature(s) {', '.join(unknown)} "
                             f"(known: {', '.join(FEATURE_MODULES)})")
    names.sort(key=lambda n: n == "persona")
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(FEATURE_MODULES[name]))
        except ModuleNotFoundError as exc:
            if exc.name != FEATURE_MODULES[name]:
                raise
            raise BotConfigError(f"feature {name!r} is not available in this installation") from None
    return modules


def _router_of(module: Any, ctx: BotContext) -> Router:
    if hasattr(module, "build_router"):
        return module.build_router(ctx)
    router = module.router
    # a module-level router can belong to one dispatcher at a time; a new dispatcher (a restart in the same
    # process, or a test) takes it over
    if router.parent_router is not None:
        router.parent_router.sub_routers.remove(router)
        router._parent_router = None
    return router


def build_context(settings: BotSettings, engine: Engine, *, metrics: BotMetrics | None = None,
                  **services: Any) -> BotContext:
    """The shared context; ``services`` (voice=..., persona=..., or extras) are used as given, the rest are made by
    the features' ``setup``."""
    known = {k: services.pop(k) for k in ("voice", "persona") if k in services}
    return BotContext(settings=settings, engine=engine, metrics=metrics or BotMetrics(), extras=services, **known)


def build_dispatcher(settings: BotSettings, engine: Engine | None = None, *, ctx: BotContext | None = None,
                     extra_routers: Sequence[Router] = (), **services: Any) -> Dispatcher:
    """A dispatcher with the middlewares and one router per enabled feature (``settings.features``); handlers
    receive the ``BotContext`` as ``ctx``. Give ``ctx`` or (``engine`` and services)."""
    from telegram_intel.bot import common

    if ctx is None:
        if engine is None:
            raise ValueError("build_dispatcher needs an engine or a ctx")
        ctx = build_context(settings, engine, **services)
    modules = feature_modules(settings.features)
    dp = Dispatcher(ctx=ctx)
    dp.update.outer_middleware(UpdateMiddleware(ctx))
    dp.update.outer_middleware(AccessMiddleware(ctx))
    dp.update.outer_middleware(RateLimitMiddleware(ctx, settings.rate_limit_per_minute))
    dp.include_router(common.build_router(ctx))
    persona = [m for m in modules if m.__name__ == FEATURE_MODULES["persona"]]
    for module in modules:
        if module in persona:
            continue
        dp.include_router(_router_of(module, ctx))
    for router in extra_routers:
        dp.include_router(router)
    for module in persona:
        dp.include_router(_router_of(module, ctx))
    ctx.extras["feature_modules"] = modules

    async def on_startup(bot: Bot) -> None:
        for module in modules:
            if hasattr(module, "setup"):
                await module.setup(ctx)
        me = await bot.get_me()
        ctx.bot_username = me.username
        commands = [BotCommand(command=c, description=d) for c, d in COMMANDS.items()
                    if c not in ("list_modes", "set_model") or "voice" in settings.features]
        await bot.set_my_commands(commands)
        log.info("bot started", extra={"bot": me.username, "features": list(settings.features)})

    async def on_shutdown() -> None:
        for module in modules:
            if hasattr(module, "shutdown"):
                with contextlib.suppress(Exception):
                    await module.shutdown(ctx)
        log.info("bot stopped")

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


def make_bot(settings: BotSettings) -> Bot:
    """An aiogram Bot for ``settings`` (a local Bot API server when ``api_url`` is not Telegram's)."""
    token = settings.require_token()
    if settings.api_url.rstrip("/") == TELEGRAM_API_URL:
        return Bot(token)
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(settings.api_url)))


# ---------------------------------------------------------------------------------------------------------------
# /health, /metrics, /modes


async def start_health_server(ctx: BotContext, host: str | None = None, port: int | None = None
                              ) -> tuple[web.AppRunner, int]:
    """Serve /health (JSON status), /metrics (Prometheus text) and /modes (voice modes) on ``host:port`` (the
    settings' by default; port 0 picks one). Returns the runner (``await runner.cleanup()``) and the port."""

    async def health(request: web.Request) -> web.Response:
        db_ok = True
        try:
            await asyncio.to_thread(_ping, ctx.engine)
        except Exception:
            db_ok = False
        body = {"status": "ok" if db_ok else "degraded", "database": "ok" if db_ok else "unreachable",
                "bot": ctx.bot_username, "features": list(ctx.settings.features),
                "uptime_s": round(time.monotonic() - ctx.started_at, 1),
                "active_users": ctx.metrics.active_users()}
        return web.json_response(body, status=200 if db_ok else 503)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=ctx.metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4"})

    async def modes(request: web.Request) -> web.Response:
        if ctx.voice is None:
            return web.json_response({"modes": []})
        return web.Response(text=json.dumps({"modes": ctx.voice.describe_modes()}, ensure_ascii=False),
                            content_type="application/json")

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/modes", modes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host or ctx.settings.metrics_host,
                       ctx.settings.metrics_port if port is None else port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    return runner, bound


def _ping(engine: Engine) -> None:
    import sqlalchemy as sa

    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


# ---------------------------------------------------------------------------------------------------------------
# The service


async def _housekeeping(ctx: BotContext, every_s: float) -> None:
    """Delete expired voice results and old memory (seed 004: nothing kept past its retention)."""
    from telegram_intel.pipeline import bot_state

    while True:
        try:
            counts = await asyncio.to_thread(bot_state.purge_expired, ctx.engine, memory_days=ctx.settings.memory_days)
            if any(counts.values()):
                log.info("expired rows deleted", extra=counts)
        except Exception:
            ctx.metrics.errors.labels("housekeeping", "purge").inc()
            log.warning("purging expired rows failed", exc_info=True)
        await asyncio.sleep(every_s)


async def run_bot(settings: BotSettings, engine: Engine, *, ready: Any = None, housekeeping_s: float = 600.0,
                  **services: Any) -> None:
    """Poll Telegram until SIGTERM or SIGINT, then stop: finish polling, close the bot session and the
    /health server. ``ready`` (an object with ``set()``) is set once polling starts."""
    settings.require_token()  # fail on a missing or malformed token before anything starts
    ctx = build_context(settings, engine, **services)
    dp = build_dispatcher(settings, ctx=ctx)
    bot = make_bot(settings)
    runner, port = await start_health_server(ctx)
    log.info("health server listening", extra={"host": settings.metrics_host, "port": port})
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def stop(sig: signal.Signals) -> None:
        log.info("signal received, stopping", extra={"signal": sig.name})
        stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, sig)
    cleaner = asyncio.create_task(_housekeeping(ctx, housekeeping_s))
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=True))
    waiter = asyncio.create_task(stopping.wait())
    try:
        await bot.delete_webhook(drop_pending_updates=False)
        if ready is not None:
            ready.set()
        done, _ = await asyncio.wait({polling, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if polling in done:
            polling.result()  # polling ended on its own: surface why
        else:
            with contextlib.suppress(RuntimeError):
                await dp.stop_polling()
            await polling
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        waiter.cancel()
        cleaner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await cleaner
        await runner.cleanup()
        await bot.session.close()
