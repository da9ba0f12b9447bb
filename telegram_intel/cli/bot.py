"""`telegram-intel bot`: the Telegram bot service (voice insight, persona chat, further features by config)."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Add the ``bot`` command to the ``telegram-intel`` group."""

    @main.command("bot")
    @click.option("--features", default=None,
                  help="Comma-separated routers to run: voice, persona, decisions (default "
                       "$TELEGRAM_INTEL_BOT_FEATURES or voice,persona).")
    @click.option("--metrics-host", default=None, help="Where /health and /metrics listen (default 127.0.0.1).")
    @click.option("--metrics-port", default=None, type=click.IntRange(0, 65535),
                  help="Port of /health and /metrics (default $TELEGRAM_INTEL_BOT_METRICS_PORT or 9464; 0 = any).")
    @click.option("--log-level", default="INFO", show_default=True,
                  type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
    def bot_cmd(features: str | None, metrics_host: str | None, metrics_port: int | None, log_level: str) -> None:
        """Run the bot until SIGTERM or Ctrl-C (long polling; no public address needed).

        The token comes from TELEGRAM_INTEL_BOT_TOKEN (create the bot with @BotFather). Logs are JSON lines
        without message text. The database is TELEGRAM_INTEL_DATABASE_URL or the embedded one.
        """
        import asyncio

        from telegram_intel.bot import logs
        from telegram_intel.bot.app import BotConfigError, BotSettings, feature_modules, run_bot
        from telegram_intel.db.engine import open_engine

        overrides = {"metrics_host": metrics_host, "metrics_port": metrics_port}
        if features:
            overrides["features"] = tuple(f.strip().lower() for f in features.split(",") if f.strip())
        try:
            settings = BotSettings.from_env(**overrides)
            settings.require_token()
            feature_modules(settings.features)
        except BotConfigError as exc:
            raise click.UsageError(str(exc)) from None
        logs.configure(log_level)
        with open_engine() as engine:
            asyncio.run(run_bot(settings, engine))
