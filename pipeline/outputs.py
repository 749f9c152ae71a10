"""Outputs researchers use directly: enriched proposal tables, typed Parquet, Excel.

* :func:`enrich` adds the document's title, year, kind and actor to every proposal
  (``doc_title``, ``doc_year``, ``doc_kind``, ``doc_actor``) and the codebook's Swedish
  theme name beside the theme id (``theme_name``); integer columns become nullable
  ``Int64`` so the CSV shows ``3``, never ``3.0``.
* :func:`typed` gives any processed/ table its documented dtypes (nullable ``Int64``,
  ``Float64``, ``boolean``, ``string``), whether it comes from memory or from a CSV
  read as text; :func:`read_table` loads a table that way.
* :func:`write_parquet` and :func:`write_xlsx` write those typed tables
  deterministically (same tables, same bytes) and atomically.

Column meanings: docs/data-dictionary.md.
"""

from __future__ import annotations

import io
import re
import typing
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import Mapping

import pandas as pd

from pipeline.records import Block, Document, Proposal, Sentence
from pipeline.storage import atomic_write_bytes, read_csv

# Columns added by enrich(), in order, and where they come from in documents.csv.
DOC_COLUMNS = {"doc_title": "title", "doc_year": "year", "doc_kind": "kind", "doc_actor": "actor"}

# Columns outside the record types whose dtype is known.
INT_COLUMNS = {"doc_year", "group_size", "n_documents", "n_proposals"}
FLOAT_COLUMNS = {"theme_confidence", "level_confidence", "similarity"}
BOOL_COLUMNS = {"needs_review"}

# Sheets of processed/proposals.xlsx, in order.
XLSX_SHEETS = ("proposals", "documents", "proposal_groups", "themes")
# Excel's own cell limit; longer text (rare: whole pages of a bad PDF) is cut with a mark.
XLSX_MAX_CELL = 32767
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _record_types() -> dict[str, str]:
    """Column -> 'int' | 'float' from the record dataclasses' annotations."""
    out: dict[str, str] = {}
    for cls in (Document, Block, Sentence, Proposal):
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            t = hints[f.name]
            args = typing.get_args(t)
            base = next((a for a in args if a is not type(None)), t) if args else t
            if base is int:
                out[f.name] = "int"
            elif base is float:
                out[f.name] = "float"
    return out


RECORD_TYPES = _record_types()


def column_kind(name: str) -> str:
    """'int', 'float', 'bool' or 'str': the documented type of a column."""
    if name in BOOL_COLUMNS:
        return "bool"
    if name in INT_COLUMNS or RECORD_TYPES.get(name) == "int":
        return "int"
    if name in FLOAT_COLUMNS or RECORD_TYPES.get(name) == "float":
        return "float"
    return "str"


