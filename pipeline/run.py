"""``make extract``: raw documents -> processed/ tables.

Per document, in a worker: ingest -> segment -> proposals, each stage's output kept in
the content-addressed store (:mod:`pipeline.store`). Then, over the assembled table:
classify -> reviewer corrections. This module only wires them; the tables are written
atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pipeline import config
from pipeline.errors import PipelineError
from pipeline.extract.metadata import is_metadata_file
from pipeline.storage import read_csv

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


def label(proposals: pd.DataFrame) -> pd.DataFrame:
    """Model labels, then reviewer corrections over them."""
    from pipeline.classify.predict import label_proposals

    out = label_proposals(proposals, config.MODELS_DIR)
    try:
        from pipeline.classify.corrections import apply_corrections
    except ImportError:
        return out
    path = config.LABELS_DIR / "corrections.csv"
    if path.exists():
        out, _orphans = apply_corrections(out, path)
    return out


def run_extract(raw_dir: Path, out_dir: Path, jobs: int | None = None, strict: bool = False, classify: bool = True,
                executor: str = "local", scheduler: str | None = None, cache: Path | None = None) -> int:
    """Extract every file of ``raw_dir`` into ``out_dir`` (CSV + Parquet per table).

    Each document's chain (ingest, segment, proposals) runs in a worker, ``jobs`` at a
    time (default: the usable cores) on a local process pool, or one task per document
    on ``dask.distributed`` (``executor="dask"``; ``scheduler`` an address, else a
    LocalCluster). Stage outputs go to the store (``cache``, default
    :func:`pipeline.store.default_cache_dir`); the tables are assembled from it."""
    from pipeline.store import Store, run_documents, write_tables

    paths = list_inputs(Path(raw_dir))
    if not paths:
        raise PipelineError(f"no documents in {raw_dir}")
    store = Store(cache)
    log.info("extracting %d documents from %s (store %s)", len(paths), raw_dir, store.root)
    done = run_documents(paths, store, jobs=jobs, executor=executor, scheduler=scheduler)
    out_dir = Path(out_dir)
    counts = write_tables(done, store, out_dir, label=label if classify else None)
    docs = read_csv(out_dir / "documents.csv")
    n_err = int((docs["status"] == "error").sum())
    log.info(
        "wrote %s: %d documents (%d failed), %d blocks, %d sentences, %d proposals",
        out_dir, len(docs), n_err, counts["blocks"], counts["sentences"], counts["proposals"],
    )
    for row in docs[docs["status"] == "error"].itertuples():
        log.warning("failed: %s: %s", row.source_file, row.error)
    if n_err == len(docs) or (strict and n_err):
        return 1
    return 0
