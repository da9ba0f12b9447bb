"""PII detection quality on the hand-labeled ru/en/tr set in ``data/pii_eval.jsonl``.

A predicted span counts as a true positive only when type, start and end all match a labeled span exactly.

    python -m telegram_intel_tools.pii_eval            # per-type and overall precision/recall, and throughput
    python -m telegram_intel_tools.pii_eval --rebuild  # regenerate the jsonl from data/pii_eval.marked.txt
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from telegram_intel.lib.pii import PII_TYPES, find_pii

DATA_DIR = Path(__file__).resolve().parent / "data"
EVAL_PATH = DATA_DIR / "pii_eval.jsonl"
MARKED_PATH = DATA_DIR / "pii_eval.marked.txt"
# URLs on these domains are labeled as not PII in the set (see the header of the marked file).
EVAL_KEEP_DOMAINS = ("github.com", "wikipedia.org", "stackoverflow.com", "python.org")

_MARK = re.compile(r"⟦([A-Z]+)\|(.*?)⟧")


def parse_marked(text: str) -> tuple[str, list[dict[str, Any]]]:
    """``"call ⟦PHONE|+7 916 …⟧"`` → plain text and spans with offsets into it."""
    out: list[str] = []
    spans: list[dict[str, Any]] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(text):
        before = text[pos:m.start()]
        out.append(before)
        length += len(before)
        kind, value = m.group(1), m.group(2)
        if kind not in PII_TYPES:
            raise ValueError(f"unknown PII type {kind!r} in {text!r}")
        spans.append({"type": kind, "start": length, "end": length + len(value)})
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(text[pos:])
    plain = "".join(out)
    if "⟦" in plain or "⟧" in plain:
        raise ValueError(f"unbalanced markup in {text!r}")
    return plain, spans


def read_marked(path: Path = MARKED_PATH) -> list[dict[str, Any]]:
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        lang, sep, marked = line.partition("\t")
        if not sep or lang not in ("ru", "en", "tr"):
            raise ValueError(f"{path}:{lineno}: expected 'ru|en|tr<TAB>text'")
        plain, spans = parse_marked(marked.replace("\\n", "\n"))
        rows.append({"lang": lang, "text": plain, "spans": spans})
    return rows


def rebuild(marked: Path = MARKED_PATH, out: Path = EVAL_PATH) -> int:
    rows = read_marked(marked)
    with out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


def load_eval_set(path: Path = EVAL_PATH) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}


def evaluate(rows: Iterable[dict[str, Any]] | None = None, *, keep_domains: Iterable[str] = EVAL_KEEP_DOMAINS,
             ) -> dict[str, Any]:
    """Per-type, per-language and overall precision/recall/F1 (exact span and type match), plus the errors."""
    rows = load_eval_set() if rows is None else list(rows)
    keep = tuple(keep_domains)
    counts = {t: [0, 0, 0] for t in PII_TYPES}  # tp, fp, fn
    by_lang: dict[str, list[int]] = {}
    errors: list[dict[str, Any]] = []
    for row in rows:
        gold = {(s["type"], s["start"], s["end"]) for s in row["spans"]}
        pred = {(s.type, s.start, s.end) for s in find_pii(row["text"], keep_domains=keep)}
        lang = by_lang.setdefault(row["lang"], [0, 0, 0])
        for kind, s, e in pred & gold:
            counts[kind][0] += 1
            lang[0] += 1
        for kind, s, e in pred - gold:
            counts[kind][1] += 1
            lang[1] += 1
            errors.append({"error": "fp", "type": kind, "value": row["text"][s:e], "text": row["text"]})
        for kind, s, e in gold - pred:
            counts[kind][2] += 1
            lang[2] += 1
            errors.append({"error": "fn", "type": kind, "value": row["text"][s:e], "text": row["text"]})
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {
        "messages": len(rows),
        "overall": _prf(*total),
        "per_type": {t: _prf(*c) for t, c in counts.items()},
        "per_lang": {lang: _prf(*c) for lang, c in sorted(by_lang.items())},
        "errors": errors,
    }


def throughput(rows: list[dict[str, Any]] | None = None, *, seconds: float = 0.5, repeats: int = 5) -> float:
    """Median messages/s through ``find_pii`` over ``repeats`` runs of about ``seconds`` each on the eval texts.

    The eval texts are nearly all numeric hard cases, so this is a lower bound: text without digits, ``@`` or
    dotted words returns after one regex search.
    """
    texts = [r["text"] for r in (load_eval_set() if rows is None else rows)]
    rates = []
    for _ in range(repeats):
        n = 0
        start = time.perf_counter()
        while True:
            for t in texts:
                find_pii(t, keep_domains=EVAL_KEEP_DOMAINS)
            n += len(texts)
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                rates.append(n / elapsed)
                break
    return statistics.median(rates)


def format_report(report: dict[str, Any], msgs_per_s: float | None = None) -> str:
    lines = [f"PII eval: {report['messages']} messages (exact span + type match)",
             f"{'type':<8}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}"]
    for name, m in [*report["per_type"].items(), *report["per_lang"].items(), ("overall", report["overall"])]:
        lines.append(f"{name:<8}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>7.3f}{m['support']:>9}")
    if msgs_per_s is not None:
        lines.append(f"throughput: {msgs_per_s:,.0f} messages/s (find_pii on the eval texts, one core, median of 5)")
    for err in report["errors"]:
        lines.append(f"  {err['error']} {err['type']}: {err['value']!r} in {err['text']!r}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true", help="regenerate pii_eval.jsonl from the marked source")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.rebuild:
        print(f"wrote {rebuild()} messages to {EVAL_PATH}")
    report = evaluate()
    rate = throughput()
    if args.json:
        print(json.dumps({**report, "messages_per_second": rate}, ensure_ascii=False, indent=2))
    else:
        print(format_report(report, rate))


if __name__ == "__main__":
    main()
