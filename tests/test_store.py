"""The extraction store (pipeline/store.py): reuse, partial re-runs, Parquet, Dask.

Stage runs are counted by ``Store.executed`` (the stages the workers report having
run). The small corpora are texts written here; the Dask test compares two full
extractions of raw/ (conftest: once locally through the session store, once from
scratch on a Dask LocalCluster of two worker processes).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.records import Block, Document, Proposal, Sentence, to_frame
from pipeline.storage import read_csv, write_parquet
from pipeline.store import (PACKAGE_DIR, STAGES, DocDone, DocTask, Store, _local_results, arrow_schema, assemble,
                            cached_proposals, run_documents, stage_versions, to_arrow, to_pandas)

from .conftest import stanza_model_available

needs_stanza = pytest.mark.skipif(not stanza_model_available(), reason="Stanza Swedish model not available")

DOCS = {
    "parkplan.txt": (
        "Parkplan för stadsdelen\n\n"
        "Stadsdelen har tre parker och en lekplats. Parkerna används mycket på sommaren.\n\n"
        "Förvaltningen vill:\n"
        "- Anlägga en ny lekplats vid skolan.\n"
        "- Plantera fler träd längs huvudgatan. Träden ska ge skugga åt gående.\n"
        "- Förbättra belysningen i parkerna.\n\n"
        "Arbetet följs upp varje år.\n"
    ),
    "cykelprogram.txt": (
        "Cykelprogram\n\n"
        "Cykeltrafiken har ökat med en tredjedel sedan förra programmet.\n\n"
        "Vi vill:\n"
        "- Bygga sammanhängande cykelbanor mellan stadsdelarna.\n"
        "- Inrätta fler cykelparkeringar vid stationerna.\n\n"
        "Därför vill vi att kommunen tar fram en plan för vinterväghållning.\n"
    ),
    "biblioteket.txt": (
        "Biblioteket i centrum\n\n"
        "Biblioteket har öppet sex dagar i veckan och lånar ut böcker, filmer och spel.\n\n"
        "Styrelsen föreslår:\n"
        "- Utöka öppettiderna på helger.\n"
        "- Erbjuda läxhjälp för skolbarn.\n"
    ),
    "trasig.pdf": "",  # empty file: an error row
}
META = "cykelprogram.txt:\n  title: Cykelprogram 2024\n  actor: Trafiknämnden\n  year: 2024\n  kind: programme\n"


def _corpus(root: Path) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "documents.yaml").write_text(META, encoding="utf-8")
    return sorted(root / n for n in DOCS)


def _run(paths, store):
    done = run_documents(paths, store, jobs=1)
    return assemble(done, store)


def _same(a: dict, b: dict) -> None:
    for name in ("documents", "blocks", "sentences", "proposals"):
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A small corpus extracted once into an empty store."""
    root = tmp_path_factory.mktemp("store-first")
    paths = _corpus(root / "docs")
    if not stanza_model_available():
        pytest.skip("Stanza Swedish model not available")
    store = Store(root / "cache")
    tables = _run(paths, store)
    return root, paths, store, tables


@needs_stanza
def test_first_run_runs_every_stage_once_per_document(first_run):
    _, paths, store, tables = first_run
    ok = 3  # the empty PDF fails at ingest; its later stages still run (and store empty tables)
    assert dict(store.executed) == {s: len(paths) for s in STAGES}
    docs = tables["documents"]
    assert list(docs["source_file"]) == [p.name for p in paths]
    assert (docs["status"] == "ok").sum() == ok
    bad = docs[docs["source_file"] == "trasig.pdf"].iloc[0]
    assert bad["status"] == "error" and bad["error"] and bad["n_blocks"] == 0
    assert set(tables["proposals"]["doc_id"]) == {"parkplan", "cykelprogram", "biblioteket"}


@needs_stanza
def test_unchanged_rerun_reuses_everything(first_run):
    root, paths, _, tables = first_run
    store = Store(root / "cache")
    again = _run(paths, store)
    assert dict(store.executed) == {}
    _same(tables, again)


