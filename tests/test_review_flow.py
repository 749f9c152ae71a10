"""Issue: reviewers' corrections are never lost and reach the next extract.

Runs on a copy of the project in which `make clean` and `make extract` (which trains
the model first) have run (see conftest.made_project)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pandas as pd
from openpyxl import load_workbook

from pipeline import config
from pipeline.classify.codebook import load_codebook
from pipeline.classify.corrections import field_source, review_table, save_review
from pipeline.storage import read_csv
from tests.conftest import project_env


def test_make_clean_extract_train_never_touch_labels(made_project):
    root, before, after = made_project
    assert before == after
    assert (root / "models" / "metadata.json").exists()  # make extract trained first
    props = read_csv(root / "processed" / "proposals.csv")
    for field in ("theme", "level"):
        assert set(field_source(props, field)) <= {"model", "hand"}  # nobody has reviewed yet
    assert set(props["theme"]) <= set(load_codebook().theme_ids)


def test_correction_in_notebook_function_reaches_extract(made_project):
    root, _, _ = made_project
    log = root / "labels" / "corrections.csv"
    old_bytes = log.read_bytes()
    proposals = read_csv(root / "processed" / "proposals.csv")
    table = review_table(proposals)
    row = table.index[0]  # the proposal most in need of review
    pid = table.at[row, "proposal_id"]
    new_theme = next(t for t in load_codebook().theme_ids if t != table.at[row, "current_theme"])
    table.at[row, "theme"] = new_theme
    table.at[row, "note"] = "test: corrected in review"

    assert save_review(table, reviewer="tester", path=log) == 1

    new_bytes = log.read_bytes()
    assert new_bytes.startswith(old_bytes)
    appended = new_bytes[len(old_bytes):].decode("utf-8")
    assert appended.count("\n") == 1 and appended.startswith(f"{pid},theme,")

    proc = subprocess.run([sys.executable, "-m", "pipeline", "extract", "--jobs", "2"], cwd=root,
                          env=project_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = read_csv(root / "processed" / "proposals.csv").set_index("proposal_id")
    assert after.at[pid, "theme"] == new_theme
    assert after.at[pid, "theme_source"] == "review"
    assert (after["theme_source"] == "review").sum() == 1 and (after["level_source"] == "review").sum() == 0
    assert log.read_bytes() == new_bytes  # extract read the log, did not rewrite it
    assert isinstance(after, pd.DataFrame)


def _copy_project(made_project, tmp_path):
    """A private copy of the made project, so this test's saves do not meet other tests'."""
    src, _, _ = made_project
    root = tmp_path / "project"
    shutil.copytree(src, root, ignore=shutil.ignore_patterns("*.lock", "__pycache__"))
    return root


def _review(root, *args):
    proc = subprocess.run([sys.executable, "-m", "pipeline", "review", *args], cwd=root, env=project_env(),
                          capture_output=True, text=True, timeout=600)
    return proc


def test_xlsx_round_trip_shows_review_after_extract_without_retraining(made_project, tmp_path):
    root = _copy_project(made_project, tmp_path)
    batch = tmp_path / "batch.xlsx"
    proc = _review(root, "export", "--out", str(batch), "--n", "8")
    assert proc.returncode == 0, proc.stderr[-2000:]
    wb = load_workbook(batch)
    ws = wb["Granska"]
    head = [c.value for c in ws[1]]
    assert ws.max_row == 9
    assert {str(dv.sqref).split(":")[0][0] for dv in ws.data_validations.dataValidation} == {
        chr(ord("A") + head.index("theme")), chr(ord("A") + head.index("level"))}
    props = read_csv(root / "processed" / "proposals.csv").set_index("proposal_id")
    id_a, id_b = ws.cell(row=2, column=1).value, ws.cell(row=3, column=1).value
    new_theme = next(t for t in load_codebook().theme_ids if t != props.at[id_a, "theme"])
    new_level = next(lv for lv in load_codebook().level_ids if lv != props.at[id_b, "level"])
    ws.cell(row=2, column=head.index("theme") + 1, value=new_theme)
    ws.cell(row=2, column=head.index("note") + 1, value="test: tema rättat i kalkylblad")
    ws.cell(row=3, column=head.index("level") + 1, value=new_level)
    wb.save(batch)
    model_before = (root / "models" / "classifier.pkl").read_bytes()
    src = (field_source(props, "theme") == "review") | (field_source(props, "level") == "review")
    reviewed_before = set(props.index[src])  # earlier tests may have saved in the made project
    assert not reviewed_before & {id_a, id_b}  # the export skips reviewed proposals

    proc = _review(root, "import", str(batch), "--reviewer", "tester")
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = subprocess.run(["make", "extract", f"VENV={sys.prefix}", "JOBS=2"], cwd=root, env=project_env(),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pipeline train" not in proc.stdout  # a saved correction does not retrain
    assert (root / "models" / "classifier.pkl").read_bytes() == model_before
    after = read_csv(root / "processed" / "proposals.csv").set_index("proposal_id")
    theme_src, level_src = field_source(after, "theme"), field_source(after, "level")
    assert after.at[id_a, "theme"] == new_theme and theme_src[id_a] == "review"
    assert after.at[id_b, "level"] == new_level and level_src[id_b] == "review"
    reviewed = set(after.index[(theme_src == "review") | (level_src == "review")])
    assert reviewed == reviewed_before | {id_a, id_b}


def test_import_of_bad_sheet_writes_nothing(made_project, tmp_path):
    root = _copy_project(made_project, tmp_path)
    log = root / "labels" / "corrections.csv"
    before = log.read_bytes()
    batch = tmp_path / "batch.xlsx"
    assert _review(root, "export", "--out", str(batch), "--n", "3").returncode == 0
    wb = load_workbook(batch)
    ws = wb["Granska"]
    head = [c.value for c in ws[1]]
    ws.cell(row=2, column=head.index("theme") + 1, value="narkotika")  # valid
    ws.cell(row=3, column=1, value="p-okant-id")
    ws.cell(row=3, column=head.index("level") + 1, value="stat")
    ws.cell(row=4, column=head.index("theme") + 1, value="polisen")
    wb.save(batch)
    proc = _review(root, "import", str(batch), "--reviewer", "tester")
    assert proc.returncode == 2
    assert "rad 3" in proc.stderr and "p-okant-id" in proc.stderr and "rad 4" in proc.stderr
    assert log.read_bytes() == before


def test_documented_example_id_exists_and_page_image_renders(made_project, tmp_path, monkeypatch):
    root, _, _ = made_project
    import json

    nb = json.loads((config.REPO_ROOT / "notebooks" / "review_labels.ipynb").read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    ids = set(re.findall(r'set_label\(table, "([^"]+)"', text))
    assert ids, "the notebook documents set_label with an id"
    props = read_csv(root / "processed" / "proposals.csv")
    assert ids <= set(props["proposal_id"])

    from pipeline.review import page_image

    docs = read_csv(root / "processed" / "documents.csv")
    pdf_docs = set(docs.loc[docs["format"] == "pdf", "doc_id"])
    rec = props[props["doc_id"].isin(pdf_docs)].iloc[0].to_dict()
    png = page_image(rec, root / "processed", root / "raw", tmp_path / "cache")
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page_image(rec, root / "processed", root / "raw", tmp_path / "cache") == png
