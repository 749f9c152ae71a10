"""The reviewer and researcher notebooks run headless and the review notebook saves nothing.

They run on the real extracted corpus (``processed_dir``) and on a small hand-made
corpus with edge cases (``fixture_processed_dir``).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from pipeline import config
from pipeline.classify.corrections import append_corrections
from pipeline.records import Block, Document, Proposal, Sentence, columns
from pipeline.storage import write_csv

NOTEBOOKS_DIR = config.REPO_ROOT / "notebooks"
LABEL_COLUMNS = ["theme", "theme_confidence", "level", "level_confidence", "needs_review", "theme_source",
                 "level_source"]

# (doc_id, unit, parent, actor, intro, level_hint, section, text, theme, tconf, level, lconf, source)
PROPOSALS = [
    ("s-malmo-2018", "bullet", "", "Socialdemokraterna i Malmö", "Socialdemokraterna i Malmö vill:", "",
     "Trygghet > Vittnen", "Inrätta ett särskilt vittnesstöd.", "brottsoffer_vittnen", 0.91, "kommun", 0.84, "model"),
    ("s-malmo-2018", "bullet", "", "Socialdemokraterna i Malmö", "Förslag på nationell nivå:", "stat",
     "Trygghet > Straff", "Skärpta straff för grovt vapenbrott.", "rattsvasende", 0.95, "stat", 0.97, "model"),
    ("s-malmo-2018", "bullet", "", "Socialdemokraterna i Malmö", "Socialdemokraterna i Malmö vill:", "",
     "Trygghet > Unga", "Fler fältgrupper som möter unga på kvällar. Utöka hembesöken.",
     "social_prevention", 0.62, "kommun", 0.55, "model"),
    ("s-malmo-2018", "statement", "s-malmo-2018-p003", "Socialdemokraterna i Malmö",
     "Socialdemokraterna i Malmö vill:", "", "Trygghet > Unga", "Utöka hembesöken.",
     "social_prevention", 0.58, "kommun", 0.41, "model"),
    ("malmoalliansen", "bullet", "", "Malmöalliansen", "Vi vill:", "", "Trygghetslöftet",
     "Ändra lagstiftningen så att kommunen kan forsla bort bilvrak.", "offentlig_miljo", 1.0, "stat", 1.0, "review"),
    ("malmoalliansen", "bullet", "", "Malmöalliansen", "Vi vill:", "", "Trygghetslöftet",
     "Kameror på akutmottagningarna för att skydda personalen.", "offentlig_miljo", 0.44, "region", 0.71, "model"),
    ("malmoalliansen", "bullet", "", "Malmöalliansen", "Vi vill:", "", "Trygghetslöftet",
     "Förbjud tiggeri på centrala torg.", "offentlig_miljo", 0.77, "kommun", 0.52, "model"),
    ("fri-fran-vald", "item", "", "Malmö stad", "Genom att:", "", "Mål 2 > Tidigt stöd",
     "Stärka det tidiga stödet.", "ovrigt", 0.21, "kommun", 0.66, "model"),
    ("fri-fran-vald", "item", "", "Malmö stad", "Genom att:", "", "Mål 3 > Heder",
     "Utbilda personal i att upptäcka hedersrelaterat våld och barnäktenskap.", "hedersvald", 0.83, "kommun", 0.9,
     "model"),
    ("fri-fran-vald", "item", "", "Malmö stad", "Genom att:", "", "Mål 4 > Droger",
     "Erbjuda öppenvård för unga med missbruk.", "narkotika", 0.88, "", float("nan"), "model"),
]

DOCUMENTS = {
    "s-malmo-2018": ("s-malmo-trygghetspolitiskt-program-2018.pdf", "pdf", "Trygghetspolitiskt program", "ok", ""),
    "malmoalliansen": ("malmoalliansen-trygghetsloftet.html", "html", "Trygghetslöftet", "ok", ""),
    "fri-fran-vald": ("fri-fran-vald-2022-2026.pdf", "pdf", "Fri från våld 2022–2026", "ok", ""),
    "asn-2023": ("asn-2023-12667-tjansteskrivelse.pdf", "pdf", "", "error", "PDF has no text layer"),
}


def write_fixture_corpus(out: Path) -> Path:
    """documents/blocks/sentences/proposals.csv in the pipeline's column layout."""
    docs, blocks, sents, props = [], [], [], []
    counter: dict[str, int] = {}
    for (doc, unit, parent, actor, intro, hint, section, text, th, tc, lv, lc, src) in PROPOSALS:
        n = counter[doc] = counter.get(doc, 0) + 1
        block_id = 10 + n
        blocks.append(Block(doc, block_id, 1 + n // 4, "bullet", section, text))
        sents.append(Sentence(doc, block_id, n, text, 0, len(text)))
        pid = f"{doc}-p{n:03d}"
        props.append({**Proposal(pid, doc, unit, parent, actor, intro, hint, section, 1 + n // 4, text, "",
                                 str(n), block_id).__dict__,
                      "theme": th, "theme_confidence": tc, "level": lv, "level_confidence": lc,
                      "needs_review": bool(min(tc, lc) < 0.6) if lv else True, "theme_source": src,
                      "level_source": src})
    for doc, (source, fmt, title, status, error) in DOCUMENTS.items():
        n_blocks = sum(b.doc_id == doc for b in blocks)
        docs.append(Document(doc, source, fmt, title, 3, "0" * 64, n_blocks, 0, status, error))
    out.mkdir(parents=True, exist_ok=True)
    write_csv(pd.DataFrame([d.__dict__ for d in docs], columns=columns(Document)), out / "documents.csv")
    write_csv(pd.DataFrame([b.__dict__ for b in blocks], columns=columns(Block)), out / "blocks.csv")
    write_csv(pd.DataFrame([s.__dict__ for s in sents], columns=columns(Sentence)), out / "sentences.csv")
    write_csv(pd.DataFrame(props, columns=columns(Proposal) + LABEL_COLUMNS), out / "proposals.csv")
    return out


@pytest.fixture(scope="module")
def processed_dir(made_project) -> Path:
    """The processed/ folder the notebooks read: the real corpus of raw/, extracted and
    labelled by `make extract` in a copy of the project (conftest.made_project)."""
    return made_project[0] / "processed"


@pytest.fixture(scope="module")
def fixture_processed_dir(tmp_path_factory) -> Path:
    """A small hand-made corpus with edge cases the real one lacks (a failed document,
    a missing level, earlier reviews)."""
    return write_fixture_corpus(tmp_path_factory.mktemp("processed"))


@pytest.fixture
def labels_dir(tmp_path) -> Path:
    """A labels/ folder with an existing corrections log (one applied, one orphan)."""
    d = tmp_path / "labels"
    append_corrections([
        {"proposal_id": "malmoalliansen-p001", "field": "level", "old": "kommun", "new": "stat",
         "reviewer": "AB", "timestamp": "2024-05-02T10:00:00Z", "note": "lagändring"},
        {"proposal_id": "gone-p001", "field": "theme", "old": "ovrigt", "new": "narkotika",
         "reviewer": "AB", "timestamp": "2024-05-02T10:01:00Z", "note": ""},
    ], d / "corrections.csv")
    return d


def run_notebook(name: str, cwd: Path, monkeypatch, processed: Path, labels: Path | None = None):
    monkeypatch.setenv("PIPELINE_PROCESSED_DIR", str(processed))
    # Page images are cached beside the processed folder, not in the repo's build/.
    monkeypatch.setenv("PIPELINE_PAGE_CACHE_DIR", str(processed.parent / "page_images_cache"))
    if labels is not None:
        monkeypatch.setenv("PIPELINE_LABELS_DIR", str(labels))
    nb = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(str(out.get("data", {}).get("text/plain", "")))
            parts.append(str(out.get("data", {}).get("text/html", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("name", ["review_labels", "explore"])
def test_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)


@pytest.mark.parametrize("cwd", [NOTEBOOKS_DIR, config.REPO_ROOT], ids=["from-notebooks", "from-root"])
def test_review_notebook_runs_and_writes_nothing(cwd, processed_dir, labels_dir, monkeypatch):
    log = labels_dir / "corrections.csv"
    before = log.read_bytes()
    listing = sorted(p.name for p in labels_dir.iterdir())
    repo_log = config.LABELS_DIR / "corrections.csv"
    repo_before = repo_log.read_bytes() if repo_log.exists() else None
    processed_before = {p.name: p.read_bytes() for p in processed_dir.iterdir()}

    nb = run_notebook("review_labels", cwd, monkeypatch, processed_dir, labels_dir)

    assert log.read_bytes() == before
    assert sorted(p.name for p in labels_dir.iterdir()) == listing
    assert (repo_log.read_bytes() if repo_log.exists() else None) == repo_before
    assert {p.name: p.read_bytes() for p in processed_dir.iterdir()} == processed_before
    text = _outputs_text(nb)
    assert re.search(r"\(2 rader utan förslag\)", text)  # both rows of labels_dir are orphans here
    assert str(processed_dir / "proposals.csv") in text
    assert re.search(r"\b\d+ av \d+ granskade\b", text)
    for part in ("sida", "Kodboken", "Annotatörens notering", "Allmänna regler"):
        assert part in text, part  # the first card, shown without widgets
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    # the first card of the queue shows its PDF page, or says why not (an HTML page);
    # page_image itself: tests/test_review.py, tests/test_review_flow.py
    assert images or "Ingen sidbild (inte en PDF, eller källfilen saknas)." in text


@pytest.mark.parametrize("cwd", [NOTEBOOKS_DIR, config.REPO_ROOT], ids=["from-notebooks", "from-root"])
def test_explore_notebook_runs(cwd, processed_dir, monkeypatch):
    nb = run_notebook("explore", cwd, monkeypatch, processed_dir)
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "expected the matplotlib figure"
    assert "needs_review share" in _outputs_text(nb)



@pytest.mark.parametrize("name", ["review_labels", "explore"])
def test_notebooks_run_on_edge_case_corpus(name, fixture_processed_dir, labels_dir, monkeypatch):
    run_notebook(name, NOTEBOOKS_DIR, monkeypatch, fixture_processed_dir, labels_dir)
