"""Precision of the proposal groups (pipeline/groups.py), checked by eye.

    # 1. extract once, without classification (minutes; reuse the folder):
    mkdir -p /tmp/grp_in && ln -sf $PWD/raw/*.pdf $PWD/raw/*.html ../shared/corpus/real/*.pdf \\
        ../shared/corpus/web/*.txt /tmp/grp_in/ && cp raw/documents.yaml /tmp/grp_in/
    .venv/bin/python -m pipeline extract --raw /tmp/grp_in --out /tmp/grp_out --no-classify --jobs 1
    # 2. show the sample to judge (texts go to the terminal only, never into the repo):
    .venv/bin/python benchmarks/groups_check.py --processed /tmp/grp_out --show
    # 3. score the judgements in benchmarks/data/groups_check.csv:
    .venv/bin/python benchmarks/groups_check.py --processed /tmp/grp_out

The sample: ``--n`` groups (default 50) drawn with ``random.Random(--seed)`` from the
sorted group ids that :func:`pipeline.groups.group_proposals` finds at its default
threshold. The judgement file holds ids and verdicts only (no text): ``group_id``,
``proposal_ids`` (space-separated, sorted), ``min_similarity`` (the least pairwise
cosine similarity within the group), ``verdict``:

  same          every member makes the same demand (wording, detail may differ)
  similar       the same measure on the same object in the same direction, one member
                broader or narrower than another
  different     some member asks for something else (another object, the opposite
                direction, or only generic words are shared)
  not_proposal  the members agree but are no proposals (a heading, a fragment):
                an extraction error, counted as a wrong group

Precision = (same + similar) / judged groups; also given for the judged groups whose
least pairwise similarity is at least 0.6 (what a stricter threshold would keep).
A judged group that no longer exists with the same members is reported and not scored.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from pipeline.groups import DEFAULT_THRESHOLD, candidates, group_proposals, similarity_matrix  # noqa: E402
from pipeline.storage import read_csv  # noqa: E402

CHECK_FILE = REPO_ROOT / "benchmarks" / "data" / "groups_check.csv"
GOOD = {"same", "similar"}
VERDICTS = GOOD | {"different", "not_proposal"}
STRICT = 0.6


def min_similarities(props: pd.DataFrame, groups: pd.DataFrame) -> dict[str, float]:
    cand = candidates(props)
    sim = similarity_matrix(cand["_norm"].tolist())
    index = {pid: i for i, pid in enumerate(cand["proposal_id"])}
    out = {}
    for gid, g in groups.groupby("group_id"):
        idx = [index[p] for p in g["proposal_id"]]
        sub = sim[np.ix_(idx, idx)]
        out[gid] = float(sub[~np.eye(len(idx), dtype=bool)].min())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--processed", type=Path, required=True, help="folder with proposals.csv")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--show", action="store_true", help="print the sample's texts for judging")
    ap.add_argument("--write-template", action="store_true",
                    help=f"write the sample's ids to {CHECK_FILE.relative_to(REPO_ROOT)} with empty verdicts")
    args = ap.parse_args()

    props = read_csv(args.processed / "proposals.csv")
    groups = group_proposals(props)
    ids = sorted(groups["group_id"].unique())
    sample = sorted(random.Random(args.seed).sample(ids, min(args.n, len(ids))))
    min_sim = min_similarities(props, groups)
    members = {gid: " ".join(sorted(g["proposal_id"])) for gid, g in groups.groupby("group_id")}
    print(f"{len(ids)} groups at threshold {DEFAULT_THRESHOLD} over {props['doc_id'].nunique()} documents "
          f"with proposals; sample of {len(sample)} (seed {args.seed})")

    if args.show:
        text = props.set_index("proposal_id")[["doc_id", "text"]]
        for i, gid in enumerate(sample):
            print(f"\n[{i}] {gid}  min similarity {min_sim[gid]:.2f}")
            for pid in members[gid].split():
                print(f"    {pid} {text.loc[pid, 'doc_id'][:32]:32} | {' '.join(text.loc[pid, 'text'].split())[:300]}")
        return 0
    if args.write_template:
        CHECK_FILE.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"group_id": sample, "proposal_ids": [members[g] for g in sample],
                      "min_similarity": [round(min_sim[g], 3) for g in sample], "verdict": ""}
                     ).to_csv(CHECK_FILE, index=False, lineterminator="\n")
        print(f"wrote {CHECK_FILE}")
        return 0

    check = read_csv(CHECK_FILE)
    bad = sorted(set(check["verdict"]) - VERDICTS)
    if bad:
        print(f"{CHECK_FILE}: unknown verdicts {bad} (allowed: {sorted(VERDICTS)})")
        return 2
    stale = check[[members.get(g) != m for g, m in zip(check["group_id"], check["proposal_ids"])]]
    if len(stale):
        print(f"{len(stale)} judged groups no longer exist with the same members (not scored): "
              + " ".join(stale["group_id"]))
    scored = check.drop(stale.index)
    scored = scored.assign(min_similarity=scored["group_id"].map(min_sim))
    print("\nverdicts:", scored["verdict"].value_counts().to_dict())
    print("| groups | judged | same | similar | different | not_proposal | precision |")
    print("|---|---|---|---|---|---|---|")
    for name, part in ((f"all (threshold {DEFAULT_THRESHOLD})", scored),
                       (f"least similarity >= {STRICT}", scored[scored["min_similarity"] >= STRICT])):
        vc = part["verdict"].value_counts()
        prec = part["verdict"].isin(GOOD).mean() if len(part) else float("nan")
        print(f"| {name} | {len(part)} | " + " | ".join(str(int(vc.get(v, 0))) for v in
                                                       ("same", "similar", "different", "not_proposal"))
              + f" | {prec:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
