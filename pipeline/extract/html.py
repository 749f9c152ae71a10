"""HTML reader: keep the article of a web page and turn it into blocks.

Steps:

1. **Decode** the bytes: a byte-order mark wins, then the declared charset (``<meta
   charset>`` / ``http-equiv``), then strict UTF-8; if none of these decodes, fall back
   to cp1252 (a superset of Latin-1, which is what browsers do) and log a warning.
   ISO-8859-1/ASCII declarations are read as cp1252, also as browsers do.
2. **Drop page furniture** everywhere, by general rules only (no rules name a
   particular site or sentence): scripts/styles and other non-rendered elements;
   forms, buttons and inputs; ``<nav>``; ARIA landmarks ``navigation``, ``search``,
   ``banner``, ``contentinfo``, ``dialog``/``alertdialog``; page-level ``<header>`` and
   every ``<footer>``; elements hidden with the ``hidden`` attribute or an inline
   ``display:none``/``visibility:hidden`` style; and any element whose class, id or
   aria-label contains a furniture word as a whole ``-``/``_``-separated token (nav,
   menu, breadcrumb, cookie, kakor, consent, gdpr, chat, widget, share, …) or phrase
   (skip-link, quick-exit, …); see ``_NOISE_TOKENS`` / ``_NOISE_PHRASES``. ``<html>``,
   ``<body>``, ``<main>``, ``<article>`` and any element that contains one of them are
   never dropped this way, so a body class like ``has-nav-menu`` cannot remove the page.
3. **Choose the article**: the ``<article>`` with the most text (a teaser ``<article>``
   in a sidebar loses), else ``<main>``, else ``[role=main]``, else the element with the
   most ``<p>`` text, taken as the deepest element holding at least 80 % of all
   paragraph text (content split over sibling ``<div>``s stays together; a short
   sidebar is left out).
4. **Walk it in document order** and emit blocks:

   * ``h1``–``h6`` → ``heading``. The section path is kept by heading level (a heading
     closes every open heading of the same or a deeper level); a heading's own
     ``section`` is its parents' path plus itself. A heading whose text
     :func:`~pipeline.extract.bullets.is_list_intro` accepts ("Förslag på nationell
     nivå:") **stays** ``heading``: it still opens a section and the list items under it
     carry it in their path, which is where downstream stages look for the intro.
   * ``li`` → ``bullet`` (its own text, without nested lists; a nested list's items
     follow as further bullets).
   * ``p`` → ``paragraph``; ``list_intro`` if :func:`is_list_intro` accepts it; ``other``
     if its whole text is link text (a "Läs mer om …" line that is one link).
   * Text that sits loose in a container (``<div>text<br>more</div>``, ``<td>``,
     ``<blockquote>`` …) becomes a ``paragraph`` per run between block elements, with
     the same list-intro and link-only rules.

   Whitespace is normalised (``&nbsp;``, zero-width spaces and soft hyphens included);
   empty blocks are dropped, and so are unrendered template placeholders: text that is a
   bare variable (``$left``, ``$middle``) or contains ``${…}`` / ``{{…}}`` / ``{%…%}``
   (the whole block is dropped: what is left around an unrendered variable is not
   the page's text). A ``$`` before a number ("$5") is not a placeholder.
5. **Title**: the first ``<h1>`` in the article, else ``<title>`` without a trailing
   " – Site" / " - Site" / " | Site" part, else the first heading; at most 200
   characters (:mod:`pipeline.extract.limits`). A block longer than a few thousand
   characters is split at sentence ends.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from pathlib import Path

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.element import CData, Declaration, Doctype, ProcessingInstruction

from pipeline.errors import IngestError
from pipeline.extract.bullets import is_list_intro
from pipeline.records import Block, Document
from pipeline.extract.limits import clip_title, split_blocks
from pipeline.storage import read_source

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- decoding

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_LATIN1_ALIASES = {"iso8859-1", "latin-1", "ascii", "cp819"}


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(data: bytes, name: str = "") -> str:
    """Decode HTML bytes: BOM, declared charset, UTF-8, else cp1252 (with a warning)."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(enc)
            except UnicodeDecodeError as exc:
                raise IngestError(f"HTML has a {enc} byte-order mark but is not valid {enc}: "
                                  f"{exc.reason}") from None
    if b"\x00" in data[:4096]:
        raise IngestError("binary file (contains NUL bytes), not HTML")

    declared = None
    m = _META_CHARSET_RE.search(data[:4096])
    if m:
        declared = _codec(m.group(1).decode("ascii", "ignore"))
        if declared is None:
            log.warning("%s: unknown declared charset %r, trying UTF-8", name,
                        m.group(1).decode("ascii", "ignore"))
        elif declared in _LATIN1_ALIASES:
            declared = "cp1252"
        elif declared.startswith("utf-16"):  # a UTF-16 page would have NUL bytes; the label is wrong
            declared = "utf-8"
    tried = []
    for enc in dict.fromkeys([e for e in (declared, "utf-8") if e]):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            tried.append(enc)
    log.warning("%s: not valid %s; decoding as cp1252", name or "HTML", " or ".join(tried))
    return data.decode("cp1252", errors="replace")


