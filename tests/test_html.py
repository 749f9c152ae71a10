"""HTML reader: the two raw web pages end to end, and small synthetic pages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline.extract.html import read_html
from pipeline.extract.ingest import ingest_file
from pipeline.records import BLOCK_KINDS, Document

RAW = Path(__file__).resolve().parents[1] / "raw"
ALLIANSEN = RAW / "malmoalliansen-trygghetsloftet.html"
MALMO_STAD = RAW / "malmo-stad-sa-jobbar-vi-med-trygghet-2019.html"


def _read(path: Path):
    doc = Document(doc_id=path.stem, source_file=path.name, format="html")
    return doc, read_html(path, doc)


def _page(tmp_path: Path, body: str, title: str = "Sidan – Webbplatsen", head: str = "", name: str = "page.html") -> Path:
    html = (f"<!DOCTYPE html><html lang='sv'><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
            f"<body>{body}</body></html>")
    p = tmp_path / name
    p.write_text(html, encoding="utf-8")
    return p


def _texts(blocks) -> str:
    return "\n".join(b.text for b in blocks)


def _check_block_invariants(blocks) -> None:
    for i, b in enumerate(blocks):
        assert b.block_id == i
        assert b.kind in BLOCK_KINDS
        assert b.page is None and b.x0 is None and b.top is None and b.x1 is None and b.bottom is None
        assert b.text == " ".join(b.text.split()) and b.text


# ------------------------------------------------------------------ raw: MalmöAlliansen

@pytest.fixture(scope="module")
def alliansen():
    return ingest_file(ALLIANSEN)


def test_alliansen_ingests(alliansen):
    doc = alliansen.document
    assert doc.status == "ok", doc.error
    assert doc.format == "html"
    assert doc.title == "Trygghetslöftet"
    assert doc.n_pages is None
    assert doc.n_blocks == len(alliansen.blocks)
    _check_block_invariants(alliansen.blocks)


def test_alliansen_thirteen_proposal_bullets_each_with_paragraph(alliansen):
    blocks = alliansen.blocks
    bullets = [i for i, b in enumerate(blocks) if b.kind == "bullet"]
    # The article has 13 <li> proposal titles (5 national, 8 local).
    assert len(bullets) == 13
    assert blocks[bullets[0]].text == "Nationell trygghetssatsning på Malmö"
    assert blocks[bullets[-1]].text == "Nolltolerans mot barnäktenskap i Malmö."
    for i in bullets:
        assert i + 1 < len(blocks) and blocks[i + 1].kind == "paragraph", blocks[i].text
        assert blocks[i + 1].section == blocks[i].section


def test_alliansen_sections(alliansen):
    blocks = alliansen.blocks
    national = "Trygghetslöftet > Förslag på nationell nivå:"
    local = "Trygghetslöftet > Förslag på lokal nivå:"
    headings = [(b.text, b.section) for b in blocks if b.kind == "heading"]
    # An h-tag that is also a list intro stays a heading: it defines the section.
    assert headings == [
        ("Trygghetslöftet", "Trygghetslöftet"),
        ("Förslag på nationell nivå:", national),
        ("Förslag på lokal nivå:", local),
    ]
    by_section = {}
    for b in blocks:
        if b.kind == "bullet":
            by_section.setdefault(b.section, []).append(b.text)
    assert len(by_section[national]) == 5
    assert len(by_section[local]) == 8
    assert "Kommunala ordningspoliser" in by_section[national]
    assert "Ökad kameraövervakning på offentliga platser" in by_section[local]


def test_alliansen_no_page_furniture(alliansen):
    text = _texts(alliansen.blocks)
    for junk in ("Tappade uppkopplingen", "cookies", "Cookies", "Hoppa till innehåll", "Jag förstår",
                 "Vår politik", "Om MalmöAlliansen", "Kontakta oss", "Följ oss", "kontakt@malmoalliansen.se",
                 "© MalmöAlliansen"):
        assert junk not in text, junk
    # Nav items are short blocks of their own if they leak; none of them may appear.
    assert not {b.text for b in alliansen.blocks} & {"Start", "Nyheter", "Kontakt", "Trygghetslöftet" + " ›"}
    # The trailing &nbsp; paragraphs are dropped.
    assert alliansen.blocks[-1].text.startswith("I Malmö har barn som tvingats in i äktenskap")


# ------------------------------------------------------------------------ raw: Malmö stad

@pytest.fixture(scope="module")
def malmo_stad():
    return ingest_file(MALMO_STAD)


def test_malmo_stad_ingests(malmo_stad):
    doc = malmo_stad.document
    assert doc.status == "ok", doc.error
    assert doc.title == "Så jobbar Malmö stad med trygghet"
    _check_block_invariants(malmo_stad.blocks)
    assert malmo_stad.blocks[0].kind == "heading"
    assert malmo_stad.blocks[1].text.startswith("Sedan torsdag den 31 oktober")


def test_malmo_stad_no_page_furniture(malmo_stad):
    text = _texts(malmo_stad.blocks)
    for junk in ("$left", "$middle", "Lämna sidan snabbt", "Sök på malmo.se", "Till innehåll",
                 "kakor", "cookies", "Jag förstår", "Bo, bygga och miljö", "Tillgänglighetsredogörelse"):
        assert junk not in text, junk


def test_malmo_stad_link_lines_are_other(malmo_stad):
    blocks = malmo_stad.blocks
    link_lines = [b for b in blocks if b.text.startswith(("Läs mer om", "Mer information om"))]
    assert len(link_lines) == 7
    assert all(b.kind == "other" for b in link_lines)
    # A "Läs mer" link at the end of a prose paragraph does not make the paragraph "other".
    prose = next(b for b in blocks if b.text.startswith("Olovliga boenden"))
    assert prose.kind == "paragraph" and prose.text.endswith("Läs mer om detta här.")


def test_malmo_stad_bullets_are_only_the_article_lists(malmo_stad):
    # The page has no proposal lists, but its article does hold two <ul> lists of
    # statistics (3 + 3 <li>); those are bullets, and nothing from the navigation is.
    bullets = [b for b in malmo_stad.blocks if b.kind == "bullet"]
    assert len(bullets) == 6
    assert {b.section for b in bullets} == {
        "Så jobbar Malmö stad med trygghet > Läget i Malmö",
        "Så jobbar Malmö stad med trygghet > Trygghetsmätningen 2019",
    }
    assert all(len(b.text.split()) > 8 for b in bullets)


def test_malmo_stad_direct_reader_matches_ingest(malmo_stad):
    doc, blocks = _read(MALMO_STAD)
    assert [b.text for b in blocks] == [b.text for b in malmo_stad.blocks]
    assert doc.n_pages is None


# ------------------------------------------------------------------------ synthetic pages

def test_cookie_consent_banner_is_dropped(tmp_path):
    p = _page(tmp_path, """
      <div class="cookie-consent"><p>Vi använder kakor för att förbättra webbplatsen.</p>
        <a href="#">Godkänn alla</a></div>
      <article><h1>Rubrik</h1><p>Kommunen ska anställa fler fältassistenter.</p></article>""")
    doc, blocks = _read(p)
    assert [(b.kind, b.text) for b in blocks] == [
        ("heading", "Rubrik"), ("paragraph", "Kommunen ska anställa fler fältassistenter.")]
    assert doc.title == "Rubrik"


def test_consent_by_id_and_aria_label_inside_article(tmp_path):
    p = _page(tmp_path, """
      <article><h1>Rubrik</h1>
        <section id="gdpr-consent-box"><p>Godkänn behandling av personuppgifter.</p></section>
        <div aria-label="Cookies"><p>Vi sparar kakor.</p></div>
        <p>Innehållet.</p></article>""")
    _, blocks = _read(p)
    assert [b.text for b in blocks] == ["Rubrik", "Innehållet."]


def test_chat_widget_and_quick_exit_are_dropped(tmp_path):
    p = _page(tmp_path, """
      <a class="skip-to-content" href="#c">Hoppa till innehåll</a>
      <a id="quickExit" class="btn quick-exit-button" href="https://www.google.se">Lämna sidan snabbt</a>
      <main id="c"><h1>Stöd</h1><p>Ring oss om du behöver hjälp.</p>
        <div class="livechat-widget"><div class="status">Tappade uppkopplingen</div>
        <p>Chatta med oss</p></div></main>
      <div id="chat"><p>Chatten är stängd.</p></div>""")
    _, blocks = _read(p)
    assert [b.text for b in blocks] == ["Stöd", "Ring oss om du behöver hjälp."]


def test_template_placeholders_are_dropped(tmp_path):
    p = _page(tmp_path, """
      <article><div class="col">$left</div><div>$middle_column</div>
        <h1>Rubrik</h1>
        <p>Hej {{ user.name }}, välkommen!</p>
        <p>${pageTitle}</p>
        <p>Det kostar $5 per person och $ 10 för par.</p>
        <p>Riktig text.</p></article>""")
    _, blocks = _read(p)
    assert [b.text for b in blocks] == [
        "Rubrik", "Det kostar $5 per person och $ 10 för par.", "Riktig text."]


def test_nested_list(tmp_path):
    p = _page(tmp_path, """
      <article><h1>Program</h1>
        <h2>Vi vill:</h2>
        <ul>
          <li>Fler poliser
            <ul><li>i Rosengård</li><li>i <strong>Seved</strong></li></ul>
          </li>
          <li><p>Bättre belysning</p> i parkerna</li>
        </ul>
        <p>Socialdemokraterna i Malmö vill:</p>
        <ol><li>Ett</li></ol>
        <h3>Underrubrik</h3><p>Text.</p>
        <h2>Nästa</h2><p>Mer text.</p>
      </article>""")
    _, blocks = _read(p)
    got = [(b.kind, b.text, b.section) for b in blocks]
    assert got == [
        ("heading", "Program", "Program"),
        ("heading", "Vi vill:", "Program > Vi vill:"),
        ("bullet", "Fler poliser", "Program > Vi vill:"),
        ("bullet", "i Rosengård", "Program > Vi vill:"),
        ("bullet", "i Seved", "Program > Vi vill:"),
        ("bullet", "Bättre belysning i parkerna", "Program > Vi vill:"),
        ("list_intro", "Socialdemokraterna i Malmö vill:", "Program > Vi vill:"),
        ("bullet", "Ett", "Program > Vi vill:"),
        ("heading", "Underrubrik", "Program > Vi vill: > Underrubrik"),
        ("paragraph", "Text.", "Program > Vi vill: > Underrubrik"),
        ("heading", "Nästa", "Program > Nästa"),
        ("paragraph", "Mer text.", "Program > Nästa"),
    ]


def test_page_without_article_or_main(tmp_path):
    p = _page(tmp_path, """
      <div class="top"><ul class="menu"><li><a href="/">Start</a></li><li><a href="/om">Om oss</a></li></ul></div>
      <div class="sidebar"><p>Kort notis.</p></div>
      <div class="content">
        <h2>Trygghet</h2>
        <p>Staden satsar på trygghetsvandringar i alla stadsdelar under året.</p>
        <p>Fältgruppen arbetar kvällar och helger i områden med oro.</p>
        <p><a href="/mer">Läs mer om fältgruppen.</a></p>
        <div>Lös text<br>över två rader</div>
      </div>
      <footer><p>Adress och telefon till stadshuset i Malmö med mera.</p></footer>""",
        title="Trygghet i staden - Malmö stad")
    doc, blocks = _read(p)
    assert [(b.kind, b.text) for b in blocks] == [
        ("heading", "Trygghet"),
        ("paragraph", "Staden satsar på trygghetsvandringar i alla stadsdelar under året."),
        ("paragraph", "Fältgruppen arbetar kvällar och helger i områden med oro."),
        ("other", "Läs mer om fältgruppen."),
        ("paragraph", "Lös text över två rader"),
    ]
    # No <h1>: the <title> without its site suffix.
    assert doc.title == "Trygghet i staden"


def test_title_suffix_variants(tmp_path):
    for title, want in (("Sida – Webbplats", "Sida"), ("Sida | Webbplats", "Sida"), ("Bara en titel", "Bara en titel")):
        p = _page(tmp_path, "<main><p>Text i stycket.</p></main>", title=title)
        doc, _ = _read(p)
        assert doc.title == want


def test_body_class_with_furniture_words_does_not_remove_page(tmp_path):
    p = tmp_path / "p.html"
    p.write_text("<html><body class='has-nav-menu cookie-consent-shown'><div class='wrap'>"
                 "<article><h1>A</h1><p>Text.</p></article></div></body></html>", encoding="utf-8")
    _, blocks = _read(p)
    assert [b.text for b in blocks] == ["A", "Text."]


def test_empty_paragraphs_and_whitespace(tmp_path):
    p = _page(tmp_path, "<article><h1> Rubrik\n  här </h1><p>&nbsp;</p><p>  </p><p>Ett\n\t stycke&nbsp;med  luft.</p>"
                        "<p>\u200b</p></article>")
    _, blocks = _read(p)
    assert [(b.kind, b.text) for b in blocks] == [("heading", "Rubrik här"), ("paragraph", "Ett stycke med luft.")]


def test_cp1252_fallback_logs_warning(tmp_path, caplog):
    p = tmp_path / "latin.html"
    p.write_bytes("<html><head><meta charset='utf-8'><title>Trygghet – Här</title></head><body><article>"
                  "<p>Förslag för Malmö och Lund – nu.</p></article></body></html>".encode("cp1252"))
    with caplog.at_level(logging.WARNING, logger="pipeline.extract.html"):
        doc, blocks = _read(p)
    assert blocks[0].text == "Förslag för Malmö och Lund – nu."
    assert any("cp1252" in r.getMessage() for r in caplog.records)


def test_declared_latin1_charset(tmp_path):
    p = tmp_path / "latin.html"
    p.write_bytes("<html><head><meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'></head>"
                  "<body><main><p>Åtgärder mot våld.</p></main></body></html>".encode("latin-1"))
    _, blocks = _read(p)
    assert blocks[0].text == "Åtgärder mot våld."


def test_binary_html_is_an_error(tmp_path):
    p = tmp_path / "bin.html"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = ingest_file(p)
    assert result.document.status == "error"
    assert "binary" in result.document.error


def test_page_without_text_is_an_error(tmp_path):
    p = _page(tmp_path, "<nav><a href='/'>Start</a></nav><div class='cookie'>Kakor</div>")
    result = ingest_file(p)
    assert result.document.status == "error"
    assert result.document.error == "no text found"


def test_hidden_elements_and_teaser_articles(tmp_path):
    p = _page(tmp_path, """
      <aside><article><h2>Relaterat</h2><p>Kort puff.</p></article></aside>
      <article><h1>Huvudartikeln</h1>
        <p hidden>Dold text.</p><div style="display: none"><p>Också dold.</p></div>
        <p>Den riktiga texten i artikeln är längre än puffen.</p></article>""")
    doc, blocks = _read(p)
    assert [b.text for b in blocks] == ["Huvudartikeln", "Den riktiga texten i artikeln är längre än puffen."]
    assert doc.title == "Huvudartikeln"
