"""Document metadata: who wrote a document, what it is, where it came from.

Three sources, in rising precedence (a later one wins field by field):

1. **Header lines** of a text file (front matter): the leading lines of the form
   ``# key: value`` (key in lower case: ``# title: …``, ``# actor: …``), ended by the
   first other line; or a YAML block between two ``---`` lines at the very start.
   These lines are metadata, never text: the text reader drops them
   (:func:`split_header`) so they never reach ``blocks.csv``.
2. **A sidecar file** beside the document: ``<file name>.meta.yaml`` (for example
   ``plan.pdf.meta.yaml``), a YAML mapping of the same keys.
3. **``documents.yaml``** of the document's folder (the data team's file): a mapping
   ``file name -> {title, actor, actor_level, kind, year, url}``.

What the format reader finds (a PDF's largest text, an HTML ``<title>``) comes below all
three. Keys: ``title, actor, actor_level, kind, year, url`` (:data:`FIELDS`); other keys
(``complete``, ``notes`` …) are read but not applied to the document record.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import yaml

from pipeline.errors import IngestError, PipelineError
from pipeline.records import Document

log = logging.getLogger(__name__)

FIELDS = ("title", "actor", "actor_level", "kind", "year", "url")
CATALOGUE = "documents.yaml"
SIDECAR_SUFFIX = ".meta.yaml"
ACTOR_LEVELS = {"kommun", "region", "stat", "other"}

_HEADER_LINE = re.compile(r"^#[ \t]*(?P<key>[a-z][a-z0-9_-]*)[ \t]*:[ \t]*(?P<value>.*?)\s*$")


def is_metadata_file(path: Path) -> bool:
    """A file that describes documents rather than being one (``documents.yaml``,
    ``*.meta.yaml`` sidecars): input listings skip it."""
    name = Path(path).name
    return name == CATALOGUE or name.endswith(SIDECAR_SUFFIX)


def split_header(text: str) -> tuple[dict, str]:
    """``(metadata, body)``: the leading header lines of a text parsed, and the text
    after them. Line count is kept: each header line becomes an empty line, so line
    numbers of the body stay those of the file. No header: ``({}, text)``."""
    lines = text.lstrip("\ufeff").split("\n")
    meta: dict = {}
    n = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        if end is not None:
            try:
                data = yaml.safe_load("\n".join(lines[1:end]))
            except yaml.YAMLError:
                data = None
            if isinstance(data, dict):
                meta = {str(k).strip().lower(): v for k, v in data.items()}
                n = end + 1
    else:
        while n < len(lines):
            m = _HEADER_LINE.match(lines[n].rstrip("\r"))
            if not m:
                break
            meta[m.group("key").replace("-", "_")] = m.group("value")
            n += 1
    if not n:
        return {}, text
    return meta, "\n" * n + "\n".join(lines[n:])


def _read_yaml(path: Path) -> dict:
    st = Path(path).stat()
    return _read_yaml_cached(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _read_yaml_cached(path: str, _mtime_ns: int, _size: int) -> dict:
    """One parse per file version (a catalogue of many documents is read once, not per document)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise PipelineError(f"{path}: not UTF-8") from None
    if not isinstance(data, dict):
        raise PipelineError(f"{path}: expected a mapping")
    return data


def catalogue_entry(path: Path) -> dict:
    """The document's entry in ``documents.yaml`` of its folder, or {}."""
    cat = Path(path).parent / CATALOGUE
    if not cat.exists():
        return {}
    entry = _read_yaml(cat).get(Path(path).name) or {}
    if not isinstance(entry, dict):
        raise PipelineError(f"{cat}: entry for {Path(path).name} is not a mapping")
    return entry


def sidecar(path: Path) -> dict:
    """The document's ``<file name>.meta.yaml``, or {}."""
    side = Path(path).with_name(Path(path).name + SIDECAR_SUFFIX)
    return _read_yaml(side) if side.exists() else {}


def external_metadata(path: Path) -> dict:
    """Sidecar, then ``documents.yaml`` over it: the metadata that lives outside the file."""
    return {**sidecar(path), **catalogue_entry(path)}


def apply_metadata(doc: Document, meta: dict) -> None:
    """Set the document's fields from ``meta`` (a value present wins over the record's)."""
    for key in FIELDS:
        value = meta.get(key)
        if value is None or value == "":
            continue
        if key == "year":
            try:
                value = int(str(value).strip()[:4])
            except ValueError:
                log.warning("%s: year %r is not a year; ignored", doc.source_file, value)
                continue
        else:
            value = " ".join(str(value).split())
        if key == "actor_level" and value not in ACTOR_LEVELS:
            log.warning("%s: actor_level %r is not one of %s; ignored", doc.source_file, value,
                        "/".join(sorted(ACTOR_LEVELS)))
            continue
        setattr(doc, key, value)


def apply_external(doc: Document, path: Path) -> None:
    """Sidecar and ``documents.yaml`` over what the reader (and the header lines) set.
    A broken metadata file is a clear one-line error for this document."""
    try:
        apply_metadata(doc, external_metadata(path))
    except PipelineError as exc:
        raise IngestError(str(exc)) from None
