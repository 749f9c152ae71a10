"""Typed records that cross stage boundaries, and their table form.

Each record class maps 1:1 to a CSV in ``processed/`` (see docs/data-dictionary.md).
Field order is column order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Iterable, Optional, Type

if TYPE_CHECKING:
    import pandas as pd

BLOCK_KINDS = ("heading", "paragraph", "bullet", "list_intro", "other")


@dataclass
class Document:
    doc_id: str
    source_file: str
    format: str  # pdf | html | txt | unknown
    title: str = ""
    n_pages: Optional[int] = None
    sha256: str = ""
    n_blocks: int = 0
    n_dropped_duplicate_blocks: int = 0
    status: str = "ok"  # ok | error
    error: str = ""
    # Document metadata: documents.yaml, front matter / header lines, sidecar files.
    actor: str = ""
    actor_level: str = ""  # kommun | region | stat | other | ''
    kind: str = ""
    year: Optional[int] = None
    url: str = ""
    encoding: str = ""  # text files: the detected encoding
    n_unmapped_glyphs: int = 0  # PDF glyphs without a Unicode mapping that nothing recovered


@dataclass
class Block:
    doc_id: str
    block_id: int
    page: Optional[int]
    kind: str
    section: str  # section path, headings joined with " > "
    text: str
    x0: Optional[float] = None
    top: Optional[float] = None
    x1: Optional[float] = None
    bottom: Optional[float] = None


@dataclass
class Sentence:
    doc_id: str
    block_id: int
    sentence_id: int  # running number within the document
    text: str
    start_char: int  # offsets into Block.text
    end_char: int


@dataclass
class Proposal:
    proposal_id: str
    doc_id: str
    unit: str  # bullet | item | statement | inline
    parent_id: str
    actor: str
    intro: str
    level_hint: str  # kommun | region | stat | ''
    section: str
    page: Optional[int]
    text: str
    description: str
    sentence_ids: str  # space-separated Sentence.sentence_id values
    block_id: int = 0
    demand: str = ""  # formal demands (yrkande, att-sats): the demand itself, else ''


@dataclass
class DocumentResult:
    """What ingesting one file yields: the document row, its blocks, and the
    blocks dropped as duplicate content (reported, not written to blocks.csv)."""

    document: Document
    blocks: list[Block] = field(default_factory=list)
    dropped: list[Block] = field(default_factory=list)


def columns(cls: Type) -> list[str]:
    return [f.name for f in fields(cls)]


def to_frame(records: Iterable, cls: Type) -> pd.DataFrame:
    import pandas as pd

    rows = [asdict(r) for r in records]
    df = pd.DataFrame(rows, columns=columns(cls))
    # Optional ints stay ints (not floats) in the CSV.
    for f in fields(cls):
        if f.type in ("Optional[int]", "int") and len(df):
            df[f.name] = df[f.name].astype("Int64")
    return df
