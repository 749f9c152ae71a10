"""Proposals: what an actor says should be done, one row per unit.

Units (see ../shared/codebook.md and docs/data-dictionary.md):

* ``bullet``: a bullet under a list intro that states an intention ("… vill:",
  "Vi vill:", "Förslag på nationell nivå:", "Genom att:", "Förslag till beslut").
* ``item``: a title followed by a descriptive paragraph under such an intro: a
  heading-plus-paragraph entry ("Genom att:" goals) or a short bullet whose
  paragraph explains it (web pages listing proposals). The title is the text.
* ``statement``: each sentence of a multi-sentence bullet that asks for something
  of its own, linked to its bullet by ``parent_id``.
* ``inline``: a sentence in running text in which the document's own actor says what
  it wants ("Vi Socialdemokrater vill …", "MalmöAlliansen vill …").

Not proposals: bullets without an intending intro (statistics, references, tables of
contents), and paragraphs describing what exists.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import yaml

from pipeline.classify.codebook import load_codebook
from pipeline.errors import PipelineError
from pipeline.extract.bullets import is_list_intro
from pipeline.records import Block, Document, Proposal, Sentence

log = logging.getLogger(__name__)

# "X vill:" -> actor X (not "Vi vill:", which names no one).
_ACTOR_INTRO_RE = re.compile(r"^(?P<actor>.+?)\s+(?:vill|föreslår|kräver)\b[^:]*:\s*$", re.I)
# Words that ask for something in a sentence of a bullet.
_ASK_RE = re.compile(r"\b(?:ska|skall|bör|måste|behöver|vill|kräver|föreslår|borde)\b", re.I)
_NOT_VERBS = {
    "denna", "detta", "dessa", "alla", "många", "andra", "samma", "vilka", "sedan", "varje",
    "flera", "hela", "enda", "våra", "sina", "vara", "bara", "dessutom", "nya", "stora",
}
# "Vi vill …", "Vi Socialdemokrater vill …", "Därför vill vi …" (not "vi är för dig som vill").
_INLINE_FIRST_PERSON = re.compile(r"\bvi(?:\s+(?!som\b|dig\b|är\b|har\b)\w+){0,2}\s+vill\b(?!\s*:)|\bvill\s+vi\b", re.I)
# A named actor wanting something: "Vänsterpartiet vill", "MalmöAlliansen vill".
_NAMED_WANTS = re.compile(r"\b([A-ZÅÄÖ][\wåäöÅÄÖ]+(?:\s+i\s+[A-ZÅÄÖ]\w+)?)\s+vill\b(?!\s*:)")
_REFERENCE_RE = re.compile(r"\(\d{4}\)|\bSOU\s+\d{4}|\bSkr\.|\bLag\s+\(\d{4}:|\bdnr\b|https?://", re.I)
_STATISTIC_RE = re.compile(r"^\W*\d|\d+(?:[,.]\d+)?\s*(?:%|procent)|\bantal\b.*\d", re.I)


def load_metadata(raw_dirs: list[Path]) -> dict[str, dict]:
    """documents.yaml of each input folder: {file name: {title, actor, year, kind}}.

    Kept for callers that pass ``meta`` to :func:`find_proposals`; ingest now puts the
    metadata on the Document record (pipeline.extract.metadata), which wins."""
    meta: dict[str, dict] = {}
    for d in sorted(set(raw_dirs)):
        path = Path(d) / "documents.yaml"
        if not path.exists():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise PipelineError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise PipelineError(f"{path}: expected a mapping of file name -> metadata")
        for name, entry in data.items():
            meta[str(name)] = entry or {}
    return meta


def normalise(text: str) -> str:
    """The form a proposal id is computed from: NFKC, lower case, single spaces, no
    edge punctuation. Layout repairs that only change spacing keep the id."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = " ".join(t.split())
    return t.strip(" .,;:!?•–-")


def proposal_id(doc_sha256: str, text: str, occurrence: int) -> str:
    h = hashlib.sha256(f"{doc_sha256}\x1f{normalise(text)}\x1f{occurrence}".encode()).hexdigest()
    return f"p{h[:15]}"


_SENTENCE_ADVERBS = {"därför", "dessutom", "nu", "då", "här", "också", "även", "sedan", "samtidigt",
                     "vidare", "slutligen", "alltså", "det", "vi", "genom", "förslag", "och", "men"}


def _actor_from_intro(intro: str) -> str:
    last = re.split(r"(?<=[.!?])\s+", " ".join(intro.split()))[-1]
    m = _ACTOR_INTRO_RE.match(last)
    if not m:
        return ""
    actor = m.group("actor").strip()
    if not actor[:1].isupper() or actor.split()[0].lower() in _SENTENCE_ADVERBS:
        return ""
    return actor


