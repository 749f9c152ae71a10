"""Swedish word list (hunspell-sv, read with the pure-Python spylls reader).

Used to check candidate repairs: joining letter-spaced fragments, removing line-end
hyphens, and scoring which of two duplicate copies reads better.
"""

from __future__ import annotations

import logging
import re
import sys
from functools import lru_cache
from pathlib import Path

from pipeline.errors import PipelineError

log = logging.getLogger(__name__)

_LOOKUP_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_WORD_RE = re.compile(r"[A-Za-zÅÄÖåäöÉéÜü]+(?:-[A-Za-zÅÄÖåäöÉéÜü]+)*")


def _dictionary_base() -> Path:
    for prefix in (sys.prefix, sys.base_prefix, "/usr"):
        base = Path(prefix) / "share" / "hunspell" / "sv_SE"
        if base.with_suffix(".dic").exists():
            return base
    raise PipelineError("Swedish hunspell dictionary not found: install it with `pip install hunspell-sv` (make setup does)")


@lru_cache(maxsize=1)
def _dictionary():
    from spylls.hunspell import Dictionary

    from pipeline.worker import long_lived

    base = _dictionary_base()
    log.debug("loading hunspell dictionary %s", base)
    with long_lived():
        return Dictionary.from_files(str(base))


@lru_cache(maxsize=200_000)
def is_word(word: str) -> bool:
    """True if hunspell-sv accepts the word (compounds and inflections included)."""
    if not _LOOKUP_RE.fullmatch(word or ""):
        return False  # only letters (and inner hyphens) can be words; spares slow lookups
    try:
        return bool(_dictionary().lookup(word))
    except Exception:  # spylls can choke on odd input; treat as unknown
        return False


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def known_share(text: str) -> float:
    """Share of word tokens (alphabetic, len >= 2) that hunspell-sv knows."""
    toks = [w for w in words(text) if len(w) >= 2]
    if not toks:
        return 0.0
    return sum(is_word(w) for w in toks) / len(toks)
