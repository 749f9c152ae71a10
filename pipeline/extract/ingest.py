"""Dispatch one raw file to its format reader; never raise for a bad document.

``ingest_file`` is a pure function of the file's bytes and its metadata files
(``documents.yaml``, a ``.meta.yaml`` sidecar; see :mod:`pipeline.extract.metadata`), so
documents can run in parallel and one failing document never stops the others.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

from pipeline.errors import IngestError
from pipeline.extract.metadata import apply_external
from pipeline.records import Block, Document, DocumentResult
from pipeline.storage import sha256_file

log = logging.getLogger(__name__)

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html", ".txt": "txt"}


def doc_id_for(path: Path) -> str:
    """A stable, readable id: the file name without extension, ASCII-folded."""
    stem = unicodedata.normalize("NFKD", path.stem).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower() or "document"


def _read(path: Path, fmt: str, doc: Document) -> list[Block]:
    if fmt == "pdf":
        from pipeline.extract.pdf import read_pdf

        return read_pdf(path, doc)
    if fmt == "html":
        from pipeline.extract.html import read_html

        return read_html(path, doc)
    from pipeline.extract.text import read_text

    return read_text(path, doc)


def ingest_file(path: Path) -> DocumentResult:
    """Ingest one file. Errors become ``status=error`` with a one-line reason."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower(), "unknown")
    doc = Document(doc_id=doc_id_for(path), source_file=path.name, format=fmt)
    try:
        doc.sha256 = sha256_file(path)
        if fmt == "unknown":
            raise IngestError(f"unsupported file type '{path.suffix or '(none)'}' (expected .pdf, .html, .htm or .txt)")
        if path.stat().st_size == 0:
            raise IngestError("empty file")
        blocks = _read(path, fmt, doc)
        apply_external(doc, path)  # sidecar and documents.yaml over what the reader found
        from pipeline.extract.dedup import drop_duplicate_blocks

        kept, dropped = drop_duplicate_blocks(blocks)
        for i, b in enumerate(kept):
            b.block_id = i
        if not kept:
            raise IngestError("no text found")
        doc.n_blocks = len(kept)
        doc.n_dropped_duplicate_blocks = len(dropped)
        if dropped:
            pages = sorted({b.page for b in dropped if b.page is not None})
            log.info("%s: dropped %d duplicate blocks%s", doc.doc_id, len(dropped),
                     f" (pages {pages[0]}-{pages[-1]})" if pages else "")
        return DocumentResult(doc, kept, dropped)
    except IngestError as exc:
        reason = str(exc)
    except Exception as exc:  # a bad document must not stop the run
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    doc.status, doc.error = "error", reason
    log.warning("%s: %s", path.name, reason)
    return DocumentResult(doc)