# --------------------------------------------------------------------------- furniture

_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg",
              "canvas", "form", "button", "input", "select", "textarea", "label", "dialog",
              "nav", "head", "link", "meta")
_NOISE_ROLES = {"navigation", "search", "banner", "contentinfo", "dialog", "alertdialog", "menu",
                "menubar", "toolbar"}
# Whole tokens of class/id/aria-label (split on whitespace, "-" and "_").
_NOISE_TOKENS = {
    "nav", "navbar", "navigation", "menu", "menubar", "breadcrumb", "breadcrumbs", "crumbs",
    "cookie", "cookies", "kakor", "consent", "gdpr", "chat", "chatbot", "livechat", "widget",
    "widgets", "share", "sharing", "social", "newsletter", "popup", "modal", "toolbar",
    "skiplink", "skiplinks", "quickexit", "searchbar", "searchform",
}
# Multi-token phrases, matched on the "-"/"_"-joined form.
_NOISE_PHRASES = re.compile(r"(?:^|[\s_-])(?:skip[-_]?(?:link|links|to|nav|content)|quick[-_]?exit"
                            r"|exit[-_]?(?:button|link|page)|leave[-_]?(?:site|page)|hide[-_]?(?:site|page)|site[-_]?(?:header|footer|nav))"
                            r"(?:$|[\s_-])")
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_NOT_TEXT = (Comment, CData, ProcessingInstruction, Declaration, Doctype)
_PROTECTED = ("html", "body", "main", "article")
_SECTIONING = ("article", "main", "section", "aside")


def _attr_text(el: Tag) -> str:
    parts = []
    for attr in ("class", "id", "aria-label"):
        v = el.get(attr)
        if isinstance(v, list):
            v = " ".join(v)
        if v:
            parts.append(str(v))
    return " ".join(parts).lower()


def _is_noise(el: Tag) -> bool:
    if el.has_attr("hidden") or _HIDDEN_STYLE_RE.search(el.get("style") or ""):
        return True  # not rendered
    role = (el.get("role") or "").strip().lower()
    if role in _NOISE_ROLES:
        return True
    attrs = _attr_text(el)
    if not attrs:
        return False
    if _NOISE_PHRASES.search(attrs):
        return True
    return any(tok in _NOISE_TOKENS for tok in re.split(r"[\s_-]+", attrs))


def _protected(el: Tag) -> bool:
    """Never drop the page, the article, or anything that contains the article."""
    return (el.name in _PROTECTED or el.find(["main", "article"]) is not None
            or el.find(attrs={"role": "main"}) is not None)


def _strip_furniture(soup: BeautifulSoup) -> None:
    for c in soup.find_all(string=lambda s: isinstance(s, _NOT_TEXT)):
        c.extract()
    for el in soup.find_all(_DROP_TAGS):
        if not el.decomposed:
            el.decompose()
    for el in soup.find_all(["header", "footer"]):
        if el.decomposed:
            continue
        # <footer> is never article text; a <header> is dropped only at page level
        # (an <article>'s own header holds its <h1>).
        if el.name == "footer" or el.find_parent(_SECTIONING) is None:
            if not _protected(el):
                el.decompose()
    for el in soup.find_all(True):
        if el.decomposed or _protected(el):
            continue
        if _is_noise(el):
            log.debug("dropping page furniture <%s %s>", el.name, _attr_text(el)[:60])
            el.decompose()


