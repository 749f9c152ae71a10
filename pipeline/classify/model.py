"""Theme and level models: one scikit-learn Pipeline per target, saved as one artifact.

:func:`build_model` gives an unfitted Pipeline: the feature ColumnTransformer of
:mod:`pipeline.classify.features` followed by :class:`LinearClassifier`, a
``LogisticRegression(class_weight="balanced")`` that is calibrated with
``CalibratedClassifierCV`` (sigmoid, 3 stratified folds, ``ensemble=False``) when every
class has at least :data:`MIN_PER_CLASS_FOR_CALIBRATION` examples, and used as is
(its own ``predict_proba``) otherwise; with a single class it predicts that class with
probability 1. The choice is made at fit time, so it also holds inside CV folds.

:class:`ProposalClassifier` holds both pipelines. Artifact layout (one folder,
``models/`` by default)::

    models/classifier.pkl    pickle (protocol 4) of {"theme": Pipeline, "level": Pipeline}
    models/metadata.json     what it was trained on, with which versions, CV scores

Both files are deterministic: the same labels, proposals and library versions give
the same bytes (no timestamps anywhere; the git history dates a model).
``metadata.json`` holds the sha256 of ``classifier.pkl``; loading checks it and
refuses a model built with another scikit-learn version or codebook version.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import pickle
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import sklearn
import yaml
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from threadpoolctl import threadpool_limits

from pipeline.classify.codebook import CODEBOOK_PATH
from pipeline.classify.features import CueCounts, context_tokens, lemma_tokens, prepare_input
from pipeline.errors import PipelineError
from pipeline.storage import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)

TARGETS = ("theme", "level")
ARTIFACT_FILE = "classifier.pkl"
METADATA_FILE = "metadata.json"
FORMAT_VERSION = 1
PICKLE_PROTOCOL = 4
RANDOM_STATE = 0

# Inverse regularisation of the logistic regression. TF-IDF rows have unit length and
# training sets are small (hundreds of proposals, a dozen classes): C=1 shrinks every
# probability towards uniform, C=10 lets a handful of clear examples count.
LR_C = 10.0
# Calibrate (sigmoid, 3 folds) only when every class has at least this many examples:
# with fewer, a fold sees one or two examples of a class and the calibration map is
# noise; plain LR probabilities are then the better estimate.
MIN_PER_CLASS_FOR_CALIBRATION = 10
CALIBRATION_FOLDS = 3

# Feature block weights. With a few hundred proposals from a dozen documents the
# n-gram blocks learn each document's wording; the codebook cue counts carry across
# documents, so they are weighted up, and the section/intro words (document-specific
# headings) down. Chosen by grouped CV on labels/ (theme macro-F1 0.513 -> 0.553,
# level 0.367 -> 0.674 against equal weights); see reports/evaluation.md.
FEATURE_WEIGHTS = {"words": 1.0, "chars": 1.0, "section": 0.5, "intro": 0.5, "level_hint": 1.0, "cues": 3.0}

RETRAIN_HINT = "run `make train` (python -m pipeline train)"


# ------------------------------------------------------------------- estimators


class LinearClassifier(BaseEstimator, ClassifierMixin):
    """Balanced logistic regression, calibrated where every class has enough examples."""

    def __init__(self, C: float = LR_C, min_per_class_for_calibration: int = MIN_PER_CLASS_FOR_CALIBRATION,
                 calibration_folds: int = CALIBRATION_FOLDS, random_state: int = RANDOM_STATE):
        self.C = C
        self.min_per_class_for_calibration = min_per_class_for_calibration
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def _lr(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight="balanced", max_iter=5000,
                                  solver="lbfgs", random_state=self.random_state)

    def fit(self, X, y):
        # One BLAS thread: the problems are small (threads only add contention, which
        # made fits 30x slower on a 2-core machine) and results do not depend on the
        # thread count.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(X, y)

    def _fit(self, X, y):
        y = np.asarray(y, dtype=object)
        classes, counts = np.unique(y, return_counts=True)
        self.classes_ = classes
        self.class_counts_ = {str(c): int(n) for c, n in zip(classes, counts)}
        if len(classes) == 1:
            self.estimator_ = None
            self.calibrated_ = False
            return self
        min_count = int(counts.min())
        self.calibrated_ = min_count >= max(self.min_per_class_for_calibration, self.calibration_folds)
        if self.calibrated_:
            cv = StratifiedKFold(n_splits=self.calibration_folds, shuffle=True, random_state=self.random_state)
            est = CalibratedClassifierCV(self._lr(), method="sigmoid", cv=cv, ensemble=False)
        else:
            est = self._lr()
        self.estimator_ = est.fit(X, y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        n = X.shape[0]
        if self.estimator_ is None:
            return np.ones((n, 1))
        with threadpool_limits(limits=1, user_api="blas"):
            # estimator_.classes_ is sorted like self.classes_ (both np.unique order).
            return self.estimator_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class StableTfidfVectorizer(TfidfVectorizer):
    """TfidfVectorizer whose pickle is the same in every process.

    scikit-learn caches ``id(self.stop_words)`` (a memory address) in
    ``_stop_words_id``; it is only a "checked already" marker, dropped here so that
    the same training data gives the same artifact bytes."""

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_stop_words_id", None)
        return state


def _word_tfidf(ngram_range=(1, 2)) -> TfidfVectorizer:
    return StableTfidfVectorizer(tokenizer=lemma_tokens, lowercase=False, token_pattern=None,
                           ngram_range=ngram_range, sublinear_tf=True)


def _context_tfidf() -> TfidfVectorizer:
    return StableTfidfVectorizer(tokenizer=context_tokens, lowercase=False, token_pattern=None,
                           ngram_range=(1, 1), sublinear_tf=True)


def build_features() -> ColumnTransformer:
    """The feature union over ``text, section, intro, level_hint`` (see features.py)."""
    return ColumnTransformer(
        [
            ("words", _word_tfidf(), "text"),
            ("chars", StableTfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True,
                                      sublinear_tf=True), "text"),
            ("section", _context_tfidf(), "section"),
            ("intro", _context_tfidf(), "intro"),
            ("level_hint", OneHotEncoder(handle_unknown="ignore"), ["level_hint"]),
            ("cues", CueCounts(fields=TARGETS), ["text", "section", "intro"]),
        ],
        remainder="drop",
        sparse_threshold=1.0,
        transformer_weights=FEATURE_WEIGHTS,
    )


def build_model(target: str) -> Pipeline:
    """An unfitted Pipeline for ``theme`` or ``level``; input is :func:`prepare_input`'s frame.

    Both targets use the same features (theme cues help the level and vice versa:
    penal-law cues point at ``stat``); only the labels differ."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r} (expected theme or level)")
    return Pipeline([("features", build_features()), ("clf", LinearClassifier())])


