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
* **codebook cue words** (:class:`CueWords`): one 0/1 column per theme cue word in the
  text, so the model can weigh "polis" and "park" differently.

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

import json
import logging
import re
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.classify.codebook import load_codebook

log = logging.getLogger(__name__)

INPUT_COLUMNS = ("text", "section", "intro", "level_hint", "actor", "title", "actor_level", "kind")
CONTEXT_COLUMNS = ("section", "intro", "level_hint")
# Document-level columns: who wrote the document and what kind it is. In a proposals
# frame joined with documents.csv they may carry a ``doc_`` prefix (``doc_actor``
# beside the proposal's own ``actor``); both are read.
DOC_COLUMNS = ("actor", "title", "actor_level", "kind")
LEVELS = ("kommun", "region", "stat")

# Token stood in for an empty context field, so a context column that is empty in
# every training row still gives the vectoriser a vocabulary (one constant feature).
EMPTY_CONTEXT_TOKEN = "<tom>"

_WORD_RE = re.compile(r"\w", re.UNICODE)


# --------------------------------------------------------------------------- input


def _column(df: pd.DataFrame, col: str) -> pd.Series:
    """``df[col]`` as strings; a document column also as ``doc_<col>``; else ''."""
    for name in ((col, f"doc_{col}") if col in DOC_COLUMNS else (col,)):
        if name in df.columns:
            return df[name].fillna("").astype(str).str.strip()
    return pd.Series("", index=df.index, dtype=object)


def prepare_input(df: pd.DataFrame) -> pd.DataFrame:
    """The model input: :data:`INPUT_COLUMNS` as strings ('' if missing).

    An empty ``level_hint`` is taken from the intro, else the section, using the
    codebook's level hints. ``actor_level`` is the document's (metadata) when it is a
    level, else :func:`infer_actor_level` over the document actor, the proposal's actor,
    the title, the intro and, last, the section (``classify --context-cols TITLE INTRO``
    puts a document title there). ``actor`` prefers the document's actor (``doc_actor``) when
    both are given. The index of ``df`` is kept."""
    out = pd.DataFrame(index=df.index)
    for col in INPUT_COLUMNS:
        out[col] = _column(df, col)
    if "doc_actor" in df.columns and "actor" in df.columns:
        doc_actor = df["doc_actor"].fillna("").astype(str).str.strip()
        out["actor"] = doc_actor.where(doc_actor != "", out["actor"])
    codebook = load_codebook()
    hints = []
    for hint, intro, section in zip(out["level_hint"], out["intro"], out["section"]):
        hint = hint.strip()
        if not hint:
            hint = codebook.level_hint(intro) or codebook.level_hint(section)
        hints.append(hint)
    out["level_hint"] = hints
    proposal_actor = _column(df, "actor") if "doc_actor" in df.columns else out["actor"]
    levels = []
    for level, actor, p_actor, title, intro, section in zip(out["actor_level"], out["actor"], proposal_actor,
                                                            out["title"], out["intro"], out["section"]):
        if level not in LEVELS:
            level = infer_actor_level(actor, p_actor, title, intro, section)
        levels.append(level)
    out["actor_level"] = levels
    out["kind"] = out["kind"].str.lower()
    return out


# ---------------------------------------------------------- the author's level


@lru_cache(maxsize=1)
def _actor_level_rules():
    """Compiled ``actor_levels`` of codebook.yaml: (level, [regex]) in priority order,
    the party names, and the region names (a party "i <region>" is regional)."""
    spec = load_codebook().actor_levels
    rules = tuple((level, tuple(re.compile(p) for p in spec.get("patterns", {}).get(level, ())))
                  for level in spec.get("order", LEVELS))
    parties = tuple(spec.get("parties", ()))
    regions = frozenset(r.lower() for r in spec.get("regions", ()))
    party_re = None
    if parties:
        alts = "|".join(re.escape(p) for p in sorted(parties, key=len, reverse=True))
        party_re = re.compile(r"(?i:(?<!\w)(?:" + alts + r"))(?:\s+i\s+(?P<place>[A-ZÅÄÖ][\w-]*(?:\s+[A-ZÅÄÖ][\w-]*)*))?")
    return rules, party_re, regions


def _level_of(text: str, allow_bare_party: bool) -> str:
    if not text:
        return ""
    rules, party_re, regions = _actor_level_rules()
    for level, patterns in rules:
        if any(p.search(text) for p in patterns):
            return level
    if party_re is not None:
        m = party_re.search(text)
        if m:
            place = m.group("place")
            if place:
                return "region" if place.lower() in regions or place.lower().endswith(" län") else "kommun"
            if allow_bare_party and party_re.fullmatch(text.strip().rstrip(":")):
                return "stat"  # a party name alone: the national party
    return ""


