"""Replying as the owner: retrieval of similar past owner messages + the LoRA adapter (no Dagster here).

``similar_owner_replies`` asks pgvector (through the hybrid search of ``pipeline/search.py``, restricted to the owner's
messages in ``clean_messages``) for the top-k past messages closest to the incoming text; ``build_reply_messages``
puts them into the system prompt as examples of how the owner writes, followed by the conversation so far; a
``PersonaReplier`` generates the answer with the base model and the adapter (or a merged model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from telegram_intel.lib.pii import mask_pii
from telegram_intel.lib.sft import DEFAULT_SYSTEM_PROMPT

__all__ = ["PersonaReplier", "Retrieved", "build_reply_messages", "similar_owner_replies"]

EXAMPLES_HEADER = "Messages you wrote before in similar conversations (match their style, not their content):"


@dataclass
class Retrieved:
    text: str
    similarity: float | None
    chat_id: int
    message_id: int
    date: datetime


def similar_owner_replies(engine: Engine, embedder: Any | None, text: str, owner_ids: Sequence[int], *, k: int = 4,
                          model: str | None = None, min_similarity: float | None = 0.2) -> list[Retrieved]:
    """Top-k past messages of the owner most similar to ``text``: pgvector nearest neighbours (the embedder's
    model in ``message_embeddings``) fused with full-text matches; full text only when ``embedder`` is None or
    the model has no vectors yet."""
    from telegram_intel.pipeline.search import search

    if not text.strip() or not owner_ids:
        return []
    hits = search(engine, embedder, text, user=[int(i) for i in owner_ids], limit=k, model=model,
                  text_weight=0.5, min_similarity=min_similarity)
    return [Retrieved(text=h.text, similarity=h.similarity, chat_id=h.chat_id, message_id=h.message_id, date=h.date)
            for h in hits if h.text.strip()]


def build_reply_messages(incoming: str, *, history: Sequence[dict[str, str]] = (), examples: Sequence[str] = (),
                         persona: str = "the account owner", system_prompt: str = DEFAULT_SYSTEM_PROMPT,
                         speaker: str = "user_guest", mask: bool = True) -> list[dict[str, str]]:
    """Chat messages for the model: the training system prompt plus retrieved examples, the history (role/content
    dicts, as in the SFT files) and the incoming message as the last user turn. PII in the incoming text is
    masked like the training data was."""
    system = system_prompt.replace("{persona}", persona)
    if examples:
        system += "\n\n" + EXAMPLES_HEADER + "\n" + "\n".join(f"- {e.strip()}" for e in examples if e.strip())
    text = mask_pii(incoming)[0] if mask else incoming
    msgs = [{"role": "system", "content": system}]
    msgs += [{"role": m["role"], "content": m["content"]} for m in history]
    line = f"{speaker}: {text.strip()}"
    if msgs[-1]["role"] == "user":
        msgs[-1]["content"] += "\n" + line
    else:
        msgs.append({"role": "user", "content": line})
    return msgs


class PersonaReplier:
    """A base model with the owner's adapter (or a merged model), loaded once."""

    def __init__(self, base_path: str, adapter_path: str | None = None, *, merged_path: str | None = None,
                 device: str = "cpu") -> None:
        from telegram_intel.ml import lora

        if merged_path:
            self.tokenizer, self.model = lora.load_base(merged_path, device)
        elif adapter_path:
            self.tokenizer, self.model = lora.load_with_adapter(base_path, adapter_path, device)
        else:
            self.tokenizer, self.model = lora.load_base(base_path, device)

    def reply(self, messages: Sequence[dict[str, str]], *, max_new_tokens: int = 64, temperature: float = 0.7,
              seed: int = 0) -> str:
        from telegram_intel.ml.lora import generate_reply

        return generate_reply(self.model, self.tokenizer, messages, max_new_tokens=max_new_tokens,
                              temperature=temperature, seed=seed)
