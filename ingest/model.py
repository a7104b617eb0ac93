"""The data that ingest produces: a parsed Document and the Chunks cut from it.

Plain dataclasses (JSON-serialisable through ``to_dict``) so every later stage — index,
qa, ui, evals — can rely on them without importing PyMuPDF.
Coordinates are PDF points in PyMuPDF's page space (origin top-left); pages are 1-based.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum

BBox = tuple[float, float, float, float]


class BlockKind(str, Enum):
    """What a block on a page is. Values are the strings stored in JSON and the catalog."""

    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    CAPTION = "caption"
    TABLE = "table"
    FIGURE = "figure"
    SOURCE = "source"        # 数据来源 / 资料来源 lines under tables and charts
    HEADER = "header"        # running page header
    FOOTER = "footer"        # running page footer and page numbers
    TOC = "toc"              # table-of-contents entries
    SIDEBAR = "sidebar"      # cover-page side column (rating, analysts, 相关研究)


@dataclass
class Block:
    kind: BlockKind
    text: str
    page: int
    bbox: BBox
    level: int = 0                 # heading level (1 = chapter); 0 for non-headings
    boilerplate: bool = False      # kept in the Document, kept out of chunks
    ocr: bool = False              # text came from OCR, not the PDF's text layer
    table_id: str | None = None    # TABLE blocks, and the caption/source lines of a table
    continues: bool = False        # this paragraph goes on with the text block before it (cut by a page or column break)


@dataclass
class TableFragment:
    """The part of a table that sits on one page."""

    page: int
    bbox: BBox
    row_start: int                 # index into Table.rows of this fragment's first data row
    row_end: int                   # exclusive


@dataclass
class Table:
    id: str                        # stable within the document: "t1", "t2", …
    caption: str                   # "表1：北美五大 CSP 资本开支指引（2026 年）" or "" if none
    unit: str                      # unit hint, e.g. "亿美元", "%" or ""
    header: list[list[str]]        # header row(s), each a list of cell strings
    rows: list[list[str]]          # data rows; multi-line cells joined into one string
    source: str = ""               # 数据来源 line, if any
    fragments: list[TableFragment] = field(default_factory=list)
    ocr: bool = False
    boilerplate: bool = False      # e.g. the rating-definition table in the disclaimer
    style: str = "ruled"           # "ruled" | "three_line" | "text_aligned"

    @property
    def pages(self) -> list[int]:
        return sorted({f.page for f in self.fragments})

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.header + self.rows), default=0)


@dataclass
class DocumentMeta:
    file: str                      # the PDF's file name (not a path: libraries move)
    title: str = ""
    broker: str = ""
    date: str = ""                 # ISO yyyy-mm-dd when known
    rating: str = ""
    analysts: list[dict] = field(default_factory=list)  # [{"name", "certificate"}]
    report_type: str = ""
    industry: str = ""
    page_count: int = 0
    sha256: str = ""
    sources: dict = field(default_factory=dict)   # where title/broker/date came from: cover, content, pdf-metadata
    ocr_pages: list[int] = field(default_factory=list)           # pages read by OCR
    ocr_skipped: list[int] = field(default_factory=list)         # image-only pages left unread: over the OCR budget


@dataclass
class Page:
    number: int                    # 1-based
    width: float
    height: float
    blocks: list[Block] = field(default_factory=list)
    ocr: bool = False
    is_toc: bool = False
    printed: str = ""              # the page number printed in its header or footer ("" if none)


@dataclass
class Document:
    meta: DocumentMeta
    pages: list[Page]
    tables: list[Table]

    def table(self, table_id: str) -> Table:
        for t in self.tables:
            if t.id == table_id:
                return t
        raise KeyError(table_id)

    def content_blocks(self):
        """Blocks that carry report content (boilerplate and running lines excluded)."""
        for page in self.pages:
            for b in page.blocks:
                if not b.boilerplate:
                    yield b

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Chunk:
    """A retrievable unit with full provenance. ``text`` is what gets embedded and shown."""

    id: str                        # "<file>#<n>", stable for identical input
    file: str
    kind: str                      # "text" | "table"
    text: str
    pages: list[int]
    bboxes: list[tuple[int, BBox]]  # (page, bbox) of every source block / table fragment
    heading_path: list[str] = field(default_factory=list)
    table_id: str | None = None
    row_range: tuple[int, int] | None = None   # data rows [start, end) for table chunks
    ocr: bool = False

    @property
    def page(self) -> int:
        return self.pages[0]

    def to_dict(self) -> dict:
        return asdict(self)
