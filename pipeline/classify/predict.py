"""Label proposals with theme and level: ``python -m pipeline classify`` and ``make extract``.

Added columns: ``theme, theme_confidence, level, level_confidence, needs_review``
(and ``theme_source``, ``level_source`` in :func:`label_proposals`). The label is the
class-balanced model's choice; its confidence the calibrated chance that it is right
(see :mod:`pipeline.classify.model`); ``needs_review`` flags a row whose theme
confidence x level confidence is below the threshold chosen at training time
(``models/metadata.json``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd
import sklearn

from pipeline import config
from pipeline.classify.features import CONTEXT_COLUMNS, DOC_COLUMNS
from pipeline.classify.model import (DEFAULT_REVIEW_THRESHOLD, METADATA_FILE, TARGETS, ProposalClassifier,
                                     flag_for_review)
from pipeline.errors import PipelineError
from pipeline.storage import read_csv, write_csv

log = logging.getLogger(__name__)


LABEL_COLUMNS = ["theme", "theme_confidence", "level", "level_confidence", "needs_review"]
LABEL_DTYPES = {"theme": object, "theme_confidence": float, "level": object, "level_confidence": float,
                "needs_review": bool}  # as ProposalClassifier.predict gives them
SOURCE_COLUMNS = ["theme_source", "level_source"]  # hand | review | model | ''
OLD_COLUMNS = ["label_source"]  # replaced by SOURCE_COLUMNS


def model_frame(df: pd.DataFrame, text_col: str = "text",
                context_cols: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """The model's input frame from arbitrary columns.

    ``context_cols`` name the columns used as ``section``, ``intro`` and ``level_hint``,
    in that order; positions not given are empty. ``None`` uses columns of those
    names where present. Document columns (``actor``, ``title``, ``actor_level``,
    ``kind``, also as ``doc_<name>``) are passed on when the input has them."""
    if text_col not in df.columns:
        raise PipelineError(f"text column '{text_col}' not found; available columns: "
                            f"{', '.join(map(str, df.columns))}")
    out = pd.DataFrame(index=df.index)
    out["text"] = df[text_col].fillna("").astype(str)
    if context_cols is None:
        mapping = {c: c for c in CONTEXT_COLUMNS if c in df.columns}
    else:
        context_cols = list(context_cols)
        if len(context_cols) > len(CONTEXT_COLUMNS):
            raise PipelineError(f"at most {len(CONTEXT_COLUMNS)} context columns "
                                f"({', '.join(CONTEXT_COLUMNS)}), got {len(context_cols)}")
        missing = [c for c in context_cols if c not in df.columns]
        if missing:
            raise PipelineError(f"context column(s) {', '.join(missing)} not found; available columns: "
                                f"{', '.join(map(str, df.columns))}")
        mapping = dict(zip(CONTEXT_COLUMNS, context_cols))
    for target in CONTEXT_COLUMNS:
        src = mapping.get(target)
        out[target] = df[src].fillna("").astype(str) if src is not None else ""
    for col in DOC_COLUMNS:
        for name in (col, f"doc_{col}"):
            if name in df.columns and name != text_col:
                out[name] = df[name].fillna("").astype(str)
    return out


def classify_frame(df: pd.DataFrame, model: ProposalClassifier, text_col: str = "text",
                   context_cols: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """A copy of ``df`` with theme, theme_confidence, level, level_confidence, needs_review.

    See :func:`model_frame` for ``text_col`` and ``context_cols``. Existing columns of
    those names are replaced."""
    X = model_frame(df, text_col, context_cols)
    pred = model.predict(X)
    out = df.drop(columns=[c for c in LABEL_COLUMNS if c in df.columns]).copy()
    for col in LABEL_COLUMNS:
        out[col] = pred[col]
    return out


def classify_command(args) -> int:
    """``python -m pipeline classify --in CSV --out CSV [--text-col C] [--context-cols ...]``."""
    inp = Path(args.inp)
    if not inp.is_file():
        raise PipelineError(f"input file {inp} not found")
    df = read_csv(inp)
    model = ProposalClassifier.load(args.models)
    out = classify_frame(df, model, text_col=args.text_col, context_cols=args.context_cols)
    write_csv(out, Path(args.out))
    log.info("classified %d rows of %s -> %s (%d need review)", len(out), inp, args.out,
             int(out["needs_review"].sum()))
    return 0


def _hand_labels(proposals: pd.DataFrame, labels_dir: Optional[Path]) -> pd.DataFrame:
    """``proposal_id, theme, level`` of the hand labels that belong to ``proposals``
    (placed by their text anchor when ``proposals`` has ``doc_sha256``); empty when
    there is no labels file."""
    from pipeline.classify.labels import place_labels, read_labels

    labels_dir = Path(labels_dir if labels_dir is not None else config.LABELS_DIR)
    empty = pd.DataFrame(columns=["proposal_id", "theme", "level"])
    if not (labels_dir / "labels.csv").is_file():
        return empty
    labels = read_labels(labels_dir)
    if "doc_sha256" in proposals.columns and "text" in proposals.columns:
        labels, _ = place_labels(labels, proposals[["proposal_id", "doc_sha256", "text"]].astype(str))
    labels = labels[labels["proposal_id"].isin(set(proposals["proposal_id"].astype(str)))]
    return labels[["proposal_id", "theme", "level"]].drop_duplicates("proposal_id")


def _oof(models_dir: Path) -> pd.DataFrame:
    from pipeline.classify.train import OOF_FILE

    path = Path(models_dir) / OOF_FILE
    if not path.is_file():
        return pd.DataFrame(columns=["proposal_id"])
    return read_csv(path).drop_duplicates("proposal_id")


class ModelLabels:
    """The trained model's labels, one document at a time, remembered in the store.

    The labels of a document's proposals are a pure function of the model (its
    ``metadata.json``, which holds the artifact's sha256 and the review threshold), the
    classification code (``pipeline/classify/``, scikit-learn's version) and the model
    input of those proposals. :meth:`predict` keys each document on all three and keeps
    its labels as ``<cache>/classify/<key[:2]>/<key>.labels.parquet``: an unchanged
    rerun reads them and never loads the model, a new document costs its own
    prediction, a retrained model labels everything anew. Without ``cache_root`` nothing
    is remembered."""

    def __init__(self, models_dir: Path, cache_root: Optional[Path] = None):
        self.models_dir = Path(models_dir)
        self.root = Path(cache_root) / "classify" if cache_root is not None else None
        self._model: Optional[ProposalClassifier] = None
        self.exists = ProposalClassifier.exists(self.models_dir)
        self.meta: dict = {}
        self.version = ""
        self.n_predicted = 0  # documents labelled by the model in this process (not from the store)
        if self.exists:
            meta_bytes = (self.models_dir / METADATA_FILE).read_bytes()
            try:
                self.meta = json.loads(meta_bytes)
            except ValueError:
                self.meta = {}  # load() names the problem when the model is needed
            self.version = _hash_parts(meta_bytes, *_classify_sources(), sklearn.__version__.encode())

    @property
    def model(self) -> ProposalClassifier:
        if self._model is None:
            self._model = ProposalClassifier.load(self.models_dir)
        return self._model

    def review_threshold(self) -> float:
        """The needs_review threshold on the row confidence (:func:`flag_for_review`)."""
        if self._model is not None:
            return self._model.review_threshold
        return float(self.meta.get("review_threshold", DEFAULT_REVIEW_THRESHOLD))

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.labels.parquet"

    def predict(self, X: pd.DataFrame, doc_ids: Sequence[str]) -> pd.DataFrame:
        """The model's LABEL_COLUMNS for the rows of ``X`` (a :func:`model_frame`),
        grouped by ``doc_ids`` (one per row) for the store."""
        if self.root is None:
            self.n_predicted += len(set(doc_ids))
            return self.model.predict(X)
        import pyarrow as pa
        import pyarrow.parquet as pq

        from pipeline.storage import csv_text, write_parquet

        doc_ids = np.asarray(doc_ids, dtype=object)
        parts: list[tuple[np.ndarray, pd.DataFrame]] = []  # (row positions, their labels)
        todo: list[tuple[str, np.ndarray]] = []
        for rows in pd.Series(np.arange(len(doc_ids))).groupby(doc_ids, sort=False).indices.values():
            key = _hash_parts(self.version.encode(), csv_text(X.iloc[rows].reset_index(drop=True)).encode("utf-8"))
            path = self._path(key)
            if path.is_file():
                got = pq.read_table(path).to_pandas().astype(LABEL_DTYPES)
                if len(got) == len(rows):
                    parts.append((rows, got))
                    continue
            todo.append((key, rows))
        if todo:
            pred = self.model.predict(X.iloc[np.concatenate([r for _, r in todo])]).reset_index(drop=True)
            self.n_predicted += len(todo)
            start = 0
            for key, rows in todo:
                part = pred.iloc[start:start + len(rows)].reset_index(drop=True)
                start += len(rows)
                write_parquet(pa.Table.from_pandas(part, preserve_index=False).replace_schema_metadata(None),
                              self._path(key))
                parts.append((rows, part))
        out = pd.DataFrame({c: pd.Series(dtype=t) for c, t in LABEL_DTYPES.items()})
        if parts:
            order = np.argsort(np.concatenate([r for r, _ in parts]), kind="stable")
            out = pd.concat([p for _, p in parts], ignore_index=True).iloc[order]
        out.index = X.index
        return out[LABEL_COLUMNS]


def _hash_parts(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()


def _classify_sources() -> list[bytes]:
    """The classification code and codebook whose change changes a prediction."""
    root = Path(__file__).resolve().parent
    return [f.name.encode() + b"\0" + f.read_bytes()
            for f in sorted([*root.glob("*.py"), *root.glob("*.yaml")])]


def label_proposals(proposals_df: pd.DataFrame, models_dir: Path,
                    labels_dir: Optional[Path] = None, model_labels: Optional[ModelLabels] = None) -> pd.DataFrame:
    """Proposals with the label columns and per-field sources ``theme_source``,
    ``level_source`` (``hand``, ``model`` or ``''``). Used by ``make extract``.

    Hand labels (``labels_dir/labels.csv``, default ``labels/``) win: a labelled
    proposal shows its hand label with source ``hand`` (placed by its text anchor when
    ``proposals_df`` has ``doc_sha256``). For proposals the model was
    trained on, the confidences are the out-of-fold ones of ``models/oof_predictions.csv``
    (never the in-sample ones), and ``needs_review`` is set when the out-of-fold label
    differs from the hand label or its confidence is below the model's threshold.
    Reviewer corrections are applied later, over all of this
    (:func:`pipeline.classify.corrections.apply_corrections`).

    The model's own labels come from ``model_labels`` (default: a :class:`ModelLabels`
    of ``models_dir`` that remembers nothing). Document columns (``title``,
    ``actor_level``, ``kind``) are model input when ``proposals_df`` has them.

    Without a trained model in ``models_dir`` it warns; the label columns are empty
    (``''``) except for hand labels. A model that exists but cannot be used (other
    scikit-learn version, damaged) raises PipelineError telling to retrain."""
    model_labels = model_labels or ModelLabels(models_dir)
    base = proposals_df.drop(columns=[c for c in LABEL_COLUMNS + SOURCE_COLUMNS + OLD_COLUMNS
                                      if c in proposals_df.columns])
    hand = _hand_labels(base, labels_dir).set_index("proposal_id")
    pid = base["proposal_id"].astype(str) if "proposal_id" in base.columns else pd.Series("", index=base.index)
    has_model = model_labels.exists
    if not has_model:
        log.warning("no trained model in %s: theme and level left empty except for hand labels (run `make train`)",
                    models_dir)
        out = base.copy()
        for col in LABEL_COLUMNS + SOURCE_COLUMNS:
            out[col] = ""
    else:
        doc_ids = base["doc_id"].astype(str).to_numpy() if "doc_id" in base else np.full(len(base), "")
        pred = model_labels.predict(model_frame(base), doc_ids)
        out = base.copy()
        for col in LABEL_COLUMNS:
            out[col] = pred[col]
        for target in TARGETS:
            out[f"{target}_source"] = "model"
        oof = _oof(models_dir).set_index("proposal_id")
        trained = pid.isin(oof.index)
        if trained.any():
            rows = oof.loc[pid[trained]]
            conf = {}
            for target in TARGETS:
                conf[target] = pd.to_numeric(rows[f"{target}_oof_confidence"], errors="coerce").to_numpy()
                out.loc[trained, target] = rows[f"{target}_oof"].to_numpy()
                out.loc[trained, f"{target}_confidence"] = conf[target]
            out.loc[trained, "needs_review"] = flag_for_review(conf, model_labels.review_threshold())
    labelled = pid.isin(hand.index)
    if labelled.any():
        rows = hand.loc[pid[labelled]]
        disagree = pd.Series(False, index=out.index[labelled])
        for target in TARGETS:
            if has_model:
                disagree |= out.loc[labelled, target].astype(str).to_numpy() != rows[target].to_numpy()
            out.loc[labelled, target] = rows[target].to_numpy()
            out.loc[labelled, f"{target}_source"] = "hand"
        if has_model:
            out.loc[labelled, "needs_review"] = (out.loc[labelled, "needs_review"].astype(bool)
                                                 | disagree.to_numpy())
    log.debug("labelled %d proposals: %d hand label(s), %d by the model", len(out), int(labelled.sum()),
              int((~labelled).sum()) if has_model else 0)
    return out
