"""`telegram-intel` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from telegram_intel.cli.errors import DATA_HINT, ReportingGroup
from telegram_intel.config import load_settings
from telegram_intel.lib.records import TelegramDataError


def _echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(cls=ReportingGroup)
@click.option("--debug", is_flag=True, help="On failure show the traceback instead of the one-line error.")
def main(debug: bool) -> None:
    """telegram_intel: Telegram chats into an enriched, searchable knowledge base.

    With TELEGRAM_INTEL_DATABASE_URL unset, commands use an embedded PostgreSQL under
    $TELEGRAM_INTEL_HOME (default ./.telegram_intel), started for the command and
    stopped when it exits (unless it was already running).
    """


# -- database --------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Schema and embedded-server management."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the latest migration."""
    from telegram_intel.db.engine import open_engine

    with open_engine(migrate=True):
        pass
    click.echo("schema is up to date")


@db.command("start")
def db_start() -> None:
    """Start the embedded server and leave it running (prints its URL)."""
    from telegram_intel.db.embedded import EmbeddedPostgres

    settings = load_settings()
    if settings.database_url:
        raise click.UsageError("TELEGRAM_INTEL_DATABASE_URL is set: there is no embedded server to start")
    server = EmbeddedPostgres(settings.home / "pg")
    server.start()
    click.echo(server.url)


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    from telegram_intel.db.embedded import EmbeddedPostgres

    EmbeddedPostgres(load_settings().home / "pg").stop()
    click.echo("stopped")


@db.command("url")
def db_url() -> None:
    """Print the database URL the app uses."""
    from telegram_intel.db.embedded import EmbeddedPostgres

    settings = load_settings()
    click.echo(settings.database_url or EmbeddedPostgres(settings.home / "pg").url)


# -- import -----------------------------------------------------------------------------------
@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--batch-size", default=10_000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print per-file results as JSON.")
def import_cmd(paths: tuple[Path, ...], batch_size: int, as_json: bool) -> None:
    """Import Telegram Desktop exports (result.json files or export folders)."""
    from tqdm import tqdm

    from telegram_intel.db.engine import open_engine
    from telegram_intel.db.loader import BadRecordError
    from telegram_intel.pipeline.ingest import import_export

    settings = load_settings()
    files = [p / "result.json" if p.is_dir() else p for p in paths]
    results = {}
    failed = False
    with open_engine(settings) as engine:
        for path in files:
            bar = tqdm(desc=path.name, unit="msg", unit_scale=True, disable=as_json or not sys.stderr.isatty())
            done = [0]

            def progress(stats, bar=bar, done=done) -> None:
                bar.update(stats.messages_seen - done[0])
                done[0] = stats.messages_seen

            try:
                stats = import_export(engine, path, settings.storage_dir, batch_size=batch_size, on_batch=progress)
            except (TelegramDataError, BadRecordError) as exc:
                bar.close()
                failed = True
                message = str(exc) if isinstance(exc, TelegramDataError) else f"{path}: {exc}"
                results[str(path)] = {"error": message}
                click.echo(f"error: {message}", err=True)
                continue
            except Exception as exc:  # the database went away, a media file cannot be read, ...: stop here
                bar.close()
                exc.add_note(f"importing {path}")
                raise
            bar.close()
            results[str(path)] = stats.as_dict()
            if not as_json:
                click.echo(
                    f"{path}: {stats.messages_seen} messages ({stats.messages_new} new, {stats.messages_updated} "
                    f"updated) in {stats.seconds:.2f}s — {stats.messages_per_second:,.0f} msg/s"
                )
    if as_json:
        _echo_json(results)
    if failed:
        click.echo(f"hint: {DATA_HINT}", err=True)
        sys.exit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stats(as_json: bool) -> None:
    """Counts of chats, users, messages, replies, forwards, edits and media, from the database."""
    from telegram_intel.db.engine import open_engine
    from telegram_intel.db.queries import collect_stats

    with open_engine() as engine:
        data = collect_stats(engine)
    if as_json:
        _echo_json(data)
    else:
        for key, value in data.items():
            click.echo(f"{key:>18}: {value}")


# -- sample data ------------------------------------------------------------------------------
@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: $TELEGRAM_INTEL_HOME/inbox/sample).")
@click.option("--messages", default=3000, show_default=True)
@click.option("--chats", default=3, show_default=True)
@click.option("--users", default=24, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--single-chat", is_flag=True, help="Write a single-chat export instead of a full-account one.")
@click.option("--no-media", is_flag=True)
def sample(out: Path | None, messages: int, chats: int, users: int, seed: int, single_chat: bool, no_media: bool) -> None:
    """Write a realistic multilingual sample export with ground truth beside it."""
    from telegram_intel_tools.sample_data import write_sample_export

    out = out or load_settings().inbox_dir / "sample"
    info = write_sample_export(
        out, messages=messages, chats=chats, users=users, seed=seed,
        kind="single_chat" if single_chat else "full_account", media=not no_media,
    )
    click.echo(f"wrote {info.result_json} ({info.messages} messages) and ground truth {info.ground_truth_json}")


# -- demo -------------------------------------------------------------------------------------
@main.command()
@click.option("--messages", default=3000, show_default=True)
@click.option("--port", default=3000, show_default=True)
@click.option("--no-serve", is_flag=True, help="Materialize and exit without starting the Dagster UI.")
def demo(messages: int, port: int, no_serve: bool) -> None:
    """Sample export → import through Dagster → serve the Dagster UI (the README's main command)."""
    from telegram_intel.cli.demo import run_demo

    run_demo(messages=messages, port=port, serve=not no_serve)


def _register_domain_commands() -> None:
    """Commands that live with their domains (kept out of this module to keep imports light)."""
    from telegram_intel.cli import ask, bot, live, llm, mcp, people, search, training, voice, web

    for module in (ask, bot, live, llm, mcp, people, search, training, voice, web):
        module.register(main)


_register_domain_commands()

if __name__ == "__main__":
    main()
