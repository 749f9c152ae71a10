"""Reviewer corrections of theme and level labels: an append-only log.

The log is ``labels/corrections.csv`` (tracked in git: it is human input). Each row
says that a reviewer changed one field of one proposal::

    proposal_id,field,old,new,reviewer,timestamp,note

* ``field`` is ``theme`` or ``level``; ``new`` must be a codebook id of that field.
* ``old`` is the label that was in force when the reviewer looked (the model's, or an
  earlier review); it is kept for the record and never checked.
* ``timestamp`` is ISO 8601 UTC (``2024-05-02T13:45:10Z``).
* The *file order* decides: the last row per (proposal_id, field) wins. Rows are
  never edited, reordered or deleted; to undo a correction, append a new one.

Appending takes a :class:`filelock.FileLock` on ``corrections.csv.lock`` beside the
log, so several reviewers (or processes) can save at the same moment. Appends go
through the csv module (UTF-8, ``\\n`` line ends) and are fsynced.

A *confirmation* is a correction whose ``new`` equals ``old``: the reviewer looked and
agreed (the notebook's **Bekräfta**). It changes no label but makes the field's
source ``review`` and counts the proposal as reviewed.

Reviewers without widgets::

    from pipeline.classify.corrections import confirm_review, review_table, save_review, set_label
    table = review_table(proposals)              # editable theme, level, note columns
    set_label(table, "p8f4de7e6f41f5d7", level="stat", note="lagändring")  # unknown id: error
    save_review(table, reviewer="AB")            # appends one row per changed field
    confirm_review(table, ["p8f4de7e6f41f5d7"], reviewer="AB")  # old = new: confirmed
"""

from __future__ import annotations

import csv
import io
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Union

import pandas as pd
from filelock import FileLock, Timeout

from pipeline import config
from pipeline.classify.codebook import load_codebook
from pipeline.errors import PipelineError
from pipeline.storage import read_csv

log = logging.getLogger(__name__)

CORRECTIONS_COLUMNS = ["proposal_id", "field", "old", "new", "reviewer", "timestamp", "note"]
CORRECTIONS_FILE = "corrections.csv"
FIELDS = ("theme", "level")
LOCK_TIMEOUT_S = 60.0

# Columns of review_table(): what the reviewer sees, then what they edit.
REVIEW_COLUMNS = [
    "proposal_id", "doc_id", "actor", "unit", "page", "block_id", "text", "context",
    "current_theme", "theme_confidence", "current_level", "level_confidence",
    "min_confidence", "needs_review", "theme_source", "level_source", "reviewed",
    "theme", "level", "note",
]
# Where a field's label comes from (``<field>_source``); ``label_source`` is the older
# per-row column, used when the per-field ones are absent.
SOURCES = ("hand", "review", "model")

PathLike = Union[str, os.PathLike]


def default_corrections_path() -> Path:
    """``labels/corrections.csv`` (resolved at call time, so tests can patch config)."""
    return Path(config.LABELS_DIR) / CORRECTIONS_FILE


def _path(path: Optional[PathLike]) -> Path:
    return Path(path) if path is not None else default_corrections_path()


def lock_path(path: Optional[PathLike] = None) -> Path:
    """The lock file beside the log: ``corrections.csv.lock`` (git-ignored)."""
    p = _path(path)
    return p.with_name(p.name + ".lock")


def utc_now() -> str:
    """Current time, ISO 8601 UTC with a ``Z`` suffix, to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(value) -> str:
    """A cell as one line of text: None/NaN -> '', line breaks -> spaces.

    One row per line keeps "row N" in error messages equal to the line number."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    return " ".join(str(value).splitlines()).strip()


# --------------------------------------------------------------------------- writing


def _normalise_rows(rows) -> list[dict]:
    if isinstance(rows, pd.DataFrame):
        rows = rows.to_dict("records")
    elif isinstance(rows, dict):
        rows = [rows]
    out = []
    now = utc_now()
    for i, row in enumerate(rows):
        extra = set(row) - set(CORRECTIONS_COLUMNS)
        if extra:
            raise PipelineError(
                f"corrections to append, row {i + 1}: unknown column(s) {', '.join(sorted(extra))} "
                f"(expected {', '.join(CORRECTIONS_COLUMNS)})"
            )
        clean = {c: _clean(row.get(c)) for c in CORRECTIONS_COLUMNS}
        if not clean["timestamp"]:
            clean["timestamp"] = now
        out.append(clean)
    return out


