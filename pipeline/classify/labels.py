"""Stand-off hand labels (``labels/labels.csv``): reading, text anchors, placing.

A label names its proposal by ``proposal_id`` and ``doc_sha256`` and holds no text.
The proposal_id hashes the normalised proposal text, so a repair that fixes one word
changes it. The ``text_simhash`` anchor column lets such a label follow its proposal:

* :func:`text_simhash` is a 64-bit simhash of the normalised text over character
  shingles (hex, 16 digits); texts that differ by a word have nearby hashes (a few
  bits apart), unrelated texts are about 32 bits apart.
* :func:`place_labels` joins labels to extracted proposals by id; a label whose id is
  gone is moved to the same document's proposal with the nearest simhash when that
  one is within :data:`MAX_DISTANCE` bits and at least :data:`MIN_MARGIN` bits nearer
  than the runner-up (and carries no label of its own). Labels that cannot be placed
  are *orphans*: training fails naming them unless told to allow them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.classify.codebook import load_codebook
from pipeline.errors import PipelineError
from pipeline.storage import read_csv

log = logging.getLogger(__name__)

LABELS_FILE = "labels.csv"
LABEL_COLUMNS = ["proposal_id", "doc_sha256", "theme", "level"]
FILE_COLUMNS = ["proposal_id", "doc_sha256", "theme", "level", "annotator", "note", "text_simhash"]
ANCHOR_COLUMN = "text_simhash"

SHINGLE = 4  # characters per shingle
MAX_DISTANCE = 16  # bits: at most this far from the label's anchor
MIN_MARGIN = 6  # bits: the nearest must beat the runner-up by at least this

_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)


# ------------------------------------------------------------------------ anchors


def normalise_text(text: str) -> str:
    """NFKC, lower case, single spaces, no punctuation at the edges."""
    text = unicodedata.normalize("NFKC", str(text or "")).lower()
    return _EDGE_PUNCT.sub("", " ".join(text.split()))


def text_simhash(text: str) -> str:
    """64-bit simhash (16 hex digits) of the normalised ``text`` over character
    shingles of :data:`SHINGLE` characters, each hashed with blake2b (8 bytes).

    >>> text_simhash("Fler poliser i Malmö.") == text_simhash("  fler poliser i malmö ")
    True
    """
    norm = normalise_text(text)
    if len(norm) < SHINGLE:
        norm = norm.ljust(SHINGLE)
    shingles: dict[str, int] = {}
    for i in range(len(norm) - SHINGLE + 1):
        sh = norm[i:i + SHINGLE]
        shingles[sh] = shingles.get(sh, 0) + 1
    hashes = np.array([int.from_bytes(hashlib.blake2b(sh.encode("utf-8"), digest_size=8).digest(), "big")
                       for sh in shingles], dtype=np.uint64)
    counts = np.array(list(shingles.values()), dtype=np.int64)
    bits = ((hashes[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).astype(np.int64)
    weights = (counts[:, None] * (2 * bits - 1)).sum(axis=0)
    value = sum(1 << b for b in range(64) if weights[b] > 0)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex simhashes."""
    return bin(int(a, 16) ^ int(b, 16)).count("1")


# ------------------------------------------------------------------------ reading


def read_labels(labels_dir: Path) -> pd.DataFrame:
    """``proposal_id, doc_sha256, theme, level, text_simhash`` from ``labels_dir/labels.csv``,
    validated (``text_simhash`` '' when the column is absent).

    A theme or level outside the codebook, or an empty proposal_id/doc_sha256, raises
    PipelineError naming the file and the row (header = row 1). Identical duplicate
    rows count once; a proposal labelled differently in two rows (e.g. two annotators
    disagreeing) is left out with one warning until a reviewer settles it. Sorted by
    proposal_id."""
    path = Path(labels_dir) / LABELS_FILE
    if not path.is_file():
        raise PipelineError(f"no labels: {path} not found (label proposals first)")
    raw = read_csv(path)
    missing = [c for c in LABEL_COLUMNS if c not in raw.columns]
    if missing:
        raise PipelineError(f"{path}: missing column(s) {', '.join(missing)} "
                            f"(expected {', '.join(FILE_COLUMNS)})")
    if ANCHOR_COLUMN not in raw.columns:
        raw[ANCHOR_COLUMN] = ""
    df = raw[LABEL_COLUMNS + [ANCHOR_COLUMN]].apply(lambda s: s.str.strip())
    codebook = load_codebook()
    codebook.validate(df["theme"], "theme", str(path))
    codebook.validate(df["level"], "level", str(path))
    for col in ("proposal_id", "doc_sha256"):
        empty = np.flatnonzero(df[col].to_numpy() == "")
        if len(empty):
            raise PipelineError(f"{path}, row {int(empty[0]) + 2}: empty {col}")
    bad = np.flatnonzero([bool(v) and not re.fullmatch(r"[0-9a-f]{16}", v) for v in df[ANCHOR_COLUMN]])
    if len(bad):
        raise PipelineError(f"{path}, row {int(bad[0]) + 2}: {ANCHOR_COLUMN} must be 16 hex digits "
                            f"(pipeline.classify.labels.text_simhash), got '{df[ANCHOR_COLUMN].iloc[bad[0]]}'")
    df = df.drop_duplicates(subset=LABEL_COLUMNS)
    conflict = df["proposal_id"].duplicated(keep=False)
    if conflict.any():
        ids = sorted(df.loc[conflict, "proposal_id"].unique())
        log.warning("%s: %d proposal(s) have conflicting labels and are left out of training: %s",
                    path, len(ids), ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else ""))
        df = df[~conflict]
    return df.sort_values(["proposal_id", "doc_sha256"], kind="mergesort").reset_index(drop=True)


