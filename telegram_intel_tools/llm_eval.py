"""The LLM methods of intents, profiles and summaries on the independent dev sets, through the local LLM tier
(or any OpenAI-compatible endpoint), with the shipped prompts and schemas and the same client as the assets.

    python -m telegram_intel_tools.llm_eval --task intents --dev visible              # serves qwen2.5-coder-1.5b
    python -m telegram_intel_tools.llm_eval --task profiles --dev unseen --model /models/qwen2.5-7b.gguf
    python -m telegram_intel_tools.llm_eval --task summaries --limit 60 --base-url http://127.0.0.1:8080/v1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime, timezone
from typing import Any

from telegram_intel.lib.cleaning import clean_message
from telegram_intel.lib.intents import macro_f1
from telegram_intel.lib.profiles import CorpusMessage
from telegram_intel.llm.config import build_client, load_llm_settings
from telegram_intel.llm.errors import LLMError
from telegram_intel.llm.schemas import INTENT_SCHEMA, MESSAGE_SUMMARY_SCHEMA
from telegram_intel_tools import devsets

LANGS = ("ru", "en", "tr", "mixed")


def _spread(rows: list, limit: int | None) -> list:
    """``limit`` rows evenly spaced over the set (it is ordered by language), all when None."""
    if not limit or limit >= len(rows):
        return rows
    return [rows[i * len(rows) // limit] for i in range(limit)]


def _timed(fn, *args, **kwargs) -> tuple[Any, float, bool]:
    started = time.perf_counter()
    try:
        return fn(*args, **kwargs), time.perf_counter() - started, True
    except LLMError:
        return None, time.perf_counter() - started, False


def _latency(seconds: list[float]) -> dict[str, float]:
    q = statistics.quantiles(seconds, n=20) if len(seconds) > 1 else seconds * 19
    return {"median_s": round(statistics.median(seconds), 2), "p95_s": round(q[18], 2)}


def eval_intents(client, part: str, limit: int | None) -> dict[str, Any]:
    rows = _spread(devsets.load("intents", part), limit)
    preds, seconds, valid = [], [], 0
    for r in rows:
        result, s, ok = _timed(client.complete_json, "intent", {"message": r["text"], "reply_context": ""},
                               INTENT_SCHEMA)
        preds.append(result.data["label"] if ok else "none")
        seconds.append(s)
        valid += ok
    truth = [r["intent"] for r in rows]

    def f1(keep) -> dict[str, Any]:
        idx = [i for i, r in enumerate(rows) if keep(r)]
        return {"n": len(idx), "macro_f1": round(macro_f1([truth[i] for i in idx], [preds[i] for i in idx]), 3)}

    out = {"task": "intents", "part": part, "all": f1(lambda r: True), "valid_answers": f"{valid} of {len(rows)}"}
    out |= {lang: f1(lambda r, lang=lang: r["lang"] == lang) for lang in LANGS}
    out |= {"hard": f1(lambda r: r.get("hard")), "normal": f1(lambda r: not r.get("hard"))}
    return out | _latency(seconds)


def eval_profiles(client, part: str, limit: int | None) -> dict[str, Any]:
    from telegram_intel.pipeline.profiles import profile_with_llm

    users = _spread(devsets.load("profiles", part, key="user"), limit)
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    scored, seconds, valid = [], [], 0
    for u in users:
        texts = [r.text for r in (clean_message(t) for t in u["messages"]) if r.kept]
        msgs = [CorpusMessage(1, i, when, t) for i, t in enumerate(texts)]
        guess, s, ok = _timed(profile_with_llm, client, msgs, min_messages=1)
        seconds.append(s)
        valid += ok
        scored.append({**u, "guess": guess.sector if ok else None, "confidence": guess.confidence if ok else 0})
    signal = [u for u in scored if u["sector"]]
    none = [u for u in scored if not u["sector"]]

    def top1(rows) -> dict[str, Any]:
        return {"n": len(rows), "top1": round(sum(u["guess"] == u["sector"] for u in rows) / len(rows), 3)
                if rows else None}

    out = {"task": "profiles", "part": part, "users_with_sector": top1(signal),
           "abstained_on_signal": sum(u["guess"] is None for u in signal),
           "no_signal_attributed": f"{sum(u['guess'] is not None for u in none)} of {len(none)}",
           "valid_answers": f"{valid} of {len(users)}"}
    out |= {f"lang {lang}": top1([u for u in signal if u["lang"] == lang]) for lang in LANGS}
    out |= {f"difficulty {d}": top1([u for u in signal if u["difficulty"] == d]) for d in ("normal", "hard")}
    answered = [u for u in scored if u["guess"]]
    if answered:
        out["stated_vs_observed"] = {"stated": round(statistics.mean(u["confidence"] for u in answered)),
                                     "observed": round(100 * statistics.mean(u["guess"] == u["sector"]
                                                                             for u in answered))}
    return out | {"seconds_per_user": _latency(seconds)}


def eval_summaries(client, part: str, limit: int | None) -> dict[str, Any]:
    """No reference summaries exist: valid answers, latency, and how often the summary is longer than the message."""
    rows = _spread([r for r in devsets.load("intents", part) if len(r["text"]) >= 40], limit)
    seconds, valid, longer = [], 0, 0
    for r in rows:
        result, s, ok = _timed(client.complete_json, "message_summary", {"message": r["text"], "reply_context": ""},
                               MESSAGE_SUMMARY_SCHEMA)
        seconds.append(s)
        valid += ok
        longer += ok and len(result.data["summary"]) >= len(r["text"])
    return {"task": "summaries", "part": part, "messages": len(rows), "valid_answers": f"{valid} of {len(rows)}",
            "summary_not_shorter": longer} | _latency(seconds)


TASKS = {"intents": eval_intents, "profiles": eval_profiles, "summaries": eval_summaries}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="LLM methods on the dev sets through the local LLM tier.")
    ap.add_argument("--task", choices=sorted(TASKS), action="append", required=True)
    ap.add_argument("--dev", choices=devsets.PARTS, default="visible")
    ap.add_argument("--limit", type=int, help="N items evenly spread over the set (it is ordered by language)")
    ap.add_argument("--model", default="qwen2.5-coder-1.5b", help="GGUF served in process (name or path)")
    ap.add_argument("--base-url", help="use this OpenAI-compatible endpoint instead of serving --model")
    ap.add_argument("--llm-model", help="model name sent to --base-url")
    ap.add_argument("--threads", type=int)
    args = ap.parse_args(argv)
    server = None
    if not args.base_url:
        from telegram_intel.ml.local_llm import LocalLLMServer

        server = LocalLLMServer(args.model, threads=args.threads).start()
    try:
        settings = load_llm_settings(base_url=args.base_url or server.base_url, enabled=True, max_retries=1,
                                     model=args.llm_model or (server.model_name if server else None),
                                     timeout_s=300, temperature=0.0, per_minute=100_000, per_hour=1_000_000,
                                     record_calls=False)
        client = build_client(settings)
        for task in args.task:
            started = time.perf_counter()
            out = TASKS[task](client, args.dev, args.limit)
            out |= {"model": settings.model, "seconds": round(time.perf_counter() - started, 1)}
            print(json.dumps(out, ensure_ascii=False), flush=True)
    finally:
        if server:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