def _validate_row(row: dict, source: str, row_no: int) -> None:
    """Raise PipelineError naming ``source`` and ``row_no`` for an invalid correction."""
    where = f"{source}, row {row_no}"
    if not row["proposal_id"]:
        raise PipelineError(f"{where}: proposal_id is empty")
    if row["field"] not in FIELDS:
        raise PipelineError(f"{where}: field '{row['field']}' must be one of {', '.join(FIELDS)}")
    load_codebook().validate([row["new"]], row["field"], source, row_offset=row_no)
    if not row["reviewer"]:
        raise PipelineError(f"{where}: reviewer is empty")
    try:
        datetime.fromisoformat(row["timestamp"].replace("Z", "+00:00"))
    except ValueError:
        raise PipelineError(f"{where}: timestamp '{row['timestamp']}' is not ISO 8601") from None


def _check_header(path: Path) -> tuple[bool, bool]:
    """(file has content, file ends with a newline); PipelineError if the header is wrong."""
    if not path.exists() or path.stat().st_size == 0:
        return False, True
    with open(path, "rb") as fh:
        first = fh.readline()
        fh.seek(-1, os.SEEK_END)
        ends_nl = fh.read(1) == b"\n"
    header = next(csv.reader([first.decode("utf-8-sig").rstrip("\r\n")]), [])
    if header != CORRECTIONS_COLUMNS:
        raise PipelineError(
            f"{path}, row 1: header {','.join(header)!r} is not {','.join(CORRECTIONS_COLUMNS)!r}; "
            "nothing was appended"
        )
    return True, ends_nl


def append_corrections(rows, path: Optional[PathLike] = None) -> int:
    """Append corrections to the log (default ``labels/corrections.csv``).

    ``rows``: a list of dicts or a DataFrame with (a subset of) CORRECTIONS_COLUMNS;
    a missing timestamp is filled with the current UTC time. Every row is validated
    first (field is theme/level, new is a codebook id, proposal_id and reviewer are
    set); on any error a PipelineError is raised and nothing is written. The file is
    created with its header if absent; existing bytes are never rewritten (a missing
    final newline is completed before appending). Returns the number of rows appended.
    """
    path = _path(path)
    clean = _normalise_rows(rows)
    for i, row in enumerate(clean):
        _validate_row(row, f"corrections to append (proposal {row['proposal_id'] or '?'})", i + 1)
    if not clean:
        return 0

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows([[r[c] for c in CORRECTIONS_COLUMNS] for r in clean])
    body = buf.getvalue()

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(lock_path(path)), timeout=LOCK_TIMEOUT_S):
            has_content, ends_nl = _check_header(path)
            if not has_content:
                hbuf = io.StringIO()
                csv.writer(hbuf, lineterminator="\n").writerow(CORRECTIONS_COLUMNS)
                body = hbuf.getvalue() + body
            elif not ends_nl:
                body = "\n" + body
            created = not path.exists()
            with open(path, "ab") as fh:
                fh.write(body.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
            if created:
                _fsync_dir(path.parent)
    except Timeout:
        raise PipelineError(
            f"{path}: could not lock {lock_path(path)} within {LOCK_TIMEOUT_S:.0f} s; "
            "is another save stuck? Nothing was appended"
        ) from None
    log.info("appended %d correction(s) to %s", len(clean), path)
    return len(clean)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- reading


def load_corrections(path: Optional[PathLike] = None) -> pd.DataFrame:
    """Read and validate the log; an absent file is an empty log.

    Any invalid row (unknown field, a label id outside the codebook, empty
    proposal_id/reviewer, bad timestamp, wrong number of cells) raises PipelineError
    naming the file and the row as in the file (header = line 1). Rows stay in file
    order; all columns are strings. Never writes."""
    path = _path(path)
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in CORRECTIONS_COLUMNS})
    records = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        if header != CORRECTIONS_COLUMNS:
            raise PipelineError(
                f"{path}, row 1: header {','.join(header)!r} is not {','.join(CORRECTIONS_COLUMNS)!r}"
            )
        line = reader.line_num
        for cells in reader:
            row_no, line = line + 1, reader.line_num  # first line of this record
            if not cells or all(not c.strip() for c in cells):
                continue  # blank line
            if len(cells) != len(CORRECTIONS_COLUMNS):
                raise PipelineError(
                    f"{path}, row {row_no}: {len(cells)} cells, expected {len(CORRECTIONS_COLUMNS)} "
                    f"({','.join(CORRECTIONS_COLUMNS)})"
                )
            row = dict(zip(CORRECTIONS_COLUMNS, (c.strip() for c in cells)))
            _validate_row(row, str(path), row_no)
            records.append(row)
    return pd.DataFrame(records, columns=CORRECTIONS_COLUMNS)


