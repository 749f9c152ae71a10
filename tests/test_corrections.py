"""The reviewer corrections log: append-only, locked, validated, applied."""

from __future__ import annotations

import csv
import logging
import multiprocessing as mp
import time

import pandas as pd
import pytest

from pipeline.classify.corrections import (
    CORRECTIONS_COLUMNS,
    append_corrections,
    apply_corrections,
    corrected_labels,
    latest_corrections,
    load_corrections,
    review_table,
    save_review,
)
from pipeline.errors import PipelineError
from pipeline.storage import read_csv, write_csv

PROPOSAL_COLUMNS = [
    "proposal_id", "doc_id", "unit", "parent_id", "actor", "intro", "level_hint", "section",
    "page", "text", "description", "sentence_ids", "block_id", "theme", "theme_confidence",
    "level", "level_confidence", "needs_review", "theme_source", "level_source",
]

# (id, doc, unit, parent, actor, intro, hint, section, text, theme, tconf, level, lconf)
_ROWS = [
    ("s18-p001", "s-malmo-2018", "bullet", "", "Socialdemokraterna i Malmö", "Socialdemokraterna i Malmö vill:", "",
     "Trygghet > Vittnen", "Inrätta ett särskilt vittnesstöd.", "brottsoffer_vittnen", 0.91, "kommun", 0.84),
    ("s18-p002", "s-malmo-2018", "bullet", "", "Socialdemokraterna i Malmö", "Förslag på nationell nivå:", "stat",
     "Trygghet > Straff", "Skärpta straff för grovt vapenbrott.", "rattsvasende", 0.95, "stat", 0.97),
    ("s18-p003", "s-malmo-2018", "bullet", "", "Socialdemokraterna i Malmö", "Socialdemokraterna i Malmö vill:", "",
     "Trygghet > Unga", "Fler fältgrupper som möter unga på kvällar och helger. Utöka hembesöken.",
     "social_prevention", 0.62, "kommun", 0.55),
    ("s18-p003-s1", "s-malmo-2018", "statement", "s18-p003", "Socialdemokraterna i Malmö",
     "Socialdemokraterna i Malmö vill:", "", "Trygghet > Unga", "Utöka hembesöken.",
     "social_prevention", 0.58, "kommun", 0.41),
    ("all-p001", "malmoalliansen", "bullet", "", "Malmöalliansen", "Vi vill:", "",
     "Trygghetslöftet", "Ändra lagstiftningen så att kommunen kan forsla bort bilvrak.",
     "offentlig_miljo", 0.48, "kommun", 0.39),
    ("all-p002", "malmoalliansen", "bullet", "", "Malmöalliansen", "Vi vill:", "",
     "Trygghetslöftet", "Kameror på sjukhusens akutmottagningar för att skydda personalen.",
     "offentlig_miljo", 0.44, "region", 0.71),
    ("fri-p001", "fri-fran-vald", "item", "", "Malmö stad", "Genom att:", "",
     "Mål 2", "Stärka det tidiga stödet.", "ovrigt", 0.21, "kommun", 0.66),
]


