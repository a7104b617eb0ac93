"""ingest: Chinese broker PDFs → structured Documents → table-aware, provenance-carrying Chunks."""
from .errors import CorruptPdf, EmptyPdf, EncryptedPdf, IngestError, NotAPdf, TooLarge
from .model import Block, BlockKind, Chunk, Document, DocumentMeta, Page, Table, TableFragment
from .chunking import ChunkSettings, chunk_document
from .parser import OcrBudget, parse

__all__ = [
    "OcrBudget",
    "parse", "chunk_document", "ChunkSettings", "Document", "DocumentMeta", "Page", "Block", "BlockKind", "Table", "TableFragment",
    "Chunk", "IngestError", "NotAPdf", "EncryptedPdf", "EmptyPdf", "CorruptPdf", "TooLarge",
]