def latest_corrections(corrections: pd.DataFrame) -> pd.DataFrame:
    """The last correction per (proposal_id, field) by file order (row order of
    ``corrections``), in the order of those last rows."""
    if corrections.empty:
        return corrections.copy().reset_index(drop=True)
    return corrections.drop_duplicates(["proposal_id", "field"], keep="last").reset_index(drop=True)


# --------------------------------------------------------------------------- applying


def _as_float(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype(float)


def _as_bool(s: pd.Series) -> pd.Series:
    if s.dtype == bool:
        return s
    return s.map(lambda v: str(v).strip().lower() in {"true", "1", "yes", "1.0"}).astype(bool)


def normalise_label_columns(proposals: pd.DataFrame) -> pd.DataFrame:
    """A copy with the label columns present and typed: theme/level/theme_source/level_source
    as strings, confidences as floats (NaN where missing), needs_review as bool."""
    df = proposals.copy()
    for col in ("theme", "level", "theme_source", "level_source"):
        if col not in df.columns:
            df[col] = ""
        df[col] = df[col].map(_clean).astype(str)
    for col in ("theme_confidence", "level_confidence"):
        df[col] = _as_float(df[col]) if col in df.columns else float("nan")
    df["needs_review"] = _as_bool(df["needs_review"]) if "needs_review" in df.columns else False
    return df


def apply_corrections(
    proposals: pd.DataFrame, corrections_path: Optional[PathLike] = None, warn_orphans: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Overwrite theme/level with the latest reviewer correction.

    Returns ``(labelled, orphans)``. In ``labelled`` (a copy; see
    :func:`normalise_label_columns` for the column types) a corrected field gets the
    reviewer's id, its confidence column is set to 1.0 and its ``<field>_source`` (where
    that column exists) to ``review``; a proposal with any
    corrected field gets ``needs_review = False`` (a
    person has looked at it). Uncorrected rows are left as they were. ``orphans`` are
    the log rows (all of them, file order) whose proposal_id is not in ``proposals``,
    e.g. after a re-extraction changed ids; one warning gives their count (unless
    ``warn_orphans`` is false: the caller labels a part of the proposals). The log is
    only read."""
    path = _path(corrections_path)
    df = normalise_label_columns(proposals)
    corrections = load_corrections(path)
    known = set(df["proposal_id"].astype(str))
    is_orphan = ~corrections["proposal_id"].isin(known)
    orphans = corrections[is_orphan].reset_index(drop=True)
    if len(orphans) and warn_orphans:
        log.warning(
            "%d correction(s) in %s refer to %d proposal_id(s) not in the proposals; "
            "they were not applied (first: %s)",
            len(orphans), path, orphans["proposal_id"].nunique(), orphans["proposal_id"].iloc[0],
        )
    latest = latest_corrections(corrections[~is_orphan])
    corrected = pd.Series(False, index=df.index)
    for field in FIELDS:
        new = latest[latest["field"] == field].set_index("proposal_id")["new"]
        mapped = df["proposal_id"].astype(str).map(new)
        hit = mapped.notna()
        df.loc[hit, field] = mapped[hit].astype(str)
        df.loc[hit, f"{field}_confidence"] = 1.0
        if f"{field}_source" in df.columns:
            df.loc[hit, f"{field}_source"] = "review"
        corrected |= hit
    df.loc[corrected, "needs_review"] = False
    log.debug("applied corrections to %d of %d proposal(s) from %s", int(corrected.sum()), len(df), path)
    return df, orphans


def corrected_labels(
    corrections_path: Optional[PathLike] = None,
    fallback: Union[pd.DataFrame, PathLike, None] = None,
) -> pd.DataFrame:
    """Reviewer labels for training: one row per corrected proposal,
    columns ``proposal_id, theme, level`` (file order of first correction).

    A field a reviewer corrected is the latest correction. A field not corrected is
    taken from ``fallback`` (a frame or CSV with proposal_id, theme, level): by default
    the current labels of ``processed/proposals.csv``, i.e. usually the model's own
    prediction. Pass a frame of hand labels (or an empty frame) to avoid training on
    model output; if ``fallback`` holds several rows for one proposal_id, the last
    wins. A field with no correction and no fallback is '' and the trainer should
    drop that (proposal, field) pair. Ids not in the proposals are kept; the
    trainer's join on proposal_id drops them."""
    latest = latest_corrections(load_corrections(corrections_path))
    if latest.empty:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in ("proposal_id", "theme", "level")})
    wide = latest.pivot(index="proposal_id", columns="field", values="new")
    order = pd.unique(latest["proposal_id"])
    wide = wide.reindex(index=order, columns=list(FIELDS))

    if fallback is None:
        fallback = Path(config.PROCESSED_DIR) / "proposals.csv"
    if not isinstance(fallback, pd.DataFrame):
        fb_path = Path(fallback)
        fallback = read_csv(fb_path) if fb_path.exists() else pd.DataFrame(columns=["proposal_id", *FIELDS])
    fb = fallback.drop_duplicates("proposal_id", keep="last").set_index("proposal_id")
    for field in FIELDS:
        if field in fb.columns:
            wide[field] = wide[field].fillna(fb[field].reindex(wide.index))
    out = wide.fillna("").reset_index()
    out.columns.name = None
    return out[["proposal_id", *FIELDS]].astype(str)


