"""Runs ``axolotl train`` under Dagster Pipes, in axolotl's own environment (needs only ``dagster-pipes`` and the
standard library there; nothing from telegram_intel is imported).

Every line axolotl prints is copied to stdout (the run's compute logs) as it comes; Hugging Face Trainer log
dicts (``{'loss': …, 'learning_rate': …}``) become Dagster log lines, and at the end the loss curve, the final
metrics and peft's trainable-parameter count are reported as the asset's materialization metadata.
Standalone: ``python axolotl_pipes_entry.py axolotl train CONFIG --launcher python`` (no Pipes context needed).
"""

import ast
import os
import re
import subprocess
import sys
import time

_DICT = re.compile(r"\{'[a-z_]+': [^{}]*\}")
_TRAINABLE = re.compile(r"trainable params: ([\d,]+) \|\| all params: ([\d,]+)")


def _parse(line):
    """The Trainer's log dict in a line, if any (values may be printed as numbers or strings)."""
    m = _DICT.search(line)
    if not m:
        return None
    try:
        d = ast.literal_eval(m.group(0))
    except (SyntaxError, ValueError):
        return None
    out = {}
    for k, v in d.items():
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            pass
    return out


def run(command, log=print):
    losses, evals, final, trainable = [], [], {}, {}
    started = time.time()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            env=os.environ.copy())
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        m = _TRAINABLE.search(line)
        if m:
            trainable = {"trainable_params": int(m.group(1).replace(",", "")),
                         "total_params": int(m.group(2).replace(",", ""))}
        d = _parse(line)
        if not d:
            continue
        if "loss" in d:
            losses.append(d["loss"])
            log(f"step {len(losses)} loss {d['loss']:.4f}")
        elif "eval_loss" in d:
            evals.append(d["eval_loss"])
            log(f"eval loss {d['eval_loss']:.4f}")
        elif "train_runtime" in d:
            final = d
    rc = proc.wait()
    if rc != 0:
        raise RuntimeError(f"axolotl exited with status {rc}")
    return {"losses": losses, "eval_losses": evals, "wall_seconds": round(time.time() - started, 3),
            **{k: v for k, v in final.items()}, **trainable}


def main():
    from dagster_pipes import open_dagster_pipes

    with open_dagster_pipes() as pipes:
        command = pipes.get_extra("command")
        pipes.log.info("running " + " ".join(command))
        metrics = run(command, log=pipes.log.info)
        pipes.report_asset_materialization(metadata={
            k: ({"raw_value": v, "type": "json"} if isinstance(v, list) else v) for k, v in metrics.items()
        })


if __name__ == "__main__":
    if len(sys.argv) > 1:  # standalone, no Dagster
        print(run(sys.argv[1:]))
    else:
        main()
