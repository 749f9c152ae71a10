"""Issue: reviewers' corrections are never lost and reach the next extract.

Runs on a copy of the project in which `make clean` and `make extract` (which trains
the model first) have run (see conftest.made_project)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from pipeline.classify.codebook import load_codebook
from pipeline.classify.corrections import review_table, save_review
from pipeline.storage import read_csv
from tests.conftest import project_env


def test_make_clean_extract_train_never_touch_labels(made_project):
    root, before, after = made_project
    assert before == after
    assert (root / "models" / "metadata.json").exists()  # make extract trained first
    props = read_csv(root / "processed" / "proposals.csv")
    # hand labels (labels/labels.csv) win over the model for the proposals they label
    assert set(props["theme_source"]) <= {"model", "hand"} and "model" in set(props["theme_source"])
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
