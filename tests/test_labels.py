"""Stand-off labels: the text_simhash anchor, following a repaired proposal, orphans."""

from __future__ import annotations

import argparse
import re

import pandas as pd
import pytest

from pipeline import config
from pipeline.classify import train as train_mod
from pipeline.classify.labels import (MAX_DISTANCE, hamming, normalise_text, place_labels, read_labels,
                                      text_simhash)
from pipeline.errors import PipelineError
from pipeline.storage import read_csv, sha256_file, write_csv

SHA = "a" * 64
# One document's proposals (our own sentences).
TEXTS = [
    "Inför fler trygghetskameror på torget och vid stationen.",
    "Anställ fler fältassistenter som möter unga på kvällarna.",
    "Skärp straffen för den som rekryterar barn till kriminalitet.",
    "Ge kvinnojourerna långsiktig finansiering från kommunen.",
    "Öppna fler fritidsgårdar med längre öppettider på helgerna.",
]


def proposals(texts=TEXTS, sha=SHA) -> pd.DataFrame:
    return pd.DataFrame({"proposal_id": [f"p{i}" for i in range(len(texts))], "doc_sha256": sha, "text": texts})


def label(pid, text, sha=SHA, theme="offentlig_miljo", level="kommun") -> dict:
    return {"proposal_id": pid, "doc_sha256": sha, "theme": theme, "level": level,
            "text_simhash": text_simhash(text) if text else ""}


# ------------------------------------------------------------------------ simhash


def test_simhash_is_64_bit_hex_and_ignores_case_spacing_and_edge_punctuation():
    h = text_simhash(TEXTS[0])
    assert re.fullmatch(r"[0-9a-f]{16}", h)
    assert text_simhash("  " + TEXTS[0].upper().replace(" ", "\n ") + " ") == h
    assert text_simhash(TEXTS[0].rstrip(".")) == h
    assert normalise_text("• Fler poliser!\n") == "fler poliser"
    assert text_simhash("") == text_simhash("") and re.fullmatch(r"[0-9a-f]{16}", text_simhash("ab"))


def test_simhash_small_edit_is_near_unrelated_text_is_far():
    repaired = TEXTS[0].replace("trygghetskameror", "trygghetskamror")  # a repair fixed one word
    near = hamming(text_simhash(TEXTS[0]), text_simhash(repaired))
    far = min(hamming(text_simhash(TEXTS[0]), text_simhash(t)) for t in TEXTS[1:])
    assert near <= MAX_DISTANCE < far


# ------------------------------------------------------------------------ placing


def test_label_follows_its_repaired_proposal():
    old = "Inför fler trygghetskamror på torget och vid stationen."  # the text before a repair
    labels = pd.DataFrame([label("p-old", old), label("p1", TEXTS[1], theme="social_prevention")])
    placed, orphans = place_labels(labels, proposals())
    assert orphans.empty
    moved = placed.set_index("moved_from").loc["p-old"]
    assert moved["proposal_id"] == "p0" and moved["theme"] == "offentlig_miljo"
    assert placed.set_index("proposal_id").loc["p1", "moved_from"] == ""


def test_labels_that_cannot_be_placed_are_orphans():
    twin = TEXTS[2]
    props = proposals(TEXTS + [twin])  # the same text twice: a label cannot choose
    labels = pd.DataFrame([
        label("gone-1", "Bygg fler cykelbanor längs landsvägarna i hela länet."),  # nothing like it
        label("gone-2", twin.replace("kriminalitet", "kriminaliteten")),  # two equally near
        label("gone-3", ""),  # no anchor
        label("gone-4", TEXTS[1].replace("kvällarna", "kvällar")),  # its proposal is labelled already
        label("p1", TEXTS[1]),
        label("gone-5", TEXTS[0], sha="b" * 64),  # its document yields no proposals
    ])
    placed, orphans = place_labels(labels, props)
    assert list(placed["proposal_id"]) == ["p1"]
    reasons = dict(zip(orphans["proposal_id"], orphans["reason"]))
    assert set(reasons) == {"gone-1", "gone-2", "gone-3", "gone-4", "gone-5"}
    assert "bits away" in reasons["gone-1"] and reasons["gone-2"].startswith("ambiguous")
    assert "no text_simhash" in reasons["gone-3"] and "label of its own" in reasons["gone-4"]
    assert "no proposals" in reasons["gone-5"]