def _asks(sentence: str) -> bool:
    """Does a sentence of a bullet ask for something itself? Yes if it holds a modal
    of demand ("ska", "bör", "måste", "vill", …) or opens with "Att" or a verb of the
    -a conjugation ("Inrätta", "Utöka")."""
    s = sentence.strip()
    if _ASK_RE.search(s):
        return True
    first = re.match(r"[A-Za-zÅÄÖåäö]+", s)
    if not first:
        return False
    w = first.group(0).lower()
    # Infinitive/imperative of the large -a conjugation; not the definite plural of
    # nouns ("Transporterna").
    verbish = w.endswith("a") and len(w) > 3 and not w.endswith(("rna", "na")) and w not in _NOT_VERBS
    return w == "att" or verbish


def _is_proposal_list(bullets: list[Block]) -> bool:
    """A list nobody introduced: proposals only if most bullets ask for something and
    few are statistics or references."""
    if not bullets:
        return False
    asks = sum(_asks(b.text) for b in bullets)
    other = sum(bool(_REFERENCE_RE.search(b.text) or _STATISTIC_RE.search(b.text)) for b in bullets)
    return asks >= 0.6 * len(bullets) and other <= 0.3 * len(bullets)


def infer_actor(blocks: list[Block]) -> str:
    """The document's own actor when no metadata names it: the name that most often
    "vill" something in the text (a party writing about itself), if one does so at
    least twice, else ''."""
    # A name is capitalised mid-sentence too ("… för Vänsterpartiet är …"); an
    # adverb that opens a sentence ("Därför vill vi") is not.
    mid_caps = {m.group(1) for b in blocks for m in re.finditer(r"[a-zåäö,]\s+([A-ZÅÄÖ][\wåäöÅÄÖ]+)", b.text)}
    counts: dict[str, int] = defaultdict(int)
    for b in blocks:
        for m in _NAMED_WANTS.finditer(b.text):
            name = m.group(1)
            if name.split()[0] in mid_caps:
                counts[name] += 1
    if not counts:
        return ""
    name, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return name if n >= 2 else ""


