"""``qa.Library``: the public Python API — ingest PDFs into a library, ask cited questions.

    import qa
    lib = qa.Library("~/research/library")
    lib.ingest(["reports/"])                 # PDFs or folders; bad files are reported, not fatal
    ans = lib.ask("CoreWeave Q1 2026 backlog")
    ans.text, ans.abstained, ans.citations[0].file, ans.citations[0].page
"""
from __future__ import annotations

import re
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .answer import Extraction, answer_by_extraction, printed_with_units, sub_questions, unsupported_numbers
from .config import Config, check_report_date
from .evidence import Unit, required_terms, score_units, units_from
from .readers import ReportReaders, read_report


@dataclass
class Citation:
    file: str
    page: int
    quote: str
    bbox: tuple[float, float, float, float] | None = None
    broker: str = ""
    date: str = ""
    title: str = ""
    pages: list[int] = field(default_factory=list)

    def label(self) -> str:
        return f"{self.broker or self.file} · {self.date or '?'} · p.{self.page}"


@dataclass
class Answer:
    question: str
    text: str                    # the display text: statement, citation line and quote
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    nearest: list[Citation] = field(default_factory=list)
    conflicts: list[list[Citation]] = field(default_factory=list)   # same slot, another value: side by side
    others: list[dict] = field(default_factory=list)   # every same-slot figure of other reports, labelled
    mode: str = "none"
    figure: str = ""
    parsed: dict = field(default_factory=dict)
    evidence: list[dict] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    # the answer in its own words: the figure(s) or name(s) with units, or the refusal, and
    # never the quote (which may hold other figures): what users and the evals read
    statement: str = ""
    # the stated figure's slot in the figure store (entity, metric, metric_key, period, status):
    # what "all values of this metric" opens; empty when the answer is no stored figure
    slot: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["answer"] = d.pop("text")
        return d


@dataclass
class AnswerEvent:
    """One step of ``Library.ask_stream``: ``answer`` (the checked figure and its citations,
    before any wording), ``token`` (a piece of the local LLM's wording, in ``text``), then
    ``done`` (the final answer: the LLM's wording if it passed the number check, else the
    extracted one)."""
    kind: str                    # "answer" | "token" | "done"
    answer: Answer | None = None
    text: str = ""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)    # (file name, id it is kept under)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file name, id holding that content)
    replaced: list[str] = field(default_factory=list)
    ocr: list[tuple[str, int, int]] = field(default_factory=list)     # (file, pages OCR read, pages over budget)
    seconds: float = 0.0

    def __str__(self) -> str:
        lines = [f"added {len(self.added)}, unchanged {len(self.skipped)}, failed {len(self.failed)} "
                 f"({self.seconds:.1f}s)"]
        lines += [f"  replaced: {f} (same name, new content)" for f in self.replaced]
        lines += [f"  kept both: {f} has other content than the report already named so; this one is {new}"
                  for f, new in self.renamed]
        lines += [f"  duplicate: {f} has the same content as {held}" for f, held in self.duplicates]
        lines += [f"  failed: {f}: {why}" for f, why in self.failed]
        if self.ocr:
            read = sum(n for _, n, _ in self.ocr)
            lines.append(f"  OCR: {read} image-only page(s) read in {sum(1 for _, n, _ in self.ocr if n)} report(s)")
        lines += [f"  OCR budget: {f}: {over} image-only page(s) left unread (raise ocr_max_pages / ocr_max_seconds)"
                  for f, _, over in self.ocr if over]
        return "\n".join(lines)


INGEST_BATCH = 25  # documents per atomic library write


def _status(record) -> str:
    return str(getattr(record.status, "value", record.status))


def _kept_beside(name: str, sha: str) -> str:
    """The id of a report whose file name another report of the library already has."""
    path = Path(name)
    return f"{path.stem}~{sha[:8]}{path.suffix}"


class LibraryMissing(FileNotFoundError):
    pass


def _expand(paths) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix.lower() == ".pdf")
        else:
            out.append(p)
    return out


def _names_all_asked(u) -> bool:
    m = u.matched or {}
    return m.get("entities", 0) >= m.get("entities_wanted", 0) and m.get("periods", 0) >= m.get("periods_wanted", 0)