@needs_stanza
def test_unchanged_rerun_writes_nothing_and_a_changed_output_or_input_is_rewritten(first_run, tmp_path, caplog):
    """extract-manifest.json: an unchanged rerun leaves every output file as it is; an
    edited output file, or a changed document, makes the run write the tables again."""
    from pipeline.manifest import MANIFEST_FILE
    from pipeline.run import run_extract

    root, paths, _, _ = first_run
    docs, out = tmp_path / "docs", tmp_path / "out"
    shutil.copytree(paths[0].parent, docs)
    assert run_extract(docs, out, jobs=1, classify=False, cache=root / "cache") == 0
    files = sorted(p for p in out.iterdir() if p.name != MANIFEST_FILE)
    assert [p.name for p in files] == sorted(f"{t}.{e}" for t in ("blocks", "documents", "proposals", "sentences")
                                             for e in ("csv", "parquet"))
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with caplog.at_level("INFO", logger="pipeline.run"):
        assert run_extract(docs, out, jobs=1, classify=False, cache=root / "cache") == 0
    assert "up to date" in caplog.text and "kept" in caplog.text
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps

    original = (out / "proposals.csv").read_bytes()
    (out / "proposals.csv").write_bytes(original + b"edited by hand\n")
    caplog.clear()
    with caplog.at_level("INFO", logger="pipeline.run"):
        run_extract(docs, out, jobs=1, classify=False, cache=root / "cache")
    assert "up to date" not in caplog.text
    assert (out / "proposals.csv").read_bytes() == original

    (docs / "biblioteket.txt").write_text(DOCS["biblioteket.txt"] + "- Öppna en filial i hamnen.\n", encoding="utf-8")
    run_extract(docs, out, jobs=1, classify=False, cache=root / "cache")
    assert "filial i hamnen" in (out / "proposals.csv").read_text(encoding="utf-8")


def test_output_fingerprint_reads_the_labels_and_models_when_labelling(tmp_path):
    """A saved correction (or a new model) changes what a labelling run would write."""
    from pipeline.manifest import fingerprint

    store = Store(tmp_path / "cache", versions={s: "v" for s in STAGES})
    labels, models = tmp_path / "labels", tmp_path / "models"
    labels.mkdir()
    (labels / "corrections.csv").write_text("proposal_id,field,old,new\n", encoding="utf-8")
    done = [DocDone(DocTask("a.txt", "0" * 64, {}, {s: "k" for s in STAGES}))]
    before = fingerprint(done, store, True, models, labels)
    assert fingerprint(done, store, True, models, labels) == before
    (labels / "corrections.csv").write_text("proposal_id,field,old,new\nx-p001,theme,ovrigt,narkotika\n",
                                            encoding="utf-8")
    after = fingerprint(done, store, True, models, labels)
    assert after != before
    # without labelling, the labels do not matter
    assert fingerprint(done, store, False, models, labels) == fingerprint(done, store, False, models, tmp_path)


@needs_stanza
def test_one_changed_and_one_new_document_cost_one_each(first_run, tmp_path):
    root, paths, _, tables = first_run
    docs = tmp_path / "docs"
    shutil.copytree(paths[0].parent, docs)
    changed = docs / "biblioteket.txt"
    changed.write_text(DOCS["biblioteket.txt"] + "\n- Köpa in fler ljudböcker.\n", encoding="utf-8")
    new_paths = sorted(docs / n for n in DOCS)
    store = Store(root / "cache")
    after = _run(new_paths, store)
    assert dict(store.executed) == {s: 1 for s in STAGES}
    others = after["blocks"]["doc_id"] != "biblioteket"
    pd.testing.assert_frame_equal(after["blocks"][others].reset_index(drop=True),
                                  tables["blocks"][tables["blocks"]["doc_id"] != "biblioteket"].reset_index(drop=True))
    assert "Köpa in fler ljudböcker." in set(after["proposals"]["text"])

    (docs / "skolgarden.txt").write_text("Skolgården\n\nVi vill:\n- Plantera ett äppelträd.\n- Måla om planket.\n",
                                         encoding="utf-8")
    store = Store(root / "cache")
    more = _run(sorted([*new_paths, docs / "skolgarden.txt"]), store)
    assert dict(store.executed) == {s: 1 for s in STAGES}
    assert "skolgarden" in set(more["documents"]["doc_id"])


@needs_stanza
def test_changed_metadata_reruns_only_that_document(first_run, tmp_path):
    root, paths, _, tables = first_run
    docs = tmp_path / "docs"
    shutil.copytree(paths[0].parent, docs)
    (docs / "documents.yaml").write_text(META.replace("Trafiknämnden", "Gatunämnden"), encoding="utf-8")
    store = Store(root / "cache")
    after = _run(sorted(docs / n for n in DOCS), store)
    assert dict(store.executed) == {s: 1 for s in STAGES}
    props = after["proposals"]
    assert set(props.loc[(props["doc_id"] == "cykelprogram") & (props["unit"] == "bullet"), "actor"]) == {"Gatunämnden"}


