"""Size limits every reader applies: a title and a block stay readable.

* :data:`MAX_TITLE_CHARS`: ``documents.csv``'s title is cut at a word boundary (a
  single-line text file must not put its whole text there);
* :data:`MAX_BLOCK_CHARS`: a longer paragraph is split at sentence ends into blocks
  of at most that size (at spaces only when a single sentence is longer, and hard
  only when a run of text has no space at all).
"""

from __future__ import annotations

import re

MAX_TITLE_CHARS = 200
MAX_BLOCK_CHARS = 3000

# A sentence end: . ! ? … (with closing quotes/brackets) followed by space and a
# sentence start (capital, digit, opening quote or dash).
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"”»’)\]]*\s+(?=[\"“”«(–—-]?\s*[A-ZÅÄÖÉÜ0-9])")


def clip_title(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """Whitespace-normalised ``text``, cut at the last word boundary within ``limit``."""
    t = " ".join(str(text or "").split())
    if len(t) <= limit:
        return t
    cut = t[: limit + 1].rsplit(" ", 1)[0] if " " in t[: limit + 1] else t[:limit]
    return cut[:limit].rstrip(" ,;:–-")


def sentences(text: str) -> list[str]:
    """``text`` cut after every sentence end (the pieces keep their punctuation)."""
    out, start = [], 0
    for m in _SENTENCE_BREAK.finditer(text):
        out.append(text[start: m.start()] + text[m.start(): m.end()].rstrip())
        start = m.end()
    out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


def _pack(parts: list[str], limit: int) -> list[str]:
    """``parts`` joined with spaces into pieces of at most ``limit`` characters, in order
    (a part is never cut here)."""
    out: list[str] = []
    cur = ""
    for part in parts:
        if cur and len(cur) + 1 + len(part) > limit:
            out.append(cur)
            cur = part
        else:
            cur = f"{cur} {part}" if cur else part
    if cur:
        out.append(cur)
    return out


def _hard_pieces(sentence: str, limit: int) -> list[str]:
    """A sentence longer than ``limit``: cut at spaces, or hard where there are none."""
    words: list[str] = []
    for word in sentence.split(" "):
        while len(word) > limit:
            words.append(word[:limit])
            word = word[limit:]
        words.append(word)
    return _pack(words, limit)


def split_long(text: str, limit: int = MAX_BLOCK_CHARS) -> list[str]:
    """``text`` as pieces of at most ``limit`` characters, cut at sentence ends.

    Text within the limit comes back unchanged as the only piece."""
    if len(text) <= limit:
        return [text]
    parts = [p for s in sentences(text) for p in (_hard_pieces(s, limit) if len(s) > limit else [s])]
    return _pack(parts, limit)


def split_blocks(blocks: list) -> list:
    """Blocks with every text longer than :data:`MAX_BLOCK_CHARS` split at sentence ends.

    The pieces keep the block's page, section and box; the first keeps its kind, the
    rest are paragraphs (a list item's or heading's overflow is running text). Block ids
    are renumbered in order."""
    from dataclasses import replace

    out = []
    for b in blocks:
        for i, piece in enumerate(split_long(b.text)):
            out.append(replace(b, text=piece, kind=b.kind if i == 0 else "paragraph"))
    for i, b in enumerate(out):
        b.block_id = i
    return out
