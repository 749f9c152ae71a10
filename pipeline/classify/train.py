"""``python -m pipeline train``: labels/ + the labelled documents -> models/.

Steps:

1. :func:`training_labels` reads ``labels/labels.csv`` (stand-off: proposal_id,
   doc_sha256, theme, level, annotator, note) and checks every id against the codebook.
2. :func:`labelled_proposals` is the only glue to extraction: it finds the labelled
   documents by sha256 among the files of ``raw/`` and the shared real corpus, runs
   ``pipeline.run.extract_proposals`` on them and inner-joins the labels on
   ``(proposal_id, doc_sha256)``.
3. :func:`train_frame` works on that plain DataFrame: grouped CV by ``doc_id`` for the
   CV scores in the metadata, then both models fitted on everything and saved to one
   folder (``models/classifier.pkl`` + ``models/metadata.json``, see
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
from pipeline.classify.codebook import load_codebook
from pipeline.classify.model import (TARGETS, ProposalClassifier, cross_val_predict_grouped,
                                     grouped_folds)
from pipeline.errors import PipelineError
from pipeline.storage import read_csv, sha256_file

log = logging.getLogger(__name__)

LABELS_FILE = "labels.csv"
LABEL_COLUMNS = ["proposal_id", "doc_sha256", "theme", "level"]
CV_FOLDS = 5


# ------------------------------------------------------------------------ labels


def training_labels(labels_dir: Path) -> pd.DataFrame:
    """``proposal_id, doc_sha256, theme, level`` from ``labels_dir/labels.csv``, validated.

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
                            f"(expected {', '.join(LABEL_COLUMNS)}, annotator, note)")
    df = raw[LABEL_COLUMNS].apply(lambda s: s.str.strip())
    codebook = load_codebook()
    codebook.validate(df["theme"], "theme", str(path))
    codebook.validate(df["level"], "level", str(path))
    for col in ("proposal_id", "doc_sha256"):
        empty = np.flatnonzero(df[col].to_numpy() == "")
        if len(empty):
            raise PipelineError(f"{path}, row {int(empty[0]) + 2}: empty {col}")
    df = df.drop_duplicates()
    conflict = df["proposal_id"].duplicated(keep=False)
    if conflict.any():
        ids = sorted(df.loc[conflict, "proposal_id"].unique())
        log.warning("%s: %d proposal(s) have conflicting labels and are left out of training: %s",
                    path, len(ids), ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else ""))
        df = df[~conflict]
    return df.sort_values(["proposal_id", "doc_sha256"], kind="mergesort").reset_index(drop=True)


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
    merged = pd.concat([base[~base["proposal_id"].isin(corr["proposal_id"])], corr[LABEL_COLUMNS]])
    log.info("%d reviewer correction(s) applied to the training labels", len(corr))
    return merged.sort_values(["proposal_id", "doc_sha256"], kind="mergesort").reset_index(drop=True)


# -------------------------------------------------------- glue to the extraction


def document_dirs() -> list[Path]:
    """Where labelled documents are looked for (read at call time: tests patch config)."""
    return [Path(config.RAW_DIR), Path(config.REAL_CORPUS_DIR)]


def find_documents(shas: Iterable[str], dirs: Iterable[Path]) -> dict[str, Path]:
    """``{sha256: path}`` for the wanted hashes among the files under ``dirs``.

    Hidden files and raw/'s metadata files are skipped; the first path (sorted) wins."""
    wanted = set(shas)
    found: dict[str, Path] = {}
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            log.debug("document folder %s not found, skipped", d)
            continue
        for path in sorted(p for p in d.rglob("*") if p.is_file()):
            rel = path.relative_to(d)
            if any(part.startswith(".") for part in rel.parts) or path.name in config.RAW_METADATA_FILES:
                continue
            sha = sha256_file(path)
            if sha in wanted and sha not in found:
                found[sha] = path
    return found


def _default_extractor() -> Callable[[list[Path]], pd.DataFrame]:
    try:
        from pipeline.store import cached_proposals
    except ImportError as exc:
        raise PipelineError(f"proposal extraction is not available ({exc})") from None
    return cached_proposals


