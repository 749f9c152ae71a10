"""Researcher outputs: enriched proposals, typed CSV/Parquet/xlsx, proposal groups."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.groups import group_proposals, group_summary, normalise
from pipeline.outputs import (enrich, read_table, researcher_sheets, typed, write_parquet,
                              write_xlsx, xlsx_bytes)
from pipeline.storage import write_csv

DOCS = pd.DataFrame({
    "doc_id": ["m-lund", "s-umea", "tom"],
    "source_file": ["m-lund.html", "s-umea.pdf", "tom.pdf"],
    "format": ["html", "pdf", "pdf"],
    "title": ["Trygghet i Lund", "Tryggt Umeå", "Tomt dokument"],
    "n_pages": [None, 12, 2],
    "status": ["ok", "ok", "ok"],
    "error": ["", "", ""],
    "actor": ["Moderaterna i Lund", "Socialdemokraterna i Umeå", ""],
    "kind": ["party_web_page", "party_programme", ""],
    "year": [2022, 2018, None],
})


def proposals_frame() -> pd.DataFrame:
    """As classification leaves it: page as float (NaN for HTML), bools, float confidences."""
    return pd.DataFrame({
        "proposal_id": ["p1", "p2", "p3"],
        "doc_id": ["m-lund", "s-umea", "s-umea"],
        "unit": ["bullet", "bullet", "statement"],
        "actor": ["Moderaterna i Lund", "", ""],
        "page": [np.nan, 3.0, 11.0],
        "block_id": [4, 17, 17],
        "text": ["Fler kameror i centrum.", "Skärpta straff för vapenbrott.", "Skärpta straff."],
        "theme": ["offentlig_miljo", "rattsvasende", ""],
        "theme_confidence": [0.81, 0.55, np.nan],
        "level": ["kommun", "stat", ""],
        "level_confidence": [0.7, 0.9, np.nan],
        "needs_review": [False, True, True],
    })


def test_enrich_adds_document_metadata_and_swedish_theme_names():
    props = enrich({"documents": DOCS, "proposals": proposals_frame()})["proposals"]
    cols = list(props.columns)
    assert cols[cols.index("doc_id") + 1: cols.index("doc_id") + 5] == ["doc_title", "doc_year", "doc_kind",
                                                                         "doc_actor"]
    assert cols[cols.index("theme") + 1] == "theme_name"
    p2 = props.set_index("proposal_id").loc["p2"]
    assert (p2["doc_title"], p2["doc_year"], p2["doc_kind"], p2["doc_actor"]) == (
        "Tryggt Umeå", 2018, "party_programme", "Socialdemokraterna i Umeå")
    assert props.set_index("proposal_id").loc["p1", "theme_name"] == "Trygg offentlig miljö (situationell prevention)"
    assert props.set_index("proposal_id").loc["p3", "theme_name"] == ""  # no theme, no name
    assert str(props["page"].dtype) == "Int64" and str(props["doc_year"].dtype) == "Int64"


def test_enriched_csv_has_integer_pages_and_reads_back_typed(tmp_path):
    tables = enrich({"documents": DOCS, "proposals": proposals_frame()})
    write_csv(tables["proposals"], tmp_path / "proposals.csv")
    text = (tmp_path / "proposals.csv").read_text(encoding="utf-8")
    assert "3.0" not in text and "11.0" not in text and "2018.0" not in text
    back = read_table(tmp_path, "proposals")
    assert back["page"].tolist()[1:] == [3, 11] and back["page"].isna().tolist() == [True, False, False]
    assert str(back["page"].dtype) == "Int64"
    assert str(back["needs_review"].dtype) == "boolean" and back["needs_review"].tolist() == [False, True, True]
    assert str(back["theme_confidence"].dtype) == "Float64"
    assert back["theme"].tolist() == ["offentlig_miljo", "rattsvasende", ""]


def test_typed_parquet_round_trip(tmp_path):
    import pyarrow.parquet as pq

    tables = enrich({"documents": DOCS, "proposals": proposals_frame()})
    write_parquet(tables["proposals"], tmp_path / "proposals.parquet")
    schema = pq.read_schema(tmp_path / "proposals.parquet")
    assert str(schema.field("page").type) == "int64"
    assert str(schema.field("needs_review").type) == "bool"
    assert str(schema.field("theme_confidence").type) == "double"
    back = pd.read_parquet(tmp_path / "proposals.parquet")
    assert back["page"].tolist()[1:] == [3, 11] and pd.isna(back["page"].iloc[0])
    assert back["doc_title"].tolist() == ["Trygghet i Lund", "Tryggt Umeå", "Tryggt Umeå"]
    # pandas' own writers work with the declared dependencies
    tables["proposals"].to_parquet(tmp_path / "plain.parquet")
    tables["proposals"].to_excel(tmp_path / "plain.xlsx", index=False)
    assert pd.read_excel(tmp_path / "plain.xlsx")["text"].tolist() == proposals_frame()["text"].tolist()
    # same tables, same bytes
    write_parquet(tables["proposals"], tmp_path / "again.parquet")
    assert (tmp_path / "again.parquet").read_bytes() == (tmp_path / "proposals.parquet").read_bytes()


def test_xlsx_sheets_keep_text_as_text_and_are_deterministic(tmp_path):
    from openpyxl import load_workbook

    props = proposals_frame()
    props.loc[0, "text"] = "=HYPERLINK(\"x\")"  # a bullet that looks like a formula stays text
    props.loc[1, "proposal_id"] = "0012"  # an id that looks like a number stays text
    sheets = researcher_sheets({"documents": DOCS, "proposals": props})
    assert list(sheets) == ["proposals", "documents", "themes"]
    write_xlsx(sheets, tmp_path / "proposals.xlsx")
    wb = load_workbook(tmp_path / "proposals.xlsx")
    assert wb.sheetnames == ["proposals", "documents", "themes"]
    ws = wb["proposals"]
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2])}
    assert row["text"].value == "=HYPERLINK(\"x\")" and row["text"].data_type == "s"
    row2 = {h: c.value for h, c in zip(header, ws[3])}
    assert row2["proposal_id"] == "0012" and row2["page"] == 3 and row2["doc_year"] == 2018
    assert row2["needs_review"] is True and row2["theme_name"] == "Polis, lagstiftning och påföljder"
    assert row["page"].value is None
    themes = pd.read_excel(tmp_path / "proposals.xlsx", sheet_name="themes")
    assert "rattsvasende" in themes["theme"].tolist()
    assert xlsx_bytes(sheets) == (tmp_path / "proposals.xlsx").read_bytes()


def test_typed_keeps_fractional_values_visible():
    df = typed(pd.DataFrame({"page": ["1", "", "2.5"]}))
    assert df["page"].isna().tolist() == [False, True, False] and df["page"].iloc[2] == 2.5


# ----------------------------------------------------------------------------- groups

GROUP_PROPOSALS = [
    # doc, proposal_id, text
    ("m-lund", "a1", "Fler kameror på torg och i parker."),
    ("m-lund", "a2", "Sänkt skatt för pensionärer."),
    ("s-umea", "b1", "Fler kameror på torg och i parker!"),
    ("s-umea", "b2", "Fler poliser i hela landet."),
    ("kd-koping", "c1", "Fler kameror på torgen och i parkerna"),
    ("kd-koping", "c2", "Bygg fler cykelbanor längs landsvägarna."),
    ("v-solna", "d1", "Fler poliser i hela landet"),
    ("v-solna", "d2", "Fritidsgårdar ska ha öppet på helger."),
    # the same text twice in one document: not a group across actors
    ("l-lulea", "e1", "Inför läxhjälp på alla skolor."),
    ("l-lulea", "e2", "Inför läxhjälp på alla skolor."),
]


def group_frame(rows=GROUP_PROPOSALS) -> pd.DataFrame:
    return pd.DataFrame([{"proposal_id": pid, "doc_id": doc, "unit": "bullet", "text": text}
                         for doc, pid, text in rows])


def _members(groups: pd.DataFrame) -> set[frozenset]:
    return {frozenset(g["proposal_id"]) for _, g in groups.groupby("group_id")}


def test_near_identical_proposals_across_documents_are_grouped():
    groups = group_proposals(group_frame())
    assert list(groups.columns) == ["group_id", "proposal_id", "similarity"]
    assert _members(groups) == {frozenset({"a1", "b1", "c1"}), frozenset({"b2", "d1"})}
    assert groups["similarity"].between(0.6, 1.0).all()
    assert groups["group_id"].str.fullmatch(r"g[0-9a-f]{12}").all()


def test_groups_are_deterministic_and_independent_of_row_order():
    a = group_proposals(group_frame())
    b = group_proposals(group_frame(list(reversed(GROUP_PROPOSALS))))
    pd.testing.assert_frame_equal(a, b)


def test_different_proposals_are_not_grouped_and_chains_are_cut():
    # x ~ y and y ~ z are above the threshold, x and z share nothing: no group holds both
    rows = [("x", "x1", "Fler kameror på torg."),
            ("y", "y1", "Fler kameror på torg och bättre belysning i parker."),
            ("z", "z1", "Bättre belysning i parker."),
            ("w", "w1", "Avskaffa fastighetsskatten.")]
    from pipeline.groups import candidates, similarity_matrix

    cand = candidates(group_frame(rows))
    sim = pd.DataFrame(similarity_matrix(cand["_norm"].tolist()), index=cand["proposal_id"],
                       columns=cand["proposal_id"])
    assert sim.loc["x1", "y1"] >= 0.6 and sim.loc["y1", "z1"] >= 0.6 and sim.loc["x1", "z1"] < 0.6  # a chain
    groups = group_proposals(group_frame(rows), threshold=0.6)
    members = _members(groups)
    assert members == {frozenset({"y1", "z1"})}
    assert not any({"x1", "z1"} <= m for m in members)


def test_statements_are_left_out_and_summary_names_actors():
    frame = group_frame()
    frame.loc[frame["proposal_id"] == "c1", "unit"] = "statement"
    frame["doc_actor"] = frame["doc_id"].str.upper()
    frame["doc_year"] = pd.array([2018, 2018, 2022, 2022, 2014, 2014, 2019, 2019, 2020, 2020], dtype="Int64")
    groups = group_proposals(frame)
    assert frozenset({"a1", "b1"}) in _members(groups)
    summ = group_summary(groups, frame).set_index("n_documents")
    assert set(summ["actors"]) == {"M-LUND; S-UMEA", "S-UMEA; V-SOLNA"}
    assert set(summ["years"]) == {"2018, 2022", "2019, 2022"}


def test_normalise():
    assert normalise("  Fler KAMEROR – på torg!  ") == "fler kameror på torg"
