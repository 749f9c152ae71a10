"""Document metadata: header lines (front matter), sidecar files, documents.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.extract.ingest import ingest_file
from pipeline.extract.metadata import is_metadata_file, split_header
from pipeline.storage import read_csv
from tests.conftest import stanza_model_available

HEADER = (
    "# url: https://example.org/politik/trygghet\n"
    "# title: Trygghet i Storby (Exempelpartiet)\n"
    "# actor: Exempelpartiet i Storby\n"
    "# actor_level: kommun\n"
    "# kind: party_web_page\n"
    "# complete: yes\n"
    "\n"
)
BODY = (
    "Trygghet\n"
    "\n"
    "Många i Storby känner sig otrygga på kvällarna vid busstationen.\n"
    "\n"
    "Exempelpartiet vill:\n"
    "• Tända fler gatlyktor längs gångvägarna.\n"
    "• Anställa två fältassistenter till.\n"
)


def _write(tmp_path: Path, text: str, name: str = "sida.txt") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_header_lines_are_metadata_never_blocks(tmp_path):
    r = ingest_file(_write(tmp_path, HEADER + BODY))
    assert r.document.status == "ok", r.document.error
    texts = " ".join(b.text for b in r.blocks)
    assert "url:" not in texts and "actor_level" not in texts and "# " not in texts
    assert r.blocks[0].text == "Trygghet"
    d = r.document
    assert (d.title, d.actor, d.actor_level, d.kind, d.url) == (
        "Trygghet i Storby (Exempelpartiet)", "Exempelpartiet i Storby", "kommun", "party_web_page",
        "https://example.org/politik/trygghet")


def test_yaml_front_matter_and_line_count_kept():
    meta, body = split_header("---\ntitle: Plan\nyear: 2021\n---\nRubrik\n\nText.\n")
    assert meta == {"title": "Plan", "year": 2021}
    assert body.split("\n")[4:] == ["Rubrik", "", "Text.", ""]
    assert body.count("\n") == 7  # the four front-matter lines are blank lines now


def test_a_markdown_heading_is_not_a_header():
    text = "# Inledning: varför trygghet\n\nText.\n"
    assert split_header(text) == ({}, text)


def test_precedence_documents_yaml_over_sidecar_over_header(tmp_path):
    p = _write(tmp_path, HEADER + BODY)
    (tmp_path / "sida.txt.meta.yaml").write_text("actor: Sidopartiet\nyear: 2020\nkind: plan\n", encoding="utf-8")
    (tmp_path / "documents.yaml").write_text("sida.txt:\n  kind: programme\n", encoding="utf-8")
    d = ingest_file(p).document
    assert d.actor == "Sidopartiet"  # sidecar over header
    assert d.kind == "programme"  # documents.yaml over both
    assert d.title == "Trygghet i Storby (Exempelpartiet)"  # header when nothing else says
    assert d.year == 2020


def test_metadata_title_wins_over_the_reader(tmp_path):
    p = _write(tmp_path, BODY, name="utan.txt")
    assert ingest_file(p).document.title == "Trygghet"  # the reader's first heading
    (tmp_path / "documents.yaml").write_text("utan.txt:\n  title: Trygghetsprogram 2024\n", encoding="utf-8")
    assert ingest_file(p).document.title == "Trygghetsprogram 2024"


def test_bad_level_is_ignored_and_bad_yaml_is_a_one_line_error(tmp_path):
    p = _write(tmp_path, "# actor_level: landsting\n\n" + BODY)
    assert ingest_file(p).document.actor_level == ""
    (tmp_path / "sida.txt.meta.yaml").write_text("actor: [unclosed\n", encoding="utf-8")
    d = ingest_file(p).document
    assert d.status == "error" and "meta.yaml" in d.error and "\n" not in d.error


def test_metadata_files_are_not_inputs(tmp_path):
    from pipeline.run import list_inputs

    _write(tmp_path, BODY)
    (tmp_path / "sida.txt.meta.yaml").write_text("actor: X\n", encoding="utf-8")
    (tmp_path / "documents.yaml").write_text("{}\n", encoding="utf-8")
    assert is_metadata_file(tmp_path / "sida.txt.meta.yaml")
    assert [p.name for p in list_inputs(tmp_path)] == ["sida.txt"]


@pytest.mark.skipif(not stanza_model_available(), reason="Stanza Swedish model not available")
def test_metadata_lands_in_documents_csv_and_proposals(tmp_path):
    from pipeline.run import run_extract

    raw = tmp_path / "raw"
    raw.mkdir()
    _write(raw, HEADER + BODY)
    _write(raw, BODY.replace("Exempelpartiet vill:", "Vi vill:"), name="annan.txt")
    (raw / "annan.txt.meta.yaml").write_text("actor: Grannpartiet\nactor_level: region\nyear: 2022\n",
                                             encoding="utf-8")
    assert run_extract(raw, tmp_path / "out", jobs=1, classify=False) == 0  # in-process: Stanza is loaded
    docs = read_csv(tmp_path / "out" / "documents.csv").set_index("source_file")
    assert docs.loc["sida.txt", "actor"] == "Exempelpartiet i Storby"
    assert docs.loc["sida.txt", "actor_level"] == "kommun"
    assert docs.loc["sida.txt", "url"] == "https://example.org/politik/trygghet"
    assert docs.loc["annan.txt", "actor"] == "Grannpartiet"
    assert str(docs.loc["annan.txt", "year"]) == "2022"
    blocks = read_csv(tmp_path / "out" / "blocks.csv")
    assert not blocks["text"].str.contains("actor_level|# url|# title", regex=True).any()
    props = read_csv(tmp_path / "out" / "proposals.csv")
    by_doc = dict(zip(docs["doc_id"], docs.index))
    actors = {by_doc[d]: set(g["actor"]) for d, g in props.groupby("doc_id")}
    # An intro that names someone ("Exempelpartiet vill:") wins; "Vi vill:" takes the metadata's actor.
    assert actors == {"sida.txt": {"Exempelpartiet"}, "annan.txt": {"Grannpartiet"}}
