"""Proposal units on small texts (each unit kind, each non-proposal kind) and on raw/."""

from __future__ import annotations

import pytest

from pipeline.proposals import find_proposals, normalise, proposal_id
from pipeline.records import Block, Document
from pipeline.storage import read_csv
from tests.conftest import stanza_model_available

needs_stanza = pytest.mark.skipif(not stanza_model_available(), reason="Stanza Swedish model not available")

SHA = "a" * 64


def _doc(doc_id="d", actor=""):
    return Document(doc_id=doc_id, source_file=f"{doc_id}.pdf", format="pdf", sha256=SHA, actor=actor)


def _blocks(spec, doc_id="d"):
    """spec: [(kind, text, section)] -> Blocks."""
    return [Block(doc_id, i, 1, kind, section, text) for i, (kind, text, section) in enumerate(spec)]


def _proposals(spec, actor=""):
    from pipeline.segment import segment_blocks

    blocks = _blocks(spec)
    return find_proposals([_doc(actor=actor)], blocks, segment_blocks(blocks))


@needs_stanza
def test_bullets_under_an_intro_carry_its_actor():
    props = _proposals([
        ("heading", "Lokal trygghet", "Lokal trygghet"),
        ("list_intro", "Socialdemokraterna i Malmö vill:", "Lokal trygghet"),
        ("bullet", "Inrätta ett särskilt vittnesstöd.", "Lokal trygghet"),
        ("bullet", "Utöka antalet lokala trygghetssamordnare.", "Lokal trygghet"),
        ("heading", "Nästa avsnitt", "Nästa avsnitt"),
        ("bullet", "Detta är en lista utan inledning.", "Nästa avsnitt"),
    ])
    assert [(p.unit, p.text) for p in props] == [
        ("bullet", "Inrätta ett särskilt vittnesstöd."),
        ("bullet", "Utöka antalet lokala trygghetssamordnare."),
    ]
    assert {p.actor for p in props} == {"Socialdemokraterna i Malmö"}
    assert {p.intro for p in props} == {"Socialdemokraterna i Malmö vill:"}


@needs_stanza
def test_items_are_titles_with_descriptions():
    props = _proposals([
        ("heading", "Staden erbjuder stöd", "Mål"),
        ("list_intro", "Genom att:", "Mål"),
        ("heading", "Prioritera barn som upplevt våld", "Mål > Prioritera barn som upplevt våld"),
        ("paragraph", "Barn ska få tidig hjälp.", "Mål > Prioritera barn som upplevt våld"),
        ("heading", "Utveckla skyddet", "Mål > Utveckla skyddet"),
        ("paragraph", "Staden ska erbjuda skydd. Det gäller alla.", "Mål > Utveckla skyddet"),
    ], actor="Malmö stad")
    assert [(p.unit, p.text, p.description) for p in props] == [
        ("item", "Prioritera barn som upplevt våld", "Barn ska få tidig hjälp."),
        ("item", "Utveckla skyddet", "Staden ska erbjuda skydd. Det gäller alla."),
    ]
    assert {p.actor for p in props} == {"Malmö stad"}


@needs_stanza
def test_titled_bullets_take_the_level_their_list_names():
    props = _proposals([
        ("heading", "Förslag på nationell nivå:", "Löftet > Förslag på nationell nivå:"),
        ("bullet", "Kommunala ordningspoliser", "Löftet > Förslag på nationell nivå:"),
        ("paragraph", "Staten ska göra det möjligt.", "Löftet > Förslag på nationell nivå:"),
        ("bullet", "Skärpta straff.", "Löftet > Förslag på nationell nivå:"),
        ("paragraph", "Straffen ska skärpas.", "Löftet > Förslag på nationell nivå:"),
        ("heading", "Förslag på lokal nivå:", "Löftet > Förslag på lokal nivå:"),
        ("bullet", "Fler ordningsvakter", "Löftet > Förslag på lokal nivå:"),
        ("paragraph", "Staden anställer vakter.", "Löftet > Förslag på lokal nivå:"),
    ])
    assert [(p.unit, p.level_hint) for p in props] == [("item", "stat"), ("item", "stat"), ("item", "kommun")]
    assert props[1].text == "Skärpta straff."