# --------------------------------------------------------------------------- review table


def _context(row, parent_text: dict) -> str:
    parts = []
    if row.get("description"):
        parts.append(f"Beskrivning: {row['description']}")
    if row.get("section"):
        parts.append(f"Avsnitt: {row['section']}")
    if row.get("intro"):
        parts.append(f"Inledning: {row['intro']}")
    parent = parent_text.get(row.get("parent_id", ""), "")
    if parent and parent != row.get("text"):
        parts.append(f"Hela punkten: {parent}")
    if row.get("level_hint"):
        parts.append(f"Nivåledtråd: {row['level_hint']}")
    return " · ".join(parts)


def field_source(proposals: pd.DataFrame, field: str) -> pd.Series:
    """Where ``field``'s label comes from: ``<field>_source`` when present, else ``label_source``."""
    for col in (f"{field}_source", "label_source"):
        if col in proposals.columns:
            return proposals[col].map(_clean).astype(str)
    return pd.Series("", index=proposals.index, dtype=str)


def review_table(proposals: pd.DataFrame) -> pd.DataFrame:
    """The table a reviewer edits, most in need of review first.

    One row per proposal with REVIEW_COLUMNS: what the reviewer reads (text, a
    ``context`` string of description, section, list intro, parent bullet and level
    hint), the labels now in force (``current_theme``/``current_level``: the model's, a
    hand label or an earlier review) with confidences, where each comes from
    (``theme_source``/``level_source``; copied from ``label_source`` when the proposals
    have no per-field columns), ``reviewed`` (a reviewer has saved or confirmed either
    field), and the editable
    ``theme``, ``level`` and ``note`` columns initialised to the current labels and ''.
    Sorted by min(theme_confidence, level_confidence), missing confidence first.
    Pass proposals through :func:`apply_corrections` first so earlier reviews show."""
    df = normalise_label_columns(proposals)
    for col in ("doc_id", "actor", "unit", "page", "block_id", "text", "description", "section", "intro",
                "parent_id", "level_hint"):
        if col not in df.columns:
            df[col] = ""
        df[col] = df[col].map(_clean).astype(str)
    parent_text = dict(zip(df["proposal_id"].astype(str), df["text"]))
    sources = {f: field_source(df, f) for f in FIELDS}
    table = pd.DataFrame({
        "proposal_id": df["proposal_id"].astype(str),
        "doc_id": df["doc_id"],
        "actor": df["actor"],
        "unit": df["unit"],
        "page": pd.to_numeric(df["page"], errors="coerce").astype("Int64"),
        "block_id": df["block_id"],
        "text": df["text"],
        "context": [_context(r, parent_text) for r in df.to_dict("records")],
        "current_theme": df["theme"],
        "theme_confidence": df["theme_confidence"],
        "current_level": df["level"],
        "level_confidence": df["level_confidence"],
        "min_confidence": df[["theme_confidence", "level_confidence"]].min(axis=1, skipna=False),
        "needs_review": df["needs_review"],
        "theme_source": sources["theme"],
        "level_source": sources["level"],
        "reviewed": (sources["theme"] == "review") | (sources["level"] == "review"),
        "theme": df["theme"],
        "level": df["level"],
        "note": "",
    })
    table = table.sort_values("min_confidence", na_position="first", kind="stable")
    return table.reset_index(drop=True)[REVIEW_COLUMNS]


