"""``make extract``: raw documents -> processed/ tables, stage by stage.

ingest (parallel, one document per task) -> segment -> proposals -> classify ->
reviewer corrections. Each stage is a function over records; this module only wires
them and writes the tables atomically.
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from pipeline import config
from pipeline.errors import PipelineError
from pipeline.extract.ingest import ingest_file
from pipeline.outputs import enrich
from pipeline.records import Block, Document, DocumentResult, Proposal, Sentence, to_frame
from pipeline.storage import write_csv

log = logging.getLogger(__name__)


def list_inputs(raw_dir: Path) -> list[Path]:
    """Every file in the input folder (sorted), except dotfiles and corpus metadata."""
    if not raw_dir.is_dir():
        raise PipelineError(f"input folder {raw_dir} does not exist")
    return sorted(
        p for p in raw_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name not in config.RAW_METADATA_FILES
    )


def ingest_all(paths: list[Path], jobs: int = 1) -> list[DocumentResult]:
    """Ingest documents, ``jobs`` at a time; results in input order."""
    bar = dict(total=len(paths), unit="doc", desc="ingest", disable=None)
    if jobs <= 1 or len(paths) <= 1:
        return [ingest_file(p) for p in tqdm(paths, **bar)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(tqdm(pool.map(ingest_file, paths), **bar))


def _unique_doc_ids(results: list[DocumentResult]) -> None:
    """Two files with the same stem (a.pdf, a.html) get distinct doc_ids."""
    seen: dict[str, int] = {}
    for r in results:
        base = r.document.doc_id
        if base in seen:
            seen[base] += 1
            new = f"{base}-{r.document.format}" if seen[base] == 1 else f"{base}-{seen[base]}"
            r.document.doc_id = new
            for b in r.blocks + r.dropped:
                b.doc_id = new
        else:
            seen[base] = 0


def extract_tables(paths: list[Path], jobs: int = 1, classify: bool = True) -> dict[str, pd.DataFrame]:
    """All stages over the given files; returns the tables by name."""
    results = ingest_all(paths, jobs)
    _unique_doc_ids(results)
    documents: list[Document] = [r.document for r in results]
    blocks: list[Block] = [b for r in results for b in r.blocks]

    from pipeline.segment import segment_blocks

    sentences: list[Sentence] = segment_blocks(blocks) if blocks else []

    from pipeline.proposals import find_proposals, load_metadata

    meta = load_metadata([p.parent for p in paths])
    proposals: list[Proposal] = find_proposals(documents, blocks, sentences, meta)
    tables = {
        "documents": to_frame(documents, Document),
        "blocks": to_frame(blocks, Block),
        "sentences": to_frame(sentences, Sentence),
        "proposals": to_frame(proposals, Proposal),
    }
    if classify:
        tables["proposals"] = label(tables["proposals"])
    return tables


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


def extract_proposals(paths: list[Path]) -> pd.DataFrame:
    """Proposals (unlabelled) of the given files, with each document's sha256.

    Training uses this to rebuild the text of stand-off labels."""
    tables = extract_tables(paths, classify=False)
    sha = dict(zip(tables["documents"]["doc_id"], tables["documents"]["sha256"]))
    props = tables["proposals"].copy()
    props["doc_sha256"] = props["doc_id"].map(sha)
    return props


def run_extract(raw_dir: Path, out_dir: Path, jobs: int = 1, strict: bool = False, classify: bool = True) -> int:
    paths = list_inputs(Path(raw_dir))
    if not paths:
        raise PipelineError(f"no documents in {raw_dir}")
    log.info("extracting %d documents from %s", len(paths), raw_dir)
    tables = extract_tables(paths, jobs=jobs, classify=classify)
    tables = enrich(tables)  # doc_title/doc_year/doc_kind/doc_actor, theme_name, typed columns
    out_dir = Path(out_dir)
    for name, df in tables.items():
        write_csv(df, out_dir / f"{name}.csv")
    docs = tables["documents"]
    n_err = int((docs["status"] == "error").sum())
    log.info(
        "wrote %s: %d documents (%d failed), %d blocks, %d sentences, %d proposals",
        out_dir, len(docs), n_err, len(tables["blocks"]), len(tables["sentences"]), len(tables["proposals"]),
    )
    for row in docs[docs["status"] == "error"].itertuples():
        log.warning("failed: %s: %s", row.source_file, row.error)
    if n_err == len(docs) or (strict and n_err):
        return 1
    return 0
