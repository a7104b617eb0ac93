"""qa: cited answers over a yanbao library — the public Python API.

    import qa
    lib = qa.Library(path)
    lib.ingest(paths) -> IngestReport
    lib.ask(question) -> Answer(.text, .abstained, .citations[.file, .page, .quote, .bbox])
"""
from .config import Config
from .library import Answer, Citation, IngestReport, Library, LibraryMissing

__all__ = ["Library", "Answer", "Citation", "IngestReport", "Config", "LibraryMissing"]