def labelled_proposals(labels: pd.DataFrame, dirs: Optional[Iterable[Path]] = None,
                       extract: Optional[Callable[[list[Path]], pd.DataFrame]] = None) -> pd.DataFrame:
    """Proposals of the labelled documents inner-joined with ``labels``.

    ``extract(paths) -> DataFrame`` (proposal columns + doc_sha256) defaults to
    ``pipeline.run.extract_proposals``; ``dirs`` to :func:`document_dirs`. Labels whose
    document is not found, and labels whose proposal_id the extraction no longer
    yields, are skipped with one warning each. Sorted by (doc_sha256, proposal_id)."""
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
    try:
        merged = labels[LABEL_COLUMNS].merge(proposals, on=["proposal_id", "doc_sha256"], how="inner",
                                             validate="one_to_one")
    except pd.errors.MergeError:
        raise PipelineError("the extracted proposals repeat a proposal_id within a document: "
                            "labels cannot be joined") from None
    gone = len(labels) - len(merged)
    if gone:
        have = set(zip(merged["proposal_id"], merged["doc_sha256"]))
        lost = sorted(p for p, s in zip(labels["proposal_id"], labels["doc_sha256"]) if (p, s) not in have)
        log.warning("%d label(s) skipped: their proposal_id no longer appears in the extracted proposals "
                    "(extraction changed?): %s", gone, ", ".join(lost[:10]) + (" ..." if len(lost) > 10 else ""))
    merged = merged.sort_values(["doc_sha256", "proposal_id"], kind="mergesort").reset_index(drop=True)
    log.info("%d labelled proposals from %d documents", len(merged), merged["doc_sha256"].nunique())
    return merged


# ------------------------------------------------------------------------ training


def groups_of(frame: pd.DataFrame) -> np.ndarray:
    """CV groups: the document (``doc_id``, else ``doc_sha256``)."""
    for col in ("doc_id", "doc_sha256"):
        if col in frame.columns:
            return frame[col].astype(str).to_numpy()
    raise PipelineError("training data has neither doc_id nor doc_sha256: cannot group by document")


def grouped_cv_scores(frame: pd.DataFrame, n_splits: int = CV_FOLDS) -> Optional[dict]:
    """Grouped (by document) CV accuracy and macro-F1 of both targets, or None (< 2 documents)."""
    folds, k = grouped_folds(groups_of(frame), n_splits)
    if not folds:
        log.warning("only one document: no grouped cross-validation scores")
        return None
    if k < n_splits:
        log.warning("only %d documents: %d grouped folds instead of %d", k, k, n_splits)
    scores: dict = {"cv": f"GroupKFold by document, {k} folds", "n_folds": k}
    for target in TARGETS:
        y = frame[target].astype(str).to_numpy()
        pred, _ = cross_val_predict_grouped(frame, y, folds, target)
        per_fold = [float(f1_score(y[te], pred[te], labels=sorted(set(y[te])), average="macro", zero_division=0))
                    for _, te in folds]
        scores[target] = {
            "accuracy": float(accuracy_score(y, pred)),
            "macro_f1": float(f1_score(y, pred, labels=sorted(set(y)), average="macro", zero_division=0)),
            "macro_f1_per_fold": per_fold,
        }
        log.info("grouped CV %s: accuracy %.3f, macro-F1 %.3f", target,
                 scores[target]["accuracy"], scores[target]["macro_f1"])
    return scores


def train_frame(frame: pd.DataFrame, models_dir: Path, n_splits: int = CV_FOLDS) -> ProposalClassifier:
    """Grouped CV scores, then both models on all of ``frame``, saved to ``models_dir``.

    ``frame`` needs ``text``, ``theme``, ``level`` and ``doc_id`` (or ``doc_sha256``);
    ``section``, ``intro``, ``level_hint``, ``proposal_id`` are used when present."""
    frame = frame.reset_index(drop=True)
    cv_scores = grouped_cv_scores(frame, n_splits)
    clf = ProposalClassifier().fit(frame, frame["theme"].astype(str), frame["level"].astype(str),
                                   cv_scores=cv_scores)
    clf.save(models_dir)
    return clf


def train_command(args) -> int:
    """``python -m pipeline train [--labels DIR] [--models DIR]`` (--processed is not used:
    the labelled documents are re-extracted, so labels always meet current proposals)."""
    labels = corrected_labels(args.labels, args.processed)
    if labels is None:
        labels = training_labels(args.labels)
    frame = labelled_proposals(labels)
    train_frame(frame, args.models)
    return 0
