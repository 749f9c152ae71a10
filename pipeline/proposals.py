"""Proposals: what an actor says should be done, one row per unit.

Units (see ../shared/codebook.md and docs/data-dictionary.md):

* ``bullet``: a bullet under a list intro that states an intention ("… vill:",
  "Vi vill:", "Förslag på nationell nivå:", "Genom att:", "Förslag till beslut").
* ``item``: a title followed by a descriptive paragraph under such an intro: a
  heading-plus-paragraph entry ("Genom att:" goals) or a short bullet whose
  paragraph explains it (web pages listing proposals). The title is the text.
* ``demand``: a formal demand, one per yrkande or att-sats: a Riksdag motion's
  "Riksdagen ställer sig bakom det som anförs i motionen om X och tillkännager detta
  för regeringen" (anywhere), or an att-sats ("att kommunen inrättar X") under a
  decision intro ("Förslag till beslut", "… yrkar därför:", "… föreslår att
  kommunfullmäktige beslutar"). ``text`` is the whole item, ``demand`` the X.
* ``statement``: each sentence of a multi-sentence bullet that asks for something
  of its own, linked to its bullet by ``parent_id``.
* ``inline``: a sentence in running text in which the document's own actor says what
  it wants ("Vi Socialdemokrater vill …", "MalmöAlliansen vill …").

Lists without an intro count when their items ask for things (infinitives and
imperatives, "att …", modals, demanding noun phrases such as "Fler kameror …",
promises "… kommer … att …"); under a heading of its own, a list of short verbless
noun phrases counts too. Short paragraphs right after an intro ending in a colon are
items as bullets are.

Not proposals: bullets without an intending intro (statistics, references, tables of
contents), a lone bullet without an intro that does not ask (a page heading drawn with
a bullet: "• Vår politik"), a question ("• Vad tycker vi?"), an intro line itself, topic labels over proposals
("• Skola och omsorg"), a second word-for-word copy of a list under the same intro,
and paragraphs describing what exists.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import defaultdict

from pipeline.classify.codebook import load_codebook
from pipeline.extract.bullets import formal_demand, is_decision_intro, is_list_intro
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
_BARE_NUMBER_RE = re.compile(r"^\s*\d{1,2}\s+(?=[A-ZÅÄÖ])")
_STATISTIC_RE = re.compile(r"^\W*\d|\d+(?:[,.]\d+)?\s*(?:%|procent)|\bantal\b.*\d", re.I)


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


# Imperatives of the verbs that are not in the -a conjugation ("Höj straffet", "Inför
# gatlyktor", "Ge klubbarna …", "Stärk skolorna").
_IMPERATIVES = {
    "höj", "sänk", "skärp", "inför", "stärk", "bygg", "ge", "gör", "låt", "ta", "bedöm", "anställ",
    "förbättr", "stopp", "behåll", "tillsätt", "avskaff", "förläng", "förkort", "sätt", "säkr", "utök",
    "minsk", "ök", "öpp", "rusta", "begräns", "förbjud", "tillåt", "bevar", "håll", "skydd", "stöd",
    "främj", "ställ", "inrätt", "prioriter", "underlätt", "möjliggör", "flytt", "skapa", "välj", "led",
    "kräv", "lägg", "satsa", "sänd", "slå", "spar", "stäng", "tvinga", "upprätt", "utveckl", "värn",
}
# Noun phrases that ask for something: "Fler kameror vid resecentrum", "Ökad bemanning",
# "Sänkta taxor", "Mer resurser", "Max 20 barn per grupp", "Nolltolerans …".
_DEMAND_NP_RE = re.compile(
    r"^(?:fler|flera|mer|mera|mindre|färre|ökad|ökat|ökade|utökad|utökat|utökade|minskad|minskat|minskade"
    r"|sänkt|sänkta|höjd|höjt|höjda|skärpt|skärpta|stärkt|stärkta|förstärkt|förstärkta|förbättrad|förbättrat"
    r"|förbättrade|bättre|större|högre|lägre|kortare|längre|snabbare|tryggare|säkrare|tydligare|starkare"
    r"|billigare|enklare|tidigare|nya|nytt|ny|max|maximalt|minst|ingen|inga|inget|nolltolerans|stopp"
    r"|satsningar?|avgiftsfri|avgiftsfritt|avgiftsfria|gratis|fortsatt|fortsatta|rätt\s+till|krav\s+på"
    r"|förbud\s+mot|utbyggd|utbyggt|utbyggda|införande|inrättande|utbyggnad|översyn|tillgänglig|tillgängliga)\b",
    re.IGNORECASE,
)
# Promises: "Varje höst kommer två vandringar att ordnas", "Vi kommer att …", "Vi lovar att …".
_PROMISE_RE = re.compile(r"\bkommer\b(?:\s+\S+){0,12}?\s+att\b|\blovar\b", re.IGNORECASE)


def _first_word(text: str) -> str:
    m = re.match(r"\W*([A-Za-zÅÄÖåäöÉé]+)", text)
    return m.group(1).lower() if m else ""


def _imperative(w: str) -> bool:
    return w in _IMPERATIVES or (w.endswith("a") and w[:-1] in _IMPERATIVES) or \
        (len(w) > 3 and w.rstrip("a") in _IMPERATIVES)


def _asks(sentence: str) -> bool:
    """Does a sentence of a bullet ask for something itself? Yes if it holds a modal
    of demand ("ska", "bör", "måste", "vill", …) or opens with "Att" or a verb of the
    -a conjugation ("Inrätta", "Utöka") or a common imperative ("Höj", "Inför")."""
    s = sentence.strip()
    if _ASK_RE.search(s):
        return True
    w = _first_word(s)
    if not w:
        return False
    # Infinitive/imperative of the large -a conjugation; not the definite plural of
    # nouns ("Transporterna").
    verbish = w.endswith("a") and len(w) > 3 and not w.endswith(("rna", "na")) and w not in _NOT_VERBS
    return w == "att" or verbish


def _demand_like(text: str) -> bool:
    """A list item that asks for something: :func:`_asks`, a common imperative ("Höj
    straffet", "Inför gatlyktor"), a demanding noun phrase ("Fler kameror", "Sänkta
    priser"), or a promise ("… kommer … att …"). Never a question."""
    t = text.strip(" \t*•-–")
    if t.endswith("?"):
        return False
    return _asks(t) or _imperative(_first_word(t)) or bool(_DEMAND_NP_RE.match(t)) or bool(_PROMISE_RE.search(t))


# A finite verb of a description ("Kommunen har …", "Det finns …"): not a noun phrase.
_FINITE_RE = re.compile(r"\b(?:är|har|finns|fanns|var|blir|blev|kan|gör|får|hade|går|ligger|heter|betyder)\b", re.I)


def _noun_phrase_item(text: str) -> bool:
    """A short verbless item ("En extra semestervecka", "Betald vidareutbildning")."""
    t = text.strip()
    n = len(t.split())
    return 2 <= n <= 20 and not _FINITE_RE.search(t) and not t.endswith("?") \
        and not _STATISTIC_RE.search(t) and not _REFERENCE_RE.search(t) and t[:1].isupper()


def _is_reference_list(bullets: list[Block]) -> bool:
    """Most items cite a source (a year in brackets, SOU, a law, a URL): a reference list."""
    return len(bullets) >= 2 and sum(bool(_REFERENCE_RE.search(b.text)) for b in bullets) >= 0.5 * len(bullets)


def _is_proposal_list(bullets: list[Block], after_heading: bool = False, sibling: bool = False) -> bool:
    """A list nobody introduced: proposals only if most bullets ask for something and
    few are statistics or references. A lone bullet must ask in the strict sense of
    :func:`_asks` (a modal, "Att", an -a verb), since it may be a page heading drawn
    with a bullet ("• Vår politik", "• Vårt program"). Under a heading of its own, a list
    of at least three short verbless noun phrases ("Läxhjälp på alla fritidshem", "En
    extra semestervecka") counts too if one item asks for something or an
    earlier list of the document (``sibling``) was taken as proposals."""
    if not bullets:
        return False
    if len(bullets) == 1:  # stricter: a lone bullet may be a heading drawn with a bullet
        t = bullets[0].text
        return _asks(t) and not (_REFERENCE_RE.search(t) or _STATISTIC_RE.search(t))
    n = len(bullets)
    asks = sum(_demand_like(b.text) for b in bullets)
    other = sum(bool(_REFERENCE_RE.search(b.text) or _STATISTIC_RE.search(b.text)) for b in bullets)
    if other > 0.3 * n:
        return False
    if asks >= 0.6 * n:
        return True
    nps = sum(_noun_phrase_item(b.text) for b in bullets)
    avg_words = sum(len(b.text.split()) for b in bullets) / n
    return after_heading and n >= 3 and nps >= 0.8 * n and (asks >= 1 or sibling) and avg_words >= 3


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
        self._group_of: dict[str, int] = {}
        self._lists_taken = 0  # lists without an intro taken as proposals so far

    def drop_repeated_lists(self) -> None:
        """A list repeated word for word under the same intro (a page that prints its
        decision twice) is one list: the later copies go, with their statements."""
        groups: dict[int, list[Proposal]] = defaultdict(list)
        for p in self.out:
            if p.intro and p.unit != "statement":
                groups[self._group_of[p.proposal_id]].append(p)
        seen, drop = set(), set()
        for _, props in sorted(groups.items()):
            sig = (props[0].intro, tuple(normalise(p.text) for p in props))
            if sig in seen:
                drop |= {p.proposal_id for p in props}
            seen.add(sig)
        self.out = [p for p in self.out if p.proposal_id not in drop and p.parent_id not in drop]

    def add(self, unit: str, block: Block, text: str, intro: Block | None, description: str = "",
            parent: str = "", sentence_ids: list[int] | None = None, demand: str = "") -> Proposal:
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
            sentence_ids=" ".join(str(i) for i in sentence_ids), block_id=block.block_id, demand=demand,
        )
        self.out.append(p)
        self._group_of[p.proposal_id] = intro.block_id if intro is not None else -1
        return p

    def bullet(self, block: Block, intro: Block | None, text: str | None = None) -> None:
        """One list item: a formal demand (a yrkande anywhere, an att-sats under a
        decision intro) is a ``demand`` with its demand column; a yrkande cut before
        its demand is dropped; anything else is a ``bullet`` with its statements.
        Not items: a bullet that is itself an intro ("Vi satsar på kulturen:") or a
        question, and
        the last block of a document that stops mid-item (one word, or a last word of
        one letter: "Bygg e")."""
        text = block.text if text is None else text
        if text.rstrip().endswith((":", "?")):
            return  # an intro, or a question ("• Vad tycker vi?")
        words = text.split()
        if block is self.blocks[-1] and not text.rstrip().endswith((".", "!", "?")) \
                and (len(words) == 1 or len(words[-1]) == 1):
            return
        demand = formal_demand(text)
        formal = demand is not None and (
            block.text.lstrip(" .…").lower().startswith("riksdagen")
            or (intro is not None and is_decision_intro(intro.text)))
        if formal:
            if demand:
                self.add("demand", block, text, intro, demand=demand)
            return
        self.statements(self.add("bullet", block, text, intro), block)

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
                    after_heading = i > 0 and blocks[i - 1].kind == "heading"
                    if not _is_proposal_list(run, after_heading, sibling=self._lists_taken > 0):
                        i += len(run)  # statistics, references, contents: not proposals
                        continue
                    self._lists_taken += 1
                    for r in run:
                        self.bullet(r, None)
                    i += len(run)
                    continue
                run = self._bullet_run(i)
                if _is_reference_list(run):
                    # A reference list that an intro above seems to cover (its own heading
                    # lost): sources are never proposals.
                    i += len(run)
                    continue
                if nxt is not None and nxt.kind == "paragraph" and self._is_title_list(i) and self._topic_titles():
                    # Topic labels over the proposals ("• Skola och omsorg" + what the
                    # party wants): the paragraph is the proposal.
                    self.bullet(nxt, self._intro)
                    i += 2
                    continue
                if nxt is not None and nxt.kind == "paragraph" and self._is_title_list(i):
                    desc, j = self._description(i + 1)
                    self.add("item", b, b.text, self._intro, description=desc)
                    i = j
                    continue
                self.bullet(b, self._intro)
                i += 1
                continue
            if b.kind == "paragraph" and self._intro is not None and self._intro.kind != "heading" \
                    and blocks[i - 1] is self._intro:
                # Items written as paragraphs of their own under an intro ("… kräver
                # att kommunen:" + one short paragraph per demand).
                run = self._paragraph_items(i)
                if run:
                    for r in run:
                        self.bullet(r, self._intro, _BARE_NUMBER_RE.sub("", r.text))
                    i += len(run)
                    self._intro = None
                    continue
            if b.kind == "paragraph" and self._att_run_start(i):
                # Att-satser after "X föreslår …" / "X yrkar …" without a colon.
                intro = blocks[i - 1]
                j = i
                while j < len(blocks) and blocks[j].kind == "paragraph" and formal_demand(blocks[j].text) \
                        and re.match(r"\W*att\b", blocks[j].text, re.I):
                    self.add("demand", blocks[j], blocks[j].text, intro, demand=formal_demand(blocks[j].text))
                    j += 1
                i = j
                continue
            # Running text ends a bullet list (but not a heading-introduced section).
            if self._intro is not None and self._intro.kind != "heading" and i > 0 \
                    and blocks[i - 1].kind in ("bullet", "paragraph") and self._intro is not blocks[i - 1]:
                self._intro = None
            if b.kind == "paragraph":
                self.inline(b)
            i += 1
        self.drop_repeated_lists()
        return self.out

    def _topic_titles(self) -> bool:
        """The bullets of the current intro's list are topic labels, not proposals:
        short, no modal, no full stop, and a label repeats or each joins two nouns
        ("Skola och omsorg", "Trafik och miljö")."""
        titles = []
        after = self.blocks[self._intro_at + 1:]
        for b, nxt in zip(after, after[1:] + [None]):
            if b.kind == "bullet" and nxt is not None and nxt.kind == "paragraph":
                titles.append(b.text.strip())
            elif b.kind in ("heading", "list_intro") or b.text.rstrip().endswith(":"):
                break
        if len(titles) < 2 or any(len(t.split()) > 5 or _ASK_RE.search(t) or t.endswith(".") for t in titles):
            return False
        pair = re.compile(r"^[A-ZÅÄÖ]\w+(?:\s+\w+)?\s+(?:och|&)\s+\w+$")
        return len(set(titles)) < len(titles) or all(pair.match(t) for t in titles)

    def _paragraph_items(self, i: int) -> list[Block]:
        """Short paragraphs right after a list intro ending in a colon: at least two of
        them, each at most two sentences and 60 words (or led by a short asking
        sentence, up to 150 words), starting with a capital letter,
        no statistics or references, each asking for something (:func:`_demand_like`,
        a noun phrase) unless they are numbered ("1 Styrelsen får i uppdrag …") or
        complete the intro's clause ("… kräver att kommunen:" + "Anställer trygghetsvärdar …")."""
        out = []
        j = i
        if not self._intro.text.rstrip().endswith(":"):
            return []
        numbered = bool(_BARE_NUMBER_RE.match(self.blocks[i].text))
        # "… kräver att kommunen:": the items complete the intro's clause, whatever they say.
        completes = bool(re.search(r"\batt(?:\s+\w+){1,2}\s*:\s*$", self._intro.text))
        while j < len(self.blocks) and self.blocks[j].kind == "paragraph":
            raw = self.blocks[j].text
            t = _BARE_NUMBER_RE.sub("", raw)
            sents = self.sents.get(self.blocks[j].block_id, [])
            short = len(sents) <= 2 and len(t.split()) <= 60
            # A longer paragraph led by a short asking sentence is an item with its
            # explanation ("Inför gratis simskola. Vi vill …").
            first = sents[0].text if sents else t
            titled = len(first.split()) <= 8 and len(t.split()) <= 150 and (_demand_like(first) or _noun_phrase_item(first))
            if not (short or titled) or not t[:1].isupper() or t.rstrip().endswith(("?", ":")) \
                    or _REFERENCE_RE.search(t) or _STATISTIC_RE.match(t):
                break
            if numbered != bool(_BARE_NUMBER_RE.match(raw)):
                break  # a numbered list ends where the numbers end
            if not (numbered or completes or _demand_like(t) or _noun_phrase_item(t)):
                break
            out.append(self.blocks[j])
            j += 1
        return out if len(out) >= 2 else []

    def _att_run_start(self, i: int) -> bool:
        """A paragraph that is an att-sats, after a paragraph in which someone proposes or
        moves something ("Byalistan föreslår …", "… yrkar att fullmäktige beslutar")."""
        if i == 0 or not re.match(r"\W*att\s", self.blocks[i].text, re.I):
            return False
        prev = self.blocks[i - 1]
        last = re.split(r"(?<=[.!?])\s+", prev.text.strip())[-1]
        return prev.kind in ("paragraph", "list_intro", "heading") and len(last.split()) <= 30 \
            and bool(re.search(r"\b(?:föreslår|yrkar|föreslås|yrkas|beslutar|besluta)\b", last, re.I)) \
            and bool(formal_demand(self.blocks[i].text))

    def _description(self, start: int) -> tuple[str, int]:
        parts, j = [], start
        # A paragraph ending in a colon introduces something else ("… ladda ner det här:").
        while j < len(self.blocks) and self.blocks[j].kind == "paragraph" \
                and not (j > start and self.blocks[j].text.rstrip().endswith(":")):
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


def find_proposals(documents: list[Document], blocks: list[Block], sentences: list[Sentence]) -> list[Proposal]:
    """Proposals of every document, in document and block order. The actor is the
    document's (its metadata, applied at ingest), else the one its text names most."""
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
        actor = doc.actor or infer_actor(doc_blocks)
        out += _DocProposals(doc, doc_blocks, doc_sents, actor).run()
    return out