class _DocProposals:
    """Walks one document's blocks in order and collects its proposals."""

    def __init__(self, doc: Document, blocks: list[Block], sents: dict[int, list[Sentence]], actor: str):
        self.doc, self.blocks, self.sents, self.doc_actor = doc, blocks, sents, actor
        self.codebook = load_codebook()
        self.out: list[Proposal] = []
        self.seen: dict[str, int] = defaultdict(int)

    def add(self, unit: str, block: Block, text: str, intro: Block | None, description: str = "",
            parent: str = "", sentence_ids: list[int] | None = None) -> Proposal:
        key = normalise(text)
        occ = self.seen[key]
        self.seen[key] += 1
        intro_text = intro.text if intro is not None else ""
        hint = self.codebook.level_hint(intro_text) if intro_text else ""
        if not hint:
            for heading in reversed(block.section.split(" > ")):
                hint = self.codebook.level_hint(heading)
                if hint:
                    break
        if sentence_ids is None:
            sentence_ids = [s.sentence_id for s in self.sents.get(block.block_id, [])]
        p = Proposal(
            proposal_id=proposal_id(self.doc.sha256, text, occ), doc_id=self.doc.doc_id, unit=unit,
            parent_id=parent, actor=_actor_from_intro(intro_text) or self.doc_actor, intro=intro_text,
            level_hint=hint, section=block.section, page=block.page, text=text, description=description,
            sentence_ids=" ".join(str(i) for i in sentence_ids), block_id=block.block_id,
        )
        self.out.append(p)
        return p

    def statements(self, parent: Proposal, block: Block) -> None:
        sents = self.sents.get(block.block_id, [])
        asks = [s for s in sents if _asks(s.text)]
        if len(sents) < 2 or len(asks) < 2:
            return
        for s in asks:
            self.add("statement", block, s.text, self._intro, parent=parent.proposal_id, sentence_ids=[s.sentence_id])

    def inline(self, block: Block) -> None:
        actor = self.doc_actor.lower()
        for s in self.sents.get(block.block_id, []):
            low = s.text.lower()
            own = actor and re.search(rf"\b{re.escape(actor)}\s+vill\b(?!\s*:)", low)
            if own or _INLINE_FIRST_PERSON.search(s.text):
                self.add("inline", block, s.text, None, sentence_ids=[s.sentence_id])

    def run(self) -> list[Proposal]:
        blocks = self.blocks
        self._intro: Block | None = None
        intro_depth = 0  # section depth at the intro; a heading at or above it ends the list
        item_depth = None  # section depth of item headings under a "Genom att:" intro
        items_mode = False
        i = 0
        while i < len(blocks):
            b = blocks[i]
            depth = len(b.section.split(" > ")) if b.section else 0
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if b.kind == "list_intro" or (b.kind == "heading" and is_list_intro(b.text)):
                self._intro, intro_depth, item_depth = b, depth, None
                self._intro_at = i
                # "Genom att:" followed by title + paragraph entries: a list of items.
                after = blocks[i + 1: i + 3]
                items_mode = b.kind != "heading" and len(after) == 2 \
                    and after[0].kind == "heading" and after[1].kind == "paragraph"
                i += 1
                continue
            if b.kind == "heading":
                if self._intro is not None and items_mode and nxt is not None \
                        and nxt.kind == "paragraph" and (item_depth is None or depth == item_depth):
                    # Title + description entry under the intro.
                    item_depth = depth
                    desc, j = self._description(i + 1)
                    self.add("item", b, b.text, self._intro, description=desc)
                    i = j
                    continue
                if self._intro is not None and (depth <= intro_depth or self._intro.kind != "heading"):
                    self._intro = None
                i += 1
                continue
            if b.kind == "bullet":
                if self._intro is None:
                    run = self._bullet_run(i)
                    if not _is_proposal_list(run):
                        i += len(run)  # statistics, references, contents: not proposals
                        continue
                    for r in run:
                        self.statements(self.add("bullet", r, r.text, None), r)
                    i += len(run)
                    continue
                if nxt is not None and nxt.kind == "paragraph" and self._is_title_list(i):
                    desc, j = self._description(i + 1)
                    self.add("item", b, b.text, self._intro, description=desc)
                    i = j
                    continue
                p = self.add("bullet", b, b.text, self._intro)
                self.statements(p, b)
                i += 1
                continue
            # Running text ends a bullet list (but not a heading-introduced section).
            if self._intro is not None and self._intro.kind != "heading" and i > 0 \
                    and blocks[i - 1].kind in ("bullet", "paragraph") and self._intro is not blocks[i - 1]:
                self._intro = None
            if b.kind == "paragraph":
                self.inline(b)
            i += 1
        return self.out

    def _description(self, start: int) -> tuple[str, int]:
        parts, j = [], start
        while j < len(self.blocks) and self.blocks[j].kind == "paragraph":
            parts.append(self.blocks[j].text)
            j += 1
        return " ".join(parts), j

    def _bullet_run(self, i: int) -> list[Block]:
        j = i
        while j < len(self.blocks) and self.blocks[j].kind == "bullet":
            j += 1
        return self.blocks[i:j]

    def _is_title_list(self, i: int) -> bool:
        """Bullets each followed by a paragraph: a list of titled entries."""
        n_bullets = n_titled = 0
        for j in range(self._intro_at + 1, len(self.blocks) - 1):
            b = self.blocks[j]
            if b.kind == "bullet":
                n_bullets += 1
                n_titled += self.blocks[j + 1].kind == "paragraph"
            elif b.kind in ("heading", "list_intro") and not is_list_intro(b.text):
                break
        # A lone bullet counts as a title only if it reads like one (no full stop).
        titled = n_bullets >= 2 or not self.blocks[i].text.rstrip().endswith((".", "!", "?"))
        return titled and n_titled >= 0.6 * n_bullets


def find_proposals(documents: list[Document], blocks: list[Block], sentences: list[Sentence],
                   meta: dict[str, dict] | None = None) -> list[Proposal]:
    """Proposals of every document, in document and block order."""
    meta = meta or {}
    by_doc: dict[str, list[Block]] = defaultdict(list)
    for b in blocks:
        by_doc[b.doc_id].append(b)
    sents: dict[tuple[str, int], list[Sentence]] = defaultdict(list)
    for s in sentences:
        sents[(s.doc_id, s.block_id)].append(s)
    out: list[Proposal] = []
    for doc in documents:
        if doc.status != "ok":
            continue
        doc_sents = {bid: ss for (d, bid), ss in sents.items() if d == doc.doc_id}
        doc_blocks = by_doc.get(doc.doc_id, [])
        actor = doc.actor or str((meta.get(doc.source_file) or {}).get("actor", "") or "") \
            or infer_actor(doc_blocks)
        out += _DocProposals(doc, doc_blocks, doc_sents, actor).run()
    return out
