"""Human-readable views of a parsed Document, for ``yanbao parse`` — parsers are debugged by looking."""
from __future__ import annotations

import json

from .model import BlockKind, Document, Table


def to_json(doc: Document) -> str:
    return json.dumps(doc.to_dict(), ensure_ascii=False, indent=1, default=str)


def table_markdown(t: Table) -> str:
    width = t.n_cols
    header = t.header[-1] if t.header else [""] * width

    def row(cells: list[str]) -> str:
        cells = [c.replace("|", "\\|").replace("\n", " ") for c in cells] + [""] * (width - len(cells))
        return "| " + " | ".join(cells) + " |"

    lines = [f"**{t.caption or '表格'}**" + (f"（单位：{t.unit}）" if t.unit and t.unit not in t.caption else "")
             + f"  <!-- {t.id}, pages {t.pages}, {t.style}{', boilerplate' if t.boilerplate else ''} -->"]
    lines += [row(h) for h in t.header[:-1]]
    lines += [row(header), "|" + "---|" * width]
    lines += [row(r) for r in t.rows]
    if t.source:
        lines.append(f"\n{t.source}")
    return "\n".join(lines)


def to_markdown(doc: Document, show_boilerplate: bool = False) -> str:
    m = doc.meta
    out = [f"<!-- {m.file} · {m.broker} · {m.date} · {m.report_type} · {m.industry} · rating {m.rating or '-'} · "
           f"analysts {', '.join(a['name'] for a in m.analysts) or '-'} · {m.page_count} pages -->"]
    done: set[str] = set()
    for page in doc.pages:
        out.append(f"\n<!-- page {page.number}{' (OCR)' if page.ocr else ''}{' (contents page)' if page.is_toc else ''} -->")
        for b in page.blocks:
            if b.boilerplate and not show_boilerplate:
                continue
            mark = "~~" if b.boilerplate else ""
            if b.kind == BlockKind.TABLE:
                if b.table_id not in done:
                    done.add(b.table_id)
                    out.append(table_markdown(doc.table(b.table_id)))
            elif b.kind == BlockKind.HEADING:
                out.append("#" * min(b.level + 1, 6) + " " + b.text)
            elif b.kind == BlockKind.LIST_ITEM:
                out.append(f"- {mark}{b.text}{mark}")
            elif b.kind == BlockKind.FIGURE:
                out.append(f"[figure: {b.text or 'image'}]")
            elif b.kind in (BlockKind.CAPTION, BlockKind.SOURCE):
                if not b.table_id:
                    out.append(f"*{b.text}*")
            else:
                out.append(f"{mark}{b.text}{mark}" + (f"  <!-- {b.kind.value} -->" if b.boilerplate else ""))
    return "\n\n".join(out)