@needs_stanza
def test_multi_sentence_bullet_gives_linked_statements():
    props = _proposals([
        ("list_intro", "Vi vill:", ""),
        ("bullet", "Utöka tillsynen av den svarta ekonomin. Staten bör finansiera arbetet. "
                   "Det har gett resultat.", ""),
    ])
    bullet, *statements = props
    assert bullet.unit == "bullet"
    assert [(s.unit, s.text, s.parent_id) for s in statements] == [
        ("statement", "Utöka tillsynen av den svarta ekonomin.", bullet.proposal_id),
        ("statement", "Staten bör finansiera arbetet.", bullet.proposal_id),
    ]
    assert len(statements[0].sentence_ids.split()) == 1


@needs_stanza
def test_inline_proposals_in_running_text():
    props = _proposals([
        ("paragraph", "Malmö har tre allaktivitetshus. Vi Socialdemokrater vill att kommunen bygger fler. "
                      "Det är bra för unga som vill ha en fritid.", ""),
    ])
    assert [(p.unit, p.text, p.intro) for p in props] == [
        ("inline", "Vi Socialdemokrater vill att kommunen bygger fler.", "")]


@needs_stanza
@pytest.mark.parametrize("spec", [
    pytest.param([("bullet", "Sprängningar: 12 fall under 2019", ""), ("bullet", "Skottlossningar: 9 fall", ""),
                  ("bullet", "42 procent känner sig trygga", "")], id="statistics"),
    pytest.param([("bullet", "Socialstyrelsen (2016) Våld – handbok för socialtjänsten.", ""),
                  ("bullet", "Brottsförebyggande rådet (2018) Brott i nära relationer.", ""),
                  ("bullet", "SOU 2017:112 Ett fönster av möjligheter.", "")], id="references"),
    pytest.param([("heading", "Innehåll", "Innehåll"), ("paragraph", "Introduktion 4", "Innehåll"),
                  ("paragraph", "Lokal trygghet 5", "Innehåll")], id="table-of-contents"),
    pytest.param([("paragraph", "Malmö stad har tre allaktivitetshus och en fältgrupp.", ""),
                  ("paragraph", "Kommunen samverkar redan med polisen.", "")], id="description-of-what-exists"),
])
def test_non_proposals(spec):
    assert _proposals(spec) == []


def test_proposal_id_is_stable_and_counts_repeats():
    assert normalise("  Inrätta ett  vittnesstöd. ") == normalise("inrätta ett vittnesstöd")
    a = proposal_id(SHA, "Inrätta ett vittnesstöd.", 0)
    assert a == proposal_id(SHA, " inrätta  ett vittnesstöd", 0)
    assert a != proposal_id(SHA, "Inrätta ett vittnesstöd.", 1)
    assert a != proposal_id("b" * 64, "Inrätta ett vittnesstöd.", 0)


# --------------------------------------------------------------------------- raw/ corpus


@pytest.fixture(scope="module")
def corpus(made_project):
    root = made_project[0]
    return read_csv(root / "processed" / "proposals.csv"), read_csv(root / "processed" / "blocks.csv")


def _units(props, doc_prefix):
    return props[props["doc_id"].str.startswith(doc_prefix)]


def test_programme_has_its_65_bullets_and_statements(corpus):
    props, blocks = corpus
    p = _units(props, "s-malmo")
    bullets = p[p["unit"] == "bullet"]
    assert len(bullets) == 65
    prog_bullets = blocks[blocks["doc_id"].str.startswith("s-malmo") & (blocks["kind"] == "bullet")]
    assert sorted(bullets["text"]) == sorted(prog_bullets["text"])
    statements = p[p["unit"] == "statement"]
    assert len(statements) >= 2 and set(statements["parent_id"]) <= set(bullets["proposal_id"])
    assert set(bullets["actor"]) == {"Socialdemokraterna i Malmö"}


def test_malmoalliansen_items_with_levels(corpus):
    props, _ = corpus
    p = _units(props, "malmoalliansen")
    assert list(p["unit"]) == ["item"] * 13
    assert list(p["level_hint"]) == ["stat"] * 5 + ["kommun"] * 8
    assert (p["description"] != "").all()


def test_fri_fran_vald_items_once(corpus):
    props, _ = corpus
    items = _units(props, "fri-fran-vald")
    items = items[items["unit"] == "item"]
    assert len(items) == 22
    assert items["text"].is_unique
    assert set(items["intro"]) == {"Genom att:"}
    # The reference list at the end (its heading is in the dropped small-type copy) is no proposal.
    assert set(_units(props, "fri-fran-vald")["unit"]) <= {"item", "inline"}


