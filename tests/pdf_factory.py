"""Small PDFs drawn with reportlab for the PDF reader tests.

Coordinates are given from the top of the page (``y`` is the baseline's distance
from the top edge), as pdfplumber reports them, so a test reads like the layout it
describes. Text is drawn with Bitstream Vera (shipped with reportlab, so the tests
need no system fonts); :data:`FONT_PUA` is Vera with the private-use code point
U+F0B7 mapped to the bullet glyph, the way Word's Symbol-font bullets come out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT = "Vera"
BOLD = "VeraBd"
FONT_PUA = "VeraPUA"
PUA_BULLET = "\uf0b7"
A4 = (595.28, 841.89)

#: In :meth:`PdfWriter.glyphs` text, this marks an extra gap inside a word (letter spacing).
SPLIT = "|"


def register_fonts() -> None:
    """Register the test fonts once per process."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    if FONT not in registered:
        pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
    if BOLD not in registered:
        pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))
    if FONT_PUA not in registered:
        pua = TTFont(FONT_PUA, "Vera.ttf")
        # reportlab keys a subset's ToUnicode map by the face name: give this one its own.
        pua.face.name = b"BitstreamVeraSans-PUA"
        # The glyph is the ordinary bullet; the character code (and so the ToUnicode
        # map pdfplumber reads) is the private-use U+F0B7.
        pua.face.charToGlyph[ord(PUA_BULLET)] = pua.face.charToGlyph[0x2022]
        pua.face.charWidths[ord(PUA_BULLET)] = pua.face.charWidths[0x2022]
        pdfmetrics.registerFont(pua)


def width(text: str, size: float = 10, bold: bool = False) -> float:
    register_fonts()
    return pdfmetrics.stringWidth(text, BOLD if bold else FONT, size)