# ------------------------------------------------------------ grouped folds (CV)


def grouped_folds(groups, n_splits: int = 5) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
    """GroupKFold splits (no group in both train and test) and the number of folds used.

    With fewer groups than ``n_splits`` as many folds as groups are used; fewer than
    two groups give no folds (``[], 1``)."""
    groups = np.asarray(groups)
    n_groups = len(np.unique(groups))
    k = min(n_splits, n_groups)
    if k < 2:
        return [], k
    X = np.zeros((len(groups), 1))
    return list(GroupKFold(n_splits=k).split(X, groups=groups)), k


def cross_val_predict_grouped(df: pd.DataFrame, y, folds, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions and their confidence (top probability) over ``folds``."""
    X = prepare_input(df).reset_index(drop=True)
    y = np.asarray(y, dtype=object)
    pred = np.empty(len(y), dtype=object)
    conf = np.zeros(len(y), dtype=float)
    for train_idx, test_idx in folds:
        model = build_model(target).fit(X.iloc[train_idx], y[train_idx])
        proba = model.predict_proba(X.iloc[test_idx])
        classes = model.classes_
        pred[test_idx] = classes[np.argmax(proba, axis=1)]
        conf[test_idx] = proba.max(axis=1)
    return pred, conf


# ------------------------------------------------------------------- the artifact


def library_versions() -> dict:
    def dist(name: str) -> str:
        try:
            return importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            return ""

    from pipeline import __version__ as pipeline_version

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "spacy": dist("spacy"),
        "spacy-lookups-data": dist("spacy-lookups-data"),
        "pipeline": pipeline_version,
    }


def codebook_version(path: Path = CODEBOOK_PATH) -> int | str:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return data.get("version", "")


def _rows_sha256(frame: pd.DataFrame) -> str:
    """sha256 of the rows of ``frame`` sorted, as deterministic CSV text."""
    frame = frame.fillna("").astype(str)
    frame = frame.sort_values(list(frame.columns), kind="mergesort").reset_index(drop=True)
    text = frame.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _round(obj, ndigits: int = 4):
    if isinstance(obj, float):
        return round(obj, ndigits)
    if isinstance(obj, dict):
        return {k: _round(v, ndigits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v, ndigits) for v in obj]
    if isinstance(obj, np.generic):
        return _round(obj.item(), ndigits)
    return obj


class ProposalClassifier:
    """Theme and level models over a proposals DataFrame.

    ``fit(df, theme, level)`` takes any frame with a ``text`` column (``section``,
    ``intro``, ``level_hint`` used when present; ``proposal_id``/``doc_sha256``/
    ``doc_id`` only enter the metadata) and the two label sequences."""

    def __init__(self):
        self.models: dict[str, Pipeline] = {}
        self.metadata: dict = {}

    # ---- training and prediction

    def fit(self, df: pd.DataFrame, theme, level, cv_scores: Optional[dict] = None) -> "ProposalClassifier":
        theme = np.asarray(list(theme), dtype=object)
        level = np.asarray(list(level), dtype=object)
        if not (len(df) == len(theme) == len(level)):
            raise ValueError("df, theme and level must have the same length")
        if len(df) == 0:
            raise PipelineError("no labelled proposals to train on")
        X = prepare_input(df).reset_index(drop=True)
        self.models = {}
        for target, y in (("theme", theme), ("level", level)):
            log.info("training %s model on %d proposals (%d labels)", target, len(y), len(set(y)))
            self.models[target] = build_model(target).fit(X, y)
        self.metadata = self._metadata(df, theme, level, cv_scores)
        return self

    def _metadata(self, df, theme, level, cv_scores) -> dict:
        ids = pd.DataFrame({
            "proposal_id": df["proposal_id"].to_numpy() if "proposal_id" in df else "",
            "doc_sha256": df["doc_sha256"].to_numpy() if "doc_sha256" in df else "",
            "theme": theme,
            "level": level,
        })
        data = pd.concat([ids, prepare_input(df).reset_index(drop=True)], axis=1)
        targets = {}
        for target, model in self.models.items():
            clf = model.named_steps["clf"]
            targets[target] = {
                "labels": [str(c) for c in clf.classes_],
                "class_counts": clf.class_counts_,
                "calibrated": bool(clf.calibrated_),
            }
        meta = {
            "format_version": FORMAT_VERSION,
            "artifact": ARTIFACT_FILE,
            "n_examples": int(len(df)),
            "n_documents": int(df["doc_id"].nunique()) if "doc_id" in df else None,
            "labels_sha256": _rows_sha256(ids),
            "training_data_sha256": _rows_sha256(data),
            "codebook_version": codebook_version(),
            "versions": library_versions(),
            "targets": targets,
            "model": {
                "classifier": "LogisticRegression(class_weight=balanced)",
                "C": LR_C,
                "min_per_class_for_calibration": MIN_PER_CLASS_FOR_CALIBRATION,
                "calibration": f"CalibratedClassifierCV(sigmoid, {CALIBRATION_FOLDS} folds, ensemble=False)",
                "random_state": RANDOM_STATE,
            },
            "cv_scores": cv_scores,
        }
        return _round(meta)

    def _check_fitted(self) -> None:
        if set(self.models) != set(TARGETS):
            raise PipelineError(f"the classifier is not trained: {RETRAIN_HINT}")

    def predict_proba(self, df: pd.DataFrame, target: str) -> pd.DataFrame:
        """Class probabilities of ``target``, one column per label, index of ``df``."""
        self._check_fitted()
        model = self.models[target]
        X = prepare_input(df)
        if len(X) == 0:
            return pd.DataFrame(columns=[str(c) for c in model.classes_], index=df.index, dtype=float)
        proba = model.predict_proba(X)
        return pd.DataFrame(proba, columns=[str(c) for c in model.classes_], index=df.index)

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """``theme, theme_confidence, level, level_confidence`` (index of ``df``).

        The confidence is the probability of the predicted label."""
        out = pd.DataFrame(index=df.index)
        for target in TARGETS:
            proba = self.predict_proba(df, target)
            values = proba.to_numpy()
            if len(values):
                best = np.argmax(values, axis=1)
                out[target] = np.asarray(proba.columns, dtype=object)[best]
                out[f"{target}_confidence"] = values[np.arange(len(values)), best]
            else:
                out[target] = pd.Series(dtype=object)
                out[f"{target}_confidence"] = pd.Series(dtype=float)
        return out

    # ---- persistence

    def save(self, directory: Path) -> Path:
        """Write ``classifier.pkl`` and ``metadata.json`` into ``directory``."""
        self._check_fitted()
        directory = Path(directory)
        buf = io.BytesIO()
        pickle.dump({t: self.models[t] for t in TARGETS}, buf, protocol=PICKLE_PROTOCOL)
        data = buf.getvalue()
        meta = dict(self.metadata)
        meta["artifact_sha256"] = hashlib.sha256(data).hexdigest()
        atomic_write_bytes(directory / ARTIFACT_FILE, data)
        atomic_write_text(directory / METADATA_FILE,
                          json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        self.metadata = meta
        log.info("model written to %s (%s, %s)", directory, ARTIFACT_FILE, METADATA_FILE)
        return directory

    @staticmethod
    def exists(directory: Path) -> bool:
        directory = Path(directory)
        return (directory / ARTIFACT_FILE).is_file() and (directory / METADATA_FILE).is_file()

    @classmethod
    def load(cls, directory: Path) -> "ProposalClassifier":
        """Load a saved model; PipelineError if missing, damaged or built by another version."""
        directory = Path(directory)
        meta_path, art_path = directory / METADATA_FILE, directory / ARTIFACT_FILE
        if not cls.exists(directory):
            raise PipelineError(f"no trained model in {directory} ({ARTIFACT_FILE} + {METADATA_FILE}): {RETRAIN_HINT}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise PipelineError(f"{meta_path}: not valid JSON ({exc}): {RETRAIN_HINT}") from None
        versions = meta.get("versions") or {}
        built = versions.get("scikit-learn", "unknown")
        if built != sklearn.__version__:
            raise PipelineError(
                f"model built with scikit-learn {built}, this is {sklearn.__version__}: "
                f"{RETRAIN_HINT} to retrain"
            )
        if meta.get("format_version") != FORMAT_VERSION:
            raise PipelineError(f"{meta_path}: model format {meta.get('format_version')}, "
                                f"this is {FORMAT_VERSION}: {RETRAIN_HINT} to retrain")
        cb_version = codebook_version()
        if meta.get("codebook_version") != cb_version:
            raise PipelineError(f"model built with codebook version {meta.get('codebook_version')}, "
                                f"this is {cb_version}: {RETRAIN_HINT} to retrain")
        current = library_versions()
        for lib in ("numpy", "pandas", "spacy-lookups-data", "python"):
            if versions.get(lib) != current[lib]:
                log.warning("model built with %s %s, this is %s; predictions may differ (retrain with `make train`)",
                            lib, versions.get(lib), current[lib])
        data = art_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != meta.get("artifact_sha256"):
            raise PipelineError(f"{art_path} does not match the sha256 in {meta_path}: {RETRAIN_HINT}")
        try:
            models = pickle.loads(data)
        except Exception as exc:  # a damaged or foreign pickle
            raise PipelineError(f"{art_path}: cannot be loaded ({exc}): {RETRAIN_HINT}") from None
        obj = cls()
        obj.models = models
        obj.metadata = meta
        obj._check_fitted()
        return obj
