"""Shared fixtures: a working copy of the project, extracted and trained with `make`."""

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


def snapshot(folder: Path) -> dict[str, str]:
    """File name -> sha256 of every file in a folder."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def project_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PIPELINE_SHARED_DIR"] = str(config.SHARED_DIR)
    env.setdefault("STANZA_RESOURCES_DIR", str(config.stanza_resources_dir()))
    return env


@pytest.fixture(scope="session")
def made_project(tmp_path_factory):
    """A copy of the project (code, raw/, labels/, Makefile) in which `make clean` and
    `make extract` (which trains first, since no model exists) have run.

    Returns (root, labels snapshot before, labels snapshot after)."""
    if not stanza_model_available():
        pytest.skip("Stanza Swedish model not available (set STANZA_RESOURCES_DIR)")
    root = tmp_path_factory.mktemp("project")
    src = config.REPO_ROOT
    for name in ("pipeline", "raw", "labels"):
        shutil.copytree(src / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.lock"))
    shutil.copy2(src / "Makefile", root / "Makefile")
    before = snapshot(root / "labels")
    for target in ("clean", "extract"):
        proc = subprocess.run(["make", target, f"VENV={VENV}", "JOBS=2"], cwd=root, env=project_env(),
                              capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, f"make {target} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return root, before, snapshot(root / "labels")
