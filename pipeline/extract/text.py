"""Plain-text reader: ``.txt`` into blocks.

Rules (deliberately simple; plain text has no markup to go on):

* Encoding (:func:`decode_text`): UTF-8 (a BOM is allowed) first; else the encoding
  charset-normalizer detects (Windows-1252 and Latin-1 are common for Swedish files),
  recorded in ``Document.encoding``. Bytes no encoding fits, or NUL bytes (a binary
  file), raise :class:`~pipeline.errors.IngestError` with the reason. CRLF/CR line
  ends and form feeds (treated as a blank line) are accepted.
* Paragraphs are separated by blank lines. The lines of a paragraph are joined with a
  space, except at a line-end hyphen (``_join_lines``):

  - ``word-`` + next line starting with och/eller/samt/respektive/som, or with a comma,
    is a Swedish suspended compound ("barn- och ungdomspsykiatrin",
    "Arbetsmarknads- och", "kvinno-, barn-"): the hyphen is kept;
  - lowercase letter + ``-`` + next line starting with a lowercase letter is a word
    broken at the line end: the hyphen is removed and the halves are joined;
  - any other ``X-`` line end ("EU-" + "medel", "1990-" + "talet") keeps the hyphen
    and joins without a space; a free-standing dash (" –") joins with a space.
* A line starting with a bullet marker (:func:`~pipeline.extract.bullets.split_bullet`)
  starts a ``bullet`` block; the following lines of the same paragraph that carry no
  marker are its continuation. A dash or number marker ("– ", "2. ") starts a bullet
  only at the start of a paragraph, after another bullet, or after a line ending in
  ":" or sentence punctuation — otherwise it is a dash that happened to be wrapped to
  the start of a line inside a sentence. Symbol markers ("•", "▪" …) always start one.
* Lines before the first bullet of a paragraph form a ``paragraph`` (``list_intro`` if
  :func:`~pipeline.extract.bullets.is_list_intro` accepts it).
* Lists without marks: after a line that introduces a list and ends in a colon ("Vi
  verkar för:", "X yrkar därför:"), each following line of the paragraph that starts
  with a capital letter or is an att-sats ("att kommunen …", "…att …") starts a
  ``bullet``; a line starting in lower case continues the item it wraps. An att-sats
  line after an att-sats line also starts a new item. An intro line ending in a colon
  inside a list ("För detta krävs följande åtgärder:") ends the list before it.
* A paragraph that is a single line of at most 10 words, starts with an uppercase
  letter, has no terminal punctuation (. ! ? : ; , …) and is not the last paragraph is
  a ``heading``. Headings have no levels in plain text, so the section path is just the
  most recent heading.
* Header lines (``# key: value`` at the top, or a ``---`` YAML block) are document
  metadata, not text (:mod:`pipeline.extract.metadata`): they are dropped before any
  block is made and set the document's fields (title, actor, …).
* Words holding ``(cid:N)`` (text pasted from a PDF whose font had no Unicode map)
  are dropped and their glyphs counted in ``Document.n_unmapped_glyphs``.
* Title: the first heading, else the first sentence of the first line, at most 200
  characters. A paragraph longer than a few thousand characters (a file written as
  one line) is split into blocks at sentence ends (:mod:`pipeline.extract.limits`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path

from pipeline.errors import IngestError
from pipeline.extract.bullets import BULLET_CHARS, is_list_intro, split_bullet
from pipeline.extract.hyphens import join_lines
from pipeline.extract.limits import MAX_TITLE_CHARS, clip_title, sentences, split_blocks
from pipeline.extract.metadata import apply_metadata, split_header
from pipeline.records import Block, Document
from pipeline.storage import read_source

log = logging.getLogger(__name__)

_TERMINAL = ".!?:;,…"
_SENTENCE_END = (".", "!", "?", ":", ";", "…", ")", '"', "”")
_SAMPLE_CHARS = 20_000  # text the encoding choice is judged on


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode text bytes: ``(text, encoding)``, or raise IngestError saying why not.

    UTF-8 (with or without BOM) is tried first. Otherwise charset-normalizer lists the
    encodings the bytes fit; of those, the one whose text has the largest share of
    Swedish words wins (a short cp1252 file also fits cp852 or cp1250, with "ö" read as
    "÷"), ties going to charset-normalizer's order. Bytes that fit no encoding, and NUL
    bytes (a binary file), are an error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf_16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:
        raise IngestError("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
        return text, "utf_8_sig" if data.startswith(b"\xef\xbb\xbf") else "utf_8"
    except UnicodeDecodeError as exc:
        bad = exc
    import charset_normalizer

    from pipeline.extract.lexicon import known_share

    best, best_share = None, -1.0
    for match in charset_normalizer.from_bytes(data):
        share = known_share(str(match)[:_SAMPLE_CHARS])
        if share > best_share:
            best, best_share = match, share
    if best is None:
        line = data[: bad.start].count(b"\n") + 1
        raise IngestError(
            f"undecodable text: byte 0x{data[bad.start]:02x} at offset {bad.start} (line {line}) is not "
            "UTF-8 and no other text encoding fits the file; re-save it as UTF-8"
        )
    log.info("not UTF-8: decoded as %s", best.encoding)
    return str(best), best.encoding


_CID = re.compile(r"\(cid:\d+\)")
_CID_WORD = re.compile(r"[^\s]*\(cid:\d+\)[^\s]*")


def drop_cid_words(text: str) -> tuple[str, int]:
    """Text pasted from a broken PDF conversion: words holding ``(cid:N)`` glyph codes
    are dropped; returns the text and the number of such glyphs."""
    n = len(_CID.findall(text))
    return (_CID_WORD.sub("", text), n) if n else (text, 0)


def _norm(text: str) -> str:
    text = text.replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _join_lines(lines: list[str]) -> str:
    """Join the lines of one paragraph or bullet, repairing line-end hyphens."""
    out = ""
    for line in lines:
        out = join_lines(out, line)
    return _norm(out)


def _is_heading(text: str, is_last: bool) -> bool:
    """A single-line paragraph that looks like a title (see the module docstring)."""
    if is_last or not text:
        return False
    if text[-1] in _TERMINAL or len(text.split()) > 10:
        return False
    if _ATT_LINE.match(text):
        return False  # an att-sats of a motion ("Att kostnaderna tilläggsbudgeteras")
    first_alpha = next((ch for ch in text if ch.isalpha()), "")
    return bool(first_alpha) and first_alpha.isupper()


def _split_paragraphs(text: str) -> list[list[str]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n").expandtabs(4)
    groups: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _bullet_start(line: str, prev: str | None, in_bullet: bool) -> str | None:
    """The bullet text if this line starts a bullet item, else None."""
    hit = split_bullet(line)
    if hit is None:
        return None
    marker, rest = hit
    if marker not in BULLET_CHARS and prev is not None and not in_bullet and not prev.rstrip().endswith(_SENTENCE_END):
        return None  # a dash or number wrapped to the start of a line mid-sentence
    return rest


_ATT_LINE = re.compile(r"^\s*(?:[.…]+\s*)?att\s+\w", re.IGNORECASE)


def _is_intro_line(line: str) -> bool:
    """A line that introduces a list and ends in a colon ("Vi verkar för:") or an
    ellipsis ("X yrkar…", followed by "…att …" lines)."""
    t = line.rstrip()
    if t.endswith(("…", "...")):
        t = t.rstrip(".… ") + ":"
    return t.endswith(":") and is_list_intro(t)


def _starts_implicit_item(line: str, in_item: bool) -> bool:
    """After an intro line, an unmarked line starts an item when it is an att-sats
    ("att kommunen …", "…att en krisgrupp bildas") or, outside an item, starts with a
    capital letter; a line starting in lower case continues the item it wraps."""
    if _ATT_LINE.match(line):
        return True
    first = next((ch for ch in line.strip() if ch.isalpha()), "")
    return bool(first) and first.isupper() and line.strip()[:1].isalnum()


def read_text(path: Path, doc: Document) -> list[Block]:
    """Read a text file into blocks in reading order; set ``doc.title``."""
    path = Path(path)
    data = read_source(path)
    text, doc.encoding = decode_text(data)
    header, text = split_header(text)
    text, doc.n_unmapped_glyphs = drop_cid_words(text)
    doc.n_pages = None

    groups = _split_paragraphs(text)
    blocks: list[Block] = []
    section = ""

    def emit(kind: str, lines: list[str]) -> None:
        body = _join_lines(lines)
        if body:
            blocks.append(Block(doc_id=doc.doc_id, block_id=len(blocks), page=None,
                                kind=kind, section=section, text=body))

    for gi, group in enumerate(groups):
        is_last = gi == len(groups) - 1
        single = _norm(group[0])
        if len(group) == 1 and split_bullet(group[0]) is None and _is_heading(single, is_last):
            section = single
            emit("heading", group)
            continue
        lead: list[str] = []  # lines before the first bullet
        item: list[str] | None = None  # lines of the current bullet
        prev: str | None = None
        implicit = False  # after an intro line ending in ":": unmarked lines are items
        for line in group:
            rest = _bullet_start(line, prev, item is not None)
            if rest is None and item is not None and _is_intro_line(line):
                emit("bullet", item)  # a new intro ends the list: "… följande:"
                item, lead, implicit = None, [line], True
                prev = line
                continue
            if rest is None and (implicit or prev is not None and _ATT_LINE.match(prev)) \
                    and _starts_implicit_item(line, item is not None):
                rest = line.strip()
            if rest is not None:
                if item is not None:
                    emit("bullet", item)
                elif lead:
                    lead_text = _join_lines(lead)
                    emit("list_intro" if is_list_intro(lead_text) else "paragraph", lead)
                    lead = []
                item = [rest]
            elif item is not None:
                item.append(line)  # continuation of the bullet
            else:
                lead.append(line)
                implicit = _is_intro_line(line)
            prev = line
        if item is not None:
            emit("bullet", item)
        elif lead:
            lead_text = _join_lines(lead)
            emit("list_intro" if is_list_intro(lead_text) else "paragraph", lead)

    blocks = split_blocks(blocks)
    first_heading = next((b.text for b in blocks if b.kind == "heading"), "")
    first_line = next((_norm(g[0]) for g in groups if _norm(g[0])), "")
    first_sentence = sentences(first_line[: 4 * MAX_TITLE_CHARS])[:1]
    doc.title = clip_title(first_heading or (first_sentence[0] if first_sentence else ""))
    apply_metadata(doc, header)
    log.debug("%s: %d blocks, title %r", doc.doc_id, len(blocks), doc.title)
    return blocks
