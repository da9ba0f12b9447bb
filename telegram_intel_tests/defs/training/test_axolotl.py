"""The GPU path: axolotl YAML and command building, and the Dagster Pipes launch (run here against a stand-in
``axolotl`` executable that prints what axolotl/Hugging Face Trainer print; real axolotl needs its own venv)."""

from __future__ import annotations

import os
import stat
import sys
import textwrap
from pathlib import Path

import dagster as dg
import yaml

from telegram_intel.defs.training import axolotl
from telegram_intel.defs.training.assets import lora_adapter, sft_dataset
from telegram_intel.ml.lora import LoraParams
from telegram_intel_tests.support.training import training_resources

FAKE_AXOLOTL = textwrap.dedent('''\
    #!{python}
    import json, os, sys
    from pathlib import Path
    import yaml
    assert sys.argv[1:2] == ["train"] and sys.argv[3:] == ["--launcher", "python"], sys.argv
    if os.environ.get("AXOLOTL_DO_NOT_TRACK") != "1":
        sys.exit(3)
    cfg = yaml.safe_load(open(sys.argv[2]))
    assert cfg["datasets"][0]["type"] == "chat_template" and Path(cfg["datasets"][0]["path"]).exists()
    print("[axolotl] loading", cfg["base_model"], flush=True)
    print("trainable params: 1,024 || all params: 200,000 || trainable%: 0.512", flush=True)
    for step in range(cfg["max_steps"]):
        print({{"loss": round(3.0 - 0.1 * step, 4), "grad_norm": 1.0, "learning_rate": 0.0002, "epoch": 0.1}},
              flush=True)
    print({{"eval_loss": "2.5", "eval_runtime": 0.1}}, flush=True)
    print({{"train_runtime": 4.2, "train_samples_per_second": 7.5, "train_steps_per_second": 1.2,
           "train_loss": 2.8, "epoch": 1.0}}, flush=True)
    out = Path(cfg["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "adapter_config.json").write_text(json.dumps({{"r": cfg["lora_r"]}}))
''')


def make_fake_venv(root: Path) -> Path:
    bindir = root / "bin"
    bindir.mkdir(parents=True)
    python = bindir / "python"  # a wrapper, so that our venv (with dagster-pipes) is the one that runs
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    tool = bindir / "axolotl"
    tool.write_text(FAKE_AXOLOTL.format(python=sys.executable))
    for exe in (python, tool):
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return root


def test_axolotl_yaml_and_command(tmp_path):
    (tmp_path / "train.jsonl").write_text('{"messages": []}\n')
    (tmp_path / "val.jsonl").write_text('{"messages": []}\n')
    params = LoraParams(r=16, alpha=32, max_steps=40, batch_size=2, learning_rate=1e-4, max_seq_len=256)
    cpu = axolotl.axolotl_config(base_model="/models/smol", dataset_dir=tmp_path, output_dir=tmp_path / "out",
                                 params=params, device="cpu")
    path = axolotl.write_axolotl_config(tmp_path / "out" / "axolotl.yaml", cpu)
    loaded = yaml.safe_load(path.read_text())
    assert loaded["base_model"] == "/models/smol" and loaded["adapter"] == "lora"
    (ds,) = loaded["datasets"]
    assert ds == {**ds, "path": str(tmp_path / "train.jsonl"), "type": "chat_template", "ds_type": "json",
                  "field_messages": "messages", "message_field_training": "train", "roles_to_train": ["assistant"]}
    assert loaded["test_datasets"][0]["path"] == str(tmp_path / "val.jsonl")
    assert (loaded["lora_r"], loaded["lora_alpha"], loaded["max_steps"], loaded["micro_batch_size"]) == (16, 32, 40, 2)
    assert loaded["sequence_len"] == 256 and loaded["learning_rate"] == 1e-4
    assert loaded["output_dir"] == str(tmp_path / "out" / "adapter")
    assert all(loaded[flag] is False for flag in axolotl.CPU_KERNEL_FLAGS)
    assert loaded["bf16"] is False and loaded["gradient_checkpointing"] is False

    gpu = axolotl.axolotl_config(base_model="meta-llama/Llama-3.1-8B", dataset_dir=tmp_path,
                                 output_dir=tmp_path / "out", params=params, device="cuda")
    assert not any(flag in gpu for flag in axolotl.CPU_KERNEL_FLAGS) and gpu["bf16"] == "auto"

    venv = Path("/opt/axolotl-venv")
    assert axolotl.axolotl_command(venv, path) == ["/opt/axolotl-venv/bin/axolotl", "train", str(path),
                                                   "--launcher", "python"]
    assert axolotl.pipes_command(venv) == ["/opt/axolotl-venv/bin/python", str(axolotl.PIPES_ENTRY)]
    env = axolotl.axolotl_env("cpu")
    assert env["AXOLOTL_DO_NOT_TRACK"] == "1" and env["CUDA_VISIBLE_DEVICES"] == ""
    assert "CUDA_VISIBLE_DEVICES" not in axolotl.axolotl_env("cuda")


def test_lora_adapter_runs_axolotl_through_pipes(cleaned, database_url, storage_dir, tmp_path, ti_env):
    venv = make_fake_venv(tmp_path / "axolotl-venv")
    resources = training_resources(database_url, storage_dir, trainer="axolotl", axolotl_venv=str(venv))
    with dg.instance_for_test() as instance:
        result = dg.materialize([sft_dataset, lora_adapter], instance=instance, resources=resources,
                                run_config={"ops": {"lora_adapter": {"config": {"max_steps": 5}}}})
        assert result.success
        logs = [e.message for e in instance.all_logs(result.run_id) if e.message]
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "lora_adapter"]
    md = {k: v.value for k, v in event.materialization.metadata.items()}
    assert md["trainer"] == "axolotl" and md["steps"] == 5
    assert md["losses"] == [3.0, 2.9, 2.8, 2.7, 2.6]
    assert md["final_loss"] == 2.6 and md["val_loss"] == 2.5
    assert (md["trainable_params"], md["total_params"]) == (1024, 200_000)
    assert md["samples_per_second"] == 7.5
    config = yaml.safe_load((Path(md["path"]).parent / "axolotl.yaml").read_text())
    assert config["base_model"] == md["base_model_path"] and config["max_steps"] == 5
    assert (Path(md["path"]) / "adapter_config.json").exists()
    # progress reached the run's event log through Pipes, line by line
    assert any("step 5 loss 2.6000" in m for m in logs)


def test_pipes_entry_runs_standalone(tmp_path, capfd):
    import subprocess

    venv = make_fake_venv(tmp_path / "v")
    (tmp_path / "train.jsonl").write_text("{}\n")
    cfg = axolotl.axolotl_config(base_model="x", dataset_dir=tmp_path, output_dir=tmp_path / "o",
                                 params=LoraParams(max_steps=2), device="cpu")
    path = axolotl.write_axolotl_config(tmp_path / "a.yaml", cfg)
    out = subprocess.run([sys.executable, str(axolotl.PIPES_ENTRY), *axolotl.axolotl_command(venv, path)],
                         capture_output=True, text=True, env={**os.environ, **axolotl.axolotl_env("cpu")}, check=True)
    assert "'losses': [3.0, 2.9]" in out.stdout
