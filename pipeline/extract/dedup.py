"""Near-duplicate content within one document: keep the better copy, drop the other.

Some documents carry their text twice (a brochure followed by a broken "text
version"). Detection is by content only, never by page numbers:

1. Each block of at least ``MIN_CHARS`` letters is shingled into character n-grams of
   its letters with spaces removed, so run-together words ("somgenom") and broken line
   breaks do not hide a copy.
2. A block is a copy when most of its shingles occur in one other, earlier or later,
   block (containment ``>= CONTAINMENT``; truncated copies still count), and its
   neighbours are copies of that block's neighbours too: duplicated content comes in
   runs, while a bullet that restates a paragraph is a lone match and stays.
3. Of the two copies the one that reads better as a whole survives: the share of its
   words that the Swedish word list knows (run-together and cut-off words lower it).
   A side that repeats only parts of the other (a summary restating one sentence per
   section) is dropped only if it reads worse; a full copy is dropped either way.
4. Inside the dropped copy's span, every other block whose text the kept copy already
   holds goes too (short headings, "Genom att:", repeated lines), so no debris stays.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict

from pipeline.extract.lexicon import known_share
from pipeline.records import Block

log = logging.getLogger(__name__)

N = 8
MIN_CHARS = 40
CONTAINMENT = 0.6
WINDOW = 3  # neighbours looked at on each side
RUN = 2  # matched neighbours needed
MIN_PAIRS = 8  # a duplicated copy has at least this many matched blocks ...
MIN_SHARE = 0.1  # ... and at least this share of the document's letters
COVERAGE = 0.8  # share of the kept copy's text the dropped copy repeats ...
QUALITY_MARGIN = 0.005  # ... or by how much worse the dropped copy must read


def _letters(text: str) -> str:
    """Lower-case letters and digits only; a line repeated back to back counts once."""
    s = re.sub(r"[^a-zåäöéü0-9]", "", text.lower())
    return re.sub(r"^(.+?)\1+$", r"\1", s)


def _shingles(s: str) -> set[str]:
    return {s[i:i + N] for i in range(max(1, len(s) - N + 1))}


def drop_duplicate_blocks(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    """Return (kept, dropped) blocks, both in document order."""
    letters = [_letters(b.text) for b in blocks]
    long_ix = [i for i, s in enumerate(letters) if len(s) >= MIN_CHARS]
    sh = {i: _shingles(letters[i]) for i in long_ix}
    index: dict[str, list[int]] = defaultdict(list)
    for i in long_ix:
        for g in sh[i]:
            index[g].append(i)

    partner: dict[int, int] = {}
    for i in long_ix:
        counts: dict[int, int] = defaultdict(int)
        for g in sh[i]:
            for j in index[g]:
                if j != i:
                    counts[j] += 1
        if counts:
            j, k = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))
            if k / len(sh[i]) >= CONTAINMENT:
                partner[i] = j

    # A copy of content is a run: a lone match is a restatement (a bullet repeating a
    # heading), not duplicated content. Keep matches with RUN matched neighbours
    # whose partners lie near this block's partner.
    pos = {i: n for n, i in enumerate(long_ix)}
    pairs: list[tuple[int, int]] = []
    for i, j in partner.items():
        n = pos[i]
        near = [long_ix[m] for m in range(max(0, n - WINDOW), min(len(long_ix), n + WINDOW + 1)) if m != n]
        if sum(1 for k in near if k in partner and abs(partner[k] - j) <= 2 * WINDOW) >= RUN:
            pairs.append((min(i, j), max(i, j)))
    if len(pairs) < MIN_PAIRS:
        return list(blocks), []

    # The two copies lie on either side of the split point that most pairs cross; the
    # copy that reads worse as a whole (run-together and cut-off words) is dropped,
    # with every block of it that matched anything.
    def crossing(k: int) -> int:
        return sum(1 for a, b in pairs if a < k <= b)

    split = max(sorted({b for _, b in pairs}), key=lambda k: (crossing(k), -k))
    involved = {x for pair in pairs for x in pair}
    first = sorted(x for x in involved if x < split)
    second = sorted(x for x in involved if x >= split)
    if not first or not second:
        return list(blocks), []
    q_first = known_share(" ".join(blocks[i].text for i in first))
    q_second = known_share(" ".join(blocks[i].text for i in second))
    second_worse = q_second <= q_first
    worse, better = (second, first) if second_worse else (first, second)
    # A copy holds most of the other side's text too; one that holds only parts of it
    # (a summary restating a sentence per section) is a copy only if it reads worse.
    sh_worse = set().union(*(_shingles(letters[i]) for i in worse))
    sh_better = set().union(*(_shingles(letters[i]) for i in better))
    coverage = len(sh_worse & sh_better) / max(1, len(sh_better))
    log.debug("copies: %d+%d blocks, quality %.4f/%.4f, coverage %.2f",
              len(first), len(second), q_first, q_second, coverage)
    if coverage < COVERAGE and abs(q_first - q_second) < QUALITY_MARGIN:
        return list(blocks), []
    worse_side = range(split, len(blocks)) if second_worse else range(0, split)
    drop: set[int] = set(worse)

    # On the dropped copy's side, every other block whose text the kept copy already
    # holds goes too (short headings, "Genom att:", repeated lines), and so does
    # letterless debris ("-") inside the copy's span; unique text there stays.
    kept_sh: set[str] = set()
    for i, s in enumerate(letters):
        if i not in worse_side:
            kept_sh |= _shingles(s)
    total = sum(len(s) for s in letters)
    if sum(len(letters[i]) for i in drop) < MIN_SHARE * total:
        return list(blocks), []  # restatements (a summary repeating the text), not a copy
    lo, hi = min(drop), max(drop)
    for i in worse_side:
        if i in drop:
            continue
        if not letters[i]:
            if lo <= i <= hi:
                drop.add(i)
            continue
        sh_i = _shingles(letters[i])
        if len(sh_i & kept_sh) / len(sh_i) >= CONTAINMENT:
            drop.add(i)

    kept = [b for i, b in enumerate(blocks) if i not in drop]
    dropped = [b for i, b in enumerate(blocks) if i in drop]
    return kept, dropped
