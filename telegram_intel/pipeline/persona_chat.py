"""Persona chat for the bot (seed 003): one reply as the owner to a user's message.

The owner's past messages most similar to the incoming one are retrieved (``persona.similar_owner_replies``),
put with the user's bounded conversation memory into the chat messages of ``persona.build_reply_messages``, and sent
to an OpenAI-compatible inference server that serves the trained adapter (llama.cpp ``telegram-intel llm serve``
with the merged model, vLLM with ``--lora-modules``, Ollama). The answer passes the guardrails
(``lib/reply_guard``: no secrets or PII, bounded length) within ``max_tokens`` and ``timeout_s``; the call is
accounted in ``llm_calls`` (prompt name ``persona_reply``; no text stored there), the reply is kept for rating,
and the turn is added to the memory. No Dagster here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from telegram_intel.db.llm_calls import SqlCallRecorder
from telegram_intel.lib.pii import mask_pii
from telegram_intel.lib.reply_guard import guard_reply
from telegram_intel.llm.accounting import LLMCallRecord
from telegram_intel.llm.client import public_endpoint
from telegram_intel.pipeline import bot_state
from telegram_intel.pipeline.persona import build_reply_messages, similar_owner_replies

log = logging.getLogger(__name__)

PROMPT_NAME = "persona_reply"
SPEAKER = "user_guest"


class PersonaUnavailable(RuntimeError):
    """No inference server is configured, or it failed / timed out for this reply; ``kind`` says which."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class PersonaChatConfig:
    base_url: str | None
    model: str | None
    api_key: str = field(default="", repr=False)
    persona: str = "owner"
    persona_name: str = "the account owner"
    owner: str = "me"
    adapter: str | None = None
    retrieval_k: int = 4
    memory_turns: int = 12
    max_tokens: int = 160
    timeout_s: float = 30.0
    temperature: float = 0.7
    max_chars: int = 1000


@dataclass
class PersonaReply:
    reply_id: int
    text: str
    prompt: list[dict[str, str]]
    latency_ms: int
    model: str
    adapter: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    examples: int = 0
    removed: list[str] = field(default_factory=list)


class PersonaChat:
    def __init__(self, engine: Engine, config: PersonaChatConfig, *, embedder: Any | None = None,
                 client: Any | None = None) -> None:
        self.engine = engine
        self.config = config
        self.embedder = embedder
        self.recorder = SqlCallRecorder(engine)
        self._client = client
        self._owner_ids: list[int] | None = None

    @property
    def available(self) -> bool:
        return bool(self.config.base_url and self.config.model)

    def _openai(self):
        if self._client is None:
            import openai

            self._client = openai.AsyncOpenAI(base_url=self.config.base_url, api_key=self.config.api_key or "no-key",
                                              timeout=self.config.timeout_s, max_retries=0)
        return self._client

    def owner_ids(self) -> list[int]:
        if self._owner_ids is None:
            from telegram_intel.pipeline.training import OwnerNotFound, resolve_owner_ids

            try:
                with self.engine.connect() as conn:
                    self._owner_ids = resolve_owner_ids(conn, self.config.owner)
            except OwnerNotFound as exc:
                log.warning("persona owner not found (%s): replying without retrieved examples", exc)
                self._owner_ids = []
        return self._owner_ids

    def examples(self, text: str) -> list[str]:
        if self.config.retrieval_k <= 0 or not self.owner_ids():
            return []
        hits = similar_owner_replies(self.engine, self.embedder, text, self.owner_ids(), k=self.config.retrieval_k)
        return [h.text for h in hits]

    def prepare(self, user_id: int, text: str) -> tuple[list[dict[str, str]], int]:
        """The chat messages for the model (memory + retrieved examples + the masked incoming text)."""
        history = bot_state.load_memory(self.engine, self.config.persona, user_id, self.config.memory_turns)
        examples = self.examples(text)
        messages = build_reply_messages(text, history=history, examples=examples, persona=self.config.persona_name,
                                        speaker=SPEAKER)
        return messages, len(examples)

    async def reply(self, user_id: int, chat_id: int, text: str) -> PersonaReply:
        """Generate, guard, account and store one reply; ``PersonaUnavailable`` when it cannot be generated."""
        if not self.available:
            raise PersonaUnavailable("no persona inference server configured (TELEGRAM_INTEL_PERSONA_BASE_URL and "
                                     "TELEGRAM_INTEL_PERSONA_MODEL)", "not_configured")
        messages, n_examples = await asyncio.to_thread(self.prepare, user_id, text)
        cfg = self.config
        started = time.perf_counter()
        usage = (0, 0)
        status, error_kind, content, response_model = "ok", None, "", None
        try:
            response = await asyncio.wait_for(self._openai().chat.completions.create(
                model=cfg.model, messages=messages, max_tokens=cfg.max_tokens, temperature=cfg.temperature),
                timeout=cfg.timeout_s)
            content = (response.choices[0].message.content or "") if response.choices else ""
            response_model = response.model
            if response.usage is not None:
                usage = (response.usage.prompt_tokens or 0, response.usage.completion_tokens or 0)
        except asyncio.TimeoutError:
            status, error_kind = "error", "timeout"
        except Exception as exc:  # openai's connection / status errors: the reply fails, the bot says so
            status, error_kind = "error", type(exc).__name__
        latency_ms = int((time.perf_counter() - started) * 1000)
        prompt_text = json.dumps(messages, ensure_ascii=False)
        await asyncio.to_thread(self.recorder.record, LLMCallRecord(
            model=cfg.model, prompt_name=PROMPT_NAME, status=status, attempts=1, latency_ms=latency_ms,
            prompt_sha256=hashlib.sha256(prompt_text.encode()).hexdigest(), prompt_chars=len(prompt_text),
            endpoint=public_endpoint(cfg.base_url), response_model=response_model if response_model != cfg.model else None,
            error_kind=error_kind, prompt_tokens=usage[0], completion_tokens=usage[1], total_tokens=sum(usage),
            response_sha256=hashlib.sha256(content.encode()).hexdigest() if content else None,
            response_chars=len(content) if status == "ok" else None,
            tags={"source": "bot", "feature": "persona", "persona": cfg.persona}))
        if status != "ok":
            raise PersonaUnavailable(f"the persona model did not answer ({error_kind})", error_kind or "error")
        guarded = guard_reply(content, max_chars=cfg.max_chars)
        if not guarded.text:
            raise PersonaUnavailable("the persona model returned an empty reply", "empty_reply")
        reply_id = await asyncio.to_thread(
            bot_state.save_reply, self.engine, persona=cfg.persona, user_id=user_id, chat_id=chat_id,
            prompt=messages, reply=guarded.text, adapter=cfg.adapter or cfg.model, model=cfg.model,
            latency_ms=latency_ms)
        turn = messages[-1]["content"].splitlines()[-1] if messages else f"{SPEAKER}: {mask_pii(text)[0]}"
        await asyncio.to_thread(bot_state.append_memory, self.engine, cfg.persona, user_id,
                                [{"role": "user", "content": turn}, {"role": "assistant", "content": guarded.text}],
                                cfg.memory_turns)
        return PersonaReply(reply_id=reply_id, text=guarded.text, prompt=messages, latency_ms=latency_ms,
                            model=cfg.model, adapter=cfg.adapter or cfg.model, prompt_tokens=usage[0],
                            completion_tokens=usage[1], examples=n_examples, removed=guarded.removed)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
