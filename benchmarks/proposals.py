"""Proposal-finding benchmark on the web development set (../shared/corpus/web).

    .venv/bin/python benchmarks/proposals.py [--cache DIR] [--table-only] [--doc PREFIX]

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

Extraction goes through the pipeline's store (``--cache DIR`` to use another one): after a
change to the proposal rules only the proposals stage runs again, not Stanza.
Skips (exit 0) when ../shared/corpus/web is absent.

Figures (70 files, 469 gold proposals):

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
import logging
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


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
    ap.add_argument("--cache", type=Path, default=None,
                    help="the extraction store (default: the pipeline's, see pipeline/store.py)")
    ap.add_argument("--table-only", action="store_true", help="do not list the misses and extras")
    ap.add_argument("--doc", default="", help="only files whose name starts with this")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.web.is_dir():
        print(f"skipped: {args.web} not found")
        return 0
    gold = read_gold(args.web)
    paths = sorted(p for p in args.web.glob("*.txt") if p.name.startswith(args.doc))
    from pipeline.store import Store, cached_tables

    # The store re-runs only the stages whose code changed (here: proposals after a rule edit).
    tables = cached_tables(paths, store=Store(args.cache) if args.cache else None)
    docs = tables["documents"]
    name_of = dict(zip(docs["doc_id"], docs["source_file"]))
    props = tables["proposals"]
    by_doc: dict[str, list[str]] = defaultdict(list)
    for doc_id, unit, text in zip(props["doc_id"], props["unit"], props["text"]):
        if unit in SCORED_UNITS:
            by_doc[name_of[doc_id]].append(text)

    rows = []
    tot_g = tot_f = tot_m = 0
    for name, status in zip(docs["source_file"], docs["status"]):
        g, f = gold.get(name, []), by_doc.get(name, [])
        m, misses, extras = score(g, f)
        tot_g, tot_f, tot_m = tot_g + len(g), tot_f + len(f), tot_m + m
        rows.append((name, len(g), len(f), m, misses, extras, status))
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
