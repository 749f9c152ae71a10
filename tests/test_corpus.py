"""The whole extract stage over the real raw/ corpus (docs/raw-sources.md lists its defects).

``run_extract`` runs once per session (``classify=False``, conftest.raw_extracted); a
second run from scratch, through the command line in a fresh process on two Dask worker
processes and another hash seed (conftest.raw_extracted_dask), must write byte-identical
tables. Needs the Stanza Swedish model (sentence segmentation);
skipped without it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline import config
from pipeline.storage import read_csv

RAW = config.RAW_DIR
PROGRAMME = "s-malmo-trygghetspolitiskt-program-2018"
FRI_FRAN_VALD = "fri-fran-vald-2022-2026"
DOC_IDS = {
    "asn-2023-12667-tjansteskrivelse",
    FRI_FRAN_VALD,
    "malmo-stad-sa-jobbar-vi-med-trygghet-2019",
    "malmoalliansen-trygghetsloftet",
    PROGRAMME,
}

# The 22 items of the six "Genom att:" lists in Fri från våld (pages 21-24), read
# from `pdftotext -layout raw/fri-fran-vald-2022-2026.pdf` (first copy of the text).
GENOM_ATT_TITLES = [
    "Stärka barns rättigheter",
    "Utmana normer",
    "Utveckla det våldsförebyggande arbetet",
    "Stärka det tidiga stödet",
    "Skapa en trygg och inkluderande arbetsmiljö",
    "Agera mot kränkningar",
    "Nå fler som använder våld",
    "Flytta på våldsutövaren",
    "Uppmärksamma fler barn som lever med våld",
    "Systematiskt arbeta med att upptäcka våld",
    "Uppmärksamma flickor och unga kvinnor",
    "Bedriva tillsyn i olika riskmiljöer",
    "Prioritera barn som upplevt våld",
    "Utveckla stöd- och skyddsinsatserna",
    "Stärka det långsiktiga stödet till våldsutsatta",
    "Ge stöd till utsatta medarbetare",
    "Samla kunskap om omfattningen av våld",
    "Stödja yrkesverksamma i att utveckla sitt arbete",
    "Utveckla nya metoder",
    "Samverkan ska ske inom planens samtliga mål",
    "Utveckla samverkan kring enskilda barn och vuxna",
    "Stödja den idéburna sektorn",
]

# Layout debris that the readers must repair or remove (docs/raw-sources.md).
FORBIDDEN = [
    "vi l l", "ti l l", "anstäl lda", "Gatumil jö", " t idig", " al la ",
    "$left", "$middle", "Tappade uppkopplingen", "Lämna sidan snabbt",
]
# "3 (4)": a page marker. Three digits at most, so a citation's year ("SOU 2018:37
# (2020)") is not one.
PAGE_MARKER = re.compile(r"\b\d{1,3} \(\d{1,3}\)")
# Fake-bold doubling: "AAnnssvvaarr" (four or more doubled letters in a row).
DOUBLED = re.compile(r"((\w)\2){4,}")


def _stanza_available() -> bool:
    return (config.stanza_resources_dir() / "resources.json").exists()


pytestmark = pytest.mark.skipif(
    not _stanza_available(),
    reason=f"Stanza Swedish model not found in {config.stanza_resources_dir()} (run_extract segments sentences)",
)


@pytest.fixture(scope="session")
def extracted(raw_extracted) -> Path:
    return raw_extracted


@pytest.fixture(scope="session")
def extracted_again(raw_extracted_dask) -> Path:
    """Extracted from scratch in a new process on two Dask worker processes, other hash seed."""
    return raw_extracted_dask


@pytest.fixture(scope="session")
def documents(extracted):
    return read_csv(extracted / "documents.csv")


@pytest.fixture(scope="session")
def blocks(extracted):
    return read_csv(extracted / "blocks.csv")


def test_all_documents_ok(documents):
    assert set(documents["doc_id"]) == DOC_IDS
    bad = documents[documents["status"] != "ok"]
    assert bad.empty, bad[["doc_id", "error"]].to_dict("records")
    for row in documents.itertuples():
        assert row.error == ""
        assert int(row.n_blocks) > 10, row.doc_id


def test_block_counts_match_documents(documents, blocks):
    per_doc = blocks.groupby("doc_id").size().to_dict()
    for row in documents.itertuples():
        assert per_doc.get(row.doc_id, 0) == int(row.n_blocks), row.doc_id


def test_programme_has_65_whole_bullets(blocks):
    bullets = blocks[(blocks["doc_id"] == PROGRAMME) & (blocks["kind"] == "bullet")]["text"].tolist()
    assert len(bullets) == 65
    for t in bullets:
        assert t[0].isupper(), t
        assert t.endswith(".") or t[-1].isalpha(), t
        assert "•" not in t and "\uf0b7" not in t, t


@pytest.mark.parametrize("needle", FORBIDDEN)
def test_no_layout_debris(blocks, needle):
    hits = blocks[blocks["text"].str.contains(needle, regex=False)]
    assert hits.empty, hits[["doc_id", "block_id", "text"]].head().to_dict("records")


def test_no_page_markers_in_text(blocks):
    hits = [(r.doc_id, r.block_id, r.text) for r in blocks.itertuples() if PAGE_MARKER.search(r.text)]
    assert hits == []


def test_no_fake_bold_doubling(blocks):
    hits = [(r.doc_id, r.block_id, r.text) for r in blocks.itertuples() if DOUBLED.search(r.text)]
    assert hits == []


def test_fri_fran_vald_duplicate_copy_dropped(documents, blocks):
    row = documents[documents["doc_id"] == FRI_FRAN_VALD].iloc[0]
    assert int(row["n_dropped_duplicate_blocks"]) > 0
    ffv = blocks[blocks["doc_id"] == FRI_FRAN_VALD]
    # The broken "text version" runs words together; none of that survives.
    for run_together in ("somgenom", "handlarom", "Enuppdelning"):
        assert not ffv["text"].str.contains(run_together, regex=False).any(), run_together


def test_fri_fran_vald_genom_att_items_once_each(blocks):
    ffv = blocks[blocks["doc_id"] == FRI_FRAN_VALD].reset_index(drop=True)
    headings = ffv[ffv["kind"] == "heading"]["text"].tolist()
    for title in GENOM_ATT_TITLES:
        assert headings.count(title) == 1, (title, headings.count(title))
        assert (ffv["text"] == title).sum() == 1, title  # and nowhere else as a block
    # Each item title follows its list's "Genom att:" or the previous item's text.
    for title in GENOM_ATT_TITLES:
        i = ffv.index[(ffv["text"] == title) & (ffv["kind"] == "heading")][0]
        prev = ffv.loc[i - 1]
        assert (prev["kind"] == "list_intro" and prev["text"] == "Genom att:") or prev["kind"] == "paragraph", \
            (title, prev["kind"], prev["text"])
        assert ffv.loc[i + 1, "kind"] == "paragraph", title
    assert ((ffv["kind"] == "list_intro") & (ffv["text"] == "Genom att:")).sum() == 6


def test_two_runs_byte_identical(extracted, extracted_again):
    """A second run (CLI, two worker processes, another hash seed) writes the same bytes."""
    for name in ("documents.csv", "blocks.csv"):
        a, b = (extracted / name).read_bytes(), (extracted_again / name).read_bytes()
        assert a == b, name
