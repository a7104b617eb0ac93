"""Evidence units — a sentence of a text chunk or a row of a table chunk — and how well
each one matches the parsed question (entity, metric, period, figure).

Code, not the LLM, chooses the evidence and the quote: a 1.5B model picks the wrong
quarter as soon as several passages are in its context (see MODELS.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.query import ParsedQuery
from index.text import normalize_text, tokenize
from ingest.model import Chunk

_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
_FIGURE = re.compile(r"\d")


@dataclass
class Unit:
    """One quotable piece of evidence with its provenance."""

    text: str                  # what is quoted
    context: str               # heading / caption / column headers that qualify it
    chunk: Chunk
    rank: int                  # retrieval rank of its chunk (0 = best)
    cells: list[tuple[str, str]] = field(default_factory=list)  # (column header, cell) for table rows
    score: float = 0.0
    matched: dict = field(default_factory=dict)

    @property
    def full(self) -> str:
        return f"{self.context}\n{self.text}"


def units_from(chunk: Chunk, rank: int) -> list[Unit]:
    heading = " / ".join(chunk.heading_path)  # the chapter title often names the company
    if chunk.kind == "table":
        lines = chunk.text.split("\n")
        caption = lines[0]
        rows = [ln.split(" | ") for ln in lines[1:] if " | " in ln]
        if not rows:
            return []
        header, body = rows[0], rows[1:]
        out = []
        for row in body:
            cells = list(zip(header + [""] * (len(row) - len(header)), row))
            out.append(Unit("\t".join(row), f"{heading}\n{caption}\n{' | '.join(header)}", chunk, rank, cells))
        return out
    out = []
    previous = ""
    for m in _SENTENCE.finditer(chunk.text):
        sent = m.group(0).strip()
        if len(sent) >= 6:
            # the subject is often named one sentence earlier ("CoreWeave …。其 Backlog …")
            out.append(Unit(sent, f"{heading}\n{previous}", chunk, rank))
            previous = sent
    return out


def _mentions(text: str, surfaces: list[str]) -> int:
    """Position of the first surface form in text, or -1."""
    low = normalize_text(text).lower()
    best = -1
    for s in surfaces:
        i = low.find(normalize_text(s).lower())
        if i >= 0 and (best < 0 or i < best):
            best = i
    return best


def _synonyms(table: str, key: str, canonical_is_a_word: bool = True) -> list[str]:
    from index.text import read_synonym_table
    wanted = normalize_text(key).strip().lower()
    for row in read_synonym_table(table):
        names = [row.canonical, *row.aliases]
        if wanted in (normalize_text(n).strip().lower() for n in names):
            # metric keys ("gross_margin") are identifiers, never printed in a report
            return names if canonical_is_a_word else list(row.aliases)
    return [key] if canonical_is_a_word else []


def entity_surfaces(q: ParsedQuery) -> list[list[str]]:
    return [sorted({e.alias, *_synonyms("aliases.tsv", e.name)}, key=len, reverse=True)
            for e in q.entities if e.kind != "broker"]


def metric_surfaces(q: ParsedQuery) -> list[list[str]]:
    return [sorted({m.alias, *_synonyms("metrics.tsv", m.key, canonical_is_a_word=False)}, key=len, reverse=True)
            for m in q.metrics]


_NOT_NAMES = {"What", "How", "Which", "Who", "When", "Why", "The", "According", "From", "With", "Does", "Were",
              "Per", "For", "And", "But", "Not", "Did", "Was", "Are", "Has", "Have", "Its", "These", "Those",
              "Between", "After", "Before", "During", "Since", "Until", "Over", "Under", "About", "Also", "Both",
              "Across", "Among", "Based", "Compared", "Excluding", "Including", "Into", "Than", "Then", "Where",
              "That", "This", "Their", "Capex", "Backlog", "Revenue", "Cloud", "Pass", "Training", "Inference",
              "January", "February", "March", "April", "June", "July", "August", "September", "October",
              "November", "December", "Sept", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Oct",
              "Nov", "Dec", "Fiscal", "Year", "Quarter", "Report", "Note", "Data", "Center"}
_COMPANY_SUFFIX = re.compile(r"(?<![年度月季])[\u4e00-\u9fa5]{2,4}(科技|通信|股份|控股|电子|光电|电气)")


def required_terms(q: ParsedQuery) -> list[str]:
    """Names in the question that the evidence must mention: capitalised Latin names the
    alias table does not know ("Omniva", "Tavily") and Chinese company names ("宏景科技")."""
    known = {a.lower() for e in q.entities for a in [e.alias, e.name]}
    names = [w for w in re.findall(r"(?<![A-Za-z0-9-])[A-Z][a-z]*[A-Z]?[a-z]{2,}(?![A-Za-z0-9-])", q.text)
             if w not in _NOT_NAMES and w.lower() not in known and not any(w.lower() in k for k in known)]
    names += [m.group(0) for m in _COMPANY_SUFFIX.finditer(q.text) if m.group(0).lower() not in known]
    return list(dict.fromkeys(names))


def score_units(q: ParsedQuery, units: list[Unit]) -> list[Unit]:
    q_tokens = {t for t in tokenize(q.text) if len(t) > 1}
    ents = entity_surfaces(q)
    mets = metric_surfaces(q)
    for u in units:
        full = u.full
        ent_hit = sum(1 for s in ents if _mentions(full, s) >= 0)
        met_hit = sum(1 for s in mets if _mentions(full, s) >= 0)
        per_hit = sum(1 for p in q.periods if p.matches(full))
        overlap = len(q_tokens & set(tokenize(full))) / max(len(q_tokens), 1)
        figure = bool(_FIGURE.search(u.text))
        u.matched = {"entities": ent_hit, "entities_wanted": len(ents), "metrics": met_hit,
                     "periods": per_hit, "periods_wanted": len(q.periods), "figure": figure}
        u.score = (1.0 / (1 + u.rank) + 2.0 * (ent_hit / len(ents) if ents else 0)
                   + 1.5 * (met_hit / len(mets) if mets else 0)
                   + 2.0 * (per_hit / len(q.periods) if q.periods else 0)
                   + 3.0 * overlap + (0.5 if figure else 0))
    return sorted(units, key=lambda u: -u.score)