class Library:
    def __init__(self, path: str | Path | None = None, config: Config | None = None, *, create: bool = True):
        self.config = config or Config.load()
        self.path = Path(path).expanduser() if path else self.config.library
        if not create and not (self.path / "CURRENT").exists():
            raise LibraryMissing(f"no yanbao library at {self.path}: run `yanbao ingest PDF... --library {self.path}` first")
        self.path.mkdir(parents=True, exist_ok=True)
        self._index = None
        self._llm = None
        self._sentence_cache: dict = {}
        self.reembed = False    # set before first use: the index re-embeds with config.embedder

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def index(self):
        if self._index is None:
            from index import Library as IndexLibrary
            # a new library uses the configured embedder; an existing one reopens with its own
            # (asking for a different one explicitly is refused by the index: EmbedderMismatch)
            from dataclasses import asdict

            from ingest import ChunkSettings
            from index.embedder import embedder_spec
            # embed_backend applies to new libraries (and --reembed): an existing one keeps the
            # backend its vectors came from, so two backends' vectors never mix in one index
            configured = embedder_spec(self.config.embedder, self.config.embed_backend)
            embedder = None if (self.path / "CURRENT").exists() and self.config.embedder == "embeddinggemma" \
                else configured
            if self.reembed:
                embedder = configured
            self._index = IndexLibrary(self.path, embedder=embedder, chunk_settings=asdict(ChunkSettings()),
                                       rebuild=self.reembed, backend=self.config.backend or None,
                                       faiss_factory=self.config.faiss_index)
        return self._index

    def pdf_path(self, file: str) -> Path:
        return self.path / "pdfs" / Path(file).name

    def documents(self) -> list[dict]:
        out = []
        for rec in self.index.documents():
            m = rec.metadata
            out.append({"file": rec.file, "title": m.get("title", ""), "broker": m.get("broker", ""),
                        "date": m.get("date", ""), "pages": rec.n_pages, "tables": rec.n_tables,
                        "chunks": rec.n_chunks, "status": _status(rec),
                        "ingested_at": rec.ingested_at, "sha256": rec.sha256, "error": rec.error})
        return out

    def _meta(self, file: str) -> dict:
        rec = self.index.document(file)
        return dict(rec.metadata) if rec else {}

    # -- write ---------------------------------------------------------------------------------
    def ingest(self, paths, progress=None, *, force: bool = False, replace: bool = False) -> IngestReport:
        """Parse, chunk and index PDFs (files or folders). Unchanged files are skipped before
        parsing (``force=True`` re-parses and re-indexes them, re-using cached vectors); bad
        files are reported and skipped; the index switches atomically at the end.

        A report is identified by its content (SHA-256), not its name: the same content under
        another name is a duplicate; another content under a name the library (or this batch)
        already holds is kept beside it as ``name~<sha8>.pdf`` — a file cannot silently take a
        report's place — unless ``replace=True``, which replaces the one of that name. A stored
        copy is written only after the index that cites it is committed."""
        from ingest.parser import file_sha256
        t0 = time.perf_counter()
        report = IngestReport()
        batch, failures, to_store = [], [], []
        files = _expand(paths)
        if not force and self._lacks_facts():
            # facts from an older reader (or none): re-read every stored report once (vectors are cached)
            stored = [self.pdf_path(d["file"]) for d in self.documents() if d["status"] == "indexed"]
            names = {p.name for p in files}
            files += [p for p in stored if p.exists() and p.name not in names]
            force = True
        held = {rec.file: rec.sha256 for rec in self.index.documents()}    # id -> content
        by_content = {sha: file for file, sha in held.items()}
        batch_ids: dict[str, str] = {}                                      # content -> id, this run
        jobs: list[tuple[Path, str, str]] = []                              # (path, id, content) to read
        for path in files:   # cheap and in order: which files are new, and under which id
            name = path.name
            sha = file_sha256(path) if path.is_file() else ""
            if sha in batch_ids:
                report.duplicates.append((name, batch_ids[sha]))
                continue
            existing = by_content.get(sha) if sha else None
            if existing and not force:   # this content is in the library (indexed or failed)
                if existing in (name, _kept_beside(name, sha)):
                    report.skipped.append(existing)
                else:
                    report.duplicates.append((name, existing))
                self._restore_stored(path, existing)
                continue
            name = existing or self._library_id(name, sha, held, batch_ids, replace, report)
            if sha:
                batch_ids[sha] = name
            jobs.append((path, name, sha))
        reading = (self.config.ocr, self.config.ocr_max_pages, self.config.ocr_max_seconds)
        with ReportReaders(self.config, len(jobs)) as readers:
            # reports are read in parallel (processes or Ray tasks), committed here in order
            results = readers.map(read_report, [(path, name, *reading) for path, name, _ in jobs])
            for i, ((path, name, sha), (read, detail)) in enumerate(zip(jobs, results)):
                if progress:
                    progress(i, len(jobs), path.name)
                if read is None:
                    report.failed.append((name, detail))
                    if sha:  # recorded, so the same broken file is not re-parsed (or re-OCR'd) every run
                        failures.append((name, sha, detail))
                    continue
                meta = read[0]
                if meta.ocr_pages or meta.ocr_skipped:
                    report.ocr.append((name, len(meta.ocr_pages), len(meta.ocr_skipped)))
                batch.append(read)
                to_store.append((path, name))
                report.added.append(name)
                if len(batch) >= INGEST_BATCH:  # a crash later loses at most one batch of parsing
                    self._commit(batch, failures, to_store, force)
                    batch, failures, to_store = [], [], []
        if batch or failures:
            self._commit(batch, failures, to_store, force)
        elif self._stale_tokens():
            # an edited alias/metric/user dictionary changes BM25 tokens: re-tokenize (vectors
            # are cached, nothing is re-parsed or re-embedded)
            self.index.rebuild()
        report.seconds = time.perf_counter() - t0
        return report

    def _library_id(self, name: str, sha: str, held: dict[str, str], batch_ids: dict[str, str],
                    replace: bool, report: IngestReport) -> str:
        """The id new content is kept under: its file name, unless another content already
        has that name (in the library or earlier in this batch)."""
        taken_in_batch = name in batch_ids.values()
        if not sha or not taken_in_batch and name not in held:
            return name
        if replace and not taken_in_batch:
            report.replaced.append(name)
            return name
        report.renamed.append((name, _kept_beside(name, sha)))
        return _kept_beside(name, sha)

    def _commit(self, batch, failures, to_store, force: bool) -> None:
        """One atomic index write, then the stored copies it cites (a copy written first and
        then not committed would leave a PDF the index does not know, or overwrite one it does)."""
        self.index.update(add=batch, failed=failures, force=force)
        (self.path / "pdfs").mkdir(exist_ok=True)
        for path, name in to_store:
            target = self.pdf_path(name)
            if path.resolve() != target.resolve():
                tmp = target.with_name(f".{target.name}.part")
                shutil.copy2(path, tmp)
                tmp.replace(target)
        self._clean_stored()

    def _restore_stored(self, path: Path, name: str) -> None:
        """An unchanged report whose stored copy is missing (a run killed between the index
        commit and the copy) gets it back."""
        target = self.pdf_path(name)
        record = self.index.document(name)
        if not target.exists() and record is not None and _status(record) == "indexed":
            (self.path / "pdfs").mkdir(exist_ok=True)
            shutil.copy2(path, target)

    def _clean_stored(self) -> None:
        """Stored PDFs no document of the library names, and half-written copies: leftovers of
        a run that was killed, or of a removal."""
        folder = self.path / "pdfs"
        if not folder.is_dir():
            return
        known = {rec.file for rec in self.index.documents() if _status(rec) == "indexed"}
        for p in folder.iterdir():
            if p.is_file() and (p.name.startswith(".") and p.name.endswith(".part") or
                                p.suffix.lower() == ".pdf" and p.name not in known):
                p.unlink(missing_ok=True)

    def _lacks_facts(self) -> bool:
        """Written before the figure store, or by another version of the fact reader."""
        from index.library import facts_fingerprint
        generation = self.index.current()
        return generation is not None and generation.n_chunks > 0 and \
            generation.manifest.get("facts") != facts_fingerprint()

    def _stale_tokens(self) -> bool:
        from index.library import tokenizer_fingerprint
        return self.index.current() is not None and self.index.manifest.get("tokenizer") != tokenizer_fingerprint()

    def compact(self) -> tuple[int, int]:
        """Merge the library's segments into one, dropping removed reports' rows for good;
        (segments before, segments after)."""
        before = len(self.index.manifest.get("segments", [])) if self.index.current() is not None else 0
        if before:
            self.index.compact()
        return before, len(self.index.manifest.get("segments", []))

    def remove(self, file: str) -> bool:
        result = self.index.remove(Path(file).name)
        self.pdf_path(file).unlink(missing_ok=True)
        return bool(result.removed)

    # -- read ----------------------------------------------------------------------------------
    def figures(self, entity: str | None = None, metric: str | None = None, period: str | None = None,
                *, query: str = "", qualifier: str | None = None, limit: int = 5000) -> list:
        """Every reported value of a metric across the library (``qa.figures.Figure``), ordered by
        report date, each labelled against the earlier values of the same slot (agree /
        revision / conflict). ``query`` is free text ("CoreWeave backlog 1Q26"); explicit
        ``entity``/``metric``/``period`` win over it. An empty query lists nothing.
        ``qualifier``: only figures of this variant of the metric (``qa.figures.metric_variant``:
        "" is plain "收入", not "海外收入"), as ``figure_slots`` lists them."""
        from .figures import figure_query, label_figures
        fq = figure_query(query, entity=entity, metric=metric, period=period)
        generation = self.index.current()
        if fq.empty or generation is None:
            return []
        rows = generation.catalog.facts(entities=fq.entities, metric_keys=fq.metric_keys,
                                        metric_like=fq.metric_like, periods=fq.periods, limit=limit)
        if qualifier is not None:
            from .figures import metric_variant
            rows = [r for r in rows if metric_variant(r["metric_key"], r["metric"]) == qualifier]
        return label_figures([self._figure(r) for r in rows])

    def figure_slots(self) -> list[dict]:
        """What the figure store holds, to pick from: one dict per (entity, metric, qualifier)
        with ``entity``, ``metric_key``, ``qualifier``, ``metric`` (the wording most used, for
        display and for ``figures(metric=…)``) and ``count``, the most reported first."""
        from .figures import figure_slots
        generation = self.index.current()
        return figure_slots(generation.catalog.fact_slots()) if generation is not None else []

    def search(self, question: str, k: int | None = None, **filters):
        filters = {k2: v for k2, v in filters.items() if v}
        return self.index.search(question, k=k or self.config.top_k, filters=filters or None,
                                 fusion=self.config.fusion)

    def ask(self, question: str, *, broker: str | None = None, since: str | None = None,
            until: str | None = None, file: str | None = None, company: str | None = None,
            llm: str | None = None) -> Answer:
        """Answer with citations, or abstain with the nearest evidence.

        ``llm``: "none" (extraction), "local" or "auto"; defaults to the config. The local
        LLM picks among close candidate figures and words the answer; figures and quotes are
        found and verified by code either way. A question with no words, or longer than
        ``MAX_QUESTION_CHARS``, is refused with the reason."""
        why = _unaskable(question)
        if why:
            en = not re.search(r"[\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]", question or "")
            return Answer(question, why[en], True, statement=why[en], mode="none")
        return self.chain().invoke(self._initial_state(question, broker=broker, since=since, until=until, file=file,
                                                       company=company, llm=llm))

    def ask_stream(self, question: str, **options):
        """``ask``, streamed (same options): yields ``AnswerEvent``s — first ``answer``, the figure
        and its citations as checked by code, before the local LLM starts; then one ``token``
        per piece of the LLM's wording as it is generated; last ``done``, the final ``Answer``
        (the wording kept only if it passes the number check, as in ``ask``). Without the
        LLM (or for a refusal) it is ``answer`` then ``done``."""
        why = _unaskable(question)
        if why:
            answer = self.ask(question)
            yield AnswerEvent("answer", answer)
            yield AnswerEvent("done", answer)
            return
        state = self._initial_state(question, **options)
        state = self.chain(phrase=False).invoke(state)
        answer = state["answer"]
        answer.mode = self._mode(state["llm"])
        answer.timings = state["timings"]
        yield AnswerEvent("answer", replace(answer, citations=list(answer.citations)))
        if answer.mode == "local" and not answer.abstained and self.config.llm_phrase:
            from .llm import phrase_stream
            t = time.perf_counter()
            ext, q = state["extraction"], state["parsed"]
            pieces: list[str] = []
            try:
                for piece in phrase_stream(answer.question, ext.unit.full.strip(), english=q.lang == "en",
                                           model_path=self.config.llm_path or None):
                    pieces.append(piece)
                    yield AnswerEvent("token", text=piece)
            except Exception as exc:  # the extracted answer stands; say why in the record
                answer.parsed["llm_error"] = f"{type(exc).__name__}: {exc}"
            else:
                self._keep_wording(answer, q, ext, "".join(pieces).strip())
            state["timings"]["phrase"] = round(time.perf_counter() - t, 4)
        yield AnswerEvent("done", answer)

    def warm_up(self, progress=None) -> list[tuple[str, float]]:
        """Load everything the first question would otherwise wait for — the index, the
        embedder, the tokenizers and, when configured, the local LLM — and run one throwaway
        question through the pipeline. ``progress(step, done, total)`` is called before each
        step. Returns (step, seconds) per step. Idempotent: a second call is quick."""
        steps = [("index", lambda: self.index.current()), ("embedder", self._warm_embedder)]
        if self.index.current() is not None:
            steps.append(("pipeline", lambda: self.ask("预热 warm-up 2026 收入", llm="none")))
        if self._mode(None) == "local":
            steps.insert(2, ("llm", self._warm_llm))
        seconds = []
        for i, (name, step) in enumerate(steps):
            if progress:
                progress(name, i, len(steps))
            t = time.perf_counter()
            step()
            seconds.append((name, round(time.perf_counter() - t, 3)))
        if progress:
            progress("ready", len(steps), len(steps))
        return seconds

    def _warm_embedder(self) -> None:
        embedder = self.index.embedder
        embedder.warm_up()
        if self.index.current() is not None:
            self.search("预热 warm-up")  # FAISS, BM25 and jieba load on their first use

    def _warm_llm(self) -> None:
        from .llm import warm_up
        warm_up(self.config.llm_path or None)

    def _initial_state(self, question: str, *, broker: str | None = None, since: str | None = None,
                       until: str | None = None, file: str | None = None, company: str | None = None,
                       llm: str | None = None) -> dict:
        since = check_report_date(since, "since") if since else since      # "2026-13-45" is no date
        until = check_report_date(until, "until") if until else until
        filters = {"broker": broker, "since": since, "until": until, "file": file, "company": company}
        return {"question": question, "filters": filters, "llm": llm, "timings": {}}

    def chain(self, phrase: bool = True):
        """The answering pipeline as LangChain runnables:
        retrieve → select evidence → answer (extract, compute) → match slots (figure store) →
        verify & cite → phrase (local LLM; ``phrase=False`` stops before it, returning the state).
        ``invoke({"question": …, "filters": {…}, "llm": None, "timings": {}}) -> Answer``."""
        from langchain_core.runnables import RunnableLambda

        def timed(name, fn):
            def step(state):
                t = time.perf_counter()
                out = fn(state)
                state["timings"][name] = round(time.perf_counter() - t, 4)
                return out
            return RunnableLambda(step, name=name)

        steps = (timed("retrieve", self._step_retrieve) | timed("select", self._step_select)
                 | timed("extract", self._step_extract) | timed("match", self._step_match)
                 | timed("cite", self._step_verify_and_cite))
        if phrase:
            steps = steps | timed("phrase", self._step_phrase)
        return steps.with_config(run_name="yanbao.ask")

    def _step_retrieve(self, state: dict) -> dict:
        from index.query import parse_query

        from .evidence import _synonyms
        q = parse_query(state["question"])
        filters = dict(state["filters"])
        brokers = [e.name for e in q.entities if e.kind == "broker"]
        if brokers and not filters.get("broker"):
            # "据开源证券…" / "Per Guosen's note": only that broker's reports may answer — when the
            # library holds any (a broker named in passing is no reason to answer nothing)
            names = [a for b in brokers for a in _synonyms("aliases.tsv", b)]
            if any(rec.metadata.get("broker") in names for rec in self.index.documents()):
                filters["broker"] = names
        generation = self.index.current()
        if generation is not None:
            words = re.findall(r"[A-Za-z][A-Za-z0-9_]{2,}", q.text)
            q = replace(q, unprinted=tuple(w for w in dict.fromkeys(words) if not generation.prints(w)))
        state["parsed"], state["hits"] = q, self.search(state["question"], **filters)
        return state

    def _step_select(self, state: dict) -> dict:
        units = [u for rank, h in enumerate(state["hits"]) for u in units_from(h.chunk, rank)]
        state["units"] = score_units(state["parsed"], units)
        # word overlap already reads a Chinese (or mixed) question against Chinese reports; an
        # English question shares no words with them, and meaning has to choose among the
        # sentences the slots leave close
        if self.config.unit_similarity and state["units"] and state["parsed"].lang == "en":
            state["units"] = self._closer_in_meaning(state["question"], state["units"])
        return state

    SIMILARITY_POOL = 16      # the best-scored units compared in meaning with the question
    SENTENCE_CACHE = 50_000   # sentence vectors kept between questions (the same reports are asked again)

    def _closer_in_meaning(self, question: str, units: list) -> list:
        """Among the best-scored candidate sentences, those closer in meaning to the question
        rank higher: the embedder reads across languages and paraphrase, where word overlap sees
        nothing ("orders from new customers" vs 新客户订单). Similarity is
        rescaled over the pool and centred, so it moves near ties only and favours no kind of
        evidence; table rows keep the choice their headers and labels make."""
        pool = [u for u in units[:self.SIMILARITY_POOL] if not u.cells]
        if len(pool) < 2:
            return units
        sims = self._sentence_vectors([u.text for u in pool]) @ self.index.embedder.embed_query(question)
        low, high = float(sims.min()), float(sims.max())
        if high - low < 1e-6:
            return units
        for u, sim in zip(pool, sims):
            u.score += self.config.unit_similarity * ((float(sim) - low) / (high - low) - 0.5)
        return sorted(units, key=lambda u: -u.score)

    def _sentence_vectors(self, texts: list[str]):
        import numpy as np
        cache = self._sentence_cache
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if missing:
            if len(cache) + len(missing) > self.SENTENCE_CACHE:
                cache.clear()
            cache.update(zip(missing, self.index.embedder.embed_documents(missing)))
        return np.stack([cache[t] for t in texts])

    def _step_extract(self, state: dict) -> dict:
        state["extraction"] = answer_by_extraction(state["parsed"], state["units"])
        return state

    RECONSIDERED = 2   # further evidence read when the figure store refuses the chosen one

    def _step_match(self, state: dict) -> dict:
        """The chosen evidence's figure, checked against the figure store (``_match``). When
        the store refuses it (it measures another metric or period), the next evidence code
        would choose is read and checked the same way; the first that passes answers, else the
        first refusal stands."""
        chosen = state["extraction"]
        self._match(state)
        if chosen.abstained or chosen.unit is None or not state["extraction"].abstained:
            return state
        refusal = (state["extraction"], state.get("mismatch"))
        if len(sub_questions(state["parsed"])) > 1:
            return state     # several figures asked: each part's evidence is its own question
        passed_over = [chosen.unit]
        for _ in range(self.RECONSIDERED):
            # a close second reading only: scored near the first choice, naming every asked
            # subject and period
            rest = [u for u in state["units"] if not any(u is seen for seen in passed_over)
                    and u.score >= chosen.unit.score * 0.75 and _names_all_asked(u)]
            nxt = answer_by_extraction(state["parsed"], rest)
            if nxt.abstained or nxt.unit is None or not nxt.figure:
                break
            state["extraction"], state["mismatch"], state["fact"] = nxt, None, None
            self._match(state)
            if not state["extraction"].abstained and self._clearly_asked(state["parsed"], state.get("fact")):
                return state
            passed_over.append(nxt.unit)
        state["extraction"], state["mismatch"], state["fact"] = *refusal, None
        return state

    @staticmethod
    def _clearly_asked(q, fact: dict | None) -> bool:
        """Evidence read after the first choice was refused answers only when its fact names
        every asked slot outright: the asked metric (a question naming none has nothing to check
        it by), and the asked period (not one left open)."""
        from .slots import GROWTH_KEYS, _asked_periods, period_agreement
        # a share or a growth rate names no thing of its own ("占比" of what?): too loose to check by
        keys = {m.key for m in q.metrics if m.key} - {"share", "market_share", *GROWTH_KEYS}
        if fact is None or not keys:
            return False
        asked = _asked_periods(q)
        return fact.get("metric_key") in keys and \
            (not asked or period_agreement(asked, fact.get("period", "")) == 1)

    def _match(self, state: dict) -> dict:
        """Within the chosen evidence, the figure whose slots (metric, period, status, entity)
        agree with the question's; a figure whose printed period contradicts it is refused."""
        from .slots import about_the_question, best_fact, fact_of, facts_in, mismatch, pick_parts, repick
        ext: Extraction = state["extraction"]
        generation = self.index.current()
        if generation is not None and self._calculate(state, generation):
            return state
        q = state["parsed"]
        if ext.abstained and ext.reason == "no figure" and ext.nearest and generation is not None:
            # code's reading of the evidence found no figure; the figure store's may (a period
            # bound by 分别, a figure after its noun): the fact whose slots clearly agree
            unit = ext.nearest[0]
            fact = best_fact(q, facts_in(unit.text, generation.catalog.facts(files=[unit.chunk.file])))
            if fact is not None:
                ext = state["extraction"] = Extraction(unit, figure=fact["printed"])
        if ext.abstained or ext.unit is None or ext.computation or ext.span or generation is None:
            return state
        facts = facts_in(ext.unit.text, generation.catalog.facts(files=[ext.unit.chunk.file]))
        parts = pick_parts(q, facts)
        if parts:          # several figures asked: one per part, from the same evidence
            ext.figure = "，".join(f["printed"] for f in parts)
            return state
        if not ext.figure:  # code found no figure: the fact whose slots agree, if one clearly does
            fact = best_fact(q, facts)
            if fact is not None:
                ext.figure = fact["printed"]
            return state
        # the figure store knows each figure's slots (a table cell's from its grid, a sentence's from
        # its clause); code's pick of the evidence's figures stands only on a near tie
        margin = 0.25
        # within one table row every cell shares the row's subject: only the comparison counts
        better, why = repick(q, ext.figure, facts, margin=margin, floor=float("-inf") if ext.unit.cells else None)
        if why:
            state["extraction"] = Extraction(None, abstained=True, reason=why, nearest=[ext.unit])
            state["mismatch"] = mismatch(q, why, fact_of(ext.figure, facts))
            return state
        chosen = better or fact_of(ext.figure, facts)
        if chosen is not None and (better is not None or ext.unit.cells):
            # a better fact, or the same cell in the unit its row label, header or caption gives
            ext.figure = chosen["printed"]
        ext.printed = [f["printed"] for f in facts]
        caption = ext.unit.context if ext.unit.cells else ""
        if chosen is not None and not about_the_question(q, chosen, caption):
            # the digits are printed there, but they measure something else than what is asked:
            # the evidence's figure that does measure it answers, if one clearly agrees
            fitting = best_fact(q, [f for f in facts if f is not chosen and about_the_question(q, f, caption)])
            if fitting is None:
                state["extraction"] = Extraction(None, abstained=True, reason="metric", nearest=[ext.unit])
                state["mismatch"] = mismatch(q, "metric", chosen)
                return state
            chosen = fitting
            ext.figure = fitting["printed"]
        if self._mode(state["llm"]) == "local" and self.config.llm_choose:
            self._choose_with_llm(state, facts)
        state["fact"] = fact_of(ext.figure, facts)
        return state

    def _calculate(self, state: dict, generation) -> bool:
        """A growth rate or multiple the question asks for, computed from two facts of the chosen
        evidence's chunk (its sentence and those around it); True when it was."""
        from .calculate import asked_ratio, calculate
        from .slots import facts_in
        ext, q = state["extraction"], state["parsed"]
        unit = ext.unit or (ext.nearest[0] if ext.nearest else None)
        if unit is None or not asked_ratio(q.text):
            return False
        # a table row is read on its own: the rows around it measure other things
        comp = calculate(q, facts_in(unit.text if unit.cells else unit.chunk.text,
                                     generation.catalog.facts(files=[unit.chunk.file])))
        if comp is None or unit.cells and re.fullmatch(r"[-+\d.,]+", comp.result.strip()):
            return False    # bare digits from a table: its reading of the row label's unit answers
        state["extraction"] = Extraction(unit, figure=comp.result, computation=comp)
        return True

    def _choose_with_llm(self, state: dict, facts: list[dict]) -> None:
        """When several figures of the evidence agree with the question about equally well, the
        local LLM picks one of them by letter (it cannot write a figure); "none" keeps code's."""
        from .llm import choose
        from .slots import close_candidates, describe
        ext, q = state["extraction"], state["parsed"]
        candidates = close_candidates(q, facts)
        if not candidates:
            return
        try:
            pick = choose(q.text, ext.unit.text.replace("\t", " | "), [describe(f) for f in candidates],
                          english=q.lang == "en", model_path=self.config.llm_path or None)
        except Exception as exc:  # code's pick stands; say why in the record
            state.setdefault("notes", {})["llm_choose_error"] = f"{type(exc).__name__}: {exc}"
            return
        if pick is not None:
            ext.figure = candidates[pick]["printed"]

    def _step_verify_and_cite(self, state: dict) -> dict:
        answer = self._compose(state["question"], state["parsed"], state["extraction"], state.get("mismatch"))
        if not answer.abstained and state.get("fact"):
            fact = state["fact"]
            from .figures import metric_variant
            answer.slot = {k: fact.get(k, "") for k in ("entity", "metric", "metric_key", "period", "status")}
            answer.slot["qualifier"] = metric_variant(fact["metric_key"], fact["metric"]) if fact.get("metric_key") \
                else None
            self._same_slot(answer, fact, state["parsed"])
        answer.evidence = [{"file": h.chunk.file, "pages": h.chunk.pages, "kind": h.chunk.kind,
                            "score": round(float(h.score), 4), "text": h.chunk.text[:300]} for h in state["hits"]]
        state["answer"] = answer
        return state

    def _step_phrase(self, state: dict) -> Answer:
        answer = state["answer"]
        answer.mode = self._mode(state["llm"])
        if answer.mode == "local" and not answer.abstained and self.config.llm_phrase:
            self._phrase_with_llm(answer, state["parsed"], state["extraction"])
        answer.timings = state["timings"]  # filled in as each step finishes
        return answer

    def _mode(self, requested: str | None) -> str:
        from .llm import llm_available
        mode = requested or self.config.llm
        if mode == "auto":
            return "local" if llm_available(self.config.llm_path or None) else "none"
        return mode

    def _phrase_with_llm(self, answer: Answer, q, ext: Extraction) -> None:
        """Let the local LLM word the answer from the chosen evidence; keep it only if every
        number it states is on that evidence and it states the extracted figure."""
        from .llm import phrase
        try:
            text = phrase(answer.question, ext.unit.full.strip(), english=q.lang == "en",
                          model_path=self.config.llm_path or None)
        except Exception as exc:  # the extracted answer stands; say why in the record
            answer.parsed["llm_error"] = f"{type(exc).__name__}: {exc}"
            return
        self._keep_wording(answer, q, ext, text)

    def _keep_wording(self, answer: Answer, q, ext: Extraction, text: str) -> None:
        """The LLM's wording replaces the extracted statement only if every number it states is
        on the evidence and it states the extracted figure; else it is recorded as rejected."""
        from ingest import numbers as num

        from .llm import REFUSAL_MARKERS
        evidence = ext.unit.full.strip()
        allowed = [evidence, *printed_with_units(ext.unit)]
        if ext.computation:
            allowed.append(ext.computation.result)
        stated = [a for a in num.extract_quantities(text) if a.kind == "figure"]
        # with no extracted figure the model may state none: code, not the LLM, finds numbers
        says_figure = (any(num.same_value(a, b) for a in stated for b in num.extract_quantities(ext.figure))
                       if ext.figure else not stated)
        if (not text or any(m in text for m in REFUSAL_MARKERS) or unsupported_numbers(text, allowed)
                or not says_figure):
            answer.parsed["llm_rejected"] = text
            return
        c = answer.citations[0]
        if unsupported_numbers(text, [c.quote]):
            # the figure the model stated is in the sentence before: quote that one too
            previous = ext.unit.context.split("\n")[-1].strip()
            c.quote = f"{previous}{c.quote}" if previous and previous not in c.quote else c.quote
        answer.statement = text
        answer.text = (f"{text}\nSource: {c.broker} ({c.date}), p.{c.page}: “{c.quote}”" if q.lang == "en"
                       else f"{text}\n依据：{c.broker}《{c.title}》（{c.date}）第{c.page}页：“{c.quote}”")

    def _citation(self, u: Unit) -> Citation:
        meta = self._meta(u.chunk.file)
        page = _quote_page(self.pdf_path(u.chunk.file), u) if len(u.chunk.pages) > 1 else u.chunk.page
        bbox = next((b for p, b in u.chunk.bboxes if p == page), None)
        quote = u.text.replace("\t", " | ")
        return Citation(u.chunk.file, page, quote, tuple(bbox) if bbox else None,
                        meta.get("broker", ""), meta.get("date", ""), meta.get("title", ""), list(u.chunk.pages))

    def _compose(self, question: str, q, ext: Extraction, mismatch: str | None = None) -> Answer:
        en = q.lang == "en"
        if not ext.abstained and ext.unit is not None and not ext.figure:
            # evidence without a figure or name to state is not an answer: offer it as the nearest
            ext = Extraction(None, abstained=True, reason="no figure", nearest=[ext.unit])
        if ext.abstained or ext.unit is None:
            nearest = [self._citation(u) for u in ext.nearest]
            statement = _refusal(q, [], en) + (f" {mismatch}" if mismatch else "")
            return Answer(question, _refusal(q, nearest, en, mismatch), True, nearest=nearest, parsed=q.to_dict(),
                          mode="none", statement=statement)
        cite = self._citation(ext.unit)
        also = [self._citation(u) for u in ext.also]  # the other input's own sentence and page
        if ext.computation and ext.computation.source.strip() and not also:
            # a computed answer quotes all its inputs, even when one is in the sentence before
            cite.quote = ext.computation.source.strip().replace("\t", " | ")
        headline = _headline(_as_multiple(ext.figure, q.text, en), en)
        text = _display(f"{headline}（{ext.computation.formula}）" if ext.computation else headline, cite, en)
        for c in also:
            text += (f"\nAnd: {c.broker} ({c.date}), p.{c.page}: “{c.quote}”" if en else
                     f"\n及：{c.broker}（{c.date}）第{c.page}页：“{c.quote}”")
        # NumberCheck: every figure stated must be on the cited evidence; a computed result is
        # checked through its inputs (the formula), which must be printed there
        # (the citation line around the claim is copied from the evidence by construction)
        claim = list(ext.computation.inputs) if ext.computation else ext.figure
        bad = unsupported_numbers(claim, [ext.unit.full, cite.quote, *printed_with_units(ext.unit), *ext.printed,
                                          *(t for u in ext.also for t in (u.full, *printed_with_units(u)))])
        if bad:
            return Answer(question, _refusal(q, [cite], en), True, nearest=[cite], parsed=q.to_dict(), mode="none",
                          statement=_refusal(q, [], en))
        return Answer(question, text, False, citations=[cite, *also], mode="none",
                      figure=ext.figure, parsed=q.to_dict(), statement=headline)

    def _same_slot(self, answer: Answer, fact: dict, q) -> None:
        """Every figure other reports give for the answer's slot (entity, metric, period), ordered
        by report date and labelled against it — agree, revision or conflict — in
        ``answer.others``; a revision or conflict is also noted in the text and set side by
        side in ``answer.conflicts``. Figures of other slots are never shown as conflicts."""
        from .figures import EXPECTATIONS, _comparable, _quantity
        en = q.lang == "en"
        if not (fact.get("metric_key") and fact.get("period")):
            return
        # whose figure: the known entity, else the names the question asks about that the
        # answer's sentence prints (a company the dictionary does not know)
        names = [] if fact.get("entity") else \
            [forms for forms in required_terms(q) if any(f in fact["text"] for f in forms)]
        if not fact.get("entity") and not names:
            return
        generation = self.index.current()
        rows = generation.catalog.facts(entities=[fact["entity"]], metric_keys=[fact["metric_key"]],
                                        periods=[fact["period"]])
        if names:
            rows = [r for r in rows if all(any(f in r["text"] for f in forms) for forms in names)]
        mine = self._figure(fact)
        others = [self._figure(r) for r in rows if r["file"] != fact["file"]]
        others = [f for f in others if _comparable(mine, f) and f.unit == mine.unit and f.currency == mine.currency]
        by_file: dict[str, object] = {}
        for f in sorted(others, key=lambda f: (f.date or "9999", f.file, f.page)):
            by_file.setdefault(f.file, f)        # one figure per report: its first statement
        from ingest.numbers import same_value
        for f in by_file.values():
            if same_value(_quantity(f), _quantity(mine)):
                f.label = "agree"
            elif f.status in EXPECTATIONS or mine.status in EXPECTATIONS:
                f.label = "revision"
            else:
                f.label = "conflict"
            answer.others.append(f.to_dict())
            if f.label == "agree":
                continue
            other = Citation(f.file, f.page, f.quote, f.bbox, f.broker, f.date, f.title, [f.page])
            answer.conflicts.append([answer.citations[0], other])
            word = {"revision": ("revision", "修订"), "conflict": ("conflict", "不一致")}[f.label]
            answer.text += (f"\nNote ({word[0]}): {f.broker or f.file} ({f.date}, p.{f.page}) gives {f.printed}." if en
                            else f"\n注意（{word[1]}）：{f.broker or f.file}（{f.date}，第{f.page}页）给出的数值为 {f.printed}。")
        labels = [f.label for f in by_file.values()]
        if "conflict" in labels and "agree" not in labels:
            # a figure no other report confirms while others contradict it: say so, whoever wins
            n = labels.count("conflict")
            answer.text += (f"\nOnly this report gives {mine.printed}; {n} other report(s) give a different value."
                            if en else f"\n仅本报告给出 {mine.printed}；另有 {n} 份报告给出不同数值。")

    def _figure(self, row: dict):
        from .figures import Figure
        meta = self._meta(row["file"])
        return Figure(entity=row["entity"], metric=row["metric"], metric_key=row["metric_key"], period=row["period"],
                      status=row["status"], printed=row["printed"], value=row["value"], unit=row["unit"],
                      currency=row["currency"], file=row["file"], page=row["page"],
                      quote=row["text"].replace("\t", " | "), broker=meta.get("broker", ""), date=meta.get("date", ""),
                      title=meta.get("title", ""), item=row.get("item", ""), bbox=row.get("bbox"),
                      table_id=row.get("table_id"))


