"""Text that is never damaged: encodings, size limits, unmapped glyphs, titles and
section paths (issue 9)."""

from __future__ import annotations

import csv
import io
from pathlib import Path


from pipeline.extract.ingest import ingest_file
from pipeline.extract.limits import MAX_BLOCK_CHARS, MAX_TITLE_CHARS
from pipeline.records import Document, to_frame

SWEDISH = (
    "Åtgärder för ökad trygghet i Malmö\n"
    "\n"
    "Vi vill att fler vuxna ska röra sig ute på kvällarna – både i parker och på torg. "
    "Föräldrar, föreningar och skolor ska få stöd för nattvandring året om.\n"
    "\n"
    "Vi vill:\n"
    "• öka närvaron av fältassistenter i alla stadsområden\n"
    "• bygga fler belysta gång- och cykelvägar\n"
)


def test_cp1252_text_is_decoded_and_its_encoding_recorded(tmp_path):
    p = tmp_path / "ansi.txt"
    p.write_bytes(SWEDISH.encode("cp1252"))
    result = ingest_file(p)
    doc = result.document
    assert doc.status == "ok", doc.error
    assert doc.encoding == "cp1252"
    assert doc.title == "Åtgärder för ökad trygghet i Malmö"
    texts = [b.text for b in result.blocks]
    assert "både i parker och på torg" in texts[1] and "–" in texts[1]
    assert texts[-2:] == ["öka närvaron av fältassistenter i alla stadsområden",
                          "bygga fler belysta gång- och cykelvägar"]


def test_short_latin1_text_is_read_as_swedish(tmp_path):
    # A short file fits several single-byte encodings; the Swedish reading wins.
    p = tmp_path / "latin1.txt"
    p.write_bytes("Förslag på åtgärder mot våld.\n".encode("latin-1"))
    result = ingest_file(p)
    assert result.document.status == "ok", result.document.error
    assert result.document.encoding in {"latin_1", "cp1252", "iso8859_15"}
    assert [b.text for b in result.blocks] == ["Förslag på åtgärder mot våld."]


def test_utf8_stays_first_choice(tmp_path):
    p = tmp_path / "utf8.txt"
    p.write_text(SWEDISH, encoding="utf-8")
    result = ingest_file(p)
    assert result.document.encoding == "utf_8"
    assert result.document.title == "Åtgärder för ökad trygghet i Malmö"


def _long_line(n_sentences: int) -> str:
    return " ".join(
        f"Stadsområde {i} behöver fler fritidsgårdar, längre öppettider och vuxna som finns på plats."
        for i in range(n_sentences)
    )


def _one_megabyte_line() -> str:
    line = _long_line(12_000)
    assert len(line) > 1_000_000 and "\n" not in line
    return line


def test_one_megabyte_single_line_text(tmp_path):
    line = _one_megabyte_line()
    p = tmp_path / "one-line.txt"
    p.write_text(line, encoding="utf-8")
    result = ingest_file(p)
    doc = result.document
    assert doc.status == "ok", doc.error
    assert 0 < len(doc.title) <= MAX_TITLE_CHARS
    assert doc.title == "Stadsområde 0 behöver fler fritidsgårdar, längre öppettider och vuxna som finns på plats."
    assert all(len(b.text) <= MAX_BLOCK_CHARS for b in result.blocks)
    assert len(result.blocks) >= 1_000_000 // MAX_BLOCK_CHARS
    # Split at sentence ends only: every block is whole sentences, nothing lost.
    assert all(b.text.startswith("Stadsområde ") and b.text.endswith("plats.") for b in result.blocks)
    assert " ".join(b.text for b in result.blocks) == line
    assert [b.block_id for b in result.blocks] == list(range(len(result.blocks)))
    # documents.csv stays readable by the standard csv reader.
    buf = io.StringIO()
    to_frame([doc], Document).to_csv(buf, index=False)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert rows[0]["title"] == doc.title


def test_long_html_paragraph_and_title_are_limited(tmp_path):
    line = _long_line(250)
    title = "Trygghet " * 60
    p = tmp_path / "page.html"
    p.write_text(f"<html><head><title>{title}</title></head><body><main><p>{line}</p></main></body></html>",
                 encoding="utf-8")
    result = ingest_file(p)
    assert result.document.status == "ok", result.document.error
    assert len(result.document.title) <= MAX_TITLE_CHARS
    assert result.document.title.startswith("Trygghet Trygghet")
    assert len(result.blocks) >= 20_000 // MAX_BLOCK_CHARS
    assert all(len(b.text) <= MAX_BLOCK_CHARS and b.text.endswith("plats.") for b in result.blocks)


