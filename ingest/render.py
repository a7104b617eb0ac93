"""Human-readable views of a parsed Document, for ``yanbao parse`` — parsers are debugged by looking.

PDF text is anyone's text: in the Markdown view it is escaped so that it shows literally
wherever the Markdown is rendered — no raw HTML (``<script>``, ``<img>``), no links or images
(a remote image in a report would load when viewed), no emphasis or tables by accident.
"""
from __future__ import annotations

import json
import re

from .layout import join_lines
from .model import Block, BlockKind, Document, Table

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def md_text(text: str) -> str:
    """PDF text as Markdown that renders as exactly that text."""
    text = (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def comment_text(text: object) -> str:
    """Text inside ``<!-- … -->``: a ``-->`` in a title must not end the comment early."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_json(doc: Document) -> str:
    return json.dumps(doc.to_dict(), ensure_ascii=False, indent=1, default=str)


def table_markdown(t: Table) -> str:
    width = t.n_cols
    header = t.header[-1] if t.header else [""] * width

    def row(cells: list[str]) -> str:
        cells = [md_text(c.replace("\n", " ")) for c in cells] + [""] * (width - len(cells))
        return "| " + " | ".join(cells) + " |"

    unit = f"（单位：{md_text(t.unit)}）" if t.unit and t.unit not in t.caption else ""
    lines = [f"**{md_text(t.caption or '表格')}**{unit}"
             + f"  <!-- {comment_text(t.id)}, pages {t.pages}, {comment_text(t.style)}"
             + f"{', boilerplate' if t.boilerplate else ''} -->"]
    lines += [row(h) for h in t.header[:-1]]
    lines += [row(header), "|" + "---|" * width]
    lines += [row(r) for r in t.rows]
    if t.source:
        lines.append(f"\n{md_text(t.source)}")
    return "\n".join(lines)


def to_markdown(doc: Document, show_boilerplate: bool = False) -> str:
    m = doc.meta
    analysts = ", ".join(a["name"] for a in m.analysts) or "-"
    out = ["<!-- " + comment_text(f"{m.file} · {m.broker} · {m.date} · {m.report_type} · {m.industry} · "
                                  f"rating {m.rating or '-'} · analysts {analysts} · {m.page_count} pages") + " -->"]
    done: set[str] = set()
    whole = _continued_paragraphs(doc)
    for page in doc.pages:
        printed = f" (printed {page.printed})" if page.printed and page.printed != str(page.number) else ""
        out.append(f"\n<!-- page {page.number}{printed}{' (OCR)' if page.ocr else ''}"
                   f"{' (contents page)' if page.is_toc else ''} -->")
        for b in page.blocks:
            if b.boilerplate and not show_boilerplate or id(b) in whole.taken:
                continue
            if id(b) in whole.text:
                text, pages = whole.text[id(b)]
                more = f"  <!-- continues on page {', '.join(map(str, pages))} -->" if pages else ""
                out.append(("- " if b.kind == BlockKind.LIST_ITEM else "") + md_text(text) + more)
                continue
            mark = "~~" if b.boilerplate else ""
            if b.kind == BlockKind.TABLE:
                if b.table_id not in done:
                    done.add(b.table_id)
                    out.append(table_markdown(doc.table(b.table_id)))
            elif b.kind == BlockKind.HEADING:
                out.append("#" * min(b.level + 1, 6) + " " + md_text(b.text))
            elif b.kind == BlockKind.LIST_ITEM:
                out.append(f"- {mark}{md_text(b.text)}{mark}")
            elif b.kind == BlockKind.FIGURE:
                out.append(f"[figure: {md_text(b.text or 'image')}]")
            elif b.kind in (BlockKind.CAPTION, BlockKind.SOURCE):
                if not b.table_id:
                    out.append(f"*{md_text(b.text)}*")
            else:
                out.append(f"{mark}{md_text(b.text)}{mark}" + (f"  <!-- {b.kind.value} -->" if b.boilerplate else ""))
    return "\n\n".join(out)


class _Continued:
    """Paragraphs cut by a page or column break, read whole: ``text`` maps the first piece to
    the joined text and the other pages it runs onto; ``taken`` holds the later pieces."""

    def __init__(self):
        self.text: dict[int, tuple[str, list[int]]] = {}
        self.taken: set[int] = set()


def _continued_paragraphs(doc: Document) -> _Continued:
    found = _Continued()
    flow: list[Block] = [b for p in doc.pages for b in p.blocks if not b.boilerplate]
    start: Block | None = None
    for a, b in zip(flow, flow[1:]):
        if not b.continues:
            start = None
            continue
        start = start or a
        text, pages = found.text.get(id(start), (start.text, []))
        found.text[id(start)] = join_lines([text, b.text]), sorted({*pages, b.page} - {start.page})
        found.taken.add(id(b))
    return found
