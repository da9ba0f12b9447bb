"""DPO and KTO with TRL on top of a LoRA adapter of the tiny random Llama (CPU, a few steps)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from telegram_intel.ml import lora
from telegram_intel.ml.dpo import PreferenceParams, train_preference
from telegram_intel_tests.support import training as _training  # noqa: F401  (offline HF settings)

OWNER = ["ок, давай завтра", "лол нет", "ща буду", "норм, го"]
GENERIC = ["Certainly! I would be happy to help.", "As an AI language model, I cannot.",
           "Thank you for your message.", "Please let me know if you need anything else."]
PROMPTS = [f"user_{i:08x}: {q}" for i, q in enumerate(["встреча завтра?", "пойдешь?", "где ты?", "как тебе?"])]


def _prompt(q: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are the account owner."}, {"role": "user", "content": q}]


@pytest.fixture(scope="module")
def parent(tmp_path_factory) -> tuple[str, str]:
    """(base model path, SFT adapter path): the tiny model with a LoRA adapter trained two steps."""
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("dpo")
    texts = [t for q in PROMPTS for t in (q, *OWNER, *GENERIC)] * 3
    base = lora.build_tiny_model(root / "tiny", texts)
    records = [{"messages": [*_prompt(q), {"role": "assistant", "content": a}]} for q, a in zip(PROMPTS, OWNER)]
    result = lora.train_lora(str(base), records, root / "sft", lora.LoraParams(max_steps=2, batch_size=2))
    return str(base), result.adapter_dir


def _margin(base: str, adapter: str) -> float:
    """Mean per-token NLL of the generic replies minus that of the owner's (higher: the owner's preferred)."""
    _, model = lora.load_with_adapter(base, adapter)
    tokenizer = lora.load_base(base)[0]
    chosen = [{"messages": [*_prompt(q), {"role": "assistant", "content": a}]} for q, a in zip(PROMPTS, OWNER)]
    rejected = [{"messages": [*_prompt(q), {"role": "assistant", "content": a}]} for q, a in zip(PROMPTS, GENERIC)]
    return lora.mean_loss(model, tokenizer, rejected)[0] - lora.mean_loss(model, tokenizer, chosen)[0]


def test_dpo_moves_the_adapter_towards_the_chosen_replies(parent, tmp_path):
    base, sft = parent
    pairs = [{"prompt": _prompt(q), "chosen": [{"role": "assistant", "content": a}],
              "rejected": [{"role": "assistant", "content": b}]} for q, a, b in zip(PROMPTS, OWNER, GENERIC)]
    logged = []
    result = train_preference(base, sft, "dpo", pairs, tmp_path / "run",
                              PreferenceParams(max_steps=4, batch_size=2, learning_rate=5e-3, beta=0.1),
                              eval_records=pairs[:2], log=logged.append)
    assert result.method == "dpo" and result.steps == 4 and len(result.losses) == 4
    assert 0 < result.trainable_params < result.total_params
    # TRL's reference is the frozen copy of the SFT adapter: step 1 has no margin, then it grows
    margins = [h["rewards/margins"] for h in result.history]
    assert margins[0] == pytest.approx(0.0, abs=1e-6) and margins[-1] > 0
    assert result.eval_metrics["eval_rewards/accuracies"] > 0.5
    assert _margin(base, result.adapter_dir) > _margin(base, sft)
    saved = Path(result.adapter_dir)
    assert (saved / "adapter_config.json").exists() and not (saved / "ref").exists()  # only the trained adapter
    assert not (tmp_path / "run" / "trainer").exists()
    assert json.loads((tmp_path / "run" / "training.json").read_text())["parent_adapter"] == sft
    assert any(line.startswith("dpo step 4/4 loss") for line in logged)


def test_kto_trains_on_unpaired_ratings_and_needs_a_batch_of_two(parent, tmp_path):
    base, sft = parent
    ratings = [{"prompt": _prompt(q), "completion": [{"role": "assistant", "content": t}], "label": label}
               for q, a, b in zip(PROMPTS, OWNER, GENERIC) for t, label in ((a, True), (b, False))]
    result = train_preference(base, sft, "kto", ratings, tmp_path / "run",
                              PreferenceParams(max_steps=3, batch_size=4, learning_rate=5e-3))
    assert result.method == "kto" and result.steps == 3 and result.eval_metrics == {}
    assert result.history[-1]["rewards/margins"] > 0
    assert _margin(base, result.adapter_dir) > _margin(base, sft)
    with pytest.raises(ValueError, match="KTO needs batch_size >= 2"):
        train_preference(base, sft, "kto", ratings, tmp_path / "x", PreferenceParams(batch_size=1))
    with pytest.raises(ValueError, match="unknown preference method 'ppo'"):
        train_preference(base, sft, "ppo", ratings, tmp_path / "x")
