"""Clear, specific errors for files that cannot be ingested.

Each names the file and the reason, so a batch can report and skip it and go on.
"""
from __future__ import annotations


class IngestError(Exception):
    """A file could not be parsed. ``reason`` is a short machine-readable code."""

    reason = "unreadable"

    def __init__(self, file: str, detail: str):
        self.file = file
        self.detail = detail
        super().__init__(f"{file}: {detail}")


class NotAPdf(IngestError):
    reason = "not_pdf"


class EncryptedPdf(IngestError):
    reason = "encrypted"


class EmptyPdf(IngestError):
    reason = "empty"


class CorruptPdf(IngestError):
    reason = "corrupt"


class TooLarge(IngestError):
    reason = "too_large"
