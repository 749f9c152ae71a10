"""Swedish text features for the theme and level classifiers (scikit-learn transformers).

The model input is a plain DataFrame with the columns of :data:`INPUT_COLUMNS`:

``text``        the proposal itself;
``section``     its heading path ("Trygghet > Förslag på nationell nivå");
``intro``       the list intro it hangs under ("Socialdemokraterna i Malmö vill:");
``level_hint``  a level the intro/heading names (``kommun``/``region``/``stat``/``''``).

:func:`prepare_input` builds that frame from any proposals table (missing columns
become ``''``; an empty ``level_hint`` is filled from the intro, then the section, with
:meth:`Codebook.level_hint`), so training and prediction see exactly the same input.

Feature blocks (assembled into one ColumnTransformer by :mod:`pipeline.classify.model`):

* **lemma word n-grams (1-2)** over ``text``: spaCy's Swedish tokenizer
  (``spacy.blank("sv")``) and the Swedish lemma lookup table of spacy-lookups-data, so
  "straffen", "straffet" and "straff" are one feature. Loaded once per process.
* **char_wb n-grams (3-5)** over the lower-cased ``text``: catch compounds, which
  Swedish writes as one word ("vapenbrott", "hedersrelaterat", "skyddade boenden"):
  "vapen" inside "vapenbrottslighet" still fires.
* **context**: ``section`` and ``intro`` as their own lemma TF-IDF blocks (a word in a
  heading is not the same evidence as a word in the proposal), ``level_hint`` one-hot.
* **codebook cue counts** (:class:`CueCounts`): for every theme and every level, how
  many of its codebook cue words match the text, and (as separate columns) how many
  match the context. A cue matches at a word start, so "straff" matches "straffen" and
  "straffskärpning", as the codebook says.

Why the cue counts help where data is thin: an n-gram feature only generalises to
proposals that contain the *same* word, so a label with five training examples is
learned from five small vocabularies. The cue-count column of a label pools all of
its codebook cues into one feature; the model needs only a few examples to learn that
"cues of ``narkotika`` present" means ``narkotika``, and that weight then carries
over to proposals using cue words no training example used ("cannabis" after seeing
only "narkotika" and "missbruk"). With plenty of data the n-grams take over and the
cue weight shrinks to what the cues are actually worth; the cues are read from
codebook.yaml at fit time and stored in the fitted model, so a pickled model does not
change when the codebook is edited later. Because our training documents are few, the
cue block is weighted up (x3, ``FEATURE_WEIGHTS`` in :mod:`pipeline.classify.model`).

Everything here is module-level (functions and classes, no lambdas), so fitted models
pickle; the spaCy objects are caches outside the estimators and are never pickled.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.classify.codebook import load_codebook

log = logging.getLogger(__name__)

INPUT_COLUMNS = ("text", "section", "intro", "level_hint")
CONTEXT_COLUMNS = ("section", "intro", "level_hint")

# Token stood in for an empty context field, so a context column that is empty in
# every training row still gives the vectoriser a vocabulary (one constant feature).
EMPTY_CONTEXT_TOKEN = "<tom>"

_WORD_RE = re.compile(r"\w", re.UNICODE)


# --------------------------------------------------------------------------- input


def prepare_input(df: pd.DataFrame) -> pd.DataFrame:
    """The model input: ``text, section, intro, level_hint`` as strings ('' if missing).

    An empty ``level_hint`` is taken from the intro, else the section, using the
    codebook's level hints; the index of ``df`` is kept."""
    out = pd.DataFrame(index=df.index)
    for col in INPUT_COLUMNS:
        if col in df.columns:
            out[col] = df[col].fillna("").astype(str)
        else:
            out[col] = ""
    codebook = load_codebook()
    hints = []
    for hint, intro, section in zip(out["level_hint"], out["intro"], out["section"]):
        hint = hint.strip()
        if not hint:
            hint = codebook.level_hint(intro) or codebook.level_hint(section)
        hints.append(hint)
    out["level_hint"] = hints
    return out


# -------------------------------------------------------------------- lemmatiser


@lru_cache(maxsize=1)
def _nlp():
    import spacy

    return spacy.blank("sv")


