"""Chunks for retrieval: section-aware text chunks, table chunks and one document card.

Text chunks follow the heading structure (a heading always starts a new chunk, its path
rides along as context), break only at sentence ends, and are sized for a small embedder.
A table is one chunk — caption, unit, header, rows, source — split by rows with the
header repeated only when it is long. Numbers are never rewritten.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import BBox, Block, BlockKind, Chunk, Document, Table

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
_CLAUSE_END = re.compile(r"(?<=[，,、：:])")
MIN_CHUNK_CHARS = 12  # a lone running title line is not worth a vector


@dataclass(frozen=True)
class ChunkSettings:
    target_chars: int = 320     # a chunk closes once it reaches this size at a sentence end
    max_chars: int = 560        # hard ceiling for text chunks (long sentences split at commas)
    table_max_chars: int = 900  # longer tables are split by rows, header repeated


def chunk_document(doc: Document, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    builder = _ChunkBuilder(doc, settings)
    builder.add_card()
    emitted_tables: set[str] = set()
    for page in doc.pages:
        for block in page.blocks:
            if block.boilerplate:
                continue
            if block.kind == BlockKind.HEADING:
                builder.heading(block)
            elif block.kind == BlockKind.TABLE:
                if block.table_id not in emitted_tables:
                    emitted_tables.add(block.table_id)
                    builder.table(doc.table(block.table_id))
            elif block.kind in (BlockKind.CAPTION, BlockKind.SOURCE) and block.table_id:
                continue  # part of its table's chunk
            elif block.kind in (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM, BlockKind.CAPTION, BlockKind.SOURCE):
                builder.text(block)
    builder.flush()
    return builder.chunks


class _ChunkBuilder:
    def __init__(self, doc: Document, settings: ChunkSettings):
        self.doc = doc
        self.s = settings
        self.chunks: list[Chunk] = []
        self.path: list[tuple[int, str]] = []   # (level, heading text)
        self.parts: list[str] = []
        self.block_starts: set[int] = set()     # indexes of parts that begin a new block
        self.boxes: list[tuple[int, BBox]] = []
        self.ocr = False

    # -- helpers ---------------------------------------------------------------------------
    def _emit(self, kind: str, text: str, boxes: list[tuple[int, BBox]], **extra) -> None:
        pages = sorted({p for p, _ in boxes})
        self.chunks.append(Chunk(
            id=f"{self.doc.meta.file}#{len(self.chunks):04d}", file=self.doc.meta.file, kind=kind,
            text=text, pages=pages, bboxes=boxes, heading_path=[h for _, h in self.path], **extra))

    def _size(self) -> int:
        return sum(len(p) for p in self.parts)

    # -- events ----------------------------------------------------------------------------
    def add_card(self) -> None:
        """One chunk naming the report: answers 'which broker / what rating / who wrote it'."""
        m = self.doc.meta
        analysts = "、".join(f"{a['name']}({a['certificate']})" if a.get("certificate") else a["name"]
                            for a in m.analysts)
        fields = [("标题", m.title), ("券商", m.broker), ("日期", m.date), ("报告类型", m.report_type),
                  ("行业", m.industry), ("评级", m.rating), ("分析师", analysts)]
        text = "\n".join(f"{k}：{v}" for k, v in fields if v)
        if text and self.doc.pages:
            p1 = self.doc.pages[0]
            self._emit("card", text, [(1, (0.0, 0.0, p1.width, p1.height))])

    def heading(self, block: Block) -> None:
        self.flush()
        level = max(block.level, 1)
        while self.path and self.path[-1][0] >= level:
            self.path.pop()
        self.path.append((level, block.text))

    def text(self, block: Block) -> None:
        if block.continues and self.parts:
            self.parts[-1] += block.text   # the paragraph was cut by a page break
            self.block_starts.discard(len(self.parts) - 1)
            self.boxes.append((block.page, block.bbox))
            if self._size() < self.s.max_chars:
                return
            pieces = self._split(self.parts.pop())
            self.parts.append(pieces[0])
            rest = pieces[1:]
        else:
            rest = self._split(block.text)
            self.boxes.append((block.page, block.bbox))
            if rest:
                self.block_starts.add(len(self.parts))
        for piece in rest:
            if self.parts and self._size() + len(piece) > self.s.max_chars:
                self.flush(keep_box=(block.page, block.bbox))
            self.parts.append(piece)
            if self._size() >= self.s.target_chars and piece.rstrip()[-1:] in "。！？；!?;":
                self.flush(keep_box=(block.page, block.bbox))
        self.ocr = self.ocr or block.ocr

    def _split(self, text: str) -> list[str]:
        """Sentences, and long sentences cut at clause ends, each under max_chars."""
        out: list[str] = []
        for sent in (s for s in _SENTENCE_END.split(text) if s):
            while len(sent) > self.s.max_chars:
                clauses = [c for c in _CLAUSE_END.split(sent[: self.s.max_chars]) if c]
                head = "".join(clauses[:-1]) if len(clauses) > 1 else sent[: self.s.max_chars]
                out.append(head)
                sent = sent[len(head):]
            out.append(sent)
        return out

    def flush(self, keep_box: tuple[int, BBox] | None = None) -> None:
        body = "".join(("\n" if i in self.block_starts and i else "") + p for i, p in enumerate(self.parts))
        if len(body.strip()) >= MIN_CHUNK_CHARS:
            self._emit("text", body, list(dict.fromkeys(self.boxes)), ocr=self.ocr)
        self.parts = []
        self.block_starts = set()
        self.boxes = [keep_box] if keep_box else []
        self.ocr = False

    def table(self, table: Table) -> None:
        self.flush()
        head = table.caption or "表格"
        if table.unit and table.unit not in head:
            head += f"（单位：{table.unit}）"
        header_lines = [" | ".join(r) for r in table.header]
        row_lines = [" | ".join(r) for r in table.rows]
        tail = [table.source] if table.source else []
        budget = self.s.table_max_chars - len(head) - sum(len(h) + 1 for h in header_lines)
        start = 0
        while start < len(row_lines) or start == 0:
            end, size = start, 0
            while end < len(row_lines) and (end == start or size + len(row_lines[end]) + 1 <= budget):
                size += len(row_lines[end]) + 1
                end += 1
            cont = "（续）" if start > 0 else ""
            text = "\n".join([head + cont, *header_lines, *row_lines[start:end], *tail])
            boxes = [(f.page, f.bbox) for f in table.fragments if f.row_start < max(end, 1) and f.row_end > start
                     or (start == 0 and f.row_start == 0)]
            self._emit("table", text, boxes or [(f.page, f.bbox) for f in table.fragments[:1]],
                       table_id=table.id, row_range=(start, end), ocr=table.ocr)
            if end >= len(row_lines):
                break
            start = end