MAX_QUESTION_CHARS = 1000


def _unaskable(question: str) -> tuple[str, str] | None:
    """(Chinese, English) reason a question cannot be asked at all, or None."""
    text = question or ""
    if len(text) > MAX_QUESTION_CHARS:
        return (f"问题过长（{len(text)} 个字符，上限 {MAX_QUESTION_CHARS}）：请只问一个具体的数字。",
                f"The question is too long ({len(text)} characters; the limit is {MAX_QUESTION_CHARS}): "
                "ask for one specific figure.")
    if re.search("[\ud800-\udfff]", text):    # bytes that were not UTF-8, kept as lone surrogates
        return ("问题中有无法识别的字符（不是有效的 UTF-8 文本）：请重新输入。",
                "The question contains characters that are not valid text (not UTF-8): type it again.")
    if not re.search(r"[\u4e00-\u9fff]|[A-Za-z]{2,}", text):
        return ("问题是空的：请输入要查的公司、指标和期间。",
                "The question is empty: name a company, a metric and a period.")
    return None


def _squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@lru_cache(maxsize=256)
def _page_text(pdf: str, mtime: float, page: int) -> str:
    import pymupdf
    with pymupdf.open(pdf) as doc:
        return _squashed(doc.load_page(page - 1).get_text()) if 0 < page <= doc.page_count else ""


