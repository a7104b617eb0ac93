"""Bad input gets a clear error naming the file and the reason; a batch goes on."""
from __future__ import annotations

import shutil

import pymupdf
import pytest

from conftest import CORPUS
from ingest import CorruptPdf, EmptyPdf, EncryptedPdf, IngestError, NotAPdf, TooLarge, parse
from qa.cli import main as cli

SAMPLE = CORPUS / "guoxin_20260320_alibaba-cloud-ai.pdf"


def _expect(path, error, words):
    with pytest.raises(error) as info:
        parse(path)
    message = str(info.value)
    assert path.name in message
    assert any(w in message for w in words), message
    return info.value


def test_corrupt_pdf(tmp_path):
    bad = tmp_path / "corrupt.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    with pytest.raises(IngestError) as info:
        parse(bad)
    assert "corrupt.pdf" in str(info.value) and info.value.reason in ("corrupt", "empty")


def test_truncated_pdf(tmp_path):
    bad = tmp_path / "truncated.pdf"
    bad.write_bytes(SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 2])
    _expect(bad, CorruptPdf, ["truncated"])


def test_encrypted_pdf(tmp_path):
    doc = pymupdf.open(SAMPLE)
    bad = tmp_path / "locked.pdf"
    doc.save(bad, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    doc.close()
    _expect(bad, EncryptedPdf, ["password"])


def test_zero_page_pdf(tmp_path):
    bad = tmp_path / "nopages.pdf"
    body = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    xref = len(body)
    body += (b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
             b"trailer<</Size 3/Root 1 0 R>>\nstartxref\n" + str(xref).encode() + b"\n%%EOF\n")
    bad.write_bytes(body)
    _expect(bad, (EmptyPdf, CorruptPdf), ["no pages", "cannot be opened"])


def test_empty_file(tmp_path):
    bad = tmp_path / "empty.pdf"
    bad.write_bytes(b"")
    _expect(bad, EmptyPdf, ["empty"])


def test_other_format_renamed_to_pdf(tmp_path):
    bad = tmp_path / "really_a_zip.pdf"
    shutil.make_archive(str(tmp_path / "z"), "zip", root_dir=CORPUS, base_dir="manifest.json")
    bad.write_bytes((tmp_path / "z.zip").read_bytes())
    _expect(bad, NotAPdf, ["not a PDF"])


def test_absurdly_large_file_is_refused_without_reading_it(tmp_path):
    bad = tmp_path / "huge.pdf"
    with open(bad, "wb") as f:
        f.write(b"%PDF-1.7\n")
        f.truncate(200 * 1000 * 1000)  # exactly 200 MB; sparse: costs no disk
    _expect(bad, TooLarge, ["limit"])


def test_too_many_pages(tmp_path):
    _expect_path = SAMPLE
    with pytest.raises(TooLarge):
        parse(_expect_path, max_pages=3)


def test_batch_reports_bad_files_and_parses_the_rest(tmp_path, capsys):
    bad = tmp_path / "bad.pdf"
    bad.write_text("hello, I am text")
    code = cli(["parse", str(bad), str(SAMPLE)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "bad.pdf" in err and "not a PDF" in err
    assert "阿里云" in out  # the good file was still parsed


# --- a path that is not a file says what it is ------------------------------------------------

def test_a_folder_named_like_a_pdf(tmp_path):
    (tmp_path / "looks.pdf").mkdir()
    _expect(tmp_path / "looks.pdf", IngestError, ["a folder"])


def test_a_symbolic_link_loop(tmp_path):
    (tmp_path / "loop.pdf").symlink_to(tmp_path / "loop.pdf")
    _expect(tmp_path / "loop.pdf", IngestError, ["loop"])


def test_a_dangling_symbolic_link_names_its_target(tmp_path):
    (tmp_path / "gone.pdf").symlink_to(tmp_path / "elsewhere" / "moved.pdf")
    _expect(tmp_path / "gone.pdf", IngestError, ["moved.pdf", "does not exist"])


def test_a_repaired_pdf_with_no_text_is_damaged_not_empty(tmp_path):
    # a truncated copy with an end-of-file marker appended: MuPDF repairs it and finds nothing
    bad = tmp_path / "cut.pdf"
    bad.write_bytes(SAMPLE.read_bytes()[:3000] + b"\n%%EOF\n")
    _expect(bad, CorruptPdf, ["damaged", "repair"])