def test_read_labels_checks_the_anchor(tmp_path):
    cols = ["proposal_id", "doc_sha256", "theme", "level", "annotator", "note", "text_simhash"]
    write_csv(pd.DataFrame([["p1", SHA, "narkotika", "kommun", "AB", "", "xyz"]], columns=cols), tmp_path / "labels.csv")
    with pytest.raises(PipelineError, match=r"row 2: text_simhash must be 16 hex digits"):
        read_labels(tmp_path)
    write_csv(pd.DataFrame([["p1", SHA, "narkotika", "kommun", "AB", ""]], columns=cols[:-1]), tmp_path / "labels.csv")
    assert read_labels(tmp_path).loc[0, "text_simhash"] == ""  # an old file without the column still reads


# --------------------------------------------------------- make train and orphans


def _project(tmp_path, texts_now):
    """A raw/ folder with one document, labels written for TEXTS, and an extractor that
    now yields ``texts_now`` (as after a repair) for it."""
    raw = tmp_path / "raw"
    raw.mkdir(parents=True)
    doc = raw / "plan.txt"
    doc.write_text("ett dokument\n", encoding="utf-8")
    sha = sha256_file(doc)
    themes = ["offentlig_miljo", "social_prevention", "rattsvasende", "vald_nara_relation", "social_prevention"]
    levels = ["kommun", "kommun", "stat", "kommun", "kommun"]
    labels_dir = tmp_path / "labels"
    labels_dir.mkdir()
    rows = [{**label(f"old{i}", t, sha=sha, theme=th, level=lv), "annotator": "AB", "note": ""}
            for i, (t, th, lv) in enumerate(zip(TEXTS, themes, levels))]
    write_csv(pd.DataFrame(rows)[["proposal_id", "doc_sha256", "theme", "level", "annotator", "note",
                                  "text_simhash"]], labels_dir / "labels.csv")
    # Labels 1-4 keep their ids; label 0's text is repaired (its id changes).
    now = proposals(texts_now, sha=sha).assign(doc_id="plan")
    now.loc[1:, "proposal_id"] = [f"old{i}" for i in range(1, len(texts_now))]
    return raw, labels_dir, (lambda paths: now)


def _args(tmp_path, labels_dir, allow=False):
    return argparse.Namespace(processed=tmp_path / "processed", labels=labels_dir, models=tmp_path / "models",
                              allow_orphans=allow)


def test_train_follows_repaired_label_and_fails_on_orphans(tmp_path, monkeypatch):
    repaired = [TEXTS[0].replace("torget", "torgen")] + TEXTS[1:]
    raw, labels_dir, extract = _project(tmp_path, repaired)
    monkeypatch.setattr(config, "RAW_DIR", raw)
    monkeypatch.setattr(config, "REAL_CORPUS_DIR", tmp_path / "none")
    monkeypatch.setattr(config, "SHARED_DIR", tmp_path / "none")
    monkeypatch.setattr(train_mod, "_default_extractor", lambda: extract)
    frame = train_mod.labelled_proposals(train_mod.training_labels(labels_dir))
    row = frame.set_index("moved_from").loc["old0"]
    assert row["proposal_id"] == "p0" and row["theme"] == "offentlig_miljo" and len(frame) == 5

    # A proposal rewritten beyond recognition: its label cannot be placed.
    rewritten = ["Bygg fler cykelbanor längs landsvägarna i hela länet."] + TEXTS[1:]
    raw2, labels_dir2, extract2 = _project(tmp_path / "b", rewritten)
    monkeypatch.setattr(config, "RAW_DIR", raw2)
    monkeypatch.setattr(train_mod, "_default_extractor", lambda: extract2)
    with pytest.raises(PipelineError) as err:
        train_mod.train_command(_args(tmp_path, labels_dir2))
    assert "old0" in str(err.value) and "--allow-orphans" in str(err.value)
    assert not (tmp_path / "models" / "metadata.json").exists()
    assert train_mod.train_command(_args(tmp_path, labels_dir2, allow=True)) == 0
    assert (tmp_path / "models" / "metadata.json").exists()


def test_repo_labels_have_anchors():
    path = config.LABELS_DIR / "labels.csv"
    if not path.is_file():
        pytest.skip("no labels/labels.csv")
    df = read_csv(path)
    assert "text_simhash" in df.columns
    filled = df["text_simhash"] != ""
    assert df.loc[filled, "text_simhash"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert filled.mean() > 0.95