class PdfWriter:
    """A thin layer over ``reportlab.pdfgen.canvas.Canvas`` with top-down coordinates.

    Use as a context manager, or call :meth:`save`."""

    def __init__(self, path: Path, pagesize: tuple[float, float] = A4, encrypt=None, title: str | None = None):
        register_fonts()
        self.path = Path(path)
        self.width, self.height = pagesize
        self.c = canvas.Canvas(str(self.path), pagesize=pagesize, encrypt=encrypt, invariant=1)
        if title is not None:
            self.c.setTitle(title)
        self.pages = 1

    # ------------------------------------------------------------------ pages

    def new_page(self) -> None:
        self.c.showPage()
        self.pages += 1

    def save(self) -> Path:
        self.c.save()
        return self.path

    def __enter__(self) -> "PdfWriter":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.save()

    # ------------------------------------------------------------------ text

    def _font(self, size: float, bold: bool, font: str | None) -> str:
        name = font or (BOLD if bold else FONT)
        self.c.setFont(name, size)
        return name

    def text(self, x: float, y: float, text: str, size: float = 10, bold: bool = False, font: str | None = None) -> None:
        """One string in one ``drawString`` call (spaces become space glyphs)."""
        self._font(size, bold, font)
        self.c.drawString(x, self.height - y, text)

    def lines(self, x: float, y: float, lines: Iterable[str], size: float = 10, leading: float | None = None,
              bold: bool = False, indent: Sequence[float] | None = None) -> float:
        """Consecutive lines; returns the baseline of the line after the last."""
        leading = leading or size * 1.3
        for i, ln in enumerate(lines):
            dx = indent[i] if indent is not None and i < len(indent) else 0.0
            self.text(x + dx, y, ln, size=size, bold=bold)
            y += leading
        return y

    def glyphs(self, x: float, y: float, text: str, size: float = 10, bold: bool = False, *,
               letter_gap: float | None = None, spaces: bool = True, word_gap: float | None = None,
               tracking: float = 0.0, double: tuple[float, float] | None = None, font: str | None = None) -> float:
        """Draw ``text`` one glyph per ``drawString`` call at explicit x positions.

        * ``|`` (:data:`SPLIT`) inside a word adds ``letter_gap`` points of empty space
          (default: half a space width): a letter-spaced word, ``vi|l|l`` -> "vi l l";
        * with ``spaces=True`` a space is drawn as a space glyph (as most PDFs do); with
          ``spaces=False`` no glyph is drawn and the next word starts ``word_gap``
          points further on (default: the space width), so only the gap separates words;
        * ``tracking`` is added after every glyph;
        * ``double=(dx, dy)`` draws every glyph a second time, shifted (fake bold).

        Returns the x where the next glyph would go."""
        name = self._font(size, bold, font)
        space_w = pdfmetrics.stringWidth(" ", name, size)
        letter_gap = 0.5 * space_w if letter_gap is None else letter_gap
        word_gap = space_w if word_gap is None else word_gap
        base = self.height - y
        for ch in text:
            if ch == SPLIT:
                x += letter_gap
                continue
            if ch == " " and not spaces:
                x += word_gap + tracking
                continue
            self.c.drawString(x, base, ch)
            if double is not None:
                self.c.drawString(x + double[0], base - double[1], ch)
            x += pdfmetrics.stringWidth(ch, name, size) + tracking
        return x

    def bullet(self, x: float, y: float, marker: str, lines: Sequence[str], size: float = 10,
               indent: float = 14, leading: float | None = None, font: str | None = None) -> float:
        """A list item: ``marker`` at ``x``, the text at ``x + indent``, wrapped lines
        aligned under the text (hanging indent). Returns the next baseline."""
        leading = leading or size * 1.3
        self.text(x, y, marker, size=size, font=font)
        for ln in lines:
            self.text(x + indent, y, ln, size=size)
            y += leading
        return y

    # ------------------------------------------------------------------ graphics

    def rect(self, x: float, y: float, w: float, h: float, fill: bool = True) -> None:
        """A filled rectangle with its top-left corner at (x, y)."""
        self.c.setFillGray(0.6)
        self.c.rect(x, self.height - y - h, w, h, stroke=1, fill=1 if fill else 0)
        self.c.setFillGray(0)


def make_pdf(path: Path, pages: Sequence[Sequence[tuple]], **kwargs) -> Path:
    """A PDF from a list of pages, each a list of ``(x, y, text, size, bold)`` lines."""
    with PdfWriter(path, **kwargs) as w:
        for i, page in enumerate(pages):
            if i:
                w.new_page()
            for item in page:
                x, y, text, *rest = item
                size = rest[0] if rest else 10
                bold = rest[1] if len(rest) > 1 else False
                w.text(x, y, text, size=size, bold=bold)
    return Path(path)


def wrap(text: str, max_width: float, size: float = 10, bold: bool = False) -> list[str]:
    """Greedy line breaking at spaces for a column ``max_width`` points wide."""
    out: list[str] = []
    cur = ""
    for word in text.split():
        cand = f"{cur} {word}" if cur else word
        if cur and width(cand, size, bold) > max_width:
            out.append(cur)
            cur = word
        else:
            cur = cand
    if cur:
        out.append(cur)
    return out


def drop_to_unicode(path: Path, font_name_part: str) -> int:
    """Remove the ToUnicode map of every font whose name contains ``font_name_part``
    (PyMuPDF), the way some producers embed heading fonts. Returns how many fonts."""
    import pymupdf

    doc = pymupdf.open(str(path))
    n = 0
    for xref in range(1, doc.xref_length()):
        if doc.xref_get_key(xref, "Type")[1] != "/Font":
            continue
        if font_name_part in doc.xref_get_key(xref, "BaseFont")[1] and doc.xref_get_key(xref, "ToUnicode")[0] != "null":
            doc.xref_set_key(xref, "ToUnicode", "null")
            n += 1
    data = doc.tobytes()
    doc.close()
    Path(path).write_bytes(data)
    return n