def test_decision_and_article(corpus):
    props, _ = corpus
    decision = _units(props, "asn-2023")
    assert list(decision["unit"]) == ["bullet"]
    assert decision["intro"].iloc[0].startswith("Förslag till beslut")
    article = _units(props, "malmo-stad")
    assert not (article["unit"] == "bullet").any()


# --------------------------------------------------------------------------- web-page shapes (issue 9)


def _from_text(tmp_path, text):
    """A text file through ingest, segmentation and proposal finding."""
    from pipeline.extract.ingest import ingest_file
    from pipeline.segment import segment_blocks

    p = tmp_path / "sida.txt"
    p.write_text(text, encoding="utf-8")
    r = ingest_file(p)
    assert r.document.status == "ok", r.document.error
    return find_proposals([r.document], r.blocks, segment_blocks(r.blocks))


def _listed(props):
    return [(p.unit, p.text) for p in props if p.unit in ("bullet", "item", "demand")]


@needs_stanza
def test_list_without_intro_after_a_problem_paragraph(tmp_path):
    props = _from_text(tmp_path, (
        "Kvällarna i centrum\n\n"
        "Många undviker torget efter mörkrets inbrott och butikerna stänger tidigt.\n\n"
        "• Fler väktare på torget under helgkvällar.\n"
        "• Återöppna fritidsgården i Norrby.\n"
        "• Ge idrottsföreningarna tillgång till skolornas gympasalar på kvällstid.\n"
    ))
    assert _listed(props) == [
        ("bullet", "Fler väktare på torget under helgkvällar."),
        ("bullet", "Återöppna fritidsgården i Norrby."),
        ("bullet", "Ge idrottsföreningarna tillgång till skolornas gympasalar på kvällstid."),
    ]


@needs_stanza
def test_noun_phrase_lists_under_their_own_headings(tmp_path):
    props = _from_text(tmp_path, (
        "Skolan\n\n"
        "• Mindre klasser i lågstadiet\n"
        "• Fler speciallärare på varje skola\n"
        "• Läxhjälp på alla fritidshem\n\n"
        "Personalen\n\n"
        "• En extra semestervecka för undersköterskor\n"
        "• Ett cykelbidrag på 1 000 kr per år\n"
        "• Betald vidareutbildning efter fem år\n"
    ))
    assert [t for _, t in _listed(props)] == [
        "Mindre klasser i lågstadiet", "Fler speciallärare på varje skola", "Läxhjälp på alla fritidshem",
        "En extra semestervecka för undersköterskor", "Ett cykelbidrag på 1 000 kr per år",
        "Betald vidareutbildning efter fem år",
    ]


@needs_stanza
@pytest.mark.parametrize("intro", [
    "Här är några av frågorna vi vill driva i kommunen:",
    "Vi föreslår:",
    "Våra förslag:",
    "Därför vill vi:",
    "Vi kommer att:",
    "Majoriteten vill …",
    "Vi verkar för:",
    "Tillsammans prioriterar vi:",
])
def test_intros_phrased_otherwise(tmp_path, intro):
    props = _from_text(tmp_path, (
        "Vi har länge sett att gatorna är mörka.\n\n"
        f"{intro}\n"
        "• belysning i alla parker\n"
        "• nattöppna bibliotek i ytterområdena\n"
    ))
    assert _listed(props) == [("bullet", "belysning i alla parker"), ("bullet", "nattöppna bibliotek i ytterområdena")]
    assert all(p.intro == intro for p in props if p.unit == "bullet")


@needs_stanza
def test_unmarked_lines_and_paragraphs_after_an_intro(tmp_path):
    props = _from_text(tmp_path, (
        "Vi verkar för:\n"
        "Att skolgårdarna ska vara öppna\n"
        "på helgerna\n"
        "Ett nytt badhus i centralorten\n\n"
        "Partiet kräver att regionen:\n\n"
        "Anställer två trygghetsvärdar.\n\n"
        "Inrättar ett råd för unga.\n\n"
        "Redovisar arbetet varje år.\n"
    ))
    assert [t for _, t in _listed(props)] == [
        "Att skolgårdarna ska vara öppna på helgerna", "Ett nytt badhus i centralorten",
        "Anställer två trygghetsvärdar.", "Inrättar ett råd för unga.", "Redovisar arbetet varje år.",
    ]