@needs_stanza
def test_changed_stage_version_reruns_that_stage_and_later_only(first_run, tmp_path):
    """A copy of the package with segment.py edited: ingest's version is unchanged, so
    only segment and proposals run again (and, the edit being a comment, agree)."""
    root, paths, _, tables = first_run
    pkg = tmp_path / "pipeline"
    shutil.copytree(PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    with open(pkg / "segment.py", "a", encoding="utf-8") as fh:
        fh.write("\n# a changed segmenter\n")
    old, new = stage_versions(), stage_versions(pkg)
    assert old["ingest"] == new["ingest"]
    assert old["segment"] != new["segment"] and old["proposals"] == new["proposals"]
    store = Store(root / "cache", versions=new)
    again = _run(paths, store)
    assert dict(store.executed) == {"segment": len(paths), "proposals": len(paths)}
    _same(tables, again)


def test_parquet_round_trip_keeps_dtypes(tmp_path):
    records = {
        "documents": [Document("a", "a.pdf", "pdf", title="A", n_pages=3, sha256="0" * 64, n_blocks=2, year=2022),
                      Document("b", "b.html", "html", n_pages=None, status="error", error="tom fil")],
        "blocks": [Block("a", 0, 1, "heading", "", "Rubrik", 10.5, 20.25, 300.0, 40.125),
                   Block("a", 1, None, "paragraph", "Rubrik", "Text, med \"citat\".\nRad två", None, None, None, None)],
        "sentences": [Sentence("a", 1, 0, "Text, med \"citat\".", 0, 18)],
        "proposals": [Proposal("p1", "a", "bullet", "", "Nämnden", "Nämnden vill:", "kommun", "Rubrik", None,
                               "Göra något.", "", "0 1", block_id=1, demand="")],
    }
    store = Store(tmp_path / "cache", versions={s: "v" for s in STAGES})
    for name, recs in records.items():
        path = store.path("test", "k" * 8, name)
        write_parquet(to_arrow(recs, name), path)
        back = pq.read_table(path)
        assert back.schema.equals(arrow_schema(name)), name
        frame = to_pandas(back)
        expected = to_frame(recs, type(recs[0]))
        for col in expected.columns:  # an all-None column is `object` in to_frame; typed here
            if expected[col].dtype == object and expected[col].isna().all():
                expected[col] = expected[col].astype(frame[col].dtype)
        pd.testing.assert_frame_equal(frame, expected, obj=name)


@needs_stanza
def test_cached_proposals_carry_document_columns(first_run):
    root, paths, _, tables = first_run
    store = Store(root / "cache")
    props = cached_proposals(paths, jobs=1, store=store)
    assert dict(store.executed) == {}
    docs = tables["documents"].set_index("doc_id")
    assert len(props) == len(tables["proposals"])
    for col in ("doc_sha256", "title", "actor_level", "kind", "year"):
        assert col in props.columns, col
    assert (props["doc_sha256"] == props["doc_id"].map(docs["sha256"])).all()
    assert (props["title"] == props["doc_id"].map(docs["title"])).all()
    assert "actor" in props.columns and "doc_actor" not in props.columns


@needs_stanza
def test_dask_local_cluster_gives_the_same_bytes_as_local(raw_extracted, raw_extracted_dask):
    for name in ("documents", "blocks", "sentences", "proposals"):
        a = (raw_extracted / f"{name}.csv").read_bytes()
        assert a == (raw_extracted_dask / f"{name}.csv").read_bytes(), name
        table = pq.read_table(raw_extracted / f"{name}.parquet")
        # the record's columns with their types (proposals also carry the document's columns)
        assert all(table.schema.field(f.name).type == f.type for f in arrow_schema(name)), name
        assert table.num_rows == len(read_csv(raw_extracted / f"{name}.csv")), name


def _dies_on_kill(task: DocTask) -> DocDone:
    """A stand-in for process_document whose worker process dies on one document
    (module level: the spawned workers import it)."""
    if "kill" in Path(task.path).name:
        os._exit(3)
    return DocDone(task, ran=("ingest",))


def test_a_worker_that_dies_makes_one_error_row_and_the_run_goes_on(tmp_path):
    names = ["a.txt", "b.txt", "kill.txt", "c.txt", "d.txt"]
    tasks = [DocTask(str(tmp_path / n), "sha-" + n, {}, {}) for n in names]
    done = {Path(d.task.path).name: d for d in _local_results(tasks, _dies_on_kill, 2)}
    assert sorted(done) == sorted(names)
    assert "worker process died" in done["kill.txt"].failed
    assert all(done[n].ran == ("ingest",) and not done[n].failed for n in names if n != "kill.txt")
