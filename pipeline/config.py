"""Paths and environment: one place that says where things live."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = REPO_ROOT / "raw"
PROCESSED_DIR = REPO_ROOT / "processed"
LABELS_DIR = REPO_ROOT / "labels"
MODELS_DIR = REPO_ROOT / "models"
REPORTS_DIR = REPO_ROOT / "reports"
# Shared material lives beside the repo; it is read, never copied in.
SHARED_DIR = Path(os.environ.get("PIPELINE_SHARED_DIR", REPO_ROOT.parent / "shared"))
REAL_CORPUS_DIR = SHARED_DIR / "corpus" / "real"
UD_DIR = SHARED_DIR / "ud"

# Files in raw/ that describe the corpus rather than belong to it.
RAW_METADATA_FILES = {"documents.yaml"}


def stanza_resources_dir() -> Path:
    """Stanza's own convention: $STANZA_RESOURCES_DIR, else the shared bundle,
    else Stanza's default download location (~/stanza_resources)."""
    env = os.environ.get("STANZA_RESOURCES_DIR")
    if env:
        return Path(env)
    shared = SHARED_DIR / "models" / "stanza_resources"
    if (shared / "resources.json").exists():
        return shared
    return Path.home() / "stanza_resources"
