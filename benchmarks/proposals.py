"""Proposal-finding benchmark on the web development set (../shared/corpus/web).

    .venv/bin/python benchmarks/proposals.py [--cache /tmp/propbench] [--table-only] [--doc PREFIX]

prints a table (per document and total: gold, found, matched, recall, precision), then
every miss and extra by document.

Each ``*.txt`` of the web corpus is extracted with the pipeline as ``pipeline extract
--no-classify`` does it (ingest -> segment -> proposals; header lines are document
metadata, never text) and its proposals are compared with the gold lists in
``_proposals_*.csv`` (``doc_file, n, text``; see the corpus README).

What counts:

* **Units scored**: the list-form units ``bullet``, ``item`` and ``demand`` (a
  yrkande or att-sats). ``statement`` (a sentence inside a bullet, already counted as
  its bullet) and ``inline`` (a "Vi vill …" sentence in running prose) are not in the
  gold lists, so they are left out of precision as well as recall.
* **Match**: a gold item and a found unit of the same document match when their texts
  are equal after :func:`match_key`: Unicode NFKC, case folded, soft hyphens dropped,
  all whitespace runs (line breaks too) as one space; at the start, bullet marks,
  dashes, an ellipsis ("…att", NFKC "...att") and numbering ("1.", "a)") stripped; at the end,
  punctuation (. , ; : ! ? …) and closing quotes stripped.
  Each gold item matches at most one found unit and vice versa (repeated texts count
  as often as they occur).
* recall = matched / gold items, precision = matched / scored units, per document and
  in total (micro).

``--cache DIR`` keeps the extraction (documents, blocks, sentences) of each file in DIR,
keyed by the file's bytes and the source of the reading and segmenting code, so that
re-running after a change to the proposal rules does not run Stanza again.
Skips (exit 0) when ../shared/corpus/web is absent.

Figures (70 files, 469 gold proposals; ``--cache /tmp/propbench``):

=========================================  =======  ======  ======  =========
code                                       matched  extras  recall  precision
=========================================  =======  ======  ======  =========
before (8a9e9f8 + header lines stripped)   233      27      0.497   0.896
after (branch ``proposals``)               455      13      0.970   0.972
=========================================  =======  ======  ======  =========
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import pickle
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tqdm import tqdm  # noqa: E402

from pipeline import config  # noqa: E402

log = logging.getLogger("benchmarks.proposals")

WEB_DIR = config.SHARED_DIR / "corpus" / "web"
SCORED_UNITS = ("bullet", "item", "demand")
_EDGE = re.compile(r"^[\s.•\-–—*·▪■●◦‣⁃∙○►➢✓»›…\uf0b7]*(?:\(?(?:\d{1,2}|[a-z])[.)]\s+)?|[\s.,;:!?…”\"’»]+$")


def match_key(text: str) -> str:
    """The form two proposal texts are compared in (see the module docstring)."""
    t = unicodedata.normalize("NFKC", text).replace("\u00ad", "").casefold()
    t = " ".join(t.split())
    prev = None
    while prev != t:
        prev, t = t, _EDGE.sub("", t)
    return t


def read_gold(web_dir: Path) -> dict[str, list[str]]:
    gold: dict[str, list[str]] = defaultdict(list)
    for f in sorted(web_dir.glob("_proposals_*.csv")):
        with f.open(encoding="utf-8", newline="") as fh:
            rows = sorted(csv.DictReader(fh), key=lambda r: (r["doc_file"], int(r["n"])))
        for r in rows:
            gold[r["doc_file"]].append(r["text"])
    return gold


def _code_hash() -> str:
    h = hashlib.sha256()
    for p in sorted((REPO_ROOT / "pipeline" / "extract").glob("*.py")) + [REPO_ROOT / "pipeline" / "segment.py"]:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def extract(paths: list[Path], cache: Path | None):
    """(documents, blocks, sentences) of the files, stage by stage as pipeline.run does."""
    from pipeline.extract.ingest import ingest_file
    from pipeline.segment import segment_blocks

    code = _code_hash()
    docs, blocks, sents = [], [], []
    todo: list[tuple[Path, Path | None]] = []
    results = {}
    for p in paths:
        key = hashlib.sha256(p.read_bytes() + code.encode()).hexdigest()[:24]
        cp = cache / f"{p.name}.{key}.pkl" if cache else None
        if cp is not None and cp.exists():
            results[p] = pickle.loads(cp.read_bytes())
        else:
            todo.append((p, cp))
    for p, cp in tqdm(todo, desc="extract", unit="doc", disable=None):
        r = ingest_file(p)
        s = segment_blocks(r.blocks) if r.blocks else []
        results[p] = (r.document, r.blocks, s)
        if cp is not None:
            cp.parent.mkdir(parents=True, exist_ok=True)
            tmp = cp.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(results[p]))
            tmp.replace(cp)
    for p in paths:
        d, b, s = results[p]
        docs.append(d)
        blocks += b
        sents += s
    return docs, blocks, sents


def score(gold: list[str], found: list[str]) -> tuple[int, list[str], list[str]]:
    """(matched, misses, extras) of one document."""
    left = Counter(match_key(t) for t in found)
    misses = []
    matched = 0
    for g in gold:
        k = match_key(g)
        if left[k] > 0:
            left[k] -= 1
            matched += 1
        else:
            misses.append(g)
    extras_keys = +left
    extras = []
    for t in found:
        k = match_key(t)
        if extras_keys[k] > 0:
            extras_keys[k] -= 1
            extras.append(t)
    return matched, misses, extras


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--web", type=Path, default=WEB_DIR)
    ap.add_argument("--cache", type=Path, default=None, help="extraction cache folder (e.g. /tmp/propbench)")
    ap.add_argument("--table-only", action="store_true", help="do not list the misses and extras")
    ap.add_argument("--doc", default="", help="only files whose name starts with this")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.web.is_dir():
        print(f"skipped: {args.web} not found")
        return 0
    gold = read_gold(args.web)
    paths = sorted(p for p in args.web.glob("*.txt") if p.name.startswith(args.doc))
    docs, blocks, sents = extract(paths, args.cache)

    from pipeline.proposals import find_proposals

    props = find_proposals(docs, blocks, sents)
    by_doc: dict[str, list[str]] = defaultdict(list)
    name_of = {d.doc_id: d.source_file for d in docs}
    for p in props:
        if p.unit in SCORED_UNITS:
            by_doc[name_of[p.doc_id]].append(p.text)

    rows = []
    tot_g = tot_f = tot_m = 0
    for d in docs:
        name = d.source_file
        g, f = gold.get(name, []), by_doc.get(name, [])
        m, misses, extras = score(g, f)
        tot_g, tot_f, tot_m = tot_g + len(g), tot_f + len(f), tot_m + m
        rows.append((name, len(g), len(f), m, misses, extras, d.status))
    print(f"{'document':58s} {'gold':>5s} {'found':>5s} {'match':>5s} {'recall':>6s} {'prec':>6s}")
    for name, g, f, m, misses, extras, status in rows:
        rec = f"{m / g:.2f}" if g else "-"
        prec = f"{m / f:.2f}" if f else "-"
        flag = "" if status == "ok" else f"  [{status}]"
        print(f"{name[:58]:58s} {g:5d} {f:5d} {m:5d} {rec:>6s} {prec:>6s}{flag}")
    rec = tot_m / tot_g if tot_g else 0.0
    prec = tot_m / tot_f if tot_f else 0.0
    print(f"{'TOTAL':58s} {tot_g:5d} {tot_f:5d} {tot_m:5d} {rec:6.3f} {prec:6.3f}")
    print(f"matched {tot_m} of {tot_g} gold proposals; {tot_f - tot_m} extras; "
          f"recall {rec:.3f}, precision {prec:.3f}")
    if not args.table_only:
        for name, g, f, m, misses, extras, _ in rows:
            if misses or extras:
                print(f"\n== {name}")
                for t in misses:
                    print("  MISS  ", " ".join(t.split())[:160])
                for t in extras:
                    print("  EXTRA ", " ".join(t.split())[:160])
    return 0


if __name__ == "__main__":
    sys.exit(main())