def infer_actor_level(actor: str = "", proposal_actor: str = "", title: str = "", intro: str = "",
                      section: str = "") -> str:
    """The level the author of a document sits at, from general Swedish patterns.

    ``Region Skåne``, ``regionfullmäktige`` -> region; ``Moderaterna i Ale``, ``Ale
    kommun``, ``Malmö stad``, ``kommunfullmäktige`` -> kommun; ``Riksdagen``, ``motion
    till riksdagen`` -> stat; a party name alone as the actor -> stat (the national
    party). The first of actor, proposal actor, title, intro and section that decides
    wins; '' when none does. Patterns live in codebook.yaml (``actor_levels``).

    >>> infer_actor_level("Moderaterna i Ale")
    'kommun'
    """
    for text, bare in ((actor, True), (proposal_actor, True), (title, False), (intro, False), (section, False)):
        level = _level_of(" ".join(str(text or "").split()), bare)
        if level:
            return level
    return ""


# -------------------------------------------------------------------- lemmatiser


@lru_cache(maxsize=1)
def _nlp():
    import spacy

    return spacy.blank("sv")


@lru_cache(maxsize=1)
def _lemma_table() -> dict:
    """spacy-lookups-data's Swedish lemma table (word form -> lemma), read from its JSON
    file as a dict: the same pairs as ``spacy.lookups.load_lookups("sv", ["lemma_lookup"])``
    without building spaCy's hashed Table (0.6 s instead of 2.3 s in every process)."""
    import gzip

    import spacy_lookups_data

    path = spacy_lookups_data.get_file("sv_lemma_lookup.json.gz")  # the package ships it compressed
    if not path.is_file():
        path = spacy_lookups_data.get_file("sv_lemma_lookup.json")
    log.debug("loading the Swedish lemma lookup table (spacy-lookups-data) from %s", path)
    with (gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")) as f:
        return json.loads(f.read())


# Inflection endings tried when a compound's last part is not itself in the word list
# ("kameror" -> "kamera" comes from the lemma table; "boendena" -> "boende" from here).
_ENDINGS = ("erna", "arna", "orna", "ena", "na", "er", "ar", "or", "en", "et", "n", "t", "s")
_LINKS = ("s", "", "e", "u", "o")  # Swedish linking letters (trygghet-s-kamera, kvinn-o-frid)
# Word endings that the word list happens to hold as words of their own ("ning", "erna"):
# never a compound's last part.
_NOT_PARTS = frozenset(_ENDINGS) | {"ning", "ningar", "ande", "ende", "het", "heter", "lig", "liga", "else",
                                    "are", "arna", "erna", "rna", "ad", "ade", "ering", "tion", "isk"}
MIN_PART = 3
MIN_HEAD = 4
MIN_COMPOUND = 7


@lru_cache(maxsize=1)
def _stems() -> frozenset:
    """Lower-cased stems of hunspell-sv's word list (the .dic file pipeline.extract.lexicon
    reads); letters only, at least :data:`MIN_PART` long."""
    from pipeline.extract.lexicon import _dictionary_base

    path = _dictionary_base().with_suffix(".dic")
    words = set()
    with open(path, encoding="utf-8", errors="replace") as fh:
        next(fh, None)  # the first line is the entry count
        for line in fh:
            stem = line.split("/", 1)[0].strip().lower()
            if len(stem) >= MIN_PART and stem.isalpha():
                words.add(stem)
    log.debug("hunspell-sv word list: %d stems", len(words))
    return frozenset(words)


def _known(word: str) -> str:
    """The word-list form of ``word`` (itself, its lemma, or it minus an ending), or ''."""
    stems = _stems()
    lemma = _lemma_table().get(word, word)
    if lemma in stems:
        return lemma
    if word in stems:
        return word
    for end in _ENDINGS:
        if word.endswith(end) and len(word) - len(end) >= MIN_PART and word[: -len(end)] in stems:
            return word[: -len(end)]
    return ""


@lru_cache(maxsize=65536)
def compound_parts(word: str) -> tuple[str, ...]:
    """The parts of a Swedish compound, as word-list forms, or () if ``word`` is not one.

    The longest first part (at least :data:`MIN_HEAD` letters) that is a stem,
    followed by a linking letter (s, e, u, o) or none, and a rest that is a known word
    (itself, its lemma, or minus an inflection ending) or itself a compound. Words the
    word list also knows whole ("kameraövervakning") are split too: the parts are what
    related compounds share.

    >>> compound_parts("trygghetskameror")
    ('trygghet', 'kamera')
    >>> compound_parts("övervakningskamera")
    ('övervakning', 'kamera')
    """
    word = word.lower()
    if len(word) < MIN_COMPOUND or not word.isalpha():
        return ()
    stems = _stems()
    splits = [(word[:i], word[i + len(link):]) for i in range(len(word) - MIN_PART, MIN_HEAD - 1, -1)
              if word[:i] in stems for link in _LINKS if word.startswith(link, i)]
    splits = [(head, rest) for head, rest in splits if len(rest) >= MIN_PART and rest not in _NOT_PARTS]
    # First a rest that is a word itself (longest head first), then a rest that is a compound.
    for head, rest in splits:
        known = _known(rest)
        if known:
            return (head, known)
    for head, rest in splits:
        sub = compound_parts(rest) if len(rest) >= MIN_COMPOUND else ()
        if sub and all(len(p) >= MIN_HEAD for p in sub):
            return (head,) + sub
    return ()


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
        # A compound's parts as words of their own: "trygghetskameror" also counts as
        # "trygghet" and "kamera", so it shares evidence with "kameraövervakning".
        out.extend(compound_parts(low))
    return tuple(out)


def lemma_tokens(text: str) -> list[str]:
    """Lower-cased lemmas of the word tokens of ``text`` (numbers become ``<tal>``),
    each compound followed by its parts (:func:`compound_parts`).

    >>> lemma_tokens("Skärp straffen för vapenbrott!")
    ['skärpa', 'straff', 'föra', 'vapenbrott', 'vapen', 'brott']
    """
    return list(_lemmas(text or ""))


def with_parts(text: str) -> str:
    """``text`` followed by the parts of its compounds, for cue matching at word starts
    ("trygghetskameror" gains " trygghet kamera", which the cue "kamer" matches)."""
    parts = [p for tok in re.findall(r"\w+", text or "") for p in compound_parts(tok)]
    return text if not parts else f"{text} {' '.join(parts)}"


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
        text = [with_parts(t) for t in X["text"].tolist()]
        context = [with_parts(f"{s} {i}") for s, i in zip(X["section"].tolist(), X["intro"].tolist())]
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


class CueWords(BaseEstimator, TransformerMixin):
    """One 0/1 feature per codebook cue word: does it match the proposal text (or one of
    its compound parts)?

    :class:`CueCounts` pools a label's cues into one count, which carries to unseen
    wording but weighs "polis" and "park" alike; with these indicators the model learns
    how much each cue is worth, still from the codebook's words only (so the features
    mean the same on any document). Fitted from the codebook at fit time, like
    :class:`CueCounts`."""

    def __init__(self, fields=("theme",)):
        self.fields = fields

    def fit(self, X, y=None):
        cues = {" ".join(cue.lower().split()) for f in self.fields for _, table in codebook_cues(f) for cue in table}
        self.cues_ = tuple(sorted(cues))
        return self

    def transform(self, X):
        from scipy.sparse import csr_matrix

        rows, cols = [], []
        for i, text in enumerate(_as_frame(X)["text"].tolist()):
            hits = _cue_hits(self.cues_, text)
            rows.extend([i] * len(hits))
            cols.extend(hits)
        return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(X), len(self.cues_)))

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"cue_word_{c}" for c in self.cues_], dtype=object)


_WORD_START_RE = re.compile(r"(?<!\w)\w", re.UNICODE)


@lru_cache(maxsize=1)
def _cue_index(cues: tuple) -> tuple[int, dict]:
    """``(k, cue positions by their first k characters)``, k = 3 or the shortest cue's length."""
    k = min([3] + [len(c) for c in cues])
    index: dict = {}
    for j, cue in enumerate(cues):
        index.setdefault(cue[:k], []).append((cue, j))
    return k, index


@lru_cache(maxsize=1 << 16)
def _cue_hits(cues: tuple, text: str) -> tuple:
    """Sorted positions (in ``cues``) of the cues that match ``text`` or one of its
    compound parts at a word start, as :func:`cue_match_counts` matches them. Cached:
    cross-validation transforms the same proposals many times."""
    low = " ".join(with_parts(text).lower().split())
    k, index = _cue_index(cues)
    hits = set()
    for m in _WORD_START_RE.finditer(low):
        pos = m.start()
        for cue, j in index.get(low[pos:pos + k], ()):
            if low.startswith(cue, pos):
                hits.add(j)
    return tuple(sorted(hits))


def _as_frame(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X.fillna("").astype(str)
    raise TypeError("CueCounts expects a DataFrame with text, section and intro columns")
