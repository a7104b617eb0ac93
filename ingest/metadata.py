"""Document metadata from the cover page, its side column and the PDF's own metadata."""
from __future__ import annotations

import re

from .layout import Line
from .model import DocumentMeta

BROKER_RE = re.compile(r"([\u4e00-\u9fa5]{2,6}(证券|期货|国际|资本|研究所))")
DATE_RE = re.compile(r"(20\d{2})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
CERT_RE = re.compile(r"S\d{13}")
RATING_RE = re.compile(
    r"(买入|增持|中性|减持|卖出|强烈推荐|推荐|谨慎推荐|审慎推荐|看好|看淡|优于大市|中性|弱于大市|跑赢行业|跑输行业|"
    r"领先大市|同步大市|落后大市|Buy|Outperform|Overweight|Neutral|Underperform)"
    r"\s*[（(]?\s*(维持|首次|上调|下调|首次覆盖|维持评级)?\s*(评级)?\s*[)）]?")
ANALYST_RES = [
    re.compile(r"(?:证券)?分析师\s*[：:]?\s*([\u4e00-\u9fa5]{2,4})(?![\u4e00-\u9fa5])"),
    re.compile(r"([\u4e00-\u9fa5]{2,4})\s*[（(]\s*(?:证券)?分析师\s*[)）]"),
]


def extract_meta(file: str, pdf_meta: dict, cover: list[Line], sidebar: list[Line],
                 running: list[str], page_count: int) -> DocumentMeta:
    meta = DocumentMeta(file=file, page_count=page_count)
    meta.title = (pdf_meta.get("title") or "").strip() or _largest_text(cover)
    subject = (pdf_meta.get("subject") or "").split()
    broker_src = " ".join([pdf_meta.get("author") or "", *running[:3], *(ln.text for ln in cover[:5])])
    m = BROKER_RE.search(broker_src)
    meta.broker = m.group(1) if m else ""
    meta.date = _cover_date(cover + sidebar) or _pdf_date(pdf_meta.get("creationDate") or "")
    side_text = [ln.text for ln in sidebar] or [ln.text for ln in cover]
    meta.rating = _rating(side_text)
    meta.analysts = _analysts(side_text)
    # "传媒｜传媒行业深度报告" in the running header, or the PDF subject "东吴证券 传媒 传媒行业深度报告"
    for text in running:
        if "｜" in text or "|" in text:
            industry, rtype = re.split(r"[｜|]", text, maxsplit=1)
            meta.industry, meta.report_type = industry.strip(), rtype.strip()
            break
    if not meta.report_type and len(subject) >= 3:
        meta.industry, meta.report_type = subject[1], subject[2]
    return meta


def _largest_text(lines: list[Line]) -> str:
    if not lines:
        return ""
    top = max(ln.size for ln in lines)
    return "".join(ln.text for ln in lines if ln.size >= top - 0.5)


def _cover_date(lines: list[Line]) -> str:
    for ln in lines:
        m = DATE_RE.search(ln.text)
        if m and "年" in ln.text and len(ln.text) <= 16:
            y, mo, d = (int(g) for g in m.groups())
            if 1 <= mo <= 12 and 1 <= d <= 31:
                return f"{y:04d}-{mo:02d}-{d:02d}"
    return ""


def _pdf_date(raw: str) -> str:
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})", raw)
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else ""


def _rating(texts: list[str]) -> str:
    for t in texts:
        t = re.sub(r"\s+", "", t)
        if len(t) > 24:
            continue
        m = RATING_RE.search(t)
        if m:
            return re.sub(r"^(投资评级|评级)[：:]", "", t[m.start():]).strip("：: ")
    return ""


def _analysts(texts: list[str]) -> list[dict]:
    """Pair analyst names with the certificate numbers that follow them."""
    joined = "\n".join(texts)
    found: list[tuple[int, str]] = []
    for rx in ANALYST_RES:
        found += [(m.start(), m.group(1)) for m in rx.finditer(joined)]
    found.sort()
    certs = [(m.start(), m.group(0)) for m in CERT_RE.finditer(joined)]
    out: list[dict] = []
    for i, (pos, name) in enumerate(found):
        if any(a["name"] == name for a in out):
            continue
        nxt = found[i + 1][0] if i + 1 < len(found) else len(joined)
        cert = next((c for p, c in certs if pos <= p < nxt), "")
        out.append({"name": name, "certificate": cert})
    return out
