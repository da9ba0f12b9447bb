"""Preference-training throughput (optimizer steps/s, pairs/s) of ``dpo_adapter``'s TRL path on this machine.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/dpo_bench.py --model tiny-random --steps 20 --threads 1
    HF_HUB_OFFLINE=1 .venv/bin/python bench/dpo_bench.py --model smollm2 --steps 6 --threads 2 --method dpo kto

Data: the SFT examples of ``train_bench.py`` (generated sample, 3000 messages); each pair is an example's context
(prompt), the owner's real reply (chosen) and the reply of another example (rejected); KTO gets both as
liked / disliked ratings. The parent adapter is a LoRA (r 8) trained 2 steps with ``ml/lora.py``, as
``lora_adapter`` makes it. Per method: one warm-up run of 2 steps, then ``--runs`` timed runs of ``--steps``
steps (batch ``--batch``, max length 512); the figure is ``trainer.train()``'s wall time (model loading and
tokenization excluded), median run. Prints JSON (and writes it with --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from train_bench import OUT, sft_records  # noqa: E402

from telegram_intel.ml import dpo, lora  # noqa: E402


def preference_rows(records: list[dict], n: int) -> tuple[list[dict], list[dict]]:
    pairs, ratings = [], []
    for i, r in enumerate(records[:n]):
        other = records[(i + 7) % len(records)]["messages"][-1]["content"]
        real = r["messages"][-1]["content"]
        if other == real:
            continue
        prompt = [{"role": m["role"], "content": m["content"]} for m in r["messages"][:-1]]
        pairs.append({"prompt": prompt, "chosen": [{"role": "assistant", "content": real}],
                      "rejected": [{"role": "assistant", "content": other}]})
        ratings += [{"prompt": prompt, "completion": [{"role": "assistant", "content": real}], "label": True},
                    {"prompt": prompt, "completion": [{"role": "assistant", "content": other}], "label": False}]
    return pairs, ratings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="tiny-random")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--method", nargs="+", default=["dpo"])
    ap.add_argument("--out")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    records = sft_records()
    corpus = [m["content"] for r in records for m in r["messages"]]
    name, base = lora.resolve_base_model(args.model, OUT / "models", corpus=corpus, log=print)
    pairs, ratings = preference_rows(records, 256)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        parent = lora.train_lora(base, records[:64], Path(tmp) / "sft",
                                 lora.LoraParams(max_steps=2, batch_size=2, max_seq_len=512)).adapter_dir
        for method in args.method:
            rows = pairs if method == "dpo" else ratings
            timings = []
            for run in range(args.runs + 1):
                steps = 2 if run == 0 else args.steps
                res = dpo.train_preference(base, parent, method, rows, Path(tmp) / f"{method}-{run}",
                                           dpo.PreferenceParams(max_steps=steps, batch_size=args.batch,
                                                                learning_rate=5e-5, max_length=512))
                if run:
                    timings.append(res.seconds / res.steps)
            per_step = statistics.median(timings)
            results[method] = {"seconds_per_step": round(per_step, 3), "steps_per_second": round(1 / per_step, 3),
                               "examples_per_second": round(args.batch / per_step, 2),
                               "runs": [round(t, 3) for t in timings]}
    out = {"model": name, "threads": args.threads, "batch": args.batch, "steps": args.steps, "runs": args.runs,
           "machine": f"{platform.machine()} {os.cpu_count()} cpus", "load_average": os.getloadavg(),
           "torch": torch.__version__, "results": results}
    print(json.dumps(out, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
