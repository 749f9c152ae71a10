"""`python -m pipeline report`: reports/index.html, proposal_groups.csv and the exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipeline import config
from pipeline.cli import main
from pipeline.records import Document, Proposal, columns
from pipeline.storage import read_csv, write_csv
from tests.conftest import stanza_model_available

SCRIPT = config.REPO_ROOT / "scripts" / "screenshot_report.sh"

# doc_id -> (source_file, title, actor, year, kind, status, error)
DOCS = {
    "m-lund-2022": ("m-lund-2022.html", "Trygghet i Lund", "Moderaterna i Lund", 2022, "party_web_page", "ok", ""),
    "s-umea-2018": ("s-umea-2018.pdf", "Tryggt Umeå", "Socialdemokraterna i Umeå", 2018, "party_programme", "ok", ""),
    "kf-tomt-2021": ("kf-tomt-2021.pdf", "Sammanträdesprotokoll utan förslag", "Kommunfullmäktige", 2021,
                     "council_document", "ok", ""),
    "trasig": ("trasig.pdf", "", "", None, "", "error", "not a PDF (the bytes are text)"),
}
# doc_id, unit, text, page, theme, tconf, level, lconf
PROPOSALS = [
    ("m-lund-2022", "bullet", "Fler kameror på torg och i parker.", None, "offentlig_miljo", 0.82, "kommun", 0.71),
    ("m-lund-2022", "bullet", "Skärpta straff för den som hotar vittnen.", None, "rattsvasende", 0.44, "stat", 0.9),
    ("s-umea-2018", "bullet", "Fler kameror på torg och i parker!", 4, "offentlig_miljo", 0.77, "kommun", 0.66),
    ("s-umea-2018", "bullet", "Fler fältassistenter som möter unga på kvällarna.", 5, "social_prevention", 0.91,
     "kommun", 0.88),
]


def write_corpus(out: Path) -> Path:
    docs = [Document(doc, src, src.rsplit(".", 1)[1], title, None, "0" * 64, 3, 0, status, err, actor,
                     "kommun" if actor else "", kind, year)
            for doc, (src, title, actor, year, kind, status, err) in DOCS.items()]
    props = []
    for i, (doc, unit, text, page, th, tc, lv, lc) in enumerate(PROPOSALS):
        p = Proposal(f"p{i:015x}", doc, unit, "", DOCS[doc][2], "Vi vill:", "", "Trygghet", page, text, "",
                     str(i), i)
        props.append({**p.__dict__, "theme": th, "theme_confidence": tc, "level": lv, "level_confidence": lc,
                      "needs_review": min(tc, lc) < 0.5, "label_source": "model"})
    out.mkdir(parents=True, exist_ok=True)
    write_csv(pd.DataFrame([d.__dict__ for d in docs], columns=columns(Document)), out / "documents.csv")
    label_cols = ["theme", "theme_confidence", "level", "level_confidence", "needs_review", "label_source"]
    write_csv(pd.DataFrame(props, columns=columns(Proposal) + label_cols), out / "proposals.csv")
    return out


def model_metadata(models: Path) -> Path:
    """A models/metadata.json as `make train` writes it (the fields the report reads)."""
    models.mkdir(parents=True, exist_ok=True)
    meta = {"n_examples": 520, "n_documents": 11,
            "targets": {"level": {"class_counts": {"kommun": 93, "region": 12, "stat": 415}},
                        "theme": {"class_counts": {"rattsvasende": 200, "ovrigt": 320}}},
            "cv_scores": {"cv": "GroupKFold by document, 5 folds", "n_folds": 5,
                          "theme": {"accuracy": 0.61, "macro_f1": 0.565, "macro_f1_per_fold": [0.5, 0.6, 0.55]},
                          "level": {"accuracy": 0.8, "macro_f1": 0.574, "macro_f1_per_fold": [0.4, 0.7, 0.6]}}}
    (models / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    return models


@pytest.fixture
def project(tmp_path) -> dict[str, Path]:
    return {"processed": write_corpus(tmp_path / "processed"), "models": tmp_path / "models",
            "reports": tmp_path / "reports"}


def run_report(project) -> str:
    rc = main(["report", "--processed", str(project["processed"]), "--models", str(project["models"]),
               "--reports", str(project["reports"])])
    assert rc == 0
    return (project["reports"] / "index.html").read_text(encoding="utf-8")


def _row_of(page: str, doc_id: str) -> str:
    m = re.search(r"<tr[^>]*>(?:(?!</tr>).)*?<td class=\"id\">" + re.escape(doc_id) + r"</td>.*?</tr>", page, re.S)
    assert m, f"no row for {doc_id}"
    return m.group(0)


def test_report_lists_every_document_with_status_and_counts(project):
    page = run_report(project)
    empty = _row_of(page, "kf-tomt-2021")
    assert "Sammanträdesprotokoll utan förslag" in empty and "0 proposals" in empty
    assert re.search(r'<td class="n">0</td>', empty)
    failed = _row_of(page, "trasig")
    assert "failed" in failed and "not a PDF (the bytes are text)" in failed
    assert re.search(r'<td class="n">2</td>', _row_of(page, "s-umea-2018"))


def test_report_shows_swedish_names_groups_and_is_self_contained(project):
    page = run_report(project)
    assert "Trygg offentlig miljö (situationell prevention)" in page
    assert "Social prevention, barn och unga" in page
    assert "Fler kameror på torg och i parker" in page  # the group's proposal, in the groups section
    groups_part = page[page.index('id="groups"'):page.index('id="quality"')]
    assert "Moderaterna i Lund; Socialdemokraterna i Umeå" in groups_part and "2018, 2022" in groups_part
    # nothing the browser would fetch: no scripts, no stylesheets, images as data URIs only
    assert "<script" not in page and "<link" not in page
    assert all(src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]*)"', page))
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)


def test_report_says_plainly_when_quality_figures_are_absent(project):
    page = run_report(project)
    assert "No trained model" in page and "evaluation.md not found" in page


def test_report_shows_out_of_sample_figures_and_caveats(project, tmp_path):
    model_metadata(project["models"])
    labels = tmp_path / "labels"
    labels.mkdir()
    pids = read_csv(project["processed"] / "proposals.csv")["proposal_id"]
    pd.DataFrame({"proposal_id": [pids[0], pids[2], "p-elsewhere"], "doc_sha256": "0" * 64, "theme": "ovrigt",
                  "level": "kommun", "annotator": "a", "note": ""}).to_csv(labels / "labels.csv", index=False)
    rc = main(["report", "--processed", str(project["processed"]), "--models", str(project["models"]),
               "--reports", str(project["reports"]), "--labels", str(labels)])
    assert rc == 0
    page = (project["reports"] / "index.html").read_text(encoding="utf-8")
    quality = page[page.index('id="quality"'):]
    assert "GroupKFold by document, 5 folds" in quality and "0.565" in quality and "0.574" in quality
    assert "520 labelled proposals from 11 documents" in quality
    assert "80% are <code>stat</code>" in quality and "<code>region</code> (12)" in quality
    assert "No trained model" not in quality
    assert "2 of the 4 proposals here are themselves training labels" in quality


def test_report_writes_groups_and_exports_deterministically(project):
    run_report(project)
    proc = project["processed"]
    groups = read_csv(proc / "proposal_groups.csv")
    assert list(groups.columns) == ["group_id", "proposal_id", "similarity"]
    assert groups["group_id"].nunique() == 1 and len(groups) == 2
    sheets = pd.read_excel(proc / "proposals.xlsx", sheet_name=None)
    assert set(sheets) == {"proposals", "documents", "proposal_groups", "themes"}
    assert sheets["proposals"]["doc_year"].tolist() == [2022, 2022, 2018, 2018]
    assert str(pd.read_parquet(proc / "proposal_groups.parquet")["similarity"].dtype) == "Float64"
    # the tables' own Parquet files are extract's: the report does not write them again
    assert not (proc / "proposals.parquet").exists() and not (proc / "documents.parquet").exists()
    names = ["proposal_groups.csv", "proposal_groups.parquet", "proposals.xlsx"]
    before = {n: (proc / n).read_bytes() for n in names}
    html_before = (project["reports"] / "index.html").read_bytes()
    run_report(project)
    assert {n: (proc / n).read_bytes() for n in names} == before
    assert (project["reports"] / "index.html").read_bytes() == html_before


def test_report_without_extraction_is_a_clear_error(tmp_path, caplog):
    rc = main(["report", "--processed", str(tmp_path / "nothing"), "--reports", str(tmp_path / "r")])
    assert rc == 2 and "run `make extract` first" in caplog.text
    assert not (tmp_path / "r").exists()


def test_groups_command_writes_the_table(project, tmp_path):
    out = tmp_path / "g.csv"
    assert main(["groups", "--processed", str(project["processed"]), "--out", str(out)]) == 0
    groups = read_csv(out)
    ids = read_csv(project["processed"] / "proposals.csv").set_index("proposal_id")["text"]
    assert sorted(ids[groups["proposal_id"]].str.rstrip(".!")) == ["Fler kameror på torg och i parker"] * 2


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
                    reason="chromium not installed (apt-get install -y chromium)")
def test_screenshot_of_report_shows_content(project, tmp_path):
    """The documented screenshot script renders the page: an image of the requested size
    that is not blank (text and the chart put dark and coloured pixels on the page)."""
    from PIL import Image

    run_report(project)
    shot = tmp_path / "report.png"
    proc = subprocess.run([str(SCRIPT), str(project["reports"] / "index.html"), str(shot), "1200x1600"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 1600)
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50
    dark = sum(n for n, (r, g, b) in colours if r + g + b < 200)
    assert dark > 1000  # text


@pytest.mark.skipif(not stanza_model_available(), reason="Stanza Swedish model not available")
def test_extract_then_report_on_documents_we_write(tmp_path):
    """The whole path a researcher takes: `extract` (enriched, typed CSV), then `report`."""
    from tests.pdf_factory import PdfWriter

    raw = tmp_path / "raw"
    raw.mkdir()
    with PdfWriter(raw / "program.pdf", title="Trygghetsprogram för Exempelby") as w:
        w.text(72, 50, "Trygghetsprogram för Exempelby", size=24, bold=True)  # the cover title
        w.text(72, 80, "Inledning", size=16, bold=True)
        w.lines(72, 110, ["Det här programmet beskriver vad partiet vill göra i kommunen de kommande åren."])
        w.new_page()
        w.text(72, 80, "Trygghet", size=16, bold=True)
        w.text(72, 110, "Exempelpartiet vill:")
        y = 130
        for text in ("Anställa fler fältassistenter i kommunen.", "Förbättra belysningen i parker och på torg."):
            y = w.bullet(72, y, "•", [text])
    (raw / "sida.html").write_text(
        "<html><head><title>Vår politik</title></head><body><h1>Vår politik</h1><p>Vi vill:</p><ul>"
        "<li>Förbättra belysningen i parker och på torg.</li><li>Sänka avgifterna i kulturskolan.</li>"
        "</ul></body></html>", encoding="utf-8")
    (raw / "protokoll.txt").write_text("Protokoll\n\nMötet öppnades klockan nio. Ordföranden hälsade "
                                       "alla välkomna.\n", encoding="utf-8")
    out = tmp_path / "processed"
    assert main(["extract", "--raw", str(raw), "--out", str(out), "--no-classify", "--jobs", "1"]) == 0
    csv_text = (out / "proposals.csv").read_text(encoding="utf-8")
    props = read_csv(out / "proposals.csv")
    assert {"doc_title", "doc_year", "doc_kind", "doc_actor"} <= set(props.columns)
    pdf_rows = props[props["doc_id"] == "program"]
    assert set(pdf_rows["doc_title"]) == {"Trygghetsprogram för Exempelby"} and set(pdf_rows["page"]) == {"2"}
    assert set(props.loc[props["doc_id"] == "sida", "page"]) == {""} and ",2.0," not in csv_text

    project = {"processed": out, "models": tmp_path / "models", "reports": tmp_path / "reports"}
    page = run_report(project)
    assert re.search(r'<td class="n">0</td>', _row_of(page, "protokoll"))
    groups = read_csv(out / "proposal_groups.csv")
    assert sorted(props.set_index("proposal_id").loc[groups["proposal_id"], "doc_id"]) == ["program", "sida"]


def test_report_folds_in_the_evaluation_with_its_images(project):
    from PIL import Image

    reports = project["reports"]
    reports.mkdir(parents=True)
    Image.new("RGB", (4, 3), (200, 30, 30)).save(reports / "confusion_theme.png")
    (reports / "evaluation.md").write_text(
        "# Evaluation\n\nData: 520 labelled proposals.\n\n## Targets\n\n| target | required | result | status |\n"
        "|---|---|---|---|\n| theme macro-F1 | ≥ 0.75 | 0.565 | **not met** |\n\n## Theme\n\n"
        "Confusion: ![confusion theme](confusion_theme.png) ![gone](missing.png)\n", encoding="utf-8")
    page = run_report(project)
    quality = page[page.index('id="quality"'):]
    targets = quality[:quality.index("<details>")]
    assert "<td>theme macro-F1</td>" in targets and "<strong>not met</strong>" in targets
    assert "Confusion" not in targets  # other sections only in the folded full text
    imgs = re.findall(r'<img src="([^"]*)" alt="([^"]*)"', quality)
    assert [alt for _, alt in imgs] == ["confusion theme", "gone"]
    assert imgs[0][0].startswith("data:image/png;base64,") and imgs[1][0] == ""