def _quote_page(pdf: Path, u: Unit) -> int:
    """The page a unit's text is printed on, when its chunk runs over a page break (the
    chunk's first page is not always the quote's). A table row is found by its longest cell."""
    probe = max((c for _, c in u.cells), key=len) if u.cells else u.text[:24]
    probe = _squashed(probe)
    if not probe or not pdf.exists():
        return u.chunk.page
    mtime = pdf.stat().st_mtime
    for page in u.chunk.pages:
        if probe in _page_text(str(pdf), mtime, page):
            return page
    return u.chunk.page


def _describe(q) -> str:
    periods = [p.variants()[0] if p.kind == "relative" else p.label for p in q.periods]
    names = [e.alias for e in q.entities] + [forms[0] for forms in required_terms(q)]
    parts = names + periods + [m.alias for m in q.metrics]
    return " ".join(parts) or q.text


_MULTIPLE_ASKED = re.compile(r"倍数|(?:几|多少)\s*倍|how many times|\bmultiple\b", re.I)


def _as_multiple(figure: str, question: str, en: bool) -> str:
    """A bare figure answering a question about a multiple ("杠杆倍数", "几倍") is a multiple:
    stated with its unit, as the report means it ("平均杠杆倍数为 1.9" is 1.9 倍)."""
    if _MULTIPLE_ASKED.search(question) and re.fullmatch(r"[-+]?\d[\d,]*(?:\.\d+)?", figure.strip()):
        return f"{figure.strip()}{'x' if en else '倍'}"
    return figure