def make_proposals() -> pd.DataFrame:
    rows = []
    for i, (pid, doc, unit, parent, actor, intro, hint, section, text, th, tc, lv, lc) in enumerate(_ROWS):
        rows.append({
            "proposal_id": pid, "doc_id": doc, "unit": unit, "parent_id": parent, "actor": actor,
            "intro": intro, "level_hint": hint, "section": section, "page": str(1 + i // 3), "text": text,
            "description": "", "sentence_ids": str(10 + i), "block_id": str(3 + i), "theme": th,
            "theme_confidence": f"{tc:.4f}", "level": lv, "level_confidence": f"{lc:.4f}",
            "needs_review": str(min(tc, lc) < 0.6), "theme_source": "model", "level_source": "model",
        })
    return pd.DataFrame(rows, columns=PROPOSAL_COLUMNS)


@pytest.fixture
def proposals(tmp_path) -> pd.DataFrame:
    """proposals.csv as the pipeline writes it, read back as strings."""
    write_csv(make_proposals(), tmp_path / "proposals.csv")
    return read_csv(tmp_path / "proposals.csv")


@pytest.fixture
def log_path(tmp_path):
    return tmp_path / "labels" / "corrections.csv"


def _row(pid, field, new, old="", reviewer="AB", ts="2024-05-02T10:00:00Z", note=""):
    return {"proposal_id": pid, "field": field, "old": old, "new": new, "reviewer": reviewer,
            "timestamp": ts, "note": note}


# ---------------------------------------------------------------- (a) append / load / latest / apply


def test_append_load_latest_apply(proposals, log_path, caplog):
    assert append_corrections([_row("all-p001", "level", "stat", "kommun", note="lagändring → stat")], log_path) == 1
    assert append_corrections(pd.DataFrame([
        _row("all-p002", "theme", "offentlig_miljo", "offentlig_miljo", ts="2024-05-02T10:01:00Z"),
        _row("all-p002", "theme", "personalens_sakerhet", "offentlig_miljo", reviewer="CD",
             ts="2024-05-02T10:02:00Z"),
    ]), log_path) == 2
    text = log_path.read_text(encoding="utf-8")
    assert text.startswith(",".join(CORRECTIONS_COLUMNS) + "\n")
    assert text.count("proposal_id,field") == 1 and "\r" not in text

    df = load_corrections(log_path)
    assert list(df.columns) == CORRECTIONS_COLUMNS and len(df) == 3
    assert df.loc[0, "note"] == "lagändring → stat"

    latest = latest_corrections(df)
    assert len(latest) == 2
    assert latest.set_index(["proposal_id", "field"]).loc[("all-p002", "theme"), "new"] == "personalens_sakerhet"

    before = log_path.read_bytes()
    with caplog.at_level(logging.WARNING):
        out, orphans = apply_corrections(proposals, log_path)
    assert log_path.read_bytes() == before
    assert orphans.empty and not [r for r in caplog.records if r.levelno >= logging.WARNING]
    o = out.set_index("proposal_id")
    assert o.loc["all-p001", "level"] == "stat" and o.loc["all-p001", "level_confidence"] == 1.0
    assert o.loc["all-p001", "theme"] == "offentlig_miljo" and o.loc["all-p001", "theme_confidence"] == 0.48
    assert o.loc["all-p002", "theme"] == "personalens_sakerhet"
    assert o.loc["all-p001", "level_source"] == "review" and o.loc["all-p001", "theme_source"] == "model"
    assert o.loc["all-p002", "theme_source"] == "review"
    assert not o.loc[["all-p001", "all-p002"], "needs_review"].any()
    untouched = o.drop(index=["all-p001", "all-p002"])
    assert set(untouched["theme_source"]) == set(untouched["level_source"]) == {"model"}
    assert o.loc["fri-p001", "needs_review"] and o.loc["fri-p001", "theme"] == "ovrigt"
    assert len(out) == len(proposals)


def test_load_absent_file_is_empty(tmp_path):
    df = load_corrections(tmp_path / "nope.csv")
    assert df.empty and list(df.columns) == CORRECTIONS_COLUMNS


def test_corrected_labels_fallback(proposals, log_path):
    append_corrections([
        _row("all-p001", "level", "stat"),
        _row("all-p002", "theme", "personalens_sakerhet"),
        _row("all-p002", "level", "kommun"),
        _row("all-p002", "level", "region"),
        _row("gone-p9", "theme", "narkotika"),
    ], log_path)
    got = corrected_labels(log_path, fallback=proposals).set_index("proposal_id")
    assert list(got.columns) == ["theme", "level"]
    assert got.loc["all-p001"].tolist() == ["offentlig_miljo", "stat"]  # theme from fallback
    assert got.loc["all-p002"].tolist() == ["personalens_sakerhet", "region"]
    assert got.loc["gone-p9"].tolist() == ["narkotika", ""]  # no fallback: '' (trainer drops)
    nofb = corrected_labels(log_path, fallback=pd.DataFrame(columns=["proposal_id", "theme", "level"]))
    assert nofb.set_index("proposal_id").loc["all-p001", "theme"] == ""


# ---------------------------------------------------------------- (b) two processes at once


def _append_many(path, who, n, barrier):
    barrier.wait()  # both start together; the file does not exist yet (header race)
    for i in range(n):
        if i:
            time.sleep(0.003 * (i % 3))  # gaps, so the two writers interleave
        append_corrections([_row(f"{who}-{i:03d}", "theme" if i % 2 else "level",
                                 "narkotika" if i % 2 else "stat", reviewer=who, note=f"rad {i}, \"{who}\"")], path)


def test_concurrent_appends_from_two_processes(log_path):
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_append_many, args=(log_path, who, 50, barrier)) for who in ("p1", "p2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]

    lines = log_path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == ",".join(CORRECTIONS_COLUMNS) and lines[-1] == ""
    assert sum(1 for ln in lines if ln.startswith("proposal_id,")) == 1
    df = load_corrections(log_path)
    assert len(df) == 100 and len(lines) == 102
    for who in ("p1", "p2"):
        ids = df.loc[df["reviewer"] == who, "proposal_id"].tolist()
        assert ids == [f"{who}-{i:03d}" for i in range(50)]  # each writer's order kept


# ---------------------------------------------------------------- (c) ids outside the codebook


def test_unknown_label_in_file_names_file_and_row(log_path):
    log_path.parent.mkdir(parents=True)
    with open(log_path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CORRECTIONS_COLUMNS)
        w.writerow(list(_row("s18-p001", "theme", "narkotika").values()))
        w.writerow(list(_row("s18-p002", "level", "kommun", note="två\nrader").values()))  # lines 3-4
        w.writerow(list(_row("s18-p003", "theme", "skolan").values()))  # line 5
    with pytest.raises(PipelineError) as err:
        load_corrections(log_path)
    msg = str(err.value)
    assert str(log_path) in msg and "row 5" in msg and "skolan" in msg


def test_unknown_field_in_file(log_path):
    log_path.parent.mkdir(parents=True)
    log_path.write_text(",".join(CORRECTIONS_COLUMNS) + "\ns18-p001,actor,,Malmö,AB,2024-05-02T10:00:00Z,\n",
                        encoding="utf-8")
    with pytest.raises(PipelineError, match=r"row 2: field 'actor'"):
        load_corrections(log_path)


def test_append_rejects_bad_rows_and_writes_nothing(log_path):
    append_corrections([_row("s18-p001", "theme", "narkotika")], log_path)
    before = log_path.read_bytes()
    with pytest.raises(PipelineError, match="level 'kommunen' is not in the codebook"):
        append_corrections([_row("s18-p002", "theme", "narkotika"), _row("s18-p003", "level", "kommunen")], log_path)
    with pytest.raises(PipelineError, match="field 'actor'"):
        append_corrections([_row("s18-p002", "actor", "kommun")], log_path)
    with pytest.raises(PipelineError, match="theme 'stat' is not in the codebook"):
        append_corrections([_row("s18-p002", "theme", "stat")], log_path)
    assert log_path.read_bytes() == before
    with pytest.raises(PipelineError):
        append_corrections([_row("x", "theme", "kommun")], log_path.parent / "fresh.csv")
    assert not (log_path.parent / "fresh.csv").exists()


def test_append_completes_missing_final_newline(log_path):
    log_path.parent.mkdir(parents=True)
    head = (",".join(CORRECTIONS_COLUMNS) + "\ns18-p001,theme,,narkotika,AB,2024-05-02T10:00:00Z,handskrivet").encode()
    log_path.write_bytes(head)
    append_corrections([_row("s18-p002", "level", "stat")], log_path)
    assert log_path.read_bytes().startswith(head)
    assert load_corrections(log_path)["proposal_id"].tolist() == ["s18-p001", "s18-p002"]


# ---------------------------------------------------------------- (d) orphans


def test_orphans_reported_once(proposals, log_path, caplog):
    append_corrections([
        _row("s18-p001", "level", "stat"),
        _row("old-p7", "theme", "narkotika"),
        _row("old-p7", "level", "kommun"),
        _row("old-p8", "theme", "extremism"),
    ], log_path)
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        out, orphans = apply_corrections(proposals, log_path)
    assert orphans["proposal_id"].tolist() == ["old-p7", "old-p7", "old-p8"]
    assert list(orphans.columns) == CORRECTIONS_COLUMNS
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "3 correction(s)" in warnings[0].getMessage()
    assert out.set_index("proposal_id").loc["s18-p001", "level"] == "stat"
    assert "old-p7" not in set(out["proposal_id"])


# ---------------------------------------------------------------- (e) save_review


def test_review_table_order_and_columns(proposals):
    table = review_table(proposals)
    assert table["proposal_id"].tolist()[0] == "fri-p001"  # min confidence 0.21
    assert table["min_confidence"].is_monotonic_increasing
    assert (table["theme"] == table["current_theme"]).all() and (table["note"] == "").all()
    ctx = table.set_index("proposal_id").loc["s18-p003-s1", "context"]
    assert "Trygghet > Unga" in ctx and "Socialdemokraterna i Malmö vill:" in ctx and "Fler fältgrupper" in ctx


def test_save_review_appends_only_changed_fields(proposals, log_path):
    append_corrections([_row("s18-p001", "theme", "brottsoffer_vittnen", note="redan rätt")], log_path)
    old_bytes = log_path.read_bytes()

    labelled, _ = apply_corrections(proposals, log_path)
    table = review_table(labelled)
    assert save_review(table, reviewer="AB", path=log_path) == 0  # untouched table writes nothing
    assert log_path.read_bytes() == old_bytes

    t = table.set_index("proposal_id")
    i_a, i_b, i_c = (table.index[table["proposal_id"] == p][0] for p in ("all-p001", "all-p002", "s18-p002"))
    table.at[i_a, "level"] = "stat"
    table.at[i_a, "note"] = "lagändring\när stat"
    table.at[i_b, "theme"] = "personalens_sakerhet"
    table.at[i_b, "level"] = "region"  # unchanged value: not a correction
    table.at[i_c, "note"] = "bara en kommentar"  # a note alone is not a correction
    assert t.loc["all-p002", "current_level"] == "region"

    assert save_review(table, reviewer="Anna B", path=log_path) == 2
    new_bytes = log_path.read_bytes()
    assert new_bytes.startswith(old_bytes)
    appended = list(csv.reader(new_bytes[len(old_bytes):].decode("utf-8").splitlines()))
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in appended] == [
        ("all-p001", "level", "kommun", "stat", "Anna B"),
        ("all-p002", "theme", "offentlig_miljo", "personalens_sakerhet", "Anna B"),
    ]
    assert appended[0][6] == "lagändring är stat"
    assert appended[0][5] == appended[1][5] and appended[0][5].endswith("Z")

    # Saving the same table again appends nothing (saved values became current).
    assert save_review(table, reviewer="Anna B", path=log_path) == 0
    assert log_path.read_bytes() == new_bytes


def test_save_review_validates_before_writing(proposals, log_path):
    table = review_table(proposals)
    table.loc[0, "theme"] = "not_a_theme"
    table.loc[1, "level"] = "stat"
    with pytest.raises(PipelineError, match="not_a_theme"):
        save_review(table, reviewer="AB", path=log_path)
    assert not log_path.exists()
    with pytest.raises(PipelineError, match="reviewer"):
        save_review(review_table(proposals), reviewer=" ", path=log_path)