# --------------------------------------------------------------------------- unmapped glyphs


def _all_text(result) -> str:
    return "\n".join([result.document.title] + [b.text for b in result.blocks] + [b.section for b in result.blocks])


def test_heading_font_without_tounicode_never_leaks_cid(tmp_path):
    from tests.pdf_factory import PdfWriter, drop_to_unicode

    p = tmp_path / "no-tounicode.pdf"
    with PdfWriter(p) as w:
        w.text(72, 100, "Trygghet för alla i Malmö", size=20, bold=True)
        w.text(72, 140, "Vi vill att alla ska känna sig trygga i sin stad.", size=10)
        w.text(72, 153, "Därför satsar vi på fler vuxna ute på kvällarna.", size=10)
    assert drop_to_unicode(p, "Bold") == 1
    import pdfplumber

    with pdfplumber.open(p) as pdf:  # the damage this guards against
        assert "(cid:" in pdf.pages[0].extract_text()
    result = ingest_file(p)
    doc = result.document
    assert doc.status == "ok", doc.error
    text = _all_text(result)
    assert "(cid:" not in text and "\ufffd" not in text
    assert not any(ord(ch) < 32 and ch != "\n" for ch in text)
    # Nothing can read the heading's "ö" (the subset maps it to code 1): the words
    # that hold it are dropped and the glyphs counted; the rest is intact.
    assert doc.n_unmapped_glyphs == 2
    assert [b.text for b in result.blocks] == [
        "Trygghet alla i",
        "Vi vill att alla ska känna sig trygga i sin stad. Därför satsar vi på fler vuxna ute på kvällarna.",
    ]


def test_unmapped_glyph_is_read_from_pdfium_in_its_box(tmp_path):
    """pdfium reads the glyph drawn where pdfminer saw only a CID."""
    import pdfplumber

    from pipeline.extract.pdf import UnmappedGlyphs
    from tests.pdf_factory import PdfWriter

    p = tmp_path / "doc.pdf"
    with PdfWriter(p) as w:
        w.text(72, 100, "Trygghet för alla i Malmö", size=20, bold=True)
    with pdfplumber.open(p) as pdf:
        page = pdf.pages[0]
        chars = [dict(c) for c in page.chars]
        height = float(page.height)
    damaged = [{**c, "text": f"(cid:{400 + i})"} if c["text"] in "öM" else c for i, c in enumerate(chars)]
    glyphs = UnmappedGlyphs(p)
    try:
        fixed = glyphs.resolve(damaged, 0, height)
    finally:
        glyphs.close()
    assert "".join(c["text"] for c in fixed) == "".join(c["text"] for c in chars) == "Trygghet för alla i Malmö"
    assert glyphs.n_recovered == 3 and glyphs.n_lost == 0


# --------------------------------------------------------------------------- titles and section paths


def _quote_pdf(path: Path, meta_title: str | None = None) -> Path:
    from tests.pdf_factory import PdfWriter

    with PdfWriter(path, title=meta_title) as w:
        w.text(60, 90, "Trygg i hela staden", size=30, bold=True)
        w.text(60, 125, "Handlingsplan 2024–2027", size=14)
        w.lines(60, 160, ["Planen beskriver hur staden arbetar mot våld i alla stadsområden."], size=10)
        w.new_page()
        # A vision quote in large type, set over several lines like a heading.
        w.lines(60, 90, ["Ingen i staden ska", "behöva vara rädd för", "våld i sitt eget hem."], size=24, leading=30)
        w.text(60, 200, "Inledning", size=16, bold=True)
        w.lines(60, 225, ["Arbetet mot våld är hela stadens angelägenhet och gäller alla nämnder."], size=10)
        w.text(60, 260, "Vi vill:", size=10)
        w.bullet(60, 275, "•", ["stärka stödet till barn som upplever våld"], size=10)
        # A pull quote broken off mid-sentence over two type lines.
        w.lines(60, 320, ["För att bekämpa våld på ett", "framgångsrikt sätt krävs samverkan."], size=18, leading=40)
        w.text(60, 420, "Samverkan", size=13, bold=True)
        w.lines(60, 440, ["Staden samverkar med polisen och civilsamhället."], size=10)
        w.text(60, 475, "Kommunfullmäktiges vision för arbetet är:", size=16)
        w.text(60, 500, "Alla barn i staden växer upp fria från våld och förtryck", size=15)
        w.lines(60, 530, ["Visionen gäller hela planen."], size=10)
        w.text(60, 560, "Uppföljning", size=13, bold=True)
        w.lines(60, 580, ["Planen följs upp vartannat år."], size=10)
    return path