def _headline(figure: str, en: bool) -> str:
    """The figure as the answer states it; in English a currency amount is also given in
    English units ("US$99.4 billion (994亿美元)")."""
    from ingest.numbers import extract_quantities, format_quantity
    qs = extract_quantities(figure) if figure and en else []
    if qs and qs[0].currency:
        return f"{format_quantity(qs[0], 'en')} ({figure})"
    return figure


def _display(headline: str, c: Citation, en: bool) -> str:
    """The display text: the headline, then where it was printed and the quote."""
    if en:
        head = f"{headline}. " if headline else ""
        return f"{head}Source: {c.broker} “{c.title}” ({c.date}), p.{c.page}: “{c.quote}”"
    head = f"{headline}。" if headline else ""
    return f"{head}依据：{c.broker}《{c.title}》（{c.date}）第{c.page}页：“{c.quote}”"


def _refusal(q, nearest: list[Citation], en: bool, mismatch: str | None = None) -> str:
    what = _describe(q)
    if en:
        text = f"Not found in these reports: {what}." + (f" {mismatch}" if mismatch else "")
        if nearest:
            c = nearest[0]
            text += f" Closest evidence — {c.broker} ({c.date}), p.{c.page}: “{c.quote}”"
        return text
    text = f"已收录研报中未找到{what}的相关数据。" + (mismatch or "")
    if nearest:
        c = nearest[0]
        text += f"最接近的是：{c.broker}（{c.date}）第{c.page}页：“{c.quote}”"
    return text
