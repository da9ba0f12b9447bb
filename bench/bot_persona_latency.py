"""Persona reply latency of the bot's persona chat (``pipeline/persona_chat.PersonaChat``) against the local
llama.cpp tier (``ml/local_llm.LocalLLMServer``, what ``telegram-intel llm serve`` runs), on a real database.

    python bench/bot_persona_latency.py --model smollm2-135m --replies 10
    python bench/bot_persona_latency.py --model ~/.cache/telegram_intel/models/qwen2.5-coder-1.5b-instruct-q4_k_m/model.gguf

Prints JSON: model load time, and per reply the model call (``latency_ms``: the HTTP chat completion) and the whole
reply (memory + retrieval + call + guardrails + rows), median and p90 over ``--replies`` turns of one conversation
(the memory grows to ``--memory`` messages, as in the bot).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

MESSAGES = ["Hi! Are we still meeting on Friday?", "What time works for you?", "Should I bring anything?",
            "Did you see the news about the release?", "How was your weekend?", "Can you send me the report?",
            "Are you coming to the party tonight?", "What do you think about the new office?",
            "Let's grab coffee tomorrow?", "Thanks for the help yesterday!"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--replies", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--memory", type=int, default=12)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    from telegram_intel.db.embedded import EmbeddedPostgres
    from telegram_intel.db.engine import make_engine, upgrade
    from telegram_intel.ml.local_llm import LocalLLMServer
    from telegram_intel.pipeline.persona_chat import PersonaChat, PersonaChatConfig

    root = Path(tempfile.mkdtemp(prefix="ti-bench-bot-"))
    root.chmod(0o711)
    pg = EmbeddedPostgres(root / "pg")
    url = os.environ.get("TELEGRAM_INTEL_DATABASE_URL")
    if not url:
        pg.start()
        url = pg.url
    engine = make_engine(url)
    server = LocalLLMServer(args.model, parallel=1, ctx=4096, threads=args.threads)
    try:
        upgrade(engine)
        t0 = time.perf_counter()
        server.start(log=lambda line: None)
        load_s = time.perf_counter() - t0
    except BaseException:
        if not os.environ.get("TELEGRAM_INTEL_DATABASE_URL"):
            pg.stop()
        raise
    chat = PersonaChat(engine, PersonaChatConfig(base_url=server.base_url, model=server.model_name,
                                                 persona_name="Anselm", memory_turns=args.memory,
                                                 max_tokens=args.max_tokens, timeout_s=120, retrieval_k=0))

    async def run() -> tuple[list[int], list[float], list[int]]:
        calls, totals, tokens = [], [], []
        for i in range(args.replies):
            started = time.perf_counter()
            reply = await chat.reply(1000 + 0, 1000, MESSAGES[i % len(MESSAGES)])
            totals.append((time.perf_counter() - started) * 1000)
            calls.append(reply.latency_ms)
            tokens.append(reply.completion_tokens)
            print(f"reply {i + 1}: model call {reply.latency_ms} ms, {reply.completion_tokens} tokens",
                  file=sys.stderr, flush=True)
        await chat.aclose()
        return calls, totals, tokens

    try:
        calls, totals, tokens = asyncio.run(run())
    finally:
        server.stop()
        engine.dispose()
        if not os.environ.get("TELEGRAM_INTEL_DATABASE_URL"):
            pg.stop()

    def p90(values):
        return sorted(values)[max(0, int(round(0.9 * len(values))) - 1)]

    print(json.dumps({
        "model": server.model_name, "gguf": str(server.gguf), "model_load_s": round(load_s, 2),
        "replies": args.replies, "max_tokens": args.max_tokens,
        "model_call_ms_median": statistics.median(calls), "model_call_ms_p90": p90(calls),
        "reply_ms_median": round(statistics.median(totals)), "reply_ms_p90": round(p90(totals)),
        "completion_tokens_median": statistics.median(tokens),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }, indent=2))


if __name__ == "__main__":
    main()