# ------------------------------------------------------------------------ placing


def place_labels(labels: pd.DataFrame, proposals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(placed, orphans)``: labels given the ``proposal_id`` they now belong to.

    ``labels``: ``proposal_id, doc_sha256, ...`` and optionally ``text_simhash``;
    ``proposals``: ``proposal_id, doc_sha256, text``. A label whose id is among its
    document's proposals stays. Else it moves to the proposal of the same document
    whose :func:`text_simhash` is nearest to its anchor, when that is within
    :data:`MAX_DISTANCE` bits, at least :data:`MIN_MARGIN` bits nearer than the
    runner-up, and not labelled itself; ``placed`` then has the new id and the old one
    in ``moved_from``. Everything else is in ``orphans`` with a ``reason``."""
    labels = labels.copy()
    if ANCHOR_COLUMN not in labels.columns:
        labels[ANCHOR_COLUMN] = ""
    have = set(zip(proposals["proposal_id"].astype(str), proposals["doc_sha256"].astype(str)))
    key = list(zip(labels["proposal_id"].astype(str), labels["doc_sha256"].astype(str)))
    found = np.array([k in have for k in key], dtype=bool)
    placed = labels[found].assign(moved_from="")
    taken = set(placed["proposal_id"])
    moved, orphans = [], []
    by_doc = {sha: grp for sha, grp in proposals.groupby(proposals["doc_sha256"].astype(str), sort=False)}
    hashes: dict[str, list[str]] = {}
    for row in labels[~found].to_dict("records"):
        anchor = row.get(ANCHOR_COLUMN, "") or ""
        cands = by_doc.get(row["doc_sha256"])
        if not anchor:
            orphans.append({**row, "reason": "proposal_id not extracted and no text_simhash anchor"})
            continue
        if cands is None or cands.empty:
            orphans.append({**row, "reason": "no proposals extracted from its document"})
            continue
        sha = row["doc_sha256"]
        if sha not in hashes:
            hashes[sha] = [text_simhash(t) for t in cands["text"]]
        dist = np.array([hamming(anchor, h) for h in hashes[sha]])
        order = np.argsort(dist, kind="stable")
        best = int(order[0])
        runner = int(dist[order[1]]) if len(order) > 1 else 64
        pid = str(cands["proposal_id"].iloc[best])
        if dist[best] > MAX_DISTANCE:
            reason = f"nearest proposal {pid} is {int(dist[best])} bits away (max {MAX_DISTANCE})"
        elif runner - dist[best] < MIN_MARGIN:
            reason = (f"ambiguous: nearest {pid} at {int(dist[best])} bits, runner-up at {runner} "
                      f"(margin < {MIN_MARGIN})")
        elif pid in taken:
            reason = f"nearest proposal {pid} has a label of its own"
        else:
            taken.add(pid)
            moved.append({**row, "proposal_id": pid, "moved_from": row["proposal_id"]})
            continue
        orphans.append({**row, "reason": reason})
    if moved:
        log.info("%d label(s) followed their proposal to a new proposal_id (text changed slightly): %s",
                 len(moved), ", ".join(f"{m['moved_from']} -> {m['proposal_id']}" for m in moved[:5])
                 + (" ..." if len(moved) > 5 else ""))
        placed = pd.concat([placed, pd.DataFrame(moved)], ignore_index=True)
    orphan_df = pd.DataFrame(orphans, columns=list(labels.columns) + ["reason"])
    return placed.reset_index(drop=True), orphan_df


def orphan_message(orphans: pd.DataFrame, limit: int = 10) -> str:
    """One line naming the orphan labels (id, document, reason)."""
    items = [f"{r['proposal_id']} (doc {str(r['doc_sha256'])[:12]}: {r['reason']})"
             for r in orphans.head(limit).to_dict("records")]
    more = f" and {len(orphans) - limit} more" if len(orphans) > limit else ""
    return (f"{len(orphans)} label(s) cannot be placed on an extracted proposal: " + "; ".join(items) + more
            + " - fix labels/labels.csv, or train with --allow-orphans to skip them")
