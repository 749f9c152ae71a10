"""Plain-text reader: paragraphs, bullets, hyphenation, headings, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import IngestError
from pipeline.extract.ingest import ingest_file
from pipeline.extract.text import read_text
from pipeline.records import BLOCK_KINDS, Document
from tests.hyphen_cases import HYPHEN_CASES


def _write(tmp_path: Path, text: str, name: str = "doc.txt") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _read(path: Path):
    doc = Document(doc_id=path.stem, source_file=path.name, format="txt")
    return doc, read_text(path, doc)


def _kt(blocks):
    return [(b.kind, b.text) for b in blocks]


def test_bullets_with_wrapped_continuation_lines(tmp_path):
    p = _write(tmp_path, (
        "Socialdemokraterna i Malmö vill:\n"
        "• att fler poliser anställs i\n"
        "  hela staden, särskilt i\n"
        "  utsatta områden\n"
        "• satsa på fler\n"
        "fältassistenter\n"
        "- bättre belysning i parker\n"
        "\n"
        "1. Första punkten\n"
        "   fortsätter här\n"
        "2. Andra punkten\n"
    ))
    _, blocks = _read(p)
    assert _kt(blocks) == [
        ("list_intro", "Socialdemokraterna i Malmö vill:"),
        ("bullet", "att fler poliser anställs i hela staden, särskilt i utsatta områden"),
        ("bullet", "satsa på fler fältassistenter"),
        ("bullet", "bättre belysning i parker"),
        ("bullet", "Första punkten fortsätter här"),
        ("bullet", "Andra punkten"),
    ]


def test_private_use_bullet_and_wrapped_dash_mid_sentence(tmp_path):
    p = _write(tmp_path, (
        "Förvaltningen föreslår följande\n"
        "\uf0b7 samverkan med polisen\n"
        "\n"
        "Det gäller hela staden\n"
        "– och inte bara de utsatta områdena.\n"
    ))
    _, blocks = _read(p)
    assert _kt(blocks) == [
        ("paragraph", "Förvaltningen föreslår följande"),
        ("bullet", "samverkan med polisen"),
        # A dash wrapped to the start of a line inside a sentence is not a bullet.
        ("paragraph", "Det gäller hela staden – och inte bara de utsatta områdena."),
    ]


@pytest.mark.parametrize("lines, want", HYPHEN_CASES)
def test_line_end_hyphens(tmp_path, lines, want):
    p = _write(tmp_path, "Text om vården i Malmö " + "\n".join(lines) + "\n")
    _, blocks = _read(p)
    assert len(blocks) == 1
    assert blocks[0].text == "Text om vården i Malmö " + want


def test_hyphenation_in_bullet_continuation(tmp_path):
    p = _write(tmp_path, "• stöd till barn-\n  och ungdomspsykiatrin och ungdoms-\n  mottagningar\n")
    _, blocks = _read(p)
    assert _kt(blocks) == [("bullet", "stöd till barn- och ungdomspsykiatrin och ungdomsmottagningar")]


def test_headings_sections_and_title(tmp_path):
    p = _write(tmp_path, (
        "Trygghetspolitiskt program\n"
        "\n"
        "Inledning\n"
        "\n"
        "Malmö ska vara en trygg stad\n"
        "för alla som bor här.\n"
        "\n"
        "Det här är en mening som slutar med punkt.\n"
        "\n"
        "En alldeles för lång rad som inte kan vara en rubrik eftersom den har många ord\n"
        "\n"
        "rubrik med liten bokstav\n"
        "\n"
        "Polis och rättsväsende\n"
        "\n"
        "Vi vill:\n"
        "• fler poliser\n"
        "\n"
        "Sista raden utan punkt\n"
    ))
    doc, blocks = _read(p)
    got = [(b.kind, b.text, b.section) for b in blocks]
    assert got == [
        ("heading", "Trygghetspolitiskt program", "Trygghetspolitiskt program"),
        ("heading", "Inledning", "Inledning"),
        ("paragraph", "Malmö ska vara en trygg stad för alla som bor här.", "Inledning"),
        ("paragraph", "Det här är en mening som slutar med punkt.", "Inledning"),
        ("paragraph", "En alldeles för lång rad som inte kan vara en rubrik eftersom den har många ord", "Inledning"),
        ("paragraph", "rubrik med liten bokstav", "Inledning"),
        ("heading", "Polis och rättsväsende", "Polis och rättsväsende"),
        ("list_intro", "Vi vill:", "Polis och rättsväsende"),
        ("bullet", "fler poliser", "Polis och rättsväsende"),
        # The last paragraph is never a heading: nothing follows it.
        ("paragraph", "Sista raden utan punkt", "Polis och rättsväsende"),
    ]
    assert doc.title == "Trygghetspolitiskt program"
    assert doc.n_pages is None
    for i, b in enumerate(blocks):
        assert b.block_id == i and b.kind in BLOCK_KINDS and b.page is None and b.x0 is None


def test_title_falls_back_to_first_line(tmp_path):
    p = _write(tmp_path, "Ett dokument som börjar med en mening.\nOch fortsätter.\n\nMer text.\n")
    doc, _ = _read(p)
    assert doc.title == "Ett dokument som börjar med en mening."


def test_crlf_bom_tabs_and_form_feed(tmp_path):
    p = tmp_path / "win.txt"
    p.write_bytes("\ufeffRubrik här\r\n\r\nFörsta\tstycket  med\u00a0luft\r\nfortsätter.\f"
                  "Andra stycket.\r\n".encode("utf-8"))
    _, blocks = _read(p)
    assert _kt(blocks) == [
        ("heading", "Rubrik här"),
        ("paragraph", "Första stycket med luft fortsätter."),
        ("paragraph", "Andra stycket."),
    ]


def test_undecodable_bytes_are_an_error(tmp_path):
    # UTF-8 text followed by C1 control bytes: no text encoding fits (a Latin-1 file
    # is decoded instead: tests/test_damage.py).
    p = tmp_path / "broken.txt"
    p.write_bytes("Förslag på åtgärder mot våld.\n".encode("utf-8") + bytes(range(0x80, 0xA0)) * 4)
    with pytest.raises(IngestError, match="undecodable"):
        _read(p)
    result = ingest_file(p)
    assert result.document.status == "error"
    assert "undecodable" in result.document.error
    assert "line 2" in result.document.error
    assert result.blocks == []


def test_binary_file_is_an_error(tmp_path):
    p = tmp_path / "blob.txt"
    p.write_bytes(b"PK\x03\x04\x14\x00\x00\x00binary")
    with pytest.raises(IngestError, match="binary"):
        _read(p)
    result = ingest_file(p)
    assert result.document.status == "error"
    assert "NUL" in result.document.error


def test_empty_file_is_an_error(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    result = ingest_file(p)
    assert result.document.status == "error"
    assert result.document.error == "empty file"


def test_blank_file_is_an_error(tmp_path):
    p = _write(tmp_path, "\n   \n\t\n", name="blank.txt")
    _, blocks = _read(p)
    assert blocks == []
    result = ingest_file(p)
    assert result.document.status == "error"
    assert result.document.error == "no text found"


def test_ingest_file_ok(tmp_path):
    p = _write(tmp_path, "Rubrik\n\nEtt stycke om barn-\noch ungdomspsykiatrin.\n\n• en punkt\n", name="Program 2024.txt")
    result = ingest_file(p)
    doc = result.document
    assert doc.status == "ok", doc.error
    assert doc.format == "txt" and doc.title == "Rubrik" and doc.n_pages is None
    assert doc.n_blocks == 3
    assert _kt(result.blocks) == [
        ("heading", "Rubrik"),
        ("paragraph", "Ett stycke om barn- och ungdomspsykiatrin."),
        ("bullet", "en punkt"),
    ]


# --------------------------------------------------------------------------- lists without marks (issue 9)


def test_unmarked_items_after_an_intro_line(tmp_path):
    p = _write(tmp_path, (
        "Vi verkar för:\n"
        "Att bibliotekets öppettider\n"
        "förlängs på lördagar\n"
        "Fler bänkar längs ån\n"
        "\n"
        "Miljölistan yrkar därför:\n"
        "att nämnden utreder frågan,\n"
        "att kostnaden redovisas, samt\n"
        "att beslut fattas före sommaren.\n"
    ))
    _, blocks = _read(p)
    assert _kt(blocks) == [
        ("list_intro", "Vi verkar för:"),
        ("bullet", "Att bibliotekets öppettider förlängs på lördagar"),
        ("bullet", "Fler bänkar längs ån"),
        ("list_intro", "Miljölistan yrkar därför:"),
        ("bullet", "att nämnden utreder frågan,"),
        ("bullet", "att kostnaden redovisas, samt"),
        ("bullet", "att beslut fattas före sommaren."),
    ]


def test_ellipsis_intro_and_ellipsis_att_lines(tmp_path):
    p = _write(tmp_path, "Listan yrkar…\n…att en jour startas.\n…att jouren får lokaler.\n")
    _, blocks = _read(p)
    assert _kt(blocks) == [
        ("list_intro", "Listan yrkar…"),
        ("bullet", "…att en jour startas."),
        ("bullet", "…att jouren får lokaler."),
    ]


def test_an_intro_line_ends_the_list_before_it(tmp_path):
    p = _write(tmp_path, (
        "Följande mål föreslås:\n"
        "• Färre olyckor i trafiken.\n"
        "För detta krävs följande åtgärder:\n"
        "• Sänkt hastighet vid skolor.\n"
    ))
    _, blocks = _read(p)
    assert _kt(blocks) == [
        ("list_intro", "Följande mål föreslås:"),
        ("bullet", "Färre olyckor i trafiken."),
        ("list_intro", "För detta krävs följande åtgärder:"),
        ("bullet", "Sänkt hastighet vid skolor."),
    ]


def test_guillemet_and_asterisk_marks_but_not_quotes(tmp_path):
    p = _write(tmp_path, "Vi vill:\n\n» bygga en ny skola\n\n* rusta upp parken\n\n»Citat«, sa hon i talet om skolan.\n")
    _, blocks = _read(p)
    assert _kt(blocks) == [
        ("list_intro", "Vi vill:"),
        ("bullet", "bygga en ny skola"),
        ("bullet", "rusta upp parken"),
        ("paragraph", "»Citat«, sa hon i talet om skolan."),
    ]


def test_a_one_line_att_sats_is_no_heading(tmp_path):
    p = _write(tmp_path, "Inledning\n\nAtt kostnaderna tilläggsbudgeteras\n\nSlut på motionen.\n")
    _, blocks = _read(p)
    assert [b.kind for b in blocks] == ["heading", "paragraph", "paragraph"]
