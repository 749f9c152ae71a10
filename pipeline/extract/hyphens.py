"""Joining wrapped lines: line-end hyphens removed where they only split a word.

Shared by every reader that sees hard line breaks (PDF, plain text).
"""

from __future__ import annotations

import re

from pipeline.extract.lexicon import is_word

# The word after a line-end hyphen that marks a suspended compound ("barn- och").
SUSPENDED_NEXT = {"och", "eller", "samt", "respektive", "resp", "som", "till", "men", "&"}


def join_lines(left: str, right: str) -> str:
    """Join a wrapped line to the next.

    * ``barn-`` + ``och ungdomspsykiatrin``: a suspended compound keeps hyphen and space;
    * ``barn-`` + ``, ungdoms-``: joined as is;
    * ``EU-`` + ``medel``, ``1990-`` + ``talet``, ``Malmö-`` + ``Lund``: a real hyphen
      (after an acronym or digits, before a capital) stays;
    * ``förvalt-`` + ``ningar``: the hyphen goes, unless only the hyphenated form is a
      Swedish word (``e-`` + ``tjänster``).
    """
    left, right = left.strip(), right.strip()
    if not left:
        return right
    if not right:
        return left
    m = re.search(r"(\w+)-$", left)
    if not m:
        return f"{left} {right}"
    stem = m.group(1)
    if right[0] in ",;":
        return left + right
    first = re.match(r"[\w-]+", right)
    nxt = first.group(0) if first else ""
    if nxt.lower() in SUSPENDED_NEXT:
        return f"{left} {right}"
    if not right[0].isalpha():
        return f"{left} {right}"
    if right[0].isupper() or any(ch.isdigit() for ch in stem) or stem[-1].isupper():
        return left + right
    joined, hyphened = stem + nxt, f"{stem}-{nxt}"
    if not is_word(joined) and is_word(hyphened):
        return left + right
    return left[:-1] + right
