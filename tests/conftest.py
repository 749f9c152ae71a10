"""Shared fixtures: the extraction store for the session, each corpus extracted once
through it, and a working copy of the project, extracted and trained with `make`.

Every extraction in the session (in-process, in `make` subprocesses, in training) uses
one store (``$PIPELINE_CACHE_DIR``, a session folder unless already set), so each corpus
is extracted once: later readers get it from the store."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import config

VENV = Path(sys.prefix)  # the virtual environment running the tests


def stanza_model_available() -> bool:
    return (config.stanza_resources_dir() / "resources.json").exists()


def _needs_stanza() -> None:
    if not stanza_model_available():
        pytest.skip("Stanza Swedish model not available (set STANZA_RESOURCES_DIR)")


@pytest.fixture(scope="session", autouse=True)
def pipeline_cache(tmp_path_factory) -> Path:
    """The session's extraction store, exported as $PIPELINE_CACHE_DIR so subprocesses
    (`make`, the CLI) share it. An already set $PIPELINE_CACHE_DIR is kept."""
    if not os.environ.get("PIPELINE_CACHE_DIR"):
        os.environ["PIPELINE_CACHE_DIR"] = str(tmp_path_factory.mktemp("pipeline-cache"))
    return Path(os.environ["PIPELINE_CACHE_DIR"])


@pytest.fixture(scope="session")
def raw_extracted(tmp_path_factory) -> Path:
    """A folder with `extract --no-classify` of raw/ (CSV + Parquet), through the store."""
    _needs_stanza()
    from pipeline.run import run_extract

    out = tmp_path_factory.mktemp("extract-raw")
    assert run_extract(config.RAW_DIR, out, jobs=2, classify=False) == 0
    return out


@pytest.fixture(scope="session")
def raw_extracted_dask(tmp_path_factory) -> Path:
    """raw/ extracted again from scratch: the CLI in a new process, on a Dask
    LocalCluster of two worker processes, another hash seed, an empty store."""
    _needs_stanza()
    out = tmp_path_factory.mktemp("extract-raw-dask")
    env = dict(project_env(), PYTHONHASHSEED="4242")
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "extract", "--raw", str(config.RAW_DIR), "--out", str(out),
         "--jobs", "2", "--executor", "dask", "--cache", str(tmp_path_factory.mktemp("cache-dask")),
         "--no-classify"],
        cwd=config.REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def real_tables() -> dict:
    """The tables of the seven real PDFs (../shared/corpus/real), from the store."""
    _needs_stanza()
    if not config.REAL_CORPUS_DIR.is_dir():
        pytest.skip(f"real corpus not found at {config.REAL_CORPUS_DIR}")
    from pipeline.store import cached_tables

    return cached_tables(sorted(config.REAL_CORPUS_DIR.glob("*.pdf")), jobs=2)


def snapshot(folder: Path) -> dict[str, str]:
    """File name -> sha256 of every file in a folder."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def project_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PIPELINE_SHARED_DIR"] = str(config.SHARED_DIR)
    env.setdefault("STANZA_RESOURCES_DIR", str(config.stanza_resources_dir()))
    return env


def _keep_labels_of(labels_csv: Path, raw_dir: Path) -> None:
    """Rewrite a copied labels.csv with only the rows whose document is in ``raw_dir``."""
    from pipeline.storage import read_csv, sha256_file, write_csv

    shas = {sha256_file(p) for p in raw_dir.iterdir() if p.is_file()}
    labels = read_csv(labels_csv)
    write_csv(labels[labels["doc_sha256"].isin(shas)], labels_csv)


@pytest.fixture(scope="session")
def made_project(tmp_path_factory, pipeline_cache):
    """A copy of the project (code, raw/, labels/, Makefile) in which `make clean` and
    `make extract` (which trains first, since no model exists) have run. The copy's
    labels.csv keeps the labels of raw/'s documents only, so training takes seconds, not
    the minutes the whole labelled corpus needs. The copy's code
    is the same, so its extraction reads and fills the session store.

    Returns (root, labels snapshot before, labels snapshot after)."""
    if not stanza_model_available():
        pytest.skip("Stanza Swedish model not available (set STANZA_RESOURCES_DIR)")
    root = tmp_path_factory.mktemp("project")
    src = config.REPO_ROOT
    for name in ("pipeline", "raw", "labels"):
        shutil.copytree(src / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.lock"))
    shutil.copy2(src / "Makefile", root / "Makefile")
    _keep_labels_of(root / "labels" / "labels.csv", root / "raw")
    before = snapshot(root / "labels")
    for target in ("clean", "extract"):
        proc = subprocess.run(["make", target, f"VENV={VENV}", "JOBS=2"], cwd=root, env=project_env(),
                              capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, f"make {target} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return root, before, snapshot(root / "labels")
