"""The PDF reader on the seven real party manifestos in ../shared/corpus/real/.

Read in place, never copied into the repo; skipped when the folder is absent. The
documents and blocks come from the session's extraction store (the whole chain runs
once per session, two documents at a time). Marked ``real_corpus`` so it
can be left out: ``pytest -m "not real_corpus"``; it runs by default.
"""

from __future__ import annotations

import re

import pytest

from pipeline import config

REAL = config.REAL_CORPUS_DIR
EXPECTED = [
    "centerpartiet-valmanifest-2022.pdf",
    "liberalerna-valmanifest-2022.pdf",
    "miljopartiet-valmanifest-2022.pdf",
    "moderaterna-valmanifest-2022.pdf",
    "socialdemokraterna-valmanifest-2022.pdf",
    "sverigedemokraterna-valplattform-2022.pdf",
    "vansterpartiet-valplattform-2022.pdf",
]

pytestmark = [
    pytest.mark.real_corpus,
    pytest.mark.skipif(not REAL.is_dir(), reason=f"real corpus not found at {REAL}"),
]


@pytest.fixture(scope="module")
def results(real_tables):
    """Each PDF's document row and blocks, from the session's extraction store
    (conftest.real_tables: extracted once per session, shared with training)."""
    from pipeline.records import Block, Document, DocumentResult

    def rows(df):
        return df.astype(object).where(df.notna(), None).to_dict("records")

    by_doc: dict[str, list] = {}
    for row in rows(real_tables["blocks"]):
        by_doc.setdefault(row["doc_id"], []).append(Block(**row))
    out = {}
    for row in rows(real_tables["documents"]):
        doc = Document(**row)
        out[doc.source_file] = DocumentResult(doc, by_doc.get(doc.doc_id, []))
    return out


def test_all_seven_present(results):
    assert sorted(results) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_ingests_ok_with_substantial_text(results, name):
    res = results.get(name)
    if res is None:
        pytest.skip(f"{name} not in {REAL}")
    doc = res.document
    assert doc.status == "ok", doc.error
    assert doc.n_pages and doc.n_pages >= 2
    assert doc.n_blocks == len(res.blocks)
    # Non-trivial: several blocks per page on average and real running text.
    assert len(res.blocks) >= 3 * doc.n_pages, (len(res.blocks), doc.n_pages)
    n_chars = sum(len(b.text) for b in res.blocks)
    assert n_chars >= 1000 * doc.n_pages * 0.5, (n_chars, doc.n_pages)
    kinds = {b.kind for b in res.blocks}
    assert "paragraph" in kinds and "heading" in kinds
    for i, b in enumerate(res.blocks):
        assert b.block_id == i
        assert b.text and b.text == " ".join(b.text.split())
        assert 1 <= b.page <= doc.n_pages


@pytest.mark.parametrize("name", EXPECTED)
def test_no_fake_bold_or_page_markers(results, name):
    res = results.get(name)
    if res is None:
        pytest.skip(f"{name} not in {REAL}")
    doubled = re.compile(r"((\w)\2){4,}")
    marker = re.compile(r"^\d{1,3} \(\d{1,3}\)$")
    for b in res.blocks:
        assert not doubled.search(b.text), b.text
        assert not marker.match(b.text), b.text
