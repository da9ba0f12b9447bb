"""How the command line reports a failure: one line saying what failed (and on which input), one hint, exit status
1. The global ``--debug`` option lets the exception through instead, traceback and all.

Commands raise what they raise; ``ReportingGroup`` turns it into a ``CliError`` at the top. A command adds the
input it was working on with ``exc.add_note("importing <path>")``; the note leads the line.
"""

from __future__ import annotations

import click

from telegram_intel.db.embedded import EmbeddedPostgresError
from telegram_intel.lib.records import TelegramDataError

DATA_HINT = ("that spot of the file is not what Telegram Desktop writes: re-export the chat or fix the file; batches "
             "committed before it are kept, and importing again skips what is stored")
DATABASE_HINT = ("check that PostgreSQL is running and reachable (TELEGRAM_INTEL_DATABASE_URL, or the embedded server "
                 "under $TELEGRAM_INTEL_HOME/pg), then run the command again: an import resumes safely, what was "
                 "committed is skipped and the interrupted run is marked failed")


class CliError(click.ClickException):
    """A failure as the user sees it: ``error: <message>`` and ``hint: <hint>`` on stderr, exit status 1."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", file=file, err=True)
        if self.hint:
            click.echo(f"hint: {self.hint}", file=file, err=True)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def as_cli_error(exc: Exception) -> CliError:
    """The one line and hint for ``exc``; the input named in its notes leads the line."""
    # Imported here: only a failing command pays for them (the CLI keeps start-up imports light).
    import psycopg
    import sqlalchemy.exc

    from telegram_intel.db.loader import BadRecordError

    if isinstance(exc, (TelegramDataError, BadRecordError)):
        message, hint = str(exc), DATA_HINT
    elif isinstance(exc, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, psycopg.OperationalError,
                          psycopg.InterfaceError)):
        original = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
        message, hint = f"database unavailable: {_first_line(original)}", DATABASE_HINT
    elif isinstance(exc, EmbeddedPostgresError):
        message = _first_line(exc)
        hint = exc.hint or "set TELEGRAM_INTEL_DATABASE_URL to use an external PostgreSQL with pgvector instead"
    elif isinstance(exc, OSError) and exc.filename:
        message = f"cannot use {exc.filename}: {exc.strerror or _first_line(exc)}"
        hint = "check that the path exists and that this user may read and write it (TELEGRAM_INTEL_HOME, " \
               "TELEGRAM_INTEL_STORAGE_DIR)"
    else:
        message, hint = f"{type(exc).__name__}: {_first_line(exc)}", "run again with --debug for the traceback"
    notes = getattr(exc, "__notes__", None)
    if notes:
        message = f"{'; '.join(notes)}: {message}"
    return CliError(message, hint)


class ReportingGroup(click.Group):
    """The root group: anything a command raises that is not already a click error becomes a ``CliError``,
    unless ``--debug`` was given."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            raise as_cli_error(exc) from exc
