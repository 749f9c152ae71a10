"""Is the output folder already what this run would write? (``extract-manifest.json``)

After writing the tables, :func:`pipeline.run.run_extract` records in
``<out>/extract-manifest.json`` a fingerprint of everything the tables are a function
of, and the sha256 of each file it wrote:

* the input files, in order, with their stage keys (content, metadata, stage code,
  libraries, the Stanza model: :func:`pipeline.store.stage_keys`);
* whether proposals were labelled, and then every file in the models and labels
  folders (the model, hand labels, reviewers' corrections);
* the package's own source (assembly, labelling and output code, the codebook) and the
  versions of Python and the libraries that write the tables.

A rerun whose fingerprint matches and whose output files are unchanged writes nothing:
an unchanged rerun then costs the start-up, the planning and this check. Any
difference, an output file edited or deleted, or an unreadable manifest, and the tables
are written again. The manifest also keeps the run's counts and failed documents, so the
summary is the same either way.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from pipeline.storage import atomic_write_text, sha256_file
from pipeline.store import PACKAGE_DIR, _library_version

MANIFEST_FILE = "extract-manifest.json"
OUTPUT_LIBRARIES = ("pandas", "pyarrow", "numpy", "scikit-learn")


def _package_source() -> list[str]:
    files = sorted(p for ext in ("*.py", "*.yaml") for p in PACKAGE_DIR.rglob(ext))
    return [f"{p.relative_to(PACKAGE_DIR).as_posix()}:{sha256_file(p)}" for p in files]


def _folder_files(folder: Path, store) -> list[str]:
    if not folder.is_dir():
        return [f"{folder}: absent"]
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [f"{p.relative_to(folder).as_posix()}:{store.file_sha256(p)}" for p in files]


def fingerprint(done: list, store, classify: bool, models_dir: Path, labels_dir: Path) -> str:
    """A hash of everything the extracted tables depend on (see the module docstring).
    ``done``: :func:`pipeline.store.run_documents`'s records, in input order."""
    parts = {
        "inputs": [[Path(d.task.path).name, d.task.keys, d.failed] for d in done],
        "classify": classify,
        "models": _folder_files(Path(models_dir), store) if classify else [],
        "labels": _folder_files(Path(labels_dir), store) if classify else [],
        "source": _package_source(),
        "python": sys.version,
        "libraries": {lib: _library_version(lib) for lib in OUTPUT_LIBRARIES},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def up_to_date(out_dir: Path, fp: str) -> dict | None:
    """The recorded summary when ``out_dir`` holds this fingerprint's tables unchanged,
    else None."""
    try:
        manifest = json.loads((Path(out_dir) / MANIFEST_FILE).read_text(encoding="utf-8"))
        if manifest["fingerprint"] != fp:
            return None
        for name, sha in manifest["files"].items():
            if sha256_file(Path(out_dir) / name) != sha:
                return None
        return manifest["summary"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_manifest(out_dir: Path, fp: str, files: list[str], summary: dict) -> None:
    """Record the fingerprint, each written file's sha256 and the run's summary."""
    out_dir = Path(out_dir)
    manifest = {"fingerprint": fp, "files": {f: sha256_file(out_dir / f) for f in sorted(files)},
                "summary": summary}
    atomic_write_text(out_dir / MANIFEST_FILE, json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
