"""`telegram-intel web`: the contacts web UI (Telegram, People and Settings tabs) on localhost."""

from __future__ import annotations

import secrets

import click


def register(main: click.Group) -> None:
    """Add the ``web`` command to the ``telegram-intel`` group."""

    @main.command("web")
    @click.option("--host", default="127.0.0.1", show_default=True,
                  help="Address to listen on. Anything but loopback exposes your contacts: use --token then.")
    @click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
    @click.option("--token", envvar="TELEGRAM_INTEL_WEB_TOKEN", default=None,
                  help="Access token required on every request (also $TELEGRAM_INTEL_WEB_TOKEN).")
    @click.option("--generate-token", is_flag=True, help="Make up a random access token and print the link.")
    @click.option("--quiet", is_flag=True, help="Do not log each request.")
    def web_cmd(host: str, port: int, token: str | None, generate_token: bool, quiet: bool) -> None:
        """Serve the contacts web UI (server-rendered; no JavaScript framework, nothing loaded from the internet).

        Telegram tab: followed chats, a chat's messages (filters: media only, links only), a message with its AI
        summary and keywords. People tab: filter by job, sector and confidence; a person's groups, the AI guess
        with its evidence, recent messages, and a form to correct the job/sector. Settings: sync on/off, minimum
        messages for a job guess, daily maximum of analyses.
        """
        from telegram_intel.db.engine import open_engine
        from telegram_intel.web.app import LOOPBACK_HOSTS, WebServer

        if generate_token and not token:
            token = secrets.token_urlsafe(24)
        if host not in LOOPBACK_HOSTS and not token:
            click.echo(f"warning: listening on {host} without --token: anyone who can reach it sees your contacts",
                       err=True)
        with open_engine() as engine:
            server = WebServer(engine, host, port, token=token, quiet=quiet)
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
                server.httpd.server_close()
