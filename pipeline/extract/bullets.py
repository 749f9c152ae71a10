"""Bullet markers and list intros, shared by every format reader."""

from __future__ import annotations

import re

# •, U+F0B7 (Symbol-font bullet in the private use area), ▪ ■ ● ◦ ‣ ⁃ ∙ ·, dashes, numbers.
BULLET_CHARS = "•\uf0b7\uf0a7\uf076\uf0d8▪■●◦‣⁃∙·○►➢✓"
_BULLET_RE = re.compile(
    rf"^\s*(?:(?P<sym>[{BULLET_CHARS}])|(?P<dash>[–—-])(?=\s)|(?P<num>\(?\d{{1,2}}[.)]|[a-z][.)])(?=\s))\s*"
)
# Sentences that introduce a list of what an actor wants: "… vill:", "Genom att:",
# "Förslag på nationell nivå:", "Förslag till beslut".
_INTRO_RE = re.compile(
    r"(?:\bvill(?:\s+\w+){0,2}|\bgenom\s+att|\bförslag\b[^.!?]*|\bföreslår(?:\s+\w+){0,2}|\bkräver)"
    r"\s*:\s*$",
    re.IGNORECASE,
)
_DECISION_RE = re.compile(r"^\s*förslag\s+till\s+beslut\b", re.IGNORECASE)


def split_bullet(line: str) -> tuple[str, str] | None:
    """``("•", "rest")`` if the line starts with a bullet marker, else None."""
    m = _BULLET_RE.match(line)
    if not m:
        return None
    rest = line[m.end():]
    if not any(ch.isalnum() for ch in rest):
        return None  # a row of marks ("••", an umlaut's dots drawn as bullets) is no item
    marker = m.group("sym") or m.group("dash") or m.group("num")
    return marker, rest


def is_list_intro(text: str) -> bool:
    """True for a line that introduces a list of proposals ("… vill:", "Genom att:")."""
    t = " ".join(text.split())
    return bool(_INTRO_RE.search(t) or _DECISION_RE.match(t))