def test_large_type_quote_is_no_heading_and_paths_stay_short(tmp_path):
    res = ingest_file(_quote_pdf(tmp_path / "plan.pdf"))
    assert res.document.status == "ok", res.document.error
    blocks = res.blocks
    by_text = {b.text: b for b in blocks}
    quote = "Ingen i staden ska behöva vara rädd för våld i sitt eget hem."
    assert by_text[quote].kind == "paragraph"
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "Inledning" in headings and "Samverkan" in headings and "Uppföljning" in headings
    assert not any("rädd för våld" in h or "bekämpa" in h or "växer upp" in h for h in headings)
    for b in blocks:
        assert "rädd för våld" not in b.section and "bekämpa" not in b.section and "växer upp" not in b.section
    bullet = next(b for b in blocks if b.kind == "bullet")
    assert bullet.text == "stärka stödet till barn som upplever våld"
    assert bullet.section.endswith("Inledning")
    assert by_text["Planen följs upp vartannat år."].section.endswith("Uppföljning")
    assert max(len(b.section) for b in blocks) <= 300
    assert max(b.section.count(" > ") for b in blocks) < 3


def test_title_is_the_largest_text_on_the_first_pages(tmp_path):
    # Metadata noise (a file name) loses to the cover's largest type.
    res = ingest_file(_quote_pdf(tmp_path / "plan.pdf", meta_title="SOR1234_plan_web"))
    assert res.document.title == "Trygg i hela staden"
    # A person's metadata title loses too: the cover's type is what readers see.
    res = ingest_file(_quote_pdf(tmp_path / "plan2.pdf", meta_title="Handlingsplan mot våld"))
    assert res.document.title == "Trygg i hela staden"


def test_vision_sentence_on_first_page_is_no_title(tmp_path):
    from tests.pdf_factory import PdfWriter

    def make(path, meta):
        with PdfWriter(path, title=meta) as w:
            w.lines(60, 90, ["Ingen i staden ska", "behöva vara rädd för", "våld i sitt eget hem."], size=28, leading=34)
            w.text(60, 220, "Inledning", size=16, bold=True)
            w.lines(60, 245, ["Arbetet mot våld är hela stadens angelägenhet och gäller alla nämnder."], size=10)
        return path

    res = ingest_file(make(tmp_path / "a.pdf", "Handlingsplan mot våld 2024"))
    assert res.document.title == "Handlingsplan mot våld 2024"
    res = ingest_file(make(tmp_path / "b.pdf", None))
    assert res.document.title == "Ingen i staden ska behöva vara rädd för våld i sitt eget hem."
    assert len(res.document.title) <= MAX_TITLE_CHARS


def test_cid_codes_pasted_into_a_text_file_are_dropped_and_counted(tmp_path):
    p = tmp_path / "pasted.txt"
    p.write_text("(cid:414)(cid:345)(cid:3) Trygghet\n\nVi vill ha fler (cid:12)(cid:13)vuxna ute på kvällarna.\n",
                 encoding="utf-8")
    result = ingest_file(p)
    assert result.document.status == "ok", result.document.error
    assert result.document.n_unmapped_glyphs == 5
    assert [b.text for b in result.blocks] == ["Trygghet", "Vi vill ha fler ute på kvällarna."]
    assert "(cid:" not in result.document.title


def test_title_from_the_running_head_when_the_cover_has_no_text(tmp_path):
    from tests.pdf_factory import PdfWriter

    p = tmp_path / "plattform.pdf"
    with PdfWriter(p) as w:  # page 1: a picture cover, no text
        w.rect(60, 60, 400, 600)
        for n in range(2, 6):
            w.new_page()
            w.text(60, 90, f"Kapitel {n - 1}", size=16, bold=True)
            w.lines(60, 120, [f"Text om stadens arbete i kapitel {n - 1} som beskriver planen."], size=10)
            w.text(60, 810, "Stadens trygghetsplan 2024", size=9)
            w.text(520, 810, str(n), size=9)
    res = ingest_file(p)
    assert res.document.status == "ok", res.document.error
    assert res.document.title == "Stadens trygghetsplan 2024"
    assert "Stadens trygghetsplan 2024" not in [b.text for b in res.blocks]  # still dropped from the text
