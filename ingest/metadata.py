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
                 running: list[str], page_count: int, document_text: str = "") -> DocumentMeta:
    """Title, broker and date from the report's content; the PDF's own metadata only where the
    content says nothing (and never a portal, tool or file name). ``meta.sources`` says where
    each came from. The file name is never read."""
    meta = DocumentMeta(file=file, page_count=page_count)
    title = _cover_title(cover)
    pdf_title = (pdf_meta.get("title") or "").strip()
    printed = re.sub(r"\s+", "", "".join(ln.text for ln in cover))
    if pdf_title and not _junk_title(pdf_title, file) and re.sub(r"\s+", "", pdf_title) in printed:
        # the PDF's title field, confirmed by the cover that prints it
        meta.title, meta.sources["title"] = pdf_title, "cover"
    elif title:
        meta.title, meta.sources["title"] = title, "cover"
    elif pdf_title and not _junk_title(pdf_title, file):
        meta.title, meta.sources["title"] = pdf_title, "pdf-metadata"
    subject = (pdf_meta.get("subject") or "").split()
    broker = broker_from_text(document_text)
    if broker:
        meta.broker, meta.sources["broker"] = broker, "content"
    else:  # a cover or running line that names a securities firm (PDF author fields can be spoofed)
        m = BROKER_RE.search(" ".join([*running[:3], *(ln.text for ln in cover[:5])]))
        if m:
            meta.broker, meta.sources["broker"] = m.group(1), "cover"
    meta.date = _cover_date(cover + sidebar)
    meta.sources["date"] = "cover" if meta.date else ""
    if not meta.date:
        meta.date = _pdf_date(pdf_meta.get("creationDate") or "")
        meta.sources["date"] = "pdf-metadata" if meta.date else ""
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


# "金融工程", "行业深度报告", "公司点评": a column or report-type label printed large, not a title
_GENERIC_TITLE = re.compile(r"^[\u4e00-\u9fa5A-Za-z ]{0,8}(报告|研究|点评|周报|月报|日报|专题|工程|简报|快报|纪要|证券)$")
_JUNK_TITLE = re.compile(r"www\.|https?:|\.com|\.cn\b|PowerPoint|Microsoft|演示文稿|\bWord\b|\.(pdf|docx?|pptx?)$|"
                         r"^(untitled|无标题)", re.I)


def _junk_title(title: str, file: str) -> bool:
    stem = file.rsplit(".", 1)[0]
    return bool(_JUNK_TITLE.search(title)) or title.strip() in (file, stem) or len(title.strip()) < 4


def _cover_title(lines: list[Line]) -> str:
    """The report's title on its first page: the largest text that is not a column label."""
    sizes = sorted({round(ln.size, 1) for ln in lines}, reverse=True)
    for size in sizes[:4]:
        same = sorted((ln for ln in lines if abs(ln.size - size) < 0.5), key=lambda ln: (ln.y0, ln.x0))
        block = same[:1]   # the first run of lines of that size: a title wraps, a later bullet is not it
        for ln in same[1:]:
            if ln.y0 - block[-1].y1 > 1.5 * size:
                break
            block.append(ln)
        text = DATE_RE.sub("", "".join(ln.text for ln in block)).strip(" ：:|")
        squashed = re.sub(r"\s+", "", text)
        if len(squashed) >= 5 and not _GENERIC_TITLE.match(squashed) and not DATE_RE.fullmatch(squashed) \
                and not _junk_title(text, ""):
            return re.sub(r"\s+", " ", text)[:120]
    return ""


# the firm's own name where a report names it: its legal name, its research institute, its
# copyright line — counted over the whole report (disclaimers repeat it; other firms are named
# once or twice)
_FIRM_RE = re.compile(r"([\u4e00-\u9fa5]{2,4})证券(?:股份|有限|经济研究所|研究所|研究院|研究部|研究中心)")


# the words ending a phrase before a firm's name ("本报告由", "仅供", "版权归"): the name follows them
_BEFORE_NAME = re.compile(r".*[由于为供归系经向及与和在是]")


def broker_from_text(text: str) -> str:
    counts: dict[str, int] = {}
    for m in _FIRM_RE.finditer(text):
        name = _BEFORE_NAME.sub("", m.group(1))
        name = name if len(name) >= 2 else m.group(1)    # "万和": a name may hold such a word
        counts[name] = counts.get(name, 0) + 1
    # "属于安信" / "仅供华泰": a longer capture ending in a name seen on its own is that name
    for name in sorted(counts, key=len, reverse=True):
        short = next((s for s in counts if s != name and name.endswith(s)), None)
        if short:
            counts[short] += counts.pop(name)
    if not counts:
        return ""
    name = max(counts, key=lambda n: (counts[n], -text.find(n)))
    return name if len(name) >= 4 else f"{name}证券"


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
