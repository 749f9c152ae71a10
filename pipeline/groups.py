"""The same proposal across actors: groups of near-identical and closely similar
proposals from different documents.

Method (deterministic; no randomness anywhere):

1. Top-level proposals only (``unit`` other than ``statement``, whose text is part of
   its bullet), with non-empty text, sorted by ``proposal_id``.
2. Each text is normalised (NFKC, lower case, letters and digits only, single spaces)
   and vectorised by TF-IDF over character n-grams within words (3–5 characters,
   sublinear tf): inflected forms ("kameraövervakning", "kameror") share n-grams.
3. Cosine similarity between every pair. Two proposals are *candidates* when their
   similarity is at least ``threshold`` and they come from different documents; the
   connected components of the candidate graph bound the groups.
4. Within each component, complete-linkage agglomerative clustering (scikit-learn) on
   ``1 - similarity`` cut at ``1 - threshold``: every two members of a group are at
   least ``threshold`` similar (no chaining of A~B~C into one group when A and C differ).
5. A group is kept when its members come from at least ``min_documents`` documents.

Output (``processed/proposal_groups.csv``): ``group_id`` (``g`` + 12 hex digits of
SHA-256 over the sorted member ids: stable while the members stay the same),
``proposal_id``, ``similarity`` (the member's mean cosine similarity to the other
members). Rows are ordered by group size (largest first), group_id, similarity
(highest first), proposal_id.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.5
MIN_DOCUMENTS = 2
NGRAM_RANGE = (3, 5)
GROUP_COLUMNS = ["group_id", "proposal_id", "similarity"]

_NON_WORD = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    """NFKC, lower case, letters and digits only, single spaces."""
    t = unicodedata.normalize("NFKC", str(text)).lower().replace("_", " ")
    return " ".join(_NON_WORD.sub(" ", t).split())


def candidates(proposals: pd.DataFrame) -> pd.DataFrame:
    """The proposals grouping looks at: top-level units with text, sorted by id."""
    p = proposals
    if "unit" in p:
        p = p[p["unit"].astype(str) != "statement"]
    p = p.assign(_norm=p["text"].map(normalise))
    p = p[p["_norm"].str.len() > 0]
    return p.drop_duplicates("proposal_id").sort_values("proposal_id", kind="stable").reset_index(drop=True)


def vectors(texts: list[str]):
    """L2-normalised TF-IDF character n-gram vectors (sparse), one row per text."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, sublinear_tf=True, dtype=np.float64)
    return vec.fit_transform(texts)


def _cosine(a, b) -> np.ndarray:
    sim = (a @ b.T).toarray()
    np.clip(sim, 0.0, 1.0, out=sim)
    return sim


def similarity_matrix(texts: list[str]) -> np.ndarray:
    """Dense cosine similarity of TF-IDF character n-gram vectors (small inputs)."""
    sim = _cosine(*(2 * (vectors(texts),)))
    np.fill_diagonal(sim, 1.0)
    return sim


def _edges(x, docs: np.ndarray, threshold: float, block: int = 1000):
    """Candidate pairs (i < j): similarity >= threshold, different documents. Computed
    ``block`` rows at a time, so memory stays bounded for large corpora."""
    rows, cols = [], []
    for start in range(0, x.shape[0], block):
        sim = _cosine(x[start:start + block], x)
        i, j = np.nonzero(sim >= threshold)
        i = i + start
        keep = (j > i) & (docs[i] != docs[j])
        rows.append(i[keep])
        cols.append(j[keep])
    return np.concatenate(rows), np.concatenate(cols)