@lru_cache(maxsize=1)
def _lemma_table():
    from spacy.lookups import load_lookups

    log.debug("loading the Swedish lemma lookup table (spacy-lookups-data)")
    return load_lookups("sv", ["lemma_lookup"]).get_table("lemma_lookup")


@lru_cache(maxsize=65536)
def _lemmas(text: str) -> tuple[str, ...]:
    table = _lemma_table()
    out = []
    for tok in _nlp().tokenizer(text):
        if not _WORD_RE.search(tok.text):
            continue  # punctuation, bullets, dashes
        low = tok.text.lower()
        if low.isdigit():
            out.append("<tal>")
            continue
        out.append(table.get(low, low))
    return tuple(out)


def lemma_tokens(text: str) -> list[str]:
    """Lower-cased lemmas of the word tokens of ``text`` (numbers become ``<tal>``).

    >>> lemma_tokens("Skärp straffen för vapenbrott!")
    ['skärpa', 'straff', 'föra', 'vapenbrott']
    """
    return list(_lemmas(text or ""))


def context_tokens(text: str) -> list[str]:
    """Lemmas of a context field; an empty field is the single token ``<tom>``."""
    toks = list(_lemmas(text or ""))
    return toks or [EMPTY_CONTEXT_TOKEN]


# ----------------------------------------------------------------------- cue words


def _cue_pattern(cues) -> re.Pattern | None:
    """One regex matching any cue at a word start ("straff" matches "straffen")."""
    if not cues:
        return None
    alts = []
    for cue in sorted(set(cues), key=lambda c: (-len(c), c)):
        parts = [re.escape(p) for p in cue.lower().split()]
        alts.append(r"\s+".join(parts))
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + ")", re.UNICODE)


@lru_cache(maxsize=64)
def _compiled(cue_table: tuple) -> tuple:
    return tuple((label, _cue_pattern(cues)) for label, cues in cue_table)


def codebook_cues(field: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``((label, cues), ...)`` of a field (``theme`` or ``level``), codebook order."""
    cb = load_codebook()
    labels = cb.themes if field == "theme" else cb.levels if field == "level" else None
    if labels is None:
        raise ValueError(f"unknown label field {field!r} (expected theme or level)")
    return tuple((lab.id, tuple(lab.cues)) for lab in labels)


def cue_match_counts(texts, cue_table) -> np.ndarray:
    """Matrix (n texts x n labels) of cue matches; ``cue_table`` as from :func:`codebook_cues`."""
    compiled = _compiled(tuple(cue_table))
    out = np.zeros((len(texts), len(compiled)), dtype=np.float64)
    for i, text in enumerate(texts):
        low = " ".join(str(text or "").lower().split())
        if not low:
            continue
        for j, (_, pat) in enumerate(compiled):
            if pat is not None:
                out[i, j] = len(pat.findall(low))
    return out


class CueCounts(BaseEstimator, TransformerMixin):
    """Codebook cue-word matches per label, as ``log1p(count)`` features.

    Input: a DataFrame with ``text``, ``section`` and ``intro``. Output columns: for each
    field in ``fields`` and each of its labels, matches in the text, then (a second
    block) matches in section + intro. The cue lists are copied from the codebook at
    fit time (``cue_tables_``), so the fitted transformer is self-contained."""

    def __init__(self, fields=("theme", "level")):
        self.fields = fields

    def fit(self, X, y=None):
        self.cue_tables_ = tuple(codebook_cues(f) for f in self.fields)
        return self

    def transform(self, X):
        X = _as_frame(X)
        text = X["text"].tolist()
        context = [f"{s} {i}" for s, i in zip(X["section"].tolist(), X["intro"].tolist())]
        blocks = []
        for table in self.cue_tables_:
            blocks.append(cue_match_counts(text, table))
            blocks.append(cue_match_counts(context, table))
        return np.log1p(np.hstack(blocks))

    def get_feature_names_out(self, input_features=None):
        names = []
        for field, table in zip(self.fields, self.cue_tables_):
            for where in ("text", "context"):
                names.extend(f"cue_{field}_{where}_{label}" for label, _ in table)
        return np.asarray(names, dtype=object)


def _as_frame(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X.fillna("").astype(str)
    raise TypeError("CueCounts expects a DataFrame with text, section and intro columns")
