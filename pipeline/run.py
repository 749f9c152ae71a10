"""``make extract``: raw documents -> processed/ tables.

Per document, in a worker: ingest -> segment -> proposals, each stage's output kept in
the content-addressed store (:mod:`pipeline.store`). Then, over the assembled table:
classify -> reviewer corrections. This module only wires them; the tables are written
atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import config
from pipeline.errors import PipelineError
from pipeline.extract.metadata import is_metadata_file
from pipeline.storage import read_csv

if TYPE_CHECKING:  # pandas is imported where tables are built: an up-to-date rerun never needs it
    import pandas as pd

log = logging.getLogger(__name__)


def list_inputs(raw_dir: Path) -> list[Path]:
    """Every file in the input folder (sorted), except dotfiles and metadata files
    (documents.yaml, ``*.meta.yaml`` sidecars)."""
    if not raw_dir.is_dir():
        raise PipelineError(f"input folder {raw_dir} does not exist")
    return sorted(
        p for p in raw_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name not in config.RAW_METADATA_FILES
        and not is_metadata_file(p)
    )


class Labeller:
    """Labels proposals a part at a time (see :func:`pipeline.store.write_tables`): the
    model's labels (remembered per document in the store, keyed by the model's hash),
    hand labels over them, then reviewer corrections over both. :meth:`close` warns once
    about corrections that matched no proposal of any part."""

    def __init__(self, models_dir: Path | None = None, labels_dir: Path | None = None, cache_root: Path | None = None):
        from pipeline.classify.predict import ModelLabels

        self.models_dir = Path(models_dir or config.MODELS_DIR)
        self.labels_dir = Path(labels_dir or config.LABELS_DIR)
        self.model_labels = ModelLabels(self.models_dir, cache_root)
        self.corrections = self.labels_dir / "corrections.csv"
        self.log = None  # the corrections log as read at the start, for close()
        if self.corrections.exists():
            from pipeline.classify.corrections import load_corrections

            self.log = load_corrections(self.corrections)
        self.wanted = set(self.log["proposal_id"].astype(str)) if self.log is not None else set()
        self.applied: set[str] = set()  # proposal_ids of the log found among the proposals so far
        self.n_rows = 0

    def __call__(self, proposals: pd.DataFrame) -> pd.DataFrame:
        from pipeline.classify.corrections import apply_corrections
        from pipeline.classify.predict import label_proposals

        out = label_proposals(proposals, self.models_dir, self.labels_dir, model_labels=self.model_labels)
        self.n_rows += len(out)
        if self.log is not None:
            out, _ = apply_corrections(out, self.corrections, warn_orphans=False)
            self.applied |= self.wanted.intersection(out["proposal_id"].astype(str))
        return out

    def close(self) -> None:
        if self.model_labels.exists:
            log.info("labelled %d proposals; the model labelled %d document(s), the others came from the store",
                     self.n_rows, self.model_labels.n_predicted)
        if self.log is not None:
            orphans = self.log[~self.log["proposal_id"].isin(self.applied)]
            if len(orphans):
                log.warning("%d correction(s) in %s refer to %d proposal_id(s) not in the proposals; "
                            "they were not applied (first: %s)", len(orphans), self.corrections,
                            orphans["proposal_id"].nunique(), orphans["proposal_id"].iloc[0])


def run_extract(raw_dir: Path, out_dir: Path, jobs: int | None = None, strict: bool = False, classify: bool = True,
                executor: str = "local", scheduler: str | None = None, cache: Path | None = None) -> int:
    """Extract every file of ``raw_dir`` into ``out_dir`` (CSV + Parquet per table).

    Each document's chain (ingest, segment, proposals) runs in a worker, ``jobs`` at a
    time (default: the usable cores) on a local process pool, or one task per document
    on ``dask.distributed`` (``executor="dask"``; ``scheduler`` an address, else a
    LocalCluster). Stage outputs go to the store (``cache``, default
    :func:`pipeline.store.default_cache_dir`); the tables are assembled from it."""
    from pipeline.manifest import fingerprint, up_to_date, write_manifest
    from pipeline.store import TABLES, Store, run_documents, write_tables

    paths = list_inputs(Path(raw_dir))
    if not paths:
        raise PipelineError(f"no documents in {raw_dir}")
    store = Store(cache)
    log.info("extracting %d documents from %s (store %s)", len(paths), raw_dir, store.root)
    done = run_documents(paths, store, jobs=jobs, executor=executor, scheduler=scheduler)
    out_dir = Path(out_dir)
    fp = fingerprint(done, store, classify, config.MODELS_DIR, config.LABELS_DIR)
    summary = up_to_date(out_dir, fp)
    verb = "kept"
    if summary is not None:
        log.info("%s is up to date (same inputs, code, model and labels): nothing to write", out_dir)
    else:
        verb = "wrote"
        labeller = Labeller(cache_root=store.root) if classify else None
        counts = write_tables(done, store, out_dir, label=labeller)
        if labeller is not None:
            labeller.close()
        docs = read_csv(out_dir / "documents.csv")
        failed = docs[docs["status"] == "error"]
        summary = {"documents": len(docs), **counts,
                   "failed": [[str(r.source_file), str(r.error)] for r in failed.itertuples()]}
        write_manifest(out_dir, fp, [f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")], summary)
    n_err = len(summary["failed"])
    log.info(
        "%s %s: %d documents (%d failed), %d blocks, %d sentences, %d proposals",
        verb, out_dir, summary["documents"], n_err, summary["blocks"], summary["sentences"], summary["proposals"],
    )
    for source_file, error in summary["failed"]:
        log.warning("failed: %s: %s", source_file, error)
    if n_err == summary["documents"] or (strict and n_err):
        return 1
    return 0