def _as_bool(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    low = s.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[low.isin(["true", "1", "yes"]).fillna(False)] = True
    out[low.isin(["false", "0", "no"]).fillna(False)] = False
    return out


def typed(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every column in its documented dtype.

    Integers are nullable ``Int64`` (an empty cell is <NA>, never a float), decimals
    ``Float64``, flags ``boolean``, everything else ``string`` with '' kept as ''."""
    out = df.copy()
    for col in out.columns:
        kind = column_kind(col)
        s = out[col]
        if kind == "bool":
            out[col] = _as_bool(s)
        elif kind in ("int", "float"):
            if not pd.api.types.is_numeric_dtype(s):
                s = pd.to_numeric(s.astype("string").str.strip().replace("", pd.NA), errors="coerce")
            if kind == "int":
                # Whole numbers only; a fraction here would be a bug upstream, keep it visible.
                s = s.astype("Float64")
                out[col] = s.astype("Int64") if bool(((s % 1) == 0).fillna(True).all()) else s
            else:
                out[col] = s.astype("Float64")
        else:
            out[col] = s.astype("string").fillna("")
    return out


def enrich(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables, with proposals carrying document metadata and Swedish theme names.

    Adds (or refreshes) ``doc_title``, ``doc_year``, ``doc_kind``, ``doc_actor`` right
    after ``doc_id`` and ``theme_name`` right after ``theme``; types every table with
    :func:`typed`. Other tables pass through typed; nothing is dropped."""
    out = {name: typed(df) for name, df in tables.items()}
    if "proposals" not in out:
        return out
    props = out["proposals"].drop(columns=[c for c in (*DOC_COLUMNS, "theme_name") if c in out["proposals"]])
    docs = out.get("documents")
    pos = props.columns.get_loc("doc_id") + 1 if "doc_id" in props else len(props.columns)
    for i, (new, src) in enumerate(DOC_COLUMNS.items()):
        if docs is not None and src in docs and "doc_id" in docs and "doc_id" in props:
            values = props["doc_id"].map(dict(zip(docs["doc_id"], docs[src])))
        else:
            values = pd.Series(pd.NA, index=props.index)
        props.insert(pos + i, new, values)
    if "theme" in props:
        names = theme_names()
        props.insert(props.columns.get_loc("theme") + 1, "theme_name",
                     props["theme"].map(names))
    out["proposals"] = typed(props)
    return out


def theme_names() -> dict[str, str]:
    """Codebook theme id -> Swedish name."""
    from pipeline.classify.codebook import load_codebook

    return {t.id: t.name for t in load_codebook().themes}


def level_names() -> dict[str, str]:
    from pipeline.classify.codebook import load_codebook

    return {lv.id: lv.name for lv in load_codebook().levels}


def themes_table() -> pd.DataFrame:
    """The codebook's themes (id, Swedish name, description) as a table."""
    from pipeline.classify.codebook import load_codebook

    return typed(pd.DataFrame([{"theme": t.id, "theme_name": t.name, "description": t.description}
                               for t in load_codebook().themes]))


def read_table(folder: Path, name: str) -> pd.DataFrame:
    """``folder/<name>.csv`` with documented dtypes (see :func:`typed`); empty when missing."""
    path = Path(folder) / f"{name}.csv"
    if not path.exists():
        return pd.DataFrame()
    return typed(read_csv(path))


# --------------------------------------------------------------------------- Parquet


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """Typed Parquet (pyarrow), without the pandas index; deterministic for one pyarrow version."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(typed(df).reset_index(drop=True), preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    atomic_write_bytes(Path(path), parquet_bytes(df))


# --------------------------------------------------------------------------- Excel

_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _excel_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text Excel can hold: no control characters, no cell over Excel's limit, and no
    leading '=' read as a formula."""
    out = df.copy()
    for col in out.columns:
        if column_kind(col) == "str":
            s = out[col].astype("string").fillna("").str.replace(_ILLEGAL_XML, "", regex=True)
            s = s.where(s.str.len() <= XLSX_MAX_CELL, s.str.slice(0, XLSX_MAX_CELL - 1) + "…")
            out[col] = s.astype(object)
        else:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """A workbook, one sheet per table (header row frozen, autofilter on), deterministic:
    fixed document timestamps and zip entry times."""
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for name, df in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        safe = _excel_safe(typed(df))
        ws.append(list(safe.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r, row in enumerate(safe.itertuples(index=False, name=None), start=2):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text, never a formula
        for i, col in enumerate(safe.columns, start=1):
            width = min(60, max([len(str(col))] + [len(str(v)) for v in safe[col].head(200) if v is not None]) + 2)
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        if len(safe.columns):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(safe.columns))}{max(1, len(safe) + 1)}"
    fixed = datetime(2000, 1, 1)
    wb.properties.creator = "pipeline"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue(), fixed)


def _normalise_zip(data: bytes, fixed) -> bytes:
    """Rewrite a zip with fixed entry times and a fixed modification time in docProps."""
    stamp = fixed.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\2",
                                 content)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, content)
    return out.getvalue()


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: Path) -> None:
    atomic_write_bytes(Path(path), xlsx_bytes(sheets))


def researcher_sheets(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The sheets of processed/proposals.xlsx: enriched proposals, documents, groups, themes."""
    enriched = enrich({k: v for k, v in tables.items() if k in ("proposals", "documents")})
    sheets: dict[str, pd.DataFrame] = {}
    for name in XLSX_SHEETS:
        if name == "themes":
            sheets[name] = themes_table()
        elif name in enriched:
            sheets[name] = enriched[name]
        elif name in tables:
            sheets[name] = typed(tables[name])
    return sheets
