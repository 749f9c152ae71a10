"""Bullet markers and list intros, shared by every format reader."""

from __future__ import annotations

import re

# •, U+F0B7 (Symbol-font bullet in the private use area), ▪ ■ ● ◦ ‣ ⁃ ∙ ·, dashes, numbers.
BULLET_CHARS = "•\uf0b7\uf0a7\uf076\uf0d8▪■●◦‣⁃∙·○►➢✓"
# "»", "›" and "*" also open quotations or mark footnotes in Swedish: a marker only when a space follows.
_BULLET_RE = re.compile(
    rf"^\s*(?:(?P<sym>[{BULLET_CHARS}]|[»›*](?=\s))|(?P<dash>[–—-])(?=\s)"
    rf"|(?P<num>\(?\d{{1,2}}[.)]|[a-z][.)])(?=\s))\s*"
)
# Sentences that introduce a list of what an actor wants or will do, ending in ":":
# "… vill:", "Därför vill vi:", "Här är frågorna vi vill driva i kommunen:", "Genom
# att:", "Förslag på nationell nivå:", "Vi föreslår:", "Våra förslag:", "Vi kommer att:",
# "X kräver att regionen:", "X yrkar därför:", "Vi verkar för:", "Vi arbetar för:",
# "Våra krav:", "Våra frågor i fullmäktige:", "Tillsammans prioriterar vi:",
# "Vi lovar:", "… bland annat följande:".
_INTRO_CUE = (
    r"\bvill\b|\bgenom\s+att\b|\bförslag|\bföreslå|\bkräv(?:er|a)\b|\byrka|\bkommer\s+(?:\w+\s+)?att\b"
    r"|\b(?:verkar|arbetar|jobbar|kämpar|står)\s+(?:\w+\s+)?för\b|\bdriv(?:er|a)\b|\bprioriter"
    r"|\blova[rs]?\b|\blöften?\b|\bsatsa[rs]?\b|\bsatsning|\bska\s+vi\b|\bbeslut|\bföljande\b"
    r"|\bvåra\s+(?:\w+\s+){0,2}(?:frågor|krav|mål|prioriteringar|vallöften)\b"
)
# An intro addressed to the reader is no list of proposals ("Vill du läsa mer, klicka
# det här:").
_TO_READER_RE = re.compile(r"\b(?:du|ni|dig|er)\b|\blänk|\bklicka|\bläs\b|\bläsa\b", re.IGNORECASE)
_INTRO_RE = re.compile(rf"(?:{_INTRO_CUE})[^.!?:]*:\s*$", re.IGNORECASE)
# The heading of formal demands: "Förslag till beslut", "Förslag till riksdagsbeslut",
# "Förslag till kommunfullmäktige", "Yrkande(n)", "Beslutsförslag".
_DECISION_RE = re.compile(
    r"^\s*(?:förslag\s+till\s+(?:\w*beslut|kommunfullmäktige|fullmäktige|\w*nämnden|\w*styrelsen)\b"
    r"|yrkanden?\s*:?\s*$|beslutsförslag\b)",
    re.IGNORECASE,
)
# A formal demand: a Riksdag yrkande ("Riksdagen ställer sig bakom det som anförs i
# motionen om X och tillkännager detta för regeringen", "Riksdagen avslår …") or an
# att-sats of a council motion or decision ("att kommunen inrättar X").
_YRKANDE_RE = re.compile(
    r"^\s*riksdagen\s+ställer\s+sig\s+bakom\s+det\s+som\s+anförs\s+i\s+motionen\b\s*(?:\bom\b\s*)?(?P<x>.*?)"
    r"(?:,?\s+och\s+tillkännager\s+(?:detta|det)\s+för\s+regeringen)?\s*[.,;]?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_RIKSDAG_RE = re.compile(r"^\s*riksdagen\s+(?P<x>(?:avslår|antar|beslutar|begär|godkänner|upphäver|bifaller)\b.*?)[.;]?\s*$",
                         re.IGNORECASE | re.DOTALL)
_ATT_SATS_RE = re.compile(r"^\s*(?:[.…]+\s*)?att\s+(?P<x>.+?)[\s.,;]*(?:\bsamt|\boch)?[\s.,;]*$",
                          re.IGNORECASE | re.DOTALL)


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
    """True for a line that introduces a list of proposals ("… vill:", "Genom att:",
    "Vi föreslår:", "Förslag till riksdagsbeslut"). Only the last sentence counts, and
    it must be short: a long sentence that ends in a colon is running text."""
    t = " ".join(text.split())
    if t.endswith(("…", "...")):
        t = t.rstrip(" .…") + ":"  # "Majoriteten vill …" introduces as a colon does
    last = re.split(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ])", t)[-1]
    if _DECISION_RE.match(t):
        return True
    return bool(_INTRO_RE.search(last)) and len(last.split()) <= 25 and not _TO_READER_RE.search(last)


def is_decision_intro(text: str) -> bool:
    """A heading or intro of formal demands ("Förslag till riksdagsbeslut", "… yrkar
    därför:", "… föreslår att kommunfullmäktige beslutar:")."""
    t = " ".join(text.split())
    return bool(_DECISION_RE.match(t) or re.search(r"\byrka|\bbeslut|\bfullmäktige\b", t, re.I))


def formal_demand(text: str) -> str | None:
    """The demand itself of a formal demand, or None if the text is not one:
    "Riksdagen ställer sig bakom det som anförs i motionen om X och tillkännager detta
    för regeringen" -> "X"; "Riksdagen avslår proposition …" -> "avslår proposition …";
    "att kommunen inrättar X," -> "kommunen inrättar X". A yrkande cut before its X
    gives ''."""
    t = " ".join(text.split())
    m = _YRKANDE_RE.match(t)
    if m:
        return m.group("x").strip(" ,.;")
    m = _RIKSDAG_RE.match(t) or _ATT_SATS_RE.match(t)
    if m:
        return m.group("x").strip(" ,.;")
    return None
