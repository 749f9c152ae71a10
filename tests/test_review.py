"""The review queue, spreadsheet review (export/import), the card's page image, and
the reviewer helpers of corrections.py (unknown id, Bekräfta)."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline import config
from pipeline.classify.corrections import (apply_corrections, confirm_review, load_corrections,
                                           review_table, reviewed_count, save_review, set_label)
from pipeline.errors import PipelineError
from pipeline.records import Block, Document, columns
from pipeline import review
from pipeline.review import (BOX_PADDING, QUEUE_WEIGHTS, QueueWeights, card_html, diverse_order, export_batch,
                             import_batch, label_value, page_image, queue_order, queue_table, simulate, summarise,
                             text_vectors, value_scores)
from pipeline.storage import read_csv, write_csv
from tests.pdf_factory import PdfWriter
from tests.test_notebooks import write_fixture_corpus


@pytest.fixture
def processed(tmp_path):
    return write_fixture_corpus(tmp_path / "processed")


@pytest.fixture
def log_path(tmp_path):
    return tmp_path / "labels" / "corrections.csv"


def _labelled(processed, log_path):
    labelled, _ = apply_corrections(read_csv(processed / "proposals.csv"), log_path)
    return labelled


# ---------------------------------------------------------------- the queue


def test_diverse_order_breaks_runs_of_near_identical_texts():
    texts = ["Fler kameror på torget i centrum.", "Fler kameror på torget i centrum!",
             "Fler kameror på torget i centrum .", "Stöd till vittnen i rättegångar.",
             "Mer pengar till skolornas fritidsgårdar."]
    value = np.array([0.9, 0.89, 0.88, 0.7, 0.6])
    plain = list(np.argsort(-value, kind="stable"))
    assert plain[:3] == [0, 1, 2]
    order = diverse_order(value, text_vectors(texts))
    assert order[0] == 0 and sorted(order) == list(range(5))
    assert set(order[1:3]).isdisjoint({1, 2}), order  # the copies wait behind other texts


def test_queue_uses_out_of_fold_confidence_and_puts_reviewed_last(processed, log_path):
    labelled = _labelled(processed, log_path)
    # In-sample: "Inrätta ett särskilt vittnesstöd" is sure (0.91/0.84); out of fold it is not.
    pid = labelled.loc[labelled["text"].str.contains("vittnesstöd"), "proposal_id"].iloc[0]
    oof = pd.DataFrame({"proposal_id": labelled["proposal_id"], "doc_sha256": "",
                        "theme_oof": labelled["theme"], "theme_oof_confidence": 0.99,
                        "level_oof": labelled["level"].replace("", "kommun"), "level_oof_confidence": 0.99})
    oof.loc[oof["proposal_id"] == pid, ["theme_oof_confidence", "level_oof_confidence"]] = [0.05, 0.3]
    plain = QueueWeights()  # no class-balance term: here only the confidences differ (rarity is tested below)
    without = queue_table(labelled, weights=plain)
    with_oof = queue_table(labelled, oof, weights=plain)
    assert without["proposal_id"].iloc[0] != pid
    assert with_oof["proposal_id"].iloc[0] == pid
    assert with_oof["queue_rank"].tolist() == list(range(1, len(with_oof) + 1))

    table = review_table(labelled)
    confirm_review(table, [pid], reviewer="AB", path=log_path)
    again = queue_table(_labelled(processed, log_path), oof)  # the queue's own weights
    assert pid in set(again["proposal_id"].iloc[-2:]) and again["reviewed"].iloc[-2:].all()
    assert not again["reviewed"].iloc[:-2].any()


def test_label_value_counts_disagreement_with_cue_baseline(processed, log_path):
    labelled = _labelled(processed, log_path).reset_index(drop=True)
    same = labelled.copy()
    same["theme_confidence"] = 0.9
    same["level_confidence"] = 0.9
    i = same.index[same["text"].str.contains("vapenbrott")][0]  # cues say rattsvasende
    base = label_value(same)["disagreement"].iloc[i]
    same.loc[i, "theme"] = "narkotika"
    assert label_value(same)["disagreement"].iloc[i] > base
    assert label_value(same)["value"].iloc[i] > label_value(same.assign(theme=labelled["theme"]))["value"].iloc[i]


def test_value_scores_puts_a_rare_uncertain_item_above_a_confident_common_one():
    # Row 0: a class people labelled once, unsure; row 1: the class that dominates the labels, sure.
    pred = {"theme": np.array(["hedersvald", "rattsvasende"], dtype=object),
            "level": np.array(["kommun", "stat"], dtype=object)}
    conf = {"theme": np.array([0.55, 0.95]), "level": np.array([0.8, 0.97])}
    cue = {f: np.array(["", ""], dtype=object) for f in pred}
    counts = {"theme": {"rattsvasende": 40, "hedersvald": 1, "narkotika": 9},
              "level": {"stat": 45, "kommun": 5}}
    out = value_scores(pred, conf, cue, counts=counts)  # the weights the queue uses
    assert out["value"].iloc[0] > out["value"].iloc[1]
    # Uncertainty is the chance that one of the two labels is wrong, as needs_review reads it.
    assert out["uncertainty"].to_numpy() == pytest.approx([1 - 0.55 * 0.8, 1 - 0.95 * 0.97])
    smaller = value_scores(pred, conf, cue, counts=counts, weights=QueueWeights(combine="max"))
    assert smaller["uncertainty"].to_numpy() == pytest.approx([1 - 0.55, 1 - 0.95])
    # The class-balance term alone: same confidence, the rare class still goes first.
    same = {f: np.array([0.9, 0.9]) for f in pred}
    rare = value_scores(pred, same, cue, counts=counts, weights=QueueWeights(rarity=1.0))
    assert rare["rarity"].iloc[0] > rare["rarity"].iloc[1]
    assert rare["value"].iloc[0] > rare["value"].iloc[1]
    assert value_scores(pred, same, cue, counts=None, weights=QueueWeights(rarity=1.0))["rarity"].eq(0).all()
    # Disagreement with the cue baseline raises the value.
    cue_says = {"theme": np.array(["", "narkotika"], dtype=object), "level": cue["level"]}
    assert value_scores(pred, same, cue_says)["value"].iloc[1] > value_scores(pred, same, cue)["value"].iloc[1]


def test_queue_order_mixes_in_a_random_share_and_skips_already_labelled():
    texts = [f"Förslag nummer {i} om {w}" for i, w in enumerate(["skola", "polis", "kameror", "vittnen", "droger",
                                                                   "ljus", "fritid", "kurator", "tullen", "nattvandring"])]
    vectors = text_vectors(texts)
    value = np.linspace(1.0, 0.1, len(texts))
    plain = queue_order(value, vectors, already=[0], weights=QueueWeights(diversity=0.0))
    assert plain == list(range(1, 10))
    mixed = queue_order(value, vectors, already=[0], weights=QueueWeights(diversity=0.0, epsilon=0.3), seed=3)
    assert sorted(mixed) == list(range(1, 10)) and mixed != plain
    assert queue_order(value, vectors, limit=4, weights=QueueWeights(diversity=0.0, epsilon=0.5)) \
        == queue_order(value, vectors, limit=4, weights=QueueWeights(diversity=0.0, epsilon=0.5))


def _sim_frame(n_docs=6, per_doc=8):
    themes = [("rattsvasende", "Skärpta straff för grova brott och fler poliser i tjänst"),
              ("narkotika", "Mer stöd till unga som använder droger och narkotika"),
              ("offentlig_miljo", "Bättre belysning och kameror på torget"),
              ("brottsoffer_vittnen", "Stöd till vittnen och brottsoffer under rättegången")]
    rows = []
    for d in range(n_docs):
        level = "kommun" if d % 2 else "stat"
        for i in range(per_doc):
            theme, text = themes[(d + i) % len(themes)] if i % 3 else themes[0]
            rows.append({"doc_id": f"dok-{d}", "proposal_id": f"dok-{d}-p{i}", "text": f"{text} ({d}-{i})",
                         "section": "Trygghet", "intro": "Vi vill:", "theme": theme, "level": level})
    return pd.DataFrame(rows)


def test_simulate_queue_runs_end_to_end_through_the_shared_value_function(monkeypatch):
    calls = []
    real = review.value_scores

    def spy(*args, **kwargs):
        calls.append(kwargs.get("counts"))
        return real(*args, **kwargs)

    monkeypatch.setattr(review, "value_scores", spy)
    curves = simulate(_sim_frame(), seeds=(0,), steps=3, test_share=0.34)
    assert set(curves["strategy"]) == {"random", "uncertainty", "queue"}
    assert len(curves) == 3 * curves["labels"].nunique() and curves["labels"].nunique() >= 2
    assert calls and all(c is not None and set(c) == {"theme", "level"} for c in calls)  # only the queue calls it
    summary = summarise(curves)
    assert set(summary["target"]["theme"]["per_seed"][0]) == {"random", "uncertainty", "queue"}
    assert summary["target"]["theme"]["share_needed"]["random"] is not None
    # One seed: the area is the plain mean of that seed's curve over its steps.
    for s, c in curves.groupby("strategy"):
        assert summary["target"]["theme"]["area"][s] == pytest.approx(c["theme_macro_f1"].mean())
        assert summary["target"]["level"]["area_per_seed"][0][s] == pytest.approx(c["level_macro_f1"].mean())
    # One seed: every bootstrap resample is that seed, so it reads exactly as the headline.
    for f in ("theme", "level"):
        t = summary["target"][f]
        for s, share in t["share_needed"].items():
            assert t["bootstrap"]["share_needed"][s] == (pytest.approx((share,) * 3) if share is not None
                                                        else (np.inf,) * 3)
        assert t["bootstrap"]["area_diff"][1] == pytest.approx(t["area"]["queue"] - t["area"]["random"])
    report = review.simulation_report(curves, summary, QUEUE_WEIGHTS)
    assert "Per seed" in report and "development seeds" in report
    assert "Area under the learning curve" in report and " of 1 seeds |" in report


def test_summarise_lines_seeds_up_by_step_when_their_pools_differ_in_size():
    frame = _sim_frame(n_docs=9, per_doc=9)
    thin = frame["doc_id"].isin(["dok-1", "dok-4", "dok-6"]) & frame["proposal_id"].str[-1].isin(list("1357"))
    curves = simulate(frame[~thin], seeds=(0, 1, 2, 3), steps=5, test_share=0.34)
    assert curves.groupby("seed")["share"].apply(lambda v: tuple(v.round(2))).nunique() > 1  # shares differ
    summary = summarise(curves)
    assert sorted(summary["mean"]["share"].unique()) == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert summary["target"]["theme"]["bootstrap"]["share_needed"]["random"][2] <= 1.0


def test_seed_bootstrap_counts_how_often_the_queue_meets_the_target():
    shares = [0.25, 0.5, 0.75, 1.0]
    rows = []
    for seed, queue in ((0, [0.5, 0.8, 0.8, 0.8]), (1, [0.5, 0.6, 0.7, 0.8]), (2, [0.5, 0.6, 0.7, 0.8])):
        for strategy, curve in (("random", [0.4, 0.6, 0.7, 0.8]), ("queue", queue)):
            rows += [{"seed": seed, "strategy": strategy, "share": sh, "f1": v} for sh, v in zip(shares, curve)]
    out = review.seed_bootstrap(pd.DataFrame(rows), "f1", ["random", "queue"], n=400)
    # The queue reaches 0.8 at 50 % only when every resampled seed is seed 0: (1/3)^3 of the draws.
    assert out["p_target"]["queue"] == pytest.approx(1 / 27, abs=0.03)
    assert out["share_needed"]["random"] == (1.0, 1.0, 1.0) and out["p_target"]["random"] == 0
    assert out["share_needed"]["queue"][2] == 1.0
    assert out["area_diff"][0] > 0  # the queue's curve is never below random's


def test_simulate_report_re_renders_from_saved_curves(tmp_path):
    import argparse

    curves = simulate(_sim_frame(), seeds=(0,), steps=3, test_share=0.34).round(4)
    assert list(curves.columns) == list(review.SIM_COLUMNS)
    # Saved with other weights than today's: the re-render names the saved ones.
    other = review.weights_text(QueueWeights(rarity=2.0, epsilon=0.3))
    saved = tmp_path / "curves.csv"
    curves.assign(queue_weights=other).to_csv(saved, index=False)
    args = argparse.Namespace(reports=tmp_path / "out", from_csv=saved)
    assert review.simulate_command(args) == 0
    md = (tmp_path / "out" / "active_learning.md").read_text()
    assert md == review.simulation_report(curves, summarise(curves), QueueWeights(rarity=2.0, epsilon=0.3))
    assert f"used {other}." in md and review.weights_text(QUEUE_WEIGHTS) not in md
    curves.to_csv(tmp_path / "old.csv", index=False)  # curves saved before the weights were
    assert review.simulate_command(argparse.Namespace(reports=tmp_path / "old", from_csv=tmp_path / "old.csv")) == 0
    assert "weights that were not saved with these curves" in (tmp_path / "old" / "active_learning.md").read_text()
    assert (tmp_path / "out" / "active_learning.png").stat().st_size > 0
    assert not (tmp_path / "out" / "active_learning.csv").exists()  # the saved curves are not rewritten
    with pytest.raises(PipelineError, match="no saved simulation curves"):
        review.simulate_command(argparse.Namespace(reports=tmp_path, from_csv=tmp_path / "nope.csv"))
    (tmp_path / "other.csv").write_text("seed,strategy\n0,random\n")
    with pytest.raises(PipelineError, match="not a saved simulation"):
        review.simulate_command(argparse.Namespace(reports=tmp_path, from_csv=tmp_path / "other.csv"))


def test_simulate_gives_the_same_rows_on_two_processes():
    frame = _sim_frame()
    one = simulate(frame, seeds=(0, 1), steps=3, test_share=0.34)
    two = simulate(frame, seeds=(0, 1), steps=3, test_share=0.34, jobs=2)
    assert list(one["seed"].unique()) == [0, 1]
    pd.testing.assert_frame_equal(one, two)


def test_cross_validated_protocol_scores_every_proposal_once_per_step(tmp_path):
    import argparse

    frame = _sim_frame(n_docs=10, per_doc=8)
    curves = simulate(frame, seeds=(0, 1), steps=3, folds=5)
    assert set(curves["folds"]) == {5} and list(curves["seed"].unique()) == [0, 1]
    assert (curves["test"] == len(frame)).all()  # the five folds' predictions pooled: every proposal once
    assert (curves["pool"] == len(frame) * 4 / 5).all()  # equal documents, so every pool is 4/5 of them
    assert len(curves) == 2 * 3 * 3
    # Pooled, not averaged: a step's macro-F1 is that of all folds' predictions together.
    first = curves[(curves["seed"] == 0) & (curves["strategy"] == "random")].iloc[0]
    data = review._sim_data(frame)
    runs = [r for fold in range(5)
            for r in review._simulate_unit(data, 0, fold, 5, 3, 0.3, ("random",), QUEUE_WEIGHTS) if r["step"] == 0]
    test = np.concatenate([r["test"] for r in runs])
    assert sorted(test) == list(range(len(frame)))
    assert first["theme_macro_f1"] == pytest.approx(review._macro_f1(
        frame["theme"].to_numpy(dtype=object)[test], np.concatenate([r["pred"]["theme"] for r in runs])))
    pd.testing.assert_frame_equal(curves, simulate(frame, seeds=(0, 1), steps=3, folds=5, jobs=2))
    # The report names repetitions and goes to its own files; a re-render reads the protocol from the CSV.
    saved = tmp_path / "cv.csv"
    curves.round(4).to_csv(saved, index=False)
    assert review.simulate_command(argparse.Namespace(reports=tmp_path, from_csv=saved)) == 0
    md = (tmp_path / "active_learning_cv.md").read_text()
    assert "Cross-validated protocol, repetitions 0, 1" in md and "Per repetition" in md
    assert f"over all {len(frame)} labelled proposals" in md and "Per seed" not in md
    assert not (tmp_path / "active_learning.md").exists()
    with pytest.raises(PipelineError, match="--folds 1"):
        review.simulate_command(argparse.Namespace(reports=tmp_path, folds=1))


# ---------------------------------------------------------------- corrections helpers


def test_set_label_unknown_id_is_an_error_and_saves_nothing(processed, log_path):
    table = review_table(_labelled(processed, log_path))
    with pytest.raises(PipelineError, match="finns inte"):
        set_label(table, "s-malmo-2018-p999", level="stat")
    with pytest.raises(PipelineError, match="kodboken"):
        set_label(table, table["proposal_id"].iloc[0], theme="inte_ett_tema")
    with pytest.raises(PipelineError, match="finns inte"):
        confirm_review(table, ["s-malmo-2018-p999"], reviewer="AB", path=log_path)
    assert not log_path.exists()
    pid = table["proposal_id"].iloc[0]
    set_label(table, pid, level="stat", note="lagändring")
    other = "region" if table["current_level"].iloc[0] == "stat" else "stat"
    set_label(table, pid, level=other)
    assert save_review(table, reviewer="AB", path=log_path) == 1
    assert load_corrections(log_path)[["proposal_id", "field", "new"]].values.tolist() == [[pid, "level", other]]


def test_bekrafta_writes_old_equal_new_and_counts_as_reviewed(processed, log_path):
    table = review_table(_labelled(processed, log_path))
    assert reviewed_count(table)[0] == 1  # the fixture's earlier review (label_source review)
    with pytest.raises(PipelineError, match="saknas"):  # a missing level cannot be confirmed
        confirm_review(table, table.loc[table["current_level"] == "", "proposal_id"].iloc[0], "AB", path=log_path)
    assert not log_path.exists()
    i = table.index[(table["current_level"] != "") & ~table["reviewed"]][0]
    pid, theme, level = table.loc[i, ["proposal_id", "current_theme", "current_level"]]
    assert confirm_review(table, pid, reviewer="AB", path=log_path) == 2
    log = load_corrections(log_path)
    assert log[["proposal_id", "field", "old", "new"]].values.tolist() == [
        [pid, "theme", theme, theme], [pid, "level", level, level]]
    assert reviewed_count(table) == (2, len(table))
    assert save_review(table, reviewer="AB", path=log_path) == 0  # nothing left to save
    again = review_table(_labelled(processed, log_path)).set_index("proposal_id")
    assert bool(again.at[pid, "reviewed"]) and again.at[pid, "current_theme"] == theme
    assert again.at[pid, "theme_source"] == "review" and again.at[pid, "level_source"] == "review"


def test_per_field_sources_follow_the_corrected_field(processed, log_path):
    props = read_csv(processed / "proposals.csv")
    props["theme_source"] = "model"
    props["level_source"] = "model"
    table = review_table(props)
    pid = table["proposal_id"].iloc[0]
    set_label(table, pid, level="region" if table.loc[0, "current_level"] != "region" else "stat")
    save_review(table, reviewer="AB", path=log_path)
    labelled, _ = apply_corrections(props, log_path)
    row = labelled.set_index("proposal_id").loc[pid]
    assert (row["theme_source"], row["level_source"]) == ("model", "review")


# ---------------------------------------------------------------- spreadsheet review


def _fill(path, values: dict):
    """values: {proposal_id: (theme, level, note)} written into the Granska sheet."""
    wb = load_workbook(path)
    ws = wb["Granska"]
    head = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        pid = row[head.index("proposal_id")].value
        if pid in values:
            for col, v in zip(("theme", "level", "note"), values[pid]):
                row[head.index(col)].value = v
    wb.save(path)


def test_export_has_drop_down_lists_and_skips_reviewed(processed, log_path, tmp_path):
    out = tmp_path / "batch.xlsx"
    n = export_batch(out, n=50, processed_dir=processed, corrections_path=log_path, models_dir=tmp_path)
    total = len(read_csv(processed / "proposals.csv"))
    assert n == total - 1  # the fixture has one reviewed proposal
    wb = load_workbook(out)
    ws = wb["Granska"]
    head = [c.value for c in ws[1]]
    assert head[:1] == ["proposal_id"] and {"text", "context", "theme", "level", "note"} <= set(head)
    assert ws.max_row == n + 1
    rules = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    col = {h: chr(ord("A") + i) for i, h in enumerate(head)}
    assert rules[f"{col['theme']}2:{col['theme']}{n + 1}"] == "Koder!$A$2:$A$13"
    assert rules[f"{col['level']}2:{col['level']}{n + 1}"] == "Koder!$C$2:$C$4"
    codes = [r[0] for r in wb["Koder"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert "rattsvasende" in codes and len(codes) == 12
    assert export_batch(tmp_path / "small.xlsx", n=2, processed_dir=processed, corrections_path=log_path,
                        models_dir=tmp_path) == 2


def test_import_appends_filled_rows(processed, log_path, tmp_path):
    out = tmp_path / "batch.xlsx"
    export_batch(out, n=5, processed_dir=processed, corrections_path=log_path, models_dir=tmp_path)
    ids = [r[0] for r in load_workbook(out)["Granska"].iter_rows(min_row=2, values_only=True)]
    current = review_table(_labelled(processed, log_path)).set_index("proposal_id")
    _fill(out, {ids[0]: ("narkotika", "", "droger, inte unga"),
                ids[1]: (current.at[ids[1], "current_theme"], "stat", "")})
    assert import_batch(out, "Anna", processed_dir=processed, corrections_path=log_path) == 3
    log = load_corrections(log_path)
    assert log[["proposal_id", "field", "new", "reviewer"]].values.tolist() == [
        [ids[0], "theme", "narkotika", "Anna"],
        [ids[1], "theme", current.at[ids[1], "current_theme"], "Anna"],
        [ids[1], "level", "stat", "Anna"]]
    assert log["old"].iloc[1] == log["new"].iloc[1]  # a confirmed field: old = new
    assert log["note"].iloc[0] == "droger, inte unga"


@pytest.mark.parametrize("bad", ["unknown_id", "bad_theme", "bad_level"])
def test_import_with_a_bad_row_writes_nothing(processed, log_path, tmp_path, bad):
    out = tmp_path / "batch.xlsx"
    export_batch(out, n=5, processed_dir=processed, corrections_path=log_path, models_dir=tmp_path)
    ws_ids = [r[0] for r in load_workbook(out)["Granska"].iter_rows(min_row=2, values_only=True)]
    values = {ws_ids[0]: ("narkotika", "kommun", "")}
    if bad == "unknown_id":
        wb = load_workbook(out)
        wb["Granska"].cell(row=4, column=1, value="p-finns-inte")
        wb.save(out)
        values[ws_ids[2]] = ("narkotika", "", "")  # the row whose id was replaced is not filled by _fill
        _fill(out, values)
        wb = load_workbook(out)
        wb["Granska"]["H4"] = "narkotika"
        wb.save(out)
        expect = "rad 4: förslaget 'p-finns-inte'"
    elif bad == "bad_theme":
        values[ws_ids[3]] = ("polisen", "", "")
        _fill(out, values)
        expect = "rad 5: tema 'polisen'"
    else:
        values[ws_ids[1]] = ("", "landsting", "")
        _fill(out, values)
        expect = "rad 3: nivå 'landsting'"
    with pytest.raises(PipelineError, match=expect) as err:
        import_batch(out, "Anna", processed_dir=processed, corrections_path=log_path)
    assert "inget sparades" in str(err.value)
    assert not log_path.exists()


def test_cli_import_error_is_one_line_and_exit_2(processed, log_path, tmp_path):
    out = tmp_path / "batch.xlsx"
    export_batch(out, n=3, processed_dir=processed, corrections_path=log_path, models_dir=tmp_path)
    first = next(load_workbook(out)["Granska"].iter_rows(min_row=2, values_only=True))[0]
    _fill(out, {first: ("inget_tema", "", "")})
    proc = subprocess.run([sys.executable, "-m", "pipeline", "review", "--processed", str(processed),
                           "--labels", str(log_path.parent), "import", str(out), "--reviewer", "AB"],
                          capture_output=True, text=True, cwd=config.REPO_ROOT, timeout=300)
    assert proc.returncode == 2
    assert "inget_tema" in proc.stderr and "inget sparades" in proc.stderr
    assert not log_path.exists()


# ---------------------------------------------------------------- the card


def test_page_image_frames_the_block_and_is_cached(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    with PdfWriter(raw / "plan.pdf") as pdf:
        pdf.text(72, 100, "Första sidan.")
        pdf.new_page()
        pdf.text(72, 300, "Vi vill: inrätta ett vittnesstöd.")
    processed = tmp_path / "processed"
    docs = [Document("plan", "plan.pdf", "pdf", "Plan", 2, "a" * 64, 1, 0, "ok", "")]
    write_csv(pd.DataFrame([d.__dict__ for d in docs], columns=columns(Document)), processed / "documents.csv")
    box = (70.0, 280.0, 300.0, 310.0)
    blocks = [Block("plan", 7, 2, "bullet", "", "Vi vill: inrätta ett vittnesstöd.", *box)]
    write_csv(pd.DataFrame([b.__dict__ for b in blocks], columns=columns(Block)), processed / "blocks.csv")
    rec = {"proposal_id": "p1", "doc_id": "plan", "block_id": "7", "page": "2"}
    cache = tmp_path / "cache"
    png = page_image(rec, processed, raw, cache)
    assert png is not None and png.parent == cache and "-s2-" in png.name
    from PIL import Image

    im = Image.open(png).convert("RGB")
    scale = im.width / 595.28
    x, y = int((box[0] - BOX_PADDING) * scale) + 1, int((box[1] + box[3]) / 2 * scale)  # the frame's left edge
    r, g, b = im.getpixel((x, y))
    assert r > 150 and g < 100 and b < 100, (r, g, b)
    mtime = png.stat().st_mtime_ns
    assert page_image(rec, processed, raw, cache) == png and png.stat().st_mtime_ns == mtime
    html_doc = page_image({**rec, "doc_id": "okänt"}, processed, raw, cache)
    assert html_doc is None


def test_card_html_is_swedish_and_complete(processed, log_path):
    table = review_table(_labelled(processed, log_path))
    rec = table[table["text"].str.contains("vapenbrott")].iloc[0].to_dict()
    text = card_html(rec, "regel 1: straff", "llm-a")
    for part in ("sida", "Polis, lagstiftning och påföljder", "Problemet eller målgruppen avgör",
                 "Annotatörens notering", "regel 1: straff", "Nivå: Stat", "En lagändring är alltid stat",
                 "Skärpta straff"):
        assert part in text, part
    rec["theme"] = "narkotika"  # the reviewer picks another theme: the card shows its codebook entry
    assert "Narkotika och droger" in card_html(rec)


def test_corrections_log_stays_parseable_csv(processed, log_path):
    table = review_table(_labelled(processed, log_path))
    set_label(table, table["proposal_id"].iloc[1], theme="extremism", note='citat "så här", och komma')
    save_review(table, reviewer="AB", path=log_path)
    with open(log_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][6] == 'citat "så här", och komma'
