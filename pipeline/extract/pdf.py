"""PDF reader (pdfplumber): characters -> repaired lines -> blocks.

Repairs, all decided from the page geometry and a Swedish word list, never from
rules that name particular documents:

* fake-bold doubled glyphs: the same glyph drawn twice at (almost) the same place
  is dropped;
* letter-spaced words (``vi l l :``, ``anstäl lda``): a gap between two glyphs that
  the PDF did not fill with a space character, and that is narrower than the
  line's own word spacing, is a candidate join; hunspell-sv decides when geometry
  alone is ambiguous;
* superscript footnote markers (small, raised glyphs) are dropped;
* text drawn outside the page box is dropped;
* two-column pages: a vertical gutter that no line crosses splits the page, and
  the columns are read one after the other (full-width lines keep their place);
* running headers and footers: lines in the top or bottom margin that repeat on
  many pages (digits ignored), and lone page numbers (``13``, ``4 (4)``);
* line-end hyphenation is removed (``förvalt-`` + ``ningar``) unless the hyphen is
  real: suspended compounds (``barn- och ungdomspsykiatrin``) and hyphenated
  compounds that only the word list knows with the hyphen;
* wrapped lines are joined into paragraphs, bullets (``•``, U+F0B7, dashes,
  numbers) with their continuation lines, across columns and pages when the text
  plainly runs on;
* headings from font size and weight; each block carries its section path.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.errors import IngestError
from pipeline.extract.bullets import is_list_intro, split_bullet
from pipeline.extract.hyphens import join_lines
from pipeline.extract.lexicon import is_word, known_share
from pipeline.extract.limits import clip_title, split_blocks
from pipeline.records import Block, Document

log = logging.getLogger(__name__)

SPACE_CHARS = {" ", "\u00a0", "\t"}
SOFT_HYPHEN = "\u00ad"
# Typographic ligatures (U+FB00–FB06: ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ) spelled out.
LIGATURES = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFB00, 0xFB07)}
# A lone page marker: "13", "4 (4)", "Sida 3 av 12", "- 5 -".
_PAGE_MARKER_RE = re.compile(r"^\s*(?:sida\s+)?[-–]?\s*\d{1,4}\s*(?:\(\s*\d{1,4}\s*\)|av\s+\d{1,4}|/\s*\d{1,4})?\s*[-–]?\s*$", re.I)
_SENTENCE_END = tuple(".!?:;”\"»)")


@dataclass
class Line:
    text: str
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    column: int = 0  # 0 full width / single column, 1 left, 2 right
    ends_hyphen: bool = False


@dataclass
class _Blk:
    kind: str
    lines: list[Line] = field(default_factory=list)
    text: str = ""
    level: int = 0  # heading level (1 = biggest)
    marker: str = ""  # bullet marker ("•", "1.", …)


# --------------------------------------------------------------------------- chars -> lines


def page_chars(page) -> list[dict]:
    """``page.chars`` with only the fields this reader uses (``text``, ``x0``, ``x1``,
    ``top``, ``bottom``, ``size``, ``fontname``, ``matrix``, ``upright``), read from
    pdfplumber's own ``page.layout`` (the pdfminer objects its interpreter produced) with
    pdfplumber's coordinate rules (top-left origin, MediaBox offset).

    ``page.chars`` converts every attribute of every object on the page (colours, colour
    spaces, graphic state, marked-content tags) into dicts: on the seven real PDFs that
    took as long as pdfminer's interpretation itself, for fields nothing here reads.
    The values are ``page.chars``'s: checked once on all 250 pages of raw/'s and the
    seven real PDFs, and by ``tests/test_pdf_repairs.py`` on the first pages of raw/'s
    and on a page with an offset MediaBox and a form XObject."""
    from pdfminer.layout import LTChar, LTContainer
    from pdfplumber.page import fix_fontname_bytes

    if page.pdf.unicode_norm is not None:  # pdfplumber.open(unicode_norm=...): its own path
        return page.chars
    mb_x0, mb_top = page.mediabox[:2]
    height = page.height
    out: list[dict] = []
    stack = [iter(page.layout._objs)]
    while stack:  # depth first, in drawing order, into figures (as page.chars does)
        for obj in stack[-1]:
            if isinstance(obj, LTChar):
                font = obj.fontname
                out.append({"text": obj.get_text(), "x0": obj.x0 + mb_x0, "x1": obj.x1 + mb_x0,
                            "top": height - obj.y1 + mb_top, "bottom": height - obj.y0 + mb_top,
                            "size": obj.size, "matrix": obj.matrix, "upright": obj.upright,
                            "fontname": fix_fontname_bytes(font) if isinstance(font, bytes) else font})
            elif isinstance(obj, LTContainer):
                stack.append(iter(obj._objs))
                break
        else:
            stack.pop()
    return out


def dedupe_chars(chars: list[dict], tolerance: float = 1.0) -> list[dict]:
    """Drop a glyph drawn again within ``tolerance`` points of the same glyph (fake bold).

    Same job as pdfplumber's ``Page.dedupe_chars``, in linear time through a grid."""
    kept: list[dict] = []
    grid: dict[tuple, list[dict]] = {}
    for c in chars:
        gx, gy = int(c["x0"] // tolerance), int(c["top"] // tolerance)
        dup = False
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for o in grid.get((c["text"], gx + dx, gy + dy), ()):
                    if abs(o["x0"] - c["x0"]) <= tolerance and abs(o["top"] - c["top"]) <= tolerance:
                        dup = True
                        break
        if not dup:
            kept.append(c)
            grid.setdefault((c["text"], gx, gy), []).append(c)
    return kept


def _is_bold(fontname: str) -> bool:
    f = fontname.lower()
    return any(k in f for k in ("bold", "black", "heavy", "semibold", "demi"))


def _rows(chars: list[dict]) -> list[list[dict]]:
    """Group characters into visual rows by their vertical middle."""
    rows: list[list[dict]] = []
    for c in sorted(chars, key=lambda c: (round((c["top"] + c["bottom"]) / 2, 1), c["x0"])):
        mid = (c["top"] + c["bottom"]) / 2
        if rows:
            r = rows[-1]
            rmid = (r[0]["top"] + r[0]["bottom"]) / 2
            if abs(mid - rmid) <= max(1.5, 0.3 * r[0]["size"]):
                r.append(c)
                continue
        rows.append([c])
    for r in rows:
        r.sort(key=lambda c: c["x0"])
    return [_drop_hidden_spaces(r) for r in rows]


def _drop_hidden_spaces(row: list[dict]) -> list[dict]:
    """A space glyph drawn over a letter (a tab-stop artefact: "S änka") is no gap."""
    glyphs = [c for c in row if c["text"] not in SPACE_CHARS]
    out = []
    for c in row:
        if c["text"] in SPACE_CHARS:
            w = max(c["x1"] - c["x0"], 0.1)
            if any(min(c["x1"], g["x1"]) - max(c["x0"], g["x0"]) >= 0.9 * w for g in glyphs
                   if g["x0"] < c["x1"] and g["x1"] > c["x0"]):
                continue
        out.append(c)
    return out


def _split_segments(row: list[dict]) -> list[list[dict]]:
    """Split a row at gaps far wider than any word space (column gutters, tab stops)."""
    segs = [[row[0]]]
    for prev, c in zip(row, row[1:]):
        gap = c["x0"] - prev["x1"]
        size = max(prev["size"], c["size"])
        if gap > max(2.2 * size, 14.0):
            segs.append([c])
        else:
            segs[-1].append(c)
    return [[c for c in s] for s in segs if any(ch["text"] not in SPACE_CHARS for ch in s)]


def _drop_footnote_marks(seg: list[dict]) -> list[dict]:
    """Drop superscript markers: digits clearly smaller than the segment's text, raised."""
    sizes = [c["size"] for c in seg if c["text"] not in SPACE_CHARS]
    if not sizes:
        return seg
    body = statistics.median(sizes)
    base = statistics.median(c["bottom"] for c in seg if c["text"] not in SPACE_CHARS)
    return [
        c for c in seg
        if not (c["size"] < 0.8 * body and c["bottom"] < base - 0.15 * body and (c["text"].isdigit() or c["text"] in "*†,"))
    ]


# Swedish words of one letter; hunspell also accepts every letter as an abbreviation.
_ONE_LETTER_WORDS = {"i", "å", "ö", "I", "Å", "Ö"}


def _fragment_is_word(w: str) -> bool:
    if len(w) == 1:
        return w in _ONE_LETTER_WORDS
    return is_word(w) or is_word(w.lower())


def _join_decision(left: str, right: str, gap: float, word_gap: float) -> bool:
    """Should two glyph runs separated by an unfilled gap be one word?"""
    lw, rw = left.split()[-1] if left.split() else "", right.split()[0] if right.split() else ""
    lw_core, rw_core = lw.strip(".,;:!?()”\"'"), rw.strip(".,;:!?()”\"'")
    if not lw_core or not rw_core or not lw_core[-1].isalpha() or not rw_core[0].isalpha():
        return gap < 0.5 * word_gap
    if rw_core[0].isupper() and not lw_core.isupper():
        return False
    joined = lw_core + rw_core
    j_ok = is_word(joined) or is_word(joined.lower())
    parts_ok = _fragment_is_word(lw_core) and _fragment_is_word(rw_core)
    if j_ok and not parts_ok:
        return True
    if parts_ok and not j_ok:
        return False
    return gap < 0.6 * word_gap  # both or neither known: geometry decides


def _runs(seg: list[dict], soft: float) -> list[tuple[str, float, str]]:
    """Glyph runs of a segment: (text, gap before, what precedes: '' | 'space' | 'gap').

    Inside a run glyphs are at most ``soft`` apart; runs are separated by a space glyph
    or by an unfilled gap."""
    runs: list[list] = []
    prev, pending_space = None, False
    for c in seg:
        if c["text"] in SPACE_CHARS:
            pending_space = prev is not None
            continue
        gap = c["x0"] - prev["x1"] if prev is not None else 0.0
        if prev is None:
            runs.append([c["text"], 0.0, ""])
        elif pending_space:
            runs.append([c["text"], gap, "space"])
        elif gap > soft:
            runs.append([c["text"], gap, "gap"])
        else:
            runs[-1][0] += c["text"]
        prev, pending_space = c, False
    return [(t, g, k) for t, g, k in runs]


def _letter_gap_limit(glyphs: list[dict], size: float) -> float:
    """Where letter spacing ends on a line drawn without space glyphs: the middle of the
    widest jump between the sorted glyph gaps (tight word spaces can be ~0.1 em)."""
    gaps = sorted(b["x0"] - a["x1"] for a, b in zip(glyphs, glyphs[1:]))
    best, jump = 0.12 * size, 0.05 * size
    for a, b in zip(gaps, gaps[1:]):
        if b - a > jump and b > 0.06 * size:
            best, jump = (a + b) / 2, b - a
    return best


def _core(text: str) -> str:
    return text.strip(".,;:!?()”\"'«»")


def _segment_text(seg: list[dict]) -> str:
    """Characters to text. Explicit space glyphs are word boundaries; unfilled gaps
    are judged against the line's own word spacing and the word list.

    Runs linked by narrow unfilled gaps form a chain ("vi l l :"); a chain that the
    word list knows as one word is joined whole ("vill:"), otherwise each gap is
    decided on its own (:func:`_join_decision`)."""
    glyphs = [c for c in seg if c["text"] not in SPACE_CHARS]
    if not glyphs:
        return ""
    size = statistics.median(c["size"] for c in glyphs)
    soft = 0.12 * size  # below this a gap is ordinary letter spacing ...
    if not any(c["text"] in SPACE_CHARS for c in seg):
        soft = min(soft, _letter_gap_limit(glyphs, size))  # ... unless the line says otherwise
    runs = _runs(seg, soft)
    space_gaps = [g for _, g, k in runs if k == "space"]
    has_spaces = bool(space_gaps)
    if has_spaces:
        word_gap = statistics.median(space_gaps)
    else:
        gaps = sorted(g for _, g, k in runs if k == "gap")
        word_gap = gaps[int(0.75 * (len(gaps) - 1))] if len(gaps) >= 3 else 0.28 * size
    # A gap can join only if narrower than the line's word spacing (the PDF's own spaces
    # make any unfilled gap a candidate). With under three gaps the line's spacing is
    # unknown, and a gap below 0.6 em is a candidate the word list decides.
    few = not has_spaces and sum(k == "gap" for _, _, k in runs) < 3
    limit = 0.6 * size if few else 0.8 * word_gap
    linked = [k == "gap" and (has_spaces or g < limit) for _, g, k in runs]

    out: list[str] = []
    i = 0
    while i < len(runs):
        j = i + 1
        while j < len(runs) and linked[j]:
            j += 1
        chain = runs[i:j]
        whole = "".join(t for t, _, _ in chain)
        if len(chain) > 1 and (is_word(_core(whole)) or is_word(_core(whole).lower())) \
                and not all(_fragment_is_word(_core(t)) for t, _, _ in chain if _core(t)):
            pieces = [whole]
        else:
            pieces = [chain[0][0]]
            for t, g, _ in chain[1:]:
                if has_spaces:
                    join = g < 0.9 * word_gap or _join_decision(pieces[-1], t, g, word_gap)
                else:
                    join = g < 0.45 * word_gap or _join_decision(pieces[-1], t, g, word_gap)
                if join:
                    pieces[-1] += t
                else:
                    pieces.append(t)
        if out:
            out.append(" ")
        out.append(" ".join(pieces))
        i = j
    return "".join(out)


def _word_boxes(row: list[dict]) -> list[tuple[float, float]]:
    """x extents of the words of a row (split at space glyphs and at word-wide gaps)."""
    boxes: list[list[float]] = []
    prev = None
    for c in row:
        if c["text"] in SPACE_CHARS:
            prev = None
            continue
        if prev is not None and c["x0"] - prev["x1"] <= 0.25 * c["size"] and boxes:
            boxes[-1][1] = c["x1"]
        else:
            boxes.append([c["x0"], c["x1"]])
        prev = c
    return [(a, b) for a, b in boxes]


def _find_gutter(rows: list[list[tuple[float, float]]], width: float) -> float | None:
    """x of a vertical gutter that splits the page into two text columns, if any.

    The gutter is the widest run of x positions in the middle of the page that the
    fewest rows cross with a word; full-width rows (a title, a caption) may cross it,
    but no more than a quarter of the rows. Both sides need text on several rows."""
    rows = [r for r in rows if sum(b - a for a, b in r) >= 20]  # not page numbers, stray marks
    if len(rows) < 3:
        return None
    lo, hi = int(width * 0.3), int(width * 0.7)
    # counts[k]: rows with a word crossing x = lo + k (strictly inside the word's box).
    covered = np.zeros((len(rows), hi - lo + 1), dtype=bool)
    for n, r in enumerate(rows):
        for a, b in r:
            start, stop = max(lo, math.floor(a) + 1), min(hi, math.ceil(b) - 1)
            if start <= stop:
                covered[n, start - lo: stop - lo + 1] = True
    counts = covered.sum(axis=0).tolist()
    least = min(counts)
    # Full-width rows may cross the gutter, and a word space of theirs may fall inside
    # it: when the least-crossed positions make no 6-pt run, allow one or two more rows.
    for limit in (least, least + 1, least + 2):
        if limit > 0.25 * len(rows):
            return None
        best, best_run, run_start = None, 0, None
        for k, c in enumerate(counts):
            if c <= limit:
                run_start = k if run_start is None else run_start
                if k - run_start + 1 > best_run:
                    best_run, best = k - run_start + 1, lo + (run_start + k) / 2
            else:
                run_start = None
        if best is not None and best_run >= 6:
            break
    else:
        return None
    left = sum(1 for r in rows if any(b <= best for a, b in r))
    right = sum(1 for r in rows if any(a >= best for a, b in r))
    if left < 2 or right < 2:
        return None
    return best


def _axis_aligned(c: dict) -> bool:
    m = c.get("matrix")
    return m is None or (abs(m[1]) < 1e-6 and abs(m[2]) < 1e-6)


def page_lines(page, page_no: int, glyphs: "UnmappedGlyphs | None" = None) -> list[Line]:
    """Lines of one page in reading order. Glyphs without a Unicode mapping are
    recovered or dropped through ``glyphs`` (:class:`UnmappedGlyphs`)."""
    width, height = float(page.width), float(page.height)
    chars = [
        c for c in dedupe_chars(page_chars(page))
        if c.get("upright", True) and _axis_aligned(c)  # rotated text: chart labels, margins
        and c["x0"] < width - 0.5 and c["x1"] > 0.5 and 0 <= c["top"] < height
    ]
    if any(is_unmapped(c["text"]) for c in chars):
        chars = (glyphs or UnmappedGlyphs(None)).resolve(chars, page_no - 1, height)
    rows = _rows(chars)
    boxes = [_word_boxes(r) for r in rows]
    gutter = _find_gutter(boxes, width)
    segments: list[list[dict]] = []
    for row, row_boxes in zip(rows, boxes):
        parts = [row]
        if gutter is not None and not any(a < gutter < b for a, b in row_boxes):
            parts = [[c for c in row if (c["x0"] + c["x1"]) / 2 < gutter],
                     [c for c in row if (c["x0"] + c["x1"]) / 2 >= gutter]]
        for part in parts:
            if not part:
                continue
            for seg in _split_segments(part):
                seg = _drop_footnote_marks(seg)
                if any(c["text"] not in SPACE_CHARS for c in seg):
                    segments.append(seg)
    lines: list[Line] = []
    for seg in segments:
        glyphs = [c for c in seg if c["text"] not in SPACE_CHARS]
        # Some producers draw the visible hyphen as U+00AD (soft hyphen): "sex\u00ad och".
        text = " ".join(_segment_text(seg).replace(SOFT_HYPHEN, "-").translate(LIGATURES).split())
        if LOST in text:  # a word with a glyph nothing could read is dropped whole
            text = " ".join(w for w in text.split() if LOST not in w)
        if not text:
            continue
        sizes = Counter(round(c["size"], 1) for c in glyphs)
        bold_n = sum(1 for c in glyphs if _is_bold(c.get("fontname", "")))
        lines.append(Line(
            text=text, page=page_no,
            x0=min(c["x0"] for c in glyphs), x1=max(c["x1"] for c in glyphs),
            top=min(c["top"] for c in glyphs), bottom=max(c["bottom"] for c in glyphs),
            size=sizes.most_common(1)[0][0], bold=bold_n > len(glyphs) / 2,
        ))
    if gutter is None:
        return sorted(lines, key=lambda ln: (round(ln.top), ln.x0))
    for ln in lines:
        ln.column = 1 if ln.x1 <= gutter else 2 if ln.x0 >= gutter else 0
    # Full-width lines cut the page into bands; within a band, left column first.
    ordered: list[Line] = []
    band: list[Line] = []
    for ln in sorted(lines, key=lambda ln: (ln.top, ln.x0)):
        if ln.column == 0:
            ordered += sorted(band, key=lambda b: (b.column, b.top, b.x0))
            ordered.append(ln)
            band = []
        else:
            band.append(ln)
    ordered += sorted(band, key=lambda b: (b.column, b.top, b.x0))
    return ordered


# --------------------------------------------------------------------------- unmapped glyphs

_CID_RE = re.compile(r"^\(cid:\d+\)$")
LOST = "\ufffd"  # stands for a glyph nothing could read, until its word is dropped


def is_unmapped(text: str) -> bool:
    """A glyph pdfminer could not map to Unicode: ``(cid:414)``, a control character,
    or U+FFFD."""
    if not text:
        return False
    if _CID_RE.match(text) or text == LOST:
        return True
    return len(text) == 1 and unicodedata.category(text) == "Cc" and text not in SPACE_CHARS


class UnmappedGlyphs:
    """Text for glyphs whose font has no usable ToUnicode map, read from pdfium.

    pdfium (pypdfium2, installed with pdfplumber) maps glyphs by other means too (the
    embedded font's own tables, glyph names). For each unmapped glyph its text in the
    glyph's box is asked for; what pdfium cannot read either is marked lost (its word
    is dropped) and counted in :attr:`n_lost`."""

    def __init__(self, path: Path | None):
        self.path = path
        self._pdf = None
        self.n_lost = 0
        self.n_recovered = 0

    def _page(self, index: int):
        if self.path is None:
            return None
        if self._pdf is None:
            import pypdfium2

            try:
                self._pdf = pypdfium2.PdfDocument(str(self.path))
            except Exception as exc:  # pdfium cannot open what pdfminer could
                log.warning("pdfium cannot open %s (%s): unmapped glyphs are dropped", self.path.name, exc)
                self.path = None
                return None
        page = self._pdf[index]
        return page, page.get_textpage(), page.get_height()

    def resolve(self, chars: list[dict], index: int, height: float) -> list[dict]:
        opened = self._page(index)
        out = []
        for c in chars:
            if not is_unmapped(c["text"]):
                out.append(c)
                continue
            text = ""
            if opened is not None:
                _, textpage, h = opened
                # The middle half of the glyph box, so a neighbour is never read.
                w4, h4 = (c["x1"] - c["x0"]) / 4, (c["bottom"] - c["top"]) / 4
                text = textpage.get_text_bounded(left=c["x0"] + w4, right=c["x1"] - w4,
                                                 bottom=h - c["bottom"] + h4, top=h - c["top"] - h4)
                text = "".join(text.split())
            if text and not any(is_unmapped(ch) for ch in text):
                self.n_recovered += 1
                out.append({**c, "text": text})
            else:
                self.n_lost += 1
                out.append({**c, "text": LOST})
        return out

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None


# --------------------------------------------------------------------------- running heads


def _norm_repeat(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower()).strip()


def drop_running_heads(pages: list[list[Line]], heights: list[float]) -> list[list[Line]]:
    """Remove page markers and lines repeated in the top/bottom margins of many pages."""
    n = len(pages)
    margin_texts: Counter = Counter()
    for lines, h in zip(pages, heights):
        seen = set()
        for ln in lines:
            if ln.top < 0.1 * h or ln.bottom > 0.9 * h:
                seen.add(_norm_repeat(ln.text))
        margin_texts.update(seen)
    # Even and odd pages often alternate heads, so a line no bigger than body text that
    # repeats in the margin twice is a head too; a bigger one (a heading a duplicated
    # copy repeats) needs max(3, 30% of pages).
    body = _body_size([ln for lines in pages for ln in lines])
    repeated = {t for t, k in margin_texts.items() if n >= 3 and k >= max(3, 0.3 * n)}
    small_repeated = {t for t, k in margin_texts.items() if n >= 3 and k >= 2}
    out = []
    for lines, h in zip(pages, heights):
        kept = []
        for ln in lines:
            in_margin = ln.top < 0.1 * h or ln.bottom > 0.9 * h
            if _PAGE_MARKER_RE.match(ln.text) and (in_margin or len(ln.text.strip()) <= 9):
                continue
            key = _norm_repeat(ln.text)
            if in_margin and (key in repeated or (key in small_repeated and ln.size <= body + 0.1)):
                continue
            kept.append(ln)
        out.append(kept)
    return out


# --------------------------------------------------------------------------- lines -> blocks


def _body_size(lines: list[Line]) -> float:
    c = Counter()
    for ln in lines:
        c[ln.size] += len(ln.text)
    return c.most_common(1)[0][0] if c else 10.0


def _is_heading(ln: Line, body: float) -> bool:
    t = ln.text
    if len(t) > 120 or split_bullet(t) or _PAGE_MARKER_RE.match(t):
        return False
    if ln.size >= body * 1.15:
        return True
    if ln.size >= body * 1.05 and not t.endswith((".", ",", ";")) and len(t.split()) <= 14:
        return True
    return ln.bold and not t.endswith((".", ",")) and len(t.split()) <= 14


# Opening quotation marks: a line that starts with one is a quote, not a heading.
_QUOTES = "\"“”„«»'‘’"
_SENTENCE_INSIDE = re.compile(r"[.!?…][\"”»’)]*\s+[A-ZÅÄÖ]")
# Swedish words no heading ends with: text that ends with one is a broken-off sentence.
_FUNCTION_WORDS = {"och", "eller", "samt", "att", "som", "av", "på", "i", "till", "för", "med", "om", "en",
                   "ett", "den", "det", "de", "både", "men", "vid", "från", "mot", "hos", "genom", "inom",
                   "utan", "än", "så", "när", "där", "vars", "dess", "sin", "sitt", "sina"}
MAX_SECTION_DEPTH = 3
MAX_SECTION_HEADING = 100


def heading_like(text: str) -> bool:
    """Could this large or bold text be a section heading? Sentence-like text is not:
    a full sentence of several words ("I Malmö blir ingen utsatt för våld … kropp."),
    more than one sentence, a quotation, a definition ("Våld: en handling som …"), a
    piece of a sentence (starting in lower case, ending with "och", "att", "på" …)."""
    t = text.strip()
    words = t.split()
    core = t.rstrip(_QUOTES + ")")
    if t[:1] in _QUOTES or t[:1].islower():
        return False  # a quotation, or the rest of a sentence begun above
    if words[-1].lower().strip(",") in _FUNCTION_WORDS:
        return False  # a sentence broken off: "För att bekämpa alla former av våld på ett"
    if core.endswith((".", "!", "?", "…")) and len(words) >= 5 and not _PAGE_MARKER_RE.match(t):
        return False
    if _SENTENCE_INSIDE.search(t):
        return False
    head, sep, tail = t.partition(": ")
    if sep and len(tail.split()) >= 6 and len(head.split()) <= 3:
        return False
    return len(words) <= 20


_NUMBERING = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s+\S")


def _numbering_depth(text: str) -> int:
    """0 for "Inledning" and "1 Inledning", 1 for "1.2 Bakgrund", 2 for "1.2.3 …": a
    deeper number is a subsection of the heading above it at the same size."""
    m = _NUMBERING.match(text)
    return m.group(1).count(".") if m else 0


def _size_levels(sizes: list[float]) -> dict[float, int]:
    """Heading level (1 = biggest) of each heading size; sizes less than 0.6 pt
    apart are one level (the same style rendered at 35.7 and 35.6 pt)."""
    levels: dict[float, int] = {}
    level, prev = 0, None
    for sz in sorted(sizes, reverse=True):
        if prev is None or prev - sz >= 0.6:
            level += 1
        levels[sz], prev = level, sz
    return levels


def section_path(headings: list[str]) -> str:
    """The chain of headings as "A > B > C", kept short: at most
    :data:`MAX_SECTION_DEPTH` levels (the top one and the deepest ones) and each
    heading cut to :data:`MAX_SECTION_HEADING` characters at a word boundary."""
    if len(headings) > MAX_SECTION_DEPTH:
        headings = headings[:1] + headings[-(MAX_SECTION_DEPTH - 1):]
    return " > ".join(clip_title(h, MAX_SECTION_HEADING) for h in headings)


def _dash_inside_sentence(marker: str, cur: _Blk | None, ln: Line) -> bool:
    """A dash at a line start that continues the paragraph above (which has not ended
    its sentence) rather than starting a list item."""
    if marker not in "–—-" or cur is None or cur.kind != "paragraph":
        return False
    last = cur.lines[-1]
    return (last.page == ln.page and last.column == ln.column and not cur.text.endswith(_SENTENCE_END)
            and 0 <= ln.top - last.bottom < 0.75 * ln.size and abs(ln.x0 - cur.lines[0].x0) < 2)


def _numbered_heading(cur: _Blk, ln: Line) -> bool:
    """A one-line numbered item without final punctuation, followed by a line that
    starts a sentence: a numbered section heading, not a list item."""
    return (len(cur.lines) == 1 and cur.marker[:1].isdigit() and len(cur.text.split()) <= 10
            and not cur.text.endswith(_SENTENCE_END) and ln.text[:1].isupper()
            and ln.page == cur.lines[0].page and ln.top - cur.lines[0].bottom < 1.5 * ln.size)


def build_blocks(lines: list[Line], doc_id: str) -> list[Block]:
    body = _body_size(lines)
    heading_sizes = sorted({ln.size for ln in lines if _is_heading(ln, body)}, reverse=True)
    size_level = _size_levels(heading_sizes)
    blks: list[_Blk] = []

    def new(kind: str, ln: Line) -> None:
        blks.append(_Blk(kind, [ln], ln.text))

    for ln in lines:
        cur = blks[-1] if blks else None
        last = cur.lines[-1] if cur else None
        bullet = split_bullet(ln.text)
        if _is_heading(ln, body) and not bullet:
            if cur and cur.kind == "heading" and last.page == ln.page and abs(last.size - ln.size) < 0.5 \
                    and 0 <= ln.top - last.bottom < 0.8 * ln.size and last.column == ln.column:
                cur.lines.append(ln)
                cur.text = join_lines(cur.text, ln.text)
            else:
                new("heading", ln)
                blks[-1].level = size_level.get(ln.size, len(heading_sizes))
            continue
        if bullet and _dash_inside_sentence(bullet[0], cur, ln):
            bullet = None  # "… egen vinning" / "– känslomässig …": a dash wrapped to the line start
        if bullet:
            new("bullet", ln)
            blks[-1].text = bullet[1].strip()
            blks[-1].marker = bullet[0]
            continue
        if cur is None or cur.kind == "heading":
            new("paragraph", ln)
            continue
        same_flow = last.page == ln.page and last.column == ln.column
        gap = ln.top - last.bottom if same_flow else None
        close = same_flow and -0.5 * ln.size <= gap <= 0.75 * ln.size and abs(ln.size - last.size) < 0.6
        runs_on = not cur.text.endswith(_SENTENCE_END) and ln.text[:1].islower()
        if cur.kind == "bullet":
            if _numbered_heading(cur, ln):
                # "1. En rättvis omställning" over an indented paragraph: a section heading.
                cur.kind, cur.text, cur.level = "heading", f"{cur.marker} {cur.text}", len(heading_sizes) + 1
                new("paragraph", ln)
                continue
            indented = ln.x0 > cur.lines[0].x0 + 2
            if (close and (indented or runs_on)) or (not same_flow and runs_on):
                cur.lines.append(ln)
                cur.text = join_lines(cur.text, ln.text)
                continue
            new("paragraph", ln)
            continue
        if close or (not same_flow and runs_on and abs(ln.size - last.size) < 0.6):
            cur.lines.append(ln)
            cur.text = join_lines(cur.text, ln.text)
            continue
        new("paragraph", ln)

    out: list[Block] = []
    path: list[tuple[int, str]] = []
    after_colon: int | None = None  # level of the heading just before, if it ends with ":"
    for b in blks:
        text = " ".join(b.text.split())
        if not text:
            continue
        kind = b.kind
        if kind == "heading":
            if is_list_intro(text):
                kind = "list_intro"
            elif not heading_like(text) or (after_colon is not None and b.level >= after_colon):
                # A vision or pull quote set in large type; or what a heading ending in
                # ":" ("Kommunfullmäktiges vision är:") announces, in no bigger type.
                kind = "paragraph"
            else:
                level = b.level + _numbering_depth(text) / 10
                while path and path[-1][0] >= level:
                    path.pop()
                path.append((level, text))
        elif kind == "paragraph" and is_list_intro(text):
            kind = "list_intro"
        elif kind == "paragraph" and len(text) <= 3 and not text[:1].isalnum():
            kind = "other"
        after_colon = b.level if kind == "heading" and text.endswith(":") else None
        first = b.lines[0]
        same_page = [ln for ln in b.lines if ln.page == first.page]
        out.append(Block(
            doc_id=doc_id, block_id=len(out), page=first.page, kind=kind,
            section=section_path([t for _, t in path]), text=text,
            x0=round(min(ln.x0 for ln in same_page), 1), top=round(min(ln.top for ln in same_page), 1),
            x1=round(max(ln.x1 for ln in same_page), 1), bottom=round(max(ln.bottom for ln in same_page), 1),
        ))
    return out


# --------------------------------------------------------------------------- entry point


def _usable_title(title) -> bool:
    """A metadata title a person wrote, not a file name or a producer's default."""
    if not isinstance(title, str) or len(title.split()) == 0:
        return False
    t = title.strip().lower()
    return not ("_" in t or t in {"untitled", "unknown", "title"} or t.startswith("microsoft word")
                or re.search(r"\.(indd|docx?|pdf|qxd)$", t))


TITLE_PAGES = 3  # the title is looked for on the first pages that hold text
DISPLAY_TYPE = 1.5  # cover type: at least this many times the body size


def _title_line(ln: Line) -> bool:
    """A line that can be part of a title: words (not a page number, not dots drawn
    as glyphs), mostly words the dictionary knows (not letters that lost their accents)."""
    toks = [w for w in re.findall(r"[^\W\d_]+", ln.text) if len(w) >= 2]
    return bool(toks) and known_share(ln.text) > 0.5


def cover_title(pages: list[list[Line]]) -> str:
    """The largest text on the first pages: the stacked lines of the largest type
    (sizes within 10 %) on the first of :data:`TITLE_PAGES` pages with text, when that
    type is display type (:data:`DISPLAY_TYPE` × the body size); else ''."""
    all_lines = [ln for pl in pages for ln in pl]
    if not all_lines:
        return ""
    body = _body_size(all_lines)
    first = [pl for pl in pages if pl][:TITLE_PAGES]
    cands = [ln for pl in first for ln in pl if ln.size >= DISPLAY_TYPE * body and _title_line(ln)]
    if not cands:
        return ""
    top = max(cands, key=lambda ln: ln.size)
    same = sorted((ln for ln in cands if ln.page == top.page and ln.size >= 0.9 * top.size),
                  key=lambda ln: (ln.top, ln.x0))
    # The run of stacked lines that holds the largest one (a gap of more than a line
    # height starts another text: a slogan and the party name at the foot of a cover).
    run: list[Line] = []
    for ln in same:
        if run and ln.top - run[-1].bottom > 1.2 * ln.size:
            if top in run:
                break
            run = []
        run.append(ln)
    text = ""
    for ln in run:
        text = join_lines(text, ln.text) if text else ln.text
    return text


def running_title(pages: list[list[Line]], heights: list[float]) -> str:
    """The line a document repeats in its page margins on at least half of its (three
    or more) pages, when it reads like a name ("Vänsterpartiets valplattform"); else ''."""
    if len(pages) < 3:
        return ""
    seen: Counter = Counter()
    for lines, h in zip(pages, heights):
        seen.update({ln.text for ln in lines if (ln.top < 0.1 * h or ln.bottom > 0.9 * h)
                     and len(ln.text.split()) >= 2 and heading_like(ln.text) and _title_line(ln)})
    if not seen:
        return ""
    text, n = min(seen.items(), key=lambda kv: (-kv[1], kv[0]))
    return text if n >= 0.5 * len(pages) else ""


def pdf_title(pages: list[list[Line]], meta_title, blocks: list[Block], running: str = "") -> str:
    """The document's title: the largest text on the first pages (:func:`cover_title`),
    else the metadata title when a person wrote it, else the running head the pages
    repeat (:func:`running_title`), else the first heading on the first pages; at most
    200 characters. (documents.yaml and front matter override this in ingest.)"""
    title = cover_title(pages)
    if _usable_title(meta_title) and (not title or not heading_like(title)):
        title = meta_title  # a cover slogan or vision sentence loses to a real title
    if not title:
        title = running
    if not title:
        pages_with_text = sorted({b.page for b in blocks if b.page is not None})[:TITLE_PAGES]
        heads = [b for b in blocks if b.kind == "heading" and b.page in pages_with_text and heading_like(b.text)]
        title = heads[0].text if heads else ""
    return clip_title(title)


def _open(path: Path):
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"%PDF" not in head:
        raise IngestError("not a PDF: the file does not start with a %PDF header")
    try:
        pdf = pdfplumber.open(path)
        pdf.pages  # forces the page tree to parse
    except PDFPasswordIncorrect:
        raise IngestError("encrypted PDF: a password is required to read it") from None
    except Exception as exc:
        # pdfplumber wraps pdfminer's errors (PdfminerException(original)).
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
        name = type(inner).__name__
        if "Password" in name or "Encrypt" in name:
            raise IngestError("encrypted PDF: a password is required to read it") from None
        detail = str(inner).splitlines()[0][:120] if str(inner) else "unreadable"
        raise IngestError(f"corrupt PDF ({name}: {detail})") from None
    return pdf


def read_pdf(path: Path, doc: Document) -> list[Block]:
    pdf = _open(path)
    try:
        try:
            pages = list(pdf.pages)
        except Exception as exc:
            raise IngestError(f"corrupt PDF ({type(exc).__name__})") from None
        doc.n_pages = len(pages)
        if not pages:
            raise IngestError("PDF has no pages")
        per_page, heights = [], []
        glyphs = UnmappedGlyphs(Path(path))
        try:
            for i, page in enumerate(pages, start=1):
                per_page.append(page_lines(page, i, glyphs))
                heights.append(float(page.height))
                page.flush_cache()
        finally:
            glyphs.close()
        doc.n_unmapped_glyphs = glyphs.n_lost
        if glyphs.n_recovered or glyphs.n_lost:
            log.info("%s: %d glyphs without a Unicode mapping read by pdfium, %d dropped",
                     doc.doc_id, glyphs.n_recovered, glyphs.n_lost)
        if not any(per_page):
            raise IngestError("no text layer: the PDF holds no extractable text (a scan? run OCR first)")
        pages_kept = drop_running_heads(per_page, heights)
        lines = [ln for pl in pages_kept for ln in pl]
        blocks = split_blocks(build_blocks(lines, doc.doc_id))
        doc.title = pdf_title(pages_kept, (pdf.metadata or {}).get("Title"), blocks,
                              running_title(per_page, heights))
        return blocks
    finally:
        pdf.close()