@needs_stanza
def test_riksdag_yrkanden_are_demands_with_their_demand(tmp_path):
    props = _from_text(tmp_path, (
        "Motion till riksdagen av Exempel Exempelsson (X)\n\n"
        "Förslag till riksdagsbeslut\n\n"
        "  1. Riksdagen ställer sig bakom det som anförs i motionen om att inrätta ett register över "
        "båtmotorer och tillkännager detta för regeringen.\n"
        "  2. Riksdagen ställer sig bakom det som anförs i motionen om skärpta straff för "
        "motorstölder och tillkännager detta för regeringen.\n"
        "  3. Riksdagen avslår proposition 2030/31:99.\n"
        "  4. Riksdagen ställer sig bakom det som anförs i motionen om\n"
    ))
    demands = [(p.unit, p.demand) for p in props if p.unit != "statement"]
    assert demands == [
        ("demand", "att inrätta ett register över båtmotorer"),
        ("demand", "skärpta straff för motorstölder"),
        ("demand", "avslår proposition 2030/31:99"),
    ]  # the fourth is cut before its demand: no proposal
    assert props[0].text.startswith("Riksdagen ställer sig bakom") and props[0].text.endswith("regeringen.")


@needs_stanza
def test_council_att_satser_are_demands(tmp_path):
    props = _from_text(tmp_path, (
        "Motion om cykelparkering\n\n"
        "Det saknas säkra cykelställ vid stationen.\n\n"
        "Gröna partiet yrkar därför:\n"
        "att tekniska nämnden får i uppdrag att bygga ett cykelgarage,\n"
        "att garaget finansieras inom befintlig ram, samt\n"
        "att arbetet redovisas för fullmäktige.\n\n"
        "Motion om lekplatser\n\n"
        "Lekplatserna i byarna har förfallit. Därför föreslår Byalistan\n\n"
        "att kommunen rustar upp lekplatserna i byarna\n\n"
        "att en plan för underhåll tas fram\n"
    ))
    assert [(p.unit, p.text, p.demand) for p in props if p.unit != "statement"] == [
        ("demand", "att tekniska nämnden får i uppdrag att bygga ett cykelgarage,",
         "tekniska nämnden får i uppdrag att bygga ett cykelgarage"),
        ("demand", "att garaget finansieras inom befintlig ram, samt", "garaget finansieras inom befintlig ram"),
        ("demand", "att arbetet redovisas för fullmäktige.", "arbetet redovisas för fullmäktige"),
        ("demand", "att kommunen rustar upp lekplatserna i byarna", "kommunen rustar upp lekplatserna i byarna"),
        ("demand", "att en plan för underhåll tas fram", "en plan för underhåll tas fram"),
    ]


@needs_stanza
def test_false_friends(tmp_path):
    props = _from_text(tmp_path, (
        "• Vår politik\n\n"
        "Vi är ett lokalt parti som bryr oss om byn.\n\n"
        "• Vad tycker vi?\n\n"
        "Våra frågor i fullmäktige:\n"
        "• Skola och omsorg\n\n"
        "Vi vill att varje skola ska ha en egen kurator.\n\n"
        "• Trafik och miljö\n\n"
        "Vi vill bygga en cykelväg till grannbyn.\n\n"
        "Vill du läsa hela programmet kan du ladda ner det här:\n"
        "• Programmet som PDF\n"
    ))
    listed = _listed(props)
    assert ("bullet", "Vi vill att varje skola ska ha en egen kurator.") in listed
    assert ("bullet", "Vi vill bygga en cykelväg till grannbyn.") in listed
    texts = [t for _, t in listed]
    for wrong in ("Vår politik", "Vad tycker vi?", "Våra frågor i fullmäktige:", "Skola och omsorg",
                  "Trafik och miljö", "Programmet som PDF"):
        assert wrong not in texts


@needs_stanza
def test_a_list_printed_twice_counts_once_and_a_cut_item_not_at_all(tmp_path):
    block = "Nämnden föreslår fullmäktige besluta:\n\n1. Bifalla motionen.\n\n2. Ge nämnden i uppdrag att bygga.\n\n"
    props = _from_text(tmp_path, "Beslut\n\n" + block + "Protokoll\n\n" + block + "Vi vill:\n• Bygga fler\n• Fle\n")
    assert [t for _, t in _listed(props)] == ["Bifalla motionen.", "Ge nämnden i uppdrag att bygga.", "Bygga fler"]