def changed_fields(edited: pd.DataFrame, note_col: str = "note") -> list[dict]:
    """The corrections ``edited`` implies: one dict per (proposal, field) whose edited
    value differs from ``current_<field>`` (no reviewer/timestamp yet)."""
    need = ["proposal_id", *FIELDS, *(f"current_{f}" for f in FIELDS)]
    missing = [c for c in need if c not in edited.columns]
    if missing:
        raise PipelineError(
            f"review table lacks column(s) {', '.join(missing)}; build it with review_table(proposals)"
        )
    rows = []
    for rec in edited.to_dict("records"):
        for field in FIELDS:
            old, new = _clean(rec[f"current_{field}"]), _clean(rec[field])
            if new != old:
                rows.append({
                    "proposal_id": _clean(rec["proposal_id"]), "field": field, "old": old, "new": new,
                    "note": _clean(rec.get(note_col, "")) if note_col else "",
                })
    return rows


def _rows_of(table: pd.DataFrame, proposal_id: str) -> pd.Index:
    """Index labels of the rows of ``table`` with ``proposal_id``; PipelineError (Swedish) if none."""
    pid = _clean(proposal_id)
    idx = table.index[table["proposal_id"].map(_clean) == pid]
    if not len(idx):
        raise PipelineError(f"förslaget '{pid}' finns inte i granskningstabellen; inget ändrades "
                            "(se kolumnen proposal_id för giltiga id:n)")
    return idx


def _check_new_labels(rows: list[dict]) -> None:
    """Swedish PipelineError for a label id outside the codebook, before anything is written."""
    cb = load_codebook()
    for r in rows:
        allowed = cb.ids(r["field"])
        name = "temat" if r["field"] == "theme" else "nivån"
        if not r["new"]:
            raise PipelineError(f"förslag {r['proposal_id']}: {name} saknas; välj ett värde först. Inget sparades")
        if r["new"] not in allowed:
            raise PipelineError(f"förslag {r['proposal_id']}: {name} '{r['new']}' finns inte i kodboken "
                                f"(giltiga: {', '.join(allowed)}); inget sparades")


def set_label(table: pd.DataFrame, proposal_id: str, theme: Optional[str] = None,
              level: Optional[str] = None, note: Optional[str] = None) -> None:
    """Edit one proposal of a :func:`review_table` in place (save with :func:`save_review`).

    An id that matches no row raises PipelineError, so a typo is never saved as
    "0 corrections"; a label outside the codebook raises too. Nothing is written."""
    idx = _rows_of(table, proposal_id)
    rows = [{"proposal_id": _clean(proposal_id), "field": f, "new": _clean(v)}
            for f, v in (("theme", theme), ("level", level)) if v is not None]
    _check_new_labels(rows)
    for r in rows:
        table.loc[idx, r["field"]] = r["new"]
    if note is not None:
        table.loc[idx, "note"] = _clean(note)


def _mark_saved(edited: pd.DataFrame, rows: list[dict]) -> None:
    """Make what was saved current in ``edited`` (so a repeated save is a no-op)."""
    saved = {(r["proposal_id"], r["field"]): r["new"] for r in rows}
    ids = edited["proposal_id"].map(_clean)
    for field in FIELDS:
        for idx, pid in ids.items():
            if (pid, field) in saved:
                edited.at[idx, f"current_{field}"] = saved[(pid, field)]
                for col, value in ((f"{field}_confidence", 1.0), ("label_source", "review"),
                                   (f"{field}_source", "review"), ("needs_review", False), ("reviewed", True)):
                    if col in edited.columns:
                        edited.at[idx, col] = value


