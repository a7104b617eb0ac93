"""The afternoon-project baseline every eval report shows next to yanbao.

Naive LangChain RAG over the same PDFs: PyMuPDF page text (no table grids, no boilerplate
removal), ``RecursiveCharacterTextSplitter``, the same embedder, a LangChain FAISS store,
top-k similarity — then the *same* answerer as yanbao, so the difference measured is
parsing, chunking and retrieval.
"""
from __future__ import annotations

from pathlib import Path

from ingest.model import Chunk


class NaiveRag:
    def __init__(self, corpus: Path, embedder, k: int = 8):
        import pymupdf
        from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from index.embedder import LangChainEmbeddings

        pages = []
        for pdf in sorted(Path(corpus).glob("*.pdf")):
            with pymupdf.open(pdf) as doc:
                for page in doc:
                    pages.append(Document(page.get_text(), metadata={"file": pdf.name, "page": page.number + 1}))
        splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50)
        self.docs = splitter.split_documents(pages)
        self.store = FAISS.from_documents(self.docs, LangChainEmbeddings(embedder))
        self.k = k

    def answer(self, question: str):
        from index.query import parse_query
        from qa.answer import answer_by_extraction
        from qa.evidence import score_units, units_from

        found = self.store.similarity_search(question, k=self.k)
        chunks = [Chunk(id=f"b{i}", file=d.metadata["file"], kind="text", text=d.page_content,
                        pages=[d.metadata["page"]], bboxes=[(d.metadata["page"], (0, 0, 0, 0))])
                  for i, d in enumerate(found)]
        q = parse_query(question)
        units = [u for rank, c in enumerate(chunks) for u in units_from(c, rank)]
        ext = answer_by_extraction(q, score_units(q, units))
        ranked = list(dict.fromkeys((c.file, c.page) for c in chunks))
        if ext.abstained or ext.unit is None:
            return "资料中未提及", True, [], ranked, "资料中未提及"
        u = ext.unit
        text = f"{ext.figure} — {u.text}" if ext.figure else u.text
        return text, False, [{"file": u.chunk.file, "page": u.chunk.page, "quote": u.text}], ranked, ext.figure
