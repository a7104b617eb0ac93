"""qa: cited answers over a yanbao library — the public Python API.

    import qa
    lib = qa.Library(path)
    lib.ingest(paths) -> IngestReport
    lib.ask(question) -> Answer(.text, .abstained, .citations[.file, .page, .quote, .bbox])
    lib.ask_stream(question) -> AnswerEvent("answer", …), AnswerEvent("token", …)…, AnswerEvent("done", …)
    lib.figures(entity, metric, period) -> [Figure]; lib.figure_slots(); lib.warm_up()
"""
from .config import Config
from .library import Answer, AnswerEvent, Citation, IngestReport, Library, LibraryMissing

__all__ = ["Library", "Answer", "AnswerEvent", "Citation", "IngestReport", "Config", "LibraryMissing"]