def _append_review(rows: list[dict], reviewer: str, path: Optional[PathLike]) -> int:
    reviewer = _clean(reviewer)
    if not reviewer:
        raise PipelineError("ange granskare (reviewer=, ditt namn eller dina initialer); inget sparades")
    _check_new_labels(rows)
    now = utc_now()
    for r in rows:
        r.update(reviewer=reviewer, timestamp=now)
    return append_corrections(rows, path)


def save_review(
    edited: pd.DataFrame, reviewer: str, note_col: str = "note", path: Optional[PathLike] = None
) -> int:
    """Save a reviewer's edits of a :func:`review_table`: the one call reviewers need.

    Appends one correction per changed field (``old`` = ``current_<field>``, ``new`` =
    the edited ``theme``/``level``, the row's ``note_col`` as note) to the log (default
    ``labels/corrections.csv``), all with the same UTC timestamp. Nothing is written
    when nothing changed. Invalid ids raise PipelineError and nothing is written.
    After saving, ``edited`` is updated in place (``current_*`` = saved value,
    ``<field>_source`` = review, confidence 1.0, ``needs_review``
    False, ``reviewed`` True), so calling save_review again with the same table
    appends nothing. Returns rows appended. To pick rows by id use :func:`set_label`,
    which refuses an id that matches no row."""
    if not _clean(reviewer):
        raise PipelineError("ange granskare (reviewer=, ditt namn eller dina initialer); inget sparades")
    rows = changed_fields(edited, note_col)
    if not rows:
        log.info("inga ändrade etiketter; inget sparades")
        return 0
    n = _append_review(rows, reviewer, path)
    _mark_saved(edited, rows)
    return n


def confirm_review(
    edited: pd.DataFrame, proposal_ids, reviewer: str, note_col: str = "note", path: Optional[PathLike] = None
) -> int:
    """**Bekräfta**: save the labels shown for these proposals as reviewed.

    For each id and each field one correction is appended: ``old`` =
    ``current_<field>``, ``new`` = the table's ``theme``/``level`` (so an untouched card
    gives ``old = new``, a confirmation; an edited one saves the edit). An id that
    matches no row raises PipelineError and nothing is written. Returns rows appended."""
    if isinstance(proposal_ids, str):
        proposal_ids = [proposal_ids]
    rows = []
    for pid in proposal_ids:
        for idx in _rows_of(edited, pid)[:1]:
            rec = edited.loc[idx]
            for field in FIELDS:
                rows.append({"proposal_id": _clean(rec["proposal_id"]), "field": field,
                             "old": _clean(rec[f"current_{field}"]), "new": _clean(rec[field]),
                             "note": _clean(rec.get(note_col, "")) if note_col else ""})
    if not rows:
        return 0
    n = _append_review(rows, reviewer, path)
    _mark_saved(edited, rows)
    return n


def reviewed_count(table: pd.DataFrame) -> tuple[int, int]:
    """(reviewed, total) proposals of a :func:`review_table`, for "x av n granskade"."""
    return int(table["reviewed"].astype(bool).sum()), len(table)


def label_choices(field: str) -> list[tuple[str, str]]:
    """(display, id) pairs for a dropdown of a field: "id – name"."""
    cb = load_codebook()
    labels = cb.themes if field == "theme" else cb.levels if field == "level" else None
    if labels is None:
        raise ValueError(f"unknown label field {field!r} (expected theme or level)")
    return [(f"{lb.id} – {lb.name}", lb.id) for lb in labels]


__all__ = [
    "CORRECTIONS_COLUMNS", "REVIEW_COLUMNS", "append_corrections", "apply_corrections",
    "changed_fields", "confirm_review", "corrected_labels", "default_corrections_path", "field_source",
    "label_choices", "latest_corrections", "load_corrections", "lock_path", "normalise_label_columns",
    "review_table", "reviewed_count", "save_review", "set_label", "utc_now",
]
