"""Blocking checks on ``sft_dataset``: the files must be what axolotl and our trainer read, and no thread may
leak between train, val and test (that would make the held-out perplexity meaningless)."""

import json
from pathlib import Path

import dagster as dg

from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.defs.training.assets import sft_dataset
from telegram_intel.lib.sft import (
    SPLITS,
    SplitRecords,
    split_disjointness,
    validate_record,
)
from telegram_intel.pipeline import training as store


def _dataset_of_run(context: dg.AssetCheckExecutionContext, telegram: TelegramIntelResource) -> dict | None:
    """The dataset this run wrote (the latest one when the check runs alone)."""
    with telegram.connect() as conn:
        return store.dataset_of_run(conn, context.run.run_id)


@dg.asset_check(asset=sft_dataset, blocking=True,
                description="Every line of train/val/test.jsonl is a valid chat example: a system prompt, "
                            "alternating user/assistant turns, the owner's non-empty, non-media reply last and the "
                            "only trained turn, the split field matching its file.")
def sft_dataset_format_valid(context: dg.AssetCheckExecutionContext,
                             telegram: TelegramIntelResource) -> dg.AssetCheckResult:
    dataset = _dataset_of_run(context, telegram)
    if dataset is None:
        return dg.AssetCheckResult(passed=False, metadata={"error": "no dataset recorded"})
    folder = Path(dataset["path"])
    lines, invalid, examples = 0, 0, []
    for split in SPLITS:
        path = folder / f"{split}.jsonl"
        if not path.exists():
            invalid += 1
            examples.append({"file": path.name, "error": "missing"})
            continue
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                lines += 1
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    errors = [f"not JSON: {exc.msg}"]
                else:
                    errors = validate_record(obj)
                    if not errors and obj["split"] != split:
                        errors = [f"split {obj['split']!r} in {split}.jsonl"]
                if errors:
                    invalid += 1
                    if len(examples) < 10:
                        examples.append({"file": path.name, "line": n, "errors": errors[:3]})
    return dg.AssetCheckResult(
        passed=invalid == 0 and lines > 0,
        metadata={"version": dataset["version"], "lines": lines, "invalid_lines": invalid,
                  "examples": dg.MetadataValue.json(examples)},
    )


@dg.asset_check(asset=sft_dataset, blocking=True,
                description="No thread id and no message (reply or context) appears in two of train/val/test.")
def sft_dataset_splits_disjoint(context: dg.AssetCheckExecutionContext,
                                telegram: TelegramIntelResource) -> dg.AssetCheckResult:
    dataset = _dataset_of_run(context, telegram)
    if dataset is None:
        return dg.AssetCheckResult(passed=False, metadata={"error": "no dataset recorded"})
    records = SplitRecords.load(Path(dataset["path"]))
    result = split_disjointness(records.as_dict())
    return dg.AssetCheckResult(
        passed=result["ok"],
        metadata={"version": dataset["version"],
                  "shared_threads": dg.MetadataValue.json(result["shared_threads"]),
                  "shared_messages": dg.MetadataValue.json(result["shared_messages"]),
                  "examples_by_split": dg.MetadataValue.json({s: len(r) for s, r in records.as_dict().items()})},
    )


@dg.asset_check(asset=sft_dataset, blocking=True,
                description="No reply or context message of an opted-out user (telegram_users.is_ignored) is in "
                            "train/val/test.")
def sft_dataset_no_opted_out_users(context: dg.AssetCheckExecutionContext,
                                   telegram: TelegramIntelResource) -> dg.AssetCheckResult:
    dataset = _dataset_of_run(context, telegram)
    if dataset is None:
        return dg.AssetCheckResult(passed=False, metadata={"error": "no dataset recorded"})
    records = SplitRecords.load(Path(dataset["path"]))
    everything = [r for split in records.as_dict().values() for r in split]
    with telegram.connect() as conn:
        opted_out = store.opted_out_in_dataset(conn, everything)
    return dg.AssetCheckResult(
        passed=not opted_out,
        metadata={"version": dataset["version"], "examples": len(everything),
                  "opted_out_users": dg.MetadataValue.json(opted_out)},
    )