# --------------------------------------------------------------------------- article

_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")  # soft hyphen, zero-width chars


def _norm(text: str) -> str:
    text = _INVISIBLE_RE.sub("", text)
    return unicodedata.normalize("NFC", " ".join(text.split()))


_ROOT_SHARE = 0.8


def _choose_root(soup: BeautifulSoup) -> Tag | None:
    for finder in (lambda: soup.find_all("article"), lambda: soup.find_all("main"),
                   lambda: soup.find_all(attrs={"role": "main"})):
        # Several candidates (teaser <article>s next to the real one): the longest.
        found = [(len(_norm(el.get_text())), el) for el in finder()]
        found = [(n, el) for n, el in found if n]
        if found:
            return max(found, key=lambda t: t[0])[1]
    # No landmark: the element with the most paragraph text. Every ancestor of a <p>
    # "has" its text, so take the deepest element that holds at least
    # _ROOT_SHARE of all paragraph text (content split over sibling <div>s stays together,
    # a short sidebar or teaser is left out).
    totals: dict[int, int] = {}
    elements: dict[int, Tag] = {}
    grand = 0
    for p in soup.find_all("p"):
        n = len(_norm(p.get_text()))
        if not n:
            continue
        grand += n
        for anc in p.parents:
            if isinstance(anc, Tag) and anc.name != "[document]":
                totals[id(anc)] = totals.get(id(anc), 0) + n
                elements[id(anc)] = anc
    if grand:
        best, best_depth = None, -1
        for key, n in totals.items():
            if n >= _ROOT_SHARE * grand:
                el = elements[key]
                depth = len(list(el.parents))
                if depth > best_depth:
                    best, best_depth = el, depth
        if best is not None:
            return best
    return soup.body or soup


# ----------------------------------------------------------------------------- blocks

_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_CONTAINERS = {
    "div", "section", "article", "main", "aside", "header", "ul", "ol", "menu", "dl", "dt", "dd",
    "blockquote", "figure", "figcaption", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
    "caption", "details", "summary", "address", "pre", "center", "fieldset", "hgroup", "body",
    "html", "hr", "picture", "video", "audio",
}
_BLOCKISH = _CONTAINERS | set(_HEADINGS) | {"p", "li"}
_PLACEHOLDER_RE = re.compile(r"^\$[A-Za-z_]\w*$|\$\{[^}]*\}|\{\{.*?\}\}|\{%.*?%\}")


def _is_placeholder(text: str) -> bool:
    return bool(_PLACEHOLDER_RE.search(text))


def _inline_text(nodes) -> str:
    """Text of inline content; <br> counts as a space."""
    out = []
    for n in nodes:
        if isinstance(n, Tag):
            if n.name == "br":
                out.append(" ")
            elif n.name in ("img",):
                continue
            else:
                out.append(_inline_text(n.children))
        elif isinstance(n, NavigableString):
            out.append(str(n))
    return "".join(out)


def _link_text(nodes) -> str:
    out = []
    for n in nodes:
        if isinstance(n, Tag):
            if n.name == "a":
                out.append(_inline_text([n]))
            else:
                out.append(_link_text(n.children))
    return "".join(out)


def _only_links(nodes) -> bool:
    """True if all visible text of these nodes is inside links."""
    full = re.sub(r"\W", "", _norm(_inline_text(nodes)))
    links = re.sub(r"\W", "", _norm(_link_text(nodes)))
    return bool(full) and full == links


