"""OCR for pages without a text layer, with rapidocr (PP-OCR ONNX models inside the wheel).

The engine loads once per process. Output becomes ``Line`` objects in PDF coordinates so
the rest of the parser treats scanned pages like any other, only marked ``ocr=True``.
"""
from __future__ import annotations

import threading

import pymupdf

from .layout import Line

OCR_DPI = 144  # below this, digits get misread ("2,227" → "2.227"); see MODELS.md
# A hostile or broken PDF can declare a page hundreds of metres wide: rendered at OCR_DPI, and
# with the engine scaling its short side up, one page asked for 24 GB. Pages beyond the PDF
# reference's largest side (14,400 units, 200 in) or far from any paper shape are not OCR'd;
# large ones are rendered at a lower dpi so the image stays under MAX_OCR_PIXELS.
MAX_PAGE_POINTS = 14_400
MAX_ASPECT = 20
MAX_OCR_PIXELS = 16_000_000   # an A2 page at 144 dpi

_engine = None
_lock = threading.Lock()


class OcrUnavailable(RuntimeError):
    pass


def _get_engine():
    global _engine
    with _lock:
        if _engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise OcrUnavailable("rapidocr is not installed: pip install 'rapidocr==3.10.0' onnxruntime") from exc
            _engine = RapidOCR()
        return _engine


def needs_ocr(page: pymupdf.Page) -> bool:
    """A page whose text layer is (nearly) empty but which shows an image."""
    if len(page.get_text("text").strip()) >= 20:
        return False
    return bool(page.get_images(full=False)) or bool(page.get_drawings())


def ocr_page(page: pymupdf.Page, dpi: int = OCR_DPI) -> list[Line]:
    w, h = page.rect.width, page.rect.height
    if not (0 < w <= MAX_PAGE_POINTS and 0 < h <= MAX_PAGE_POINTS) or max(w, h) > MAX_ASPECT * min(w, h):
        return []
    pixels = (w * dpi / 72) * (h * dpi / 72)
    if pixels > MAX_OCR_PIXELS:
        dpi = max(int(dpi * (MAX_OCR_PIXELS / pixels) ** 0.5), 1)
    pix = page.get_pixmap(dpi=dpi)
    result = _get_engine()(pix.tobytes("png"))
    scale = 72.0 / dpi
    lines: list[Line] = []
    boxes = result.boxes if result.boxes is not None else []
    for box, text, score in zip(boxes, result.txts or (), result.scores or ()):
        text = text.strip()
        if not text:
            continue
        xs = [float(p[0]) * scale for p in box]
        ys = [float(p[1]) * scale for p in box]
        bbox = (min(xs), min(ys), max(xs), max(ys))
        # spread the line box evenly over its characters: tables need per-char positions
        w = (bbox[2] - bbox[0]) / max(len(text), 1)
        chars = [(c, (bbox[0] + i * w, bbox[1], bbox[0] + (i + 1) * w, bbox[3])) for i, c in enumerate(text)]
        lines.append(Line(text, bbox, size=(bbox[3] - bbox[1]) * 0.85, chars=chars, ocr=True))
    return lines
