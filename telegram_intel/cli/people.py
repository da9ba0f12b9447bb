"""`telegram-intel people find|ignore|unignore|forget USER`: the privacy controls (work in ``pipeline/privacy.py``).

USER is a numeric id, an ``@username`` or part of a name. A name that matches several people lists them and asks
for the id; a name match is confirmed before anything changes, and ``forget`` always asks (``--yes`` skips the
question). Output names people (name, @username, id, message count), never message text or phone numbers.
"""

from __future__ import annotations

import json
import re

import click


def _pick(engine, query: str, *, action: str, yes: bool, always_confirm: bool = False):
    """The one person ``query`` names, confirmed; raises ClickException when nobody or several match."""
    from telegram_intel.pipeline.privacy import is_erased, resolve_users

    matches = resolve_users(engine, query)
    exact = bool(re.fullmatch(r"\s*(-?\d+|@\S+)\s*", query))
    if not matches:
        q = query.strip()
        if re.fullmatch(r"-?\d+", q) and is_erased(engine, int(q)):
            raise click.ClickException(f"user {q} was erased already (only the id is kept, so imports skip it)")
        raise click.ClickException(f"no one matches {query!r} (try an id, an @username or part of a name; "
                                   "`telegram-intel people find` lists matches)")
    if len(matches) > 1:
        lines = "\n".join(f"  {m.describe()}" for m in matches[:20])
        more = f"\n  … and {len(matches) - 20} more" if len(matches) > 20 else ""
        raise click.ClickException(f"{len(matches)} people match {query!r}; give the id of one:\n{lines}{more}")
    match = matches[0]
    if not yes and (always_confirm or not exact):
        click.confirm(f"{action} {match.describe()}?", abort=True)
    return match


def register(main: click.Group) -> None:
    """Add the ``people`` group to the ``telegram-intel`` command."""

    @main.group("people")
    def people() -> None:
        """Privacy controls: find people, opt them out of (or back into) the AI side, or erase them everywhere."""

    @people.command("find")
    @click.argument("query")
    @click.option("--json", "as_json", is_flag=True, help="Print matches as JSON.")
    def find_cmd(query: str, as_json: bool) -> None:
        """List the people QUERY matches (id, @username or part of a name)."""
        from dataclasses import asdict

        from telegram_intel.db.engine import open_engine
        from telegram_intel.pipeline.privacy import resolve_users

        with open_engine() as engine:
            matches = resolve_users(engine, query)
        if as_json:
            click.echo(json.dumps([asdict(m) for m in matches], ensure_ascii=False, indent=2))
        elif not matches:
            click.echo("no matches")
        for m in matches if not as_json else ():
            click.echo(m.describe())

    @people.command("ignore")
    @click.argument("user")
    @click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
    def ignore_cmd(user: str, yes: bool) -> None:
        """Opt USER out: their messages never reach the AI side again and everything derived from them goes now
        (their corpus rows, other people's reply summaries that quoted them, profile, graph, SFT examples)."""
        from telegram_intel.db.engine import open_engine
        from telegram_intel.pipeline.privacy import set_ignored

        with open_engine() as engine:
            match = _pick(engine, user, action="Opt out", yes=yes)
            set_ignored(engine, match.user_id, True)
        click.echo(f"opted out: user {match.user_id}; their derived rows are removed and enrichment skips them")

    @people.command("unignore")
    @click.argument("user")
    @click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
    def unignore_cmd(user: str, yes: bool) -> None:
        """Opt USER back in: the next enrichment run over their dates recomputes their rows."""
        from telegram_intel.db.engine import open_engine
        from telegram_intel.pipeline.privacy import set_ignored

        with open_engine() as engine:
            match = _pick(engine, user, action="Opt back in", yes=yes)
            set_ignored(engine, match.user_id, False)
        click.echo(f"opted back in: user {match.user_id}; the next enrichment run over their dates includes them")

    @people.command("forget")
    @click.argument("user")
    @click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
    @click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
    def forget_cmd(user: str, yes: bool, as_json: bool) -> None:
        """Erase USER everywhere: messages (sent by them, forwarded from them, the private chat with them), edit
        history, files and media on disk, every derived row; SFT datasets rebuilt, adapters trained on them marked
        stale (the retrain sensor replaces them). Only their id is kept, so a later import skips them."""
        from telegram_intel.config import load_settings
        from telegram_intel.db.engine import open_engine
        from telegram_intel.pipeline.privacy import forget_user

        settings = load_settings()
        with open_engine(settings) as engine:
            match = _pick(engine, user, action="Erase everything of", yes=yes, always_confirm=True)
            report = forget_user(engine, match.user_id, media_root=settings.storage_dir,
                                 data_root=settings.storage_dir)
        if as_json:
            click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        click.echo(str(report))
        click.echo("Dagster run records that name the id are deleted by erased_people_run_records_sensor "
                   "(runs with `dagster dev` / the daemon).")