def _clusters(x, members: np.ndarray, threshold: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Complete-linkage clusters of one connected component: (indices, their similarity matrix)."""
    sim = _cosine(x[members], x[members])
    np.fill_diagonal(sim, 1.0)
    if len(members) == 2:
        return [(members, sim)]
    from sklearn.cluster import AgglomerativeClustering

    # Nudge the cut just above 1 - threshold: sklearn merges while distance < cut.
    model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="complete",
                                    distance_threshold=1.0 - threshold + 1e-9)
    labels = model.fit_predict(1.0 - sim)
    return [(members[labels == k], sim[np.ix_(labels == k, labels == k)]) for k in sorted(set(labels))]


def group_proposals(proposals: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD,
                    min_documents: int = MIN_DOCUMENTS) -> pd.DataFrame:
    """Groups of similar proposals across documents: ``group_id, proposal_id, similarity``.

    ``proposals`` needs ``proposal_id``, ``doc_id`` and ``text`` (``unit`` is used when
    present). See the module docstring for the method."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    cand = candidates(proposals)
    empty = pd.DataFrame({"group_id": pd.Series(dtype="string"), "proposal_id": pd.Series(dtype="string"),
                          "similarity": pd.Series(dtype="Float64")})
    if cand["doc_id"].nunique() < min_documents:
        return empty
    x = vectors(cand["_norm"].tolist())
    docs = cand["doc_id"].astype(str).to_numpy()
    ids = cand["proposal_id"].astype(str).to_numpy()
    i, j = _edges(x, docs, threshold)
    n = len(cand)
    n_comp, comp = connected_components(csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n)), directed=False)
    has_edge = np.zeros(n, dtype=bool)
    has_edge[i] = has_edge[j] = True
    rows = []
    for k in range(n_comp):
        members = np.flatnonzero((comp == k) & has_edge)
        if len(members) < 2:
            continue
        for cluster, sub in _clusters(x, members, threshold):
            if len(cluster) < 2 or len(set(docs[cluster])) < min_documents:
                continue
            gid = "g" + hashlib.sha256("\n".join(sorted(ids[cluster])).encode()).hexdigest()[:12]
            mean_other = (sub.sum(axis=1) - 1.0) / (len(cluster) - 1)
            for pid, s_ in zip(ids[cluster], mean_other):
                rows.append((gid, pid, round(float(s_), 4), len(cluster)))
    if not rows:
        return empty
    out = pd.DataFrame(rows, columns=GROUP_COLUMNS + ["_size"])
    out = out.sort_values(["_size", "group_id", "similarity", "proposal_id"],
                          ascending=[False, True, False, True], kind="stable")
    out = out[GROUP_COLUMNS].reset_index(drop=True)
    out["group_id"] = out["group_id"].astype("string")
    out["proposal_id"] = out["proposal_id"].astype("string")
    out["similarity"] = out["similarity"].astype("Float64")
    log.info("%d groups of similar proposals (%d proposals, threshold %.2f)",
             out["group_id"].nunique(), len(out), threshold)
    return out


def group_summary(groups: pd.DataFrame, proposals: pd.DataFrame) -> pd.DataFrame:
    """One row per group: the most central member's text, size, documents, actors, years.

    The actor is the proposal's own (``actor``: named by its list intro), else the
    document's (``doc_actor``, see pipeline.outputs.enrich), else the doc_id."""
    cols = ["group_id", "text", "n_proposals", "n_documents", "actors", "years", "doc_ids"]
    if groups.empty:
        return pd.DataFrame(columns=cols)
    m = groups.merge(proposals, on="proposal_id", how="left", sort=False)

    def actor_of(r) -> str:
        for c in ("actor", "doc_actor"):
            v = r.get(c)
            if isinstance(v, str) and v.strip():
                return v.strip()
        return str(r.get("doc_id", ""))

    m["_actor"] = m.apply(actor_of, axis=1)
    rows = []
    for gid, g in m.groupby("group_id", sort=False):
        g = g.sort_values(["similarity", "proposal_id"], ascending=[False, True], kind="stable")
        years = sorted({int(y) for y in g.get("doc_year", pd.Series(dtype="Int64")).dropna()})
        rows.append({
            "group_id": gid,
            "text": str(g["text"].iloc[0]),
            "n_proposals": len(g),
            "n_documents": g["doc_id"].nunique(),
            "actors": "; ".join(sorted(set(g["_actor"]))),
            "years": ", ".join(str(y) for y in years),
            "doc_ids": " ".join(sorted(set(g["doc_id"].astype(str)))),
        })
    return pd.DataFrame(rows, columns=cols)
