"""Label proposals with theme and level: ``python -m pipeline classify`` and ``make extract``.

Added columns: ``theme, theme_confidence, level, level_confidence, needs_review``
(and ``label_source`` in :func:`label_proposals`). A confidence is the model's
probability of the label it chose.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional, Sequence

import pandas as pd

from pipeline.classify.features import CONTEXT_COLUMNS
from pipeline.classify.model import ProposalClassifier
from pipeline.errors import PipelineError
from pipeline.storage import read_csv, write_csv

log = logging.getLogger(__name__)

# A proposal needs review when the theme or the level confidence is below this.
# Why 0.5: above it the model gives its label better-than-even odds, i.e. more
# probability than all other labels together (with twelve themes a top probability
# of 0.5 is a clear winner, not a coin toss); below it the label is more likely wrong
# than right. Where every class has enough examples the probabilities are calibrated
# (CalibratedClassifierCV), so 0.5 reads as "about half of such labels are right";
# reports/evaluation.md shows, from grouped CV, the accuracy above and below this
# threshold and the share flagged, so the choice can be checked against the data.
NEEDS_REVIEW_THRESHOLD = 0.5

LABEL_COLUMNS = ["theme", "theme_confidence", "level", "level_confidence", "needs_review"]


def model_frame(df: pd.DataFrame, text_col: str = "text",
                context_cols: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """The model's ``text, section, intro, level_hint`` frame from arbitrary columns.

    ``context_cols`` name the columns used as ``section``, ``intro`` and ``level_hint``,
    in that order; positions not given are empty. ``None`` uses columns of those
    names where present."""
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
    return out


def classify_frame(df: pd.DataFrame, model: ProposalClassifier, text_col: str = "text",
                   context_cols: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """A copy of ``df`` with theme, theme_confidence, level, level_confidence, needs_review.

    See :func:`model_frame` for ``text_col`` and ``context_cols``. Existing columns of
    those names are replaced."""
    X = model_frame(df, text_col, context_cols)
    pred = model.predict(X)
    out = df.drop(columns=[c for c in LABEL_COLUMNS if c in df.columns]).copy()
    for col in ("theme", "theme_confidence", "level", "level_confidence"):
        out[col] = pred[col]
    out["needs_review"] = ((pred["theme_confidence"] < NEEDS_REVIEW_THRESHOLD)
                           | (pred["level_confidence"] < NEEDS_REVIEW_THRESHOLD)).astype(bool)
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
    log.info("classified %d rows of %s -> %s (%d need review, confidence < %.2f)",
             len(out), inp, args.out, int(out["needs_review"].sum()), NEEDS_REVIEW_THRESHOLD)
    return 0


def label_proposals(proposals_df: pd.DataFrame, models_dir: Path) -> pd.DataFrame:
    """Proposals with theme/level columns and ``label_source`` (``model`` or ``''``).

    Used by ``make extract``. Without a trained model in ``models_dir`` it warns and
    leaves the label columns empty (``''``) with ``label_source`` ``''``. A model that
    exists but cannot be used (other scikit-learn version, damaged) raises
    PipelineError telling to retrain."""
    if not ProposalClassifier.exists(models_dir):
        log.warning("no trained model in %s: theme and level left empty (run `make train`)", models_dir)
        out = proposals_df.drop(columns=[c for c in LABEL_COLUMNS + ["label_source"]
                                         if c in proposals_df.columns]).copy()
        for col in LABEL_COLUMNS + ["label_source"]:
            out[col] = ""
        return out
    model = ProposalClassifier.load(models_dir)
    out = classify_frame(proposals_df.drop(columns=["label_source"], errors="ignore"), model)
    out["label_source"] = "model"
    return out