class _Walker:
    def __init__(self, doc_id: str):
        self.doc_id = doc_id
        self.blocks: list[Block] = []
        self.path: list[tuple[int, str]] = []
        self.buffer: list = []  # loose inline nodes awaiting a paragraph

    @property
    def section(self) -> str:
        return " > ".join(t for _, t in self.path)

    def emit(self, kind: str, text: str) -> None:
        text = _norm(text)
        if not text:
            return
        if _is_placeholder(text):
            log.debug("%s: dropping template placeholder %r", self.doc_id, text[:60])
            return
        self.blocks.append(Block(doc_id=self.doc_id, block_id=len(self.blocks), page=None,
                                 kind=kind, section=self.section, text=text))

    def emit_text_block(self, nodes) -> None:
        nodes = list(nodes)
        text = _norm(_inline_text(nodes))
        if not text:
            return
        if _only_links(nodes):
            kind = "other"
        elif is_list_intro(text):
            kind = "list_intro"
        else:
            kind = "paragraph"
        self.emit(kind, text)

    def flush(self) -> None:
        if self.buffer:
            nodes, self.buffer = self.buffer, []
            self.emit_text_block(nodes)

    def heading(self, el: Tag) -> None:
        text = _norm(_inline_text(el.children))
        if not text or _is_placeholder(text):
            return
        level = _HEADINGS[el.name]
        while self.path and self.path[-1][0] >= level:
            self.path.pop()
        self.path.append((level, text))
        self.emit("heading", text)

    def list_item(self, el: Tag) -> None:
        own, nested = [], []
        for child in el.children:
            if isinstance(child, Tag) and child.name in ("ul", "ol", "dl", "table"):
                nested.append(child)
            else:  # inline content, and any <p>/<div> inside the item, is its text
                own.append(child)
        self.emit("bullet", _inline_text(own))
        for lst in nested:
            self.walk(lst)

    def walk(self, el: Tag) -> None:
        for child in el.children:
            if isinstance(child, NavigableString):
                if isinstance(child, _NOT_TEXT):
                    continue
                self.buffer.append(child)
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _HEADINGS:
                self.flush()
                self.heading(child)
            elif name == "li":
                self.flush()
                self.list_item(child)
            elif name == "p":
                self.flush()
                if child.find(list(_BLOCKISH - {"p"})) is not None:
                    self.walk(child)
                    self.flush()
                else:
                    self.emit_text_block(child.children)
            elif name in _CONTAINERS:
                self.flush()
                self.walk(child)
                self.flush()
            elif child.find(list(_BLOCKISH)) is not None:
                # an inline element wrapping block content (<a><div>…</div></a>)
                self.flush()
                self.walk(child)
                self.flush()
            else:
                self.buffer.append(child)
        if el.name in _CONTAINERS or el.name in _HEADINGS:
            self.flush()


def _title_from_head(soup: BeautifulSoup) -> str:
    t = soup.find("title")
    title = _norm(t.get_text()) if t else ""
    if not title:
        return ""
    # Remove a trailing site name: "Page – Site", "Page - Site", "Page | Site".
    m = re.match(r"^(?P<page>.+?)\s+[–—|-]\s+(?P<site>[^–—|]+)$", title)
    if m and len(m.group("site").split()) <= 5:
        return m.group("page").strip()
    return title


def read_html(path: Path, doc: Document) -> list[Block]:
    """Read an HTML page into blocks in reading order; set ``doc.title``."""
    path = Path(path)
    data = read_source(path)
    if not data.strip():
        raise IngestError("empty file")
    text = decode_html(data, path.name)
    soup = BeautifulSoup(text, "lxml")
    head_title = _title_from_head(soup)
    _strip_furniture(soup)
    root = _choose_root(soup)
    doc.n_pages = None
    if root is None:
        doc.title = clip_title(head_title)
        return []
    walker = _Walker(doc.doc_id)
    if root.name in _HEADINGS:
        walker.heading(root)
    else:
        walker.walk(root)
        walker.flush()
    blocks = split_blocks(walker.blocks)

    h1 = root.find("h1") if root.name != "h1" else root
    h1_text = _norm(_inline_text([h1])) if h1 is not None else ""
    first_heading = next((b.text for b in blocks if b.kind == "heading"), "")
    doc.title = clip_title(h1_text or head_title or first_heading)
    log.debug("%s: %d blocks from <%s>, title %r", doc.doc_id, len(blocks), root.name, doc.title)
    return blocks
