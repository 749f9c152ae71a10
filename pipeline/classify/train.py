"""``python -m pipeline train``: labels/ + the labelled documents -> models/.

Steps:

1. :func:`training_labels` reads ``labels/labels.csv`` (stand-off: proposal_id,
   doc_sha256, theme, level, annotator, note, text_simhash; see
   :mod:`pipeline.classify.labels`) and checks every id against the codebook.
2. :func:`labelled_proposals` is the only glue to extraction: it finds the labelled
   documents by sha256 among the files of ``raw/`` and the shared corpora, gets their
   extracted proposals from one injectable ``extract(paths) -> DataFrame`` (default
   :func:`pipeline.store.cached_proposals`: proposals + doc_sha256 + document columns),
   places the labels on them (a label whose proposal text changed slightly follows its
   ``text_simhash`` anchor; one that cannot be placed stops training, naming it, unless
   ``--allow-orphans``) and joins.
3. :func:`train_frame` works on that plain DataFrame: grouped, stratified CV by
   document (models tuned inside the training folds) gives the CV scores in the
   metadata and ``models/oof_predictions.csv``; then both models are fitted on
   everything and saved (``models/classifier.pkl`` + ``models/metadata.json``, see
   :mod:`pipeline.classify.model`).

Reviewer corrections (``labels/corrections.csv``) take precedence over the hand
labels: :func:`corrected_labels` merges them, and training uses the merged labels.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable, Optional

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from pipeline import config
from pipeline.classify.labels import (ANCHOR_COLUMN, LABEL_COLUMNS, LABELS_FILE, orphan_message,  # noqa: F401
                                      place_labels, read_labels)
from pipeline.classify.model import (CV_FOLDS, TARGETS, ProposalClassifier, cross_val_oof, groups_of,  # noqa: F401
                                     outer_folds)
from pipeline.errors import PipelineError
from pipeline.storage import read_csv, sha256_file, write_csv

log = logging.getLogger(__name__)

OOF_FILE = "oof_predictions.csv"
OOF_COLUMNS = ["proposal_id", "doc_sha256", "theme_oof", "theme_oof_confidence", "level_oof",
               "level_oof_confidence"]


# ------------------------------------------------------------------------ labels


def training_labels(labels_dir: Path) -> pd.DataFrame:
    """The validated labels of ``labels_dir/labels.csv``: see :func:`pipeline.classify.labels.read_labels`."""
    return read_labels(labels_dir)


def corrected_labels(labels_dir: Path, processed_dir: Optional[Path] = None) -> Optional[pd.DataFrame]:
    """Hand labels with reviewer corrections over them (same columns as
    :func:`training_labels`), or None when ``labels/corrections.csv`` holds none.

    The latest correction per proposal and field wins. A corrected proposal that has
    no hand label takes its document hash, and the field the reviewer did not
    correct, from the extracted tables in ``processed_dir`` (its document and the
    label ``make extract`` gave it); one found in neither is skipped with a warning."""
    from pipeline.classify.corrections import corrected_labels as reviewer_labels

    path = Path(labels_dir) / "corrections.csv"
    if not path.exists():
        return None
    base = training_labels(labels_dir)
    processed_dir = Path(processed_dir or config.PROCESSED_DIR)
    extracted = pd.DataFrame(columns=["proposal_id", "doc_sha256", "theme", "level"])
    props_csv, docs_csv = processed_dir / "proposals.csv", processed_dir / "documents.csv"
    if props_csv.exists() and docs_csv.exists():
        props, docs = read_csv(props_csv), read_csv(docs_csv)
        props = props.assign(doc_sha256=props["doc_id"].map(dict(zip(docs["doc_id"], docs["sha256"]))))
        extracted = props[["proposal_id", "doc_sha256", "theme", "level"]]
    # Fallback for uncorrected fields: hand labels first, else what extract labelled.
    fallback = pd.concat([extracted[["proposal_id", "theme", "level"]], base[["proposal_id", "theme", "level"]]])
    corr = reviewer_labels(path, fallback=fallback)
    if corr.empty:
        return None
    sha = dict(zip(extracted["proposal_id"], extracted["doc_sha256"]))
    sha.update(zip(base["proposal_id"], base["doc_sha256"]))
    corr = corr.assign(doc_sha256=corr["proposal_id"].map(sha).fillna(""))
    unknown = (corr["doc_sha256"] == "") | (corr["theme"] == "") | (corr["level"] == "")
    if unknown.any():
        log.warning("%d corrected proposal(s) skipped for training: not in labels/ nor in %s",
                    int(unknown.sum()), props_csv)
        corr = corr[~unknown]
    corr = corr.assign(**{ANCHOR_COLUMN: corr["proposal_id"].map(dict(zip(base["proposal_id"], base[ANCHOR_COLUMN])))
                          .fillna("")})
    merged = pd.concat([base[~base["proposal_id"].isin(corr["proposal_id"])], corr[LABEL_COLUMNS + [ANCHOR_COLUMN]]])
    log.info("%d reviewer correction(s) applied to the training labels", len(corr))
    return merged.sort_values(["proposal_id", "doc_sha256"], kind="mergesort").reset_index(drop=True)


# -------------------------------------------------------- glue to the extraction


def document_dirs() -> list[Path]:
    """Where labelled documents are looked for (read at call time: tests patch config):
    ``raw/``, the shared real corpus and the shared web corpus."""
    return [Path(config.RAW_DIR), Path(config.REAL_CORPUS_DIR), Path(config.SHARED_DIR) / "corpus" / "web"]


def find_documents(shas: Iterable[str], dirs: Iterable[Path]) -> dict[str, Path]:
    """``{sha256: path}`` for the wanted hashes among the files under ``dirs``.

    Hidden files, raw/'s metadata files and the web corpus' README/CSV files are
    skipped; the first path (sorted) wins."""
    wanted = set(shas)
    found: dict[str, Path] = {}
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            log.debug("document folder %s not found, skipped", d)
            continue
        for path in sorted(p for p in d.rglob("*") if p.is_file()):
            rel = path.relative_to(d)
            if any(part.startswith((".", "_")) for part in rel.parts) or path.name in config.RAW_METADATA_FILES:
                continue
            if path.suffix.lower() in (".md", ".csv", ".yaml", ".yml", ".json"):
                continue
            sha = sha256_file(path)
            if sha in wanted and sha not in found:
                found[sha] = path
    return found


def _default_extractor() -> Callable[[list[Path]], pd.DataFrame]:
    """The extraction tables of the given files: ``pipeline.store.cached_proposals``."""
    try:
        from pipeline.store import cached_proposals
    except ImportError as exc:
        raise PipelineError(f"proposal extraction tables are not available ({exc})") from None
    return cached_proposals


def labelled_proposals(labels: pd.DataFrame, dirs: Optional[Iterable[Path]] = None,
                       extract: Optional[Callable[[list[Path]], pd.DataFrame]] = None,
                       allow_orphans: bool = False) -> pd.DataFrame:
    """Proposals of the labelled documents joined with ``labels``.

    ``extract(paths) -> DataFrame`` (proposal columns + doc_sha256, document columns
    when it has them) defaults to :func:`_default_extractor`; ``dirs`` to
    :func:`document_dirs`. Labels whose document is not found are skipped with one
    warning (the document is not available here). Labels are placed with
    :func:`pipeline.classify.labels.place_labels`; orphans raise PipelineError naming
    them, or with ``allow_orphans`` are skipped with a warning. Sorted by (doc_sha256,
    proposal_id); a moved label keeps its old id in ``moved_from``."""
    dirs = document_dirs() if dirs is None else list(dirs)
    shas = sorted(labels["doc_sha256"].unique())
    found = find_documents(shas, dirs)
    absent = [s for s in shas if s not in found]
    if absent:
        n = int(labels["doc_sha256"].isin(absent).sum())
        log.warning("%d label(s) skipped: their %d document(s) are not in %s (sha256 %s)", n, len(absent),
                    " or ".join(str(d) for d in dirs),
                    ", ".join(s[:12] for s in absent[:5]) + (" ..." if len(absent) > 5 else ""))
    labels = labels[labels["doc_sha256"].isin(found)]
    if labels.empty:
        raise PipelineError("none of the labelled documents was found: nothing to train on")
    paths = [found[s] for s in sorted(found)]
    extract = extract or _default_extractor()
    proposals = extract(paths)
    if "doc_sha256" not in proposals.columns:
        raise PipelineError("extracted proposals have no doc_sha256 column")
    proposals = proposals.drop(columns=[c for c in ("theme", "level") if c in proposals.columns])
    if proposals.duplicated(["proposal_id", "doc_sha256"]).any():
        raise PipelineError("the extracted proposals repeat a proposal_id within a document: "
                            "labels cannot be joined")
    placed, orphans = place_labels(labels, proposals)
    if len(orphans):
        if not allow_orphans:
            raise PipelineError(orphan_message(orphans))
        log.warning("skipped (--allow-orphans): %s", orphan_message(orphans))
    keep = [c for c in LABEL_COLUMNS + ["moved_from"] if c in placed.columns]
    merged = placed[keep].merge(proposals, on=["proposal_id", "doc_sha256"], how="inner", validate="one_to_one")
    merged = merged.sort_values(["doc_sha256", "proposal_id"], kind="mergesort").reset_index(drop=True)
    log.info("%d labelled proposals from %d documents", len(merged), merged["doc_sha256"].nunique())
    return merged


# ------------------------------------------------------------------------ training


def _macro_f1(y, pred) -> float:
    return float(f1_score(y, pred, labels=sorted(set(y)), average="macro", zero_division=0))


def cv_summary(frame: pd.DataFrame, oof: dict, folds: list) -> dict:
    """Accuracy and macro-F1 (pooled and per fold) of the out-of-fold predictions."""
    scores: dict = {"cv": f"StratifiedGroupKFold by document, {len(folds)} folds, "
                          "hyper-parameters tuned inside the training folds", "n_folds": len(folds)}
    for target in TARGETS:
        y, pred = oof[target]["y"], oof[target]["pred"]
        scores[target] = {
            "accuracy": float(accuracy_score(y, pred)),
            "macro_f1": _macro_f1(y, pred),
            "macro_f1_per_fold": [_macro_f1(y[te], pred[te]) for _, te in folds],
            "macro_f1_text_only": _macro_f1(y, oof[target]["pred_text"]),
        }
        log.info("grouped CV %s: accuracy %.3f, macro-F1 %.3f (text only %.3f)", target,
                 scores[target]["accuracy"], scores[target]["macro_f1"], scores[target]["macro_f1_text_only"])
    return scores


def oof_table(frame: pd.DataFrame, oof: dict) -> pd.DataFrame:
    """``models/oof_predictions.csv``: the out-of-fold label and confidence per proposal."""
    out = pd.DataFrame({
        "proposal_id": frame["proposal_id"].astype(str) if "proposal_id" in frame else "",
        "doc_sha256": frame["doc_sha256"].astype(str) if "doc_sha256" in frame else "",
    })
    for target in TARGETS:
        out[f"{target}_oof"] = oof[target]["pred"]
        out[f"{target}_oof_confidence"] = np.round(oof[target]["confidence"].astype(float), 4)
    return out[OOF_COLUMNS].sort_values(["doc_sha256", "proposal_id"], kind="mergesort").reset_index(drop=True)


def train_frame(frame: pd.DataFrame, models_dir: Path, n_splits: int = CV_FOLDS) -> ProposalClassifier:
    """Grouped CV (scores + ``oof_predictions.csv``), then both models on all of
    ``frame``, saved to ``models_dir``.

    ``frame`` needs ``text``, ``theme``, ``level`` and ``doc_id`` (or ``doc_sha256``);
    the other model inputs and ``proposal_id`` are used when present."""
    frame = frame.reset_index(drop=True)
    folds = outer_folds(frame, n_splits)
    cv_scores, oof = None, None
    if not folds:
        log.warning("only one document: no grouped cross-validation scores, no out-of-fold predictions")
    else:
        if len(folds) < n_splits:
            log.warning("only %d documents: %d grouped folds instead of %d", len(folds), len(folds), n_splits)
        oof = cross_val_oof(frame, folds)
        cv_scores = cv_summary(frame, oof, folds)
    clf = ProposalClassifier().fit(frame, frame["theme"].astype(str), frame["level"].astype(str),
                                   cv_scores=cv_scores, groups=groups_of(frame))
    clf.save(models_dir)
    path = Path(models_dir) / OOF_FILE
    if oof is not None:
        write_csv(oof_table(frame, oof), path)
        log.info("out-of-fold predictions written to %s", path)
    elif path.exists():
        path.unlink()  # stale: from another training set
    return clf


def train_command(args) -> int:
    """``python -m pipeline train [--labels DIR] [--models DIR] [--allow-orphans]``."""
    labels = corrected_labels(args.labels, args.processed)
    if labels is None:
        labels = training_labels(args.labels)
    frame = labelled_proposals(labels, allow_orphans=bool(getattr(args, "allow_orphans", False)))
    train_frame(frame, args.models)
    return 0
