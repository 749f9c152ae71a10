"""Atomic, deterministic file writes and content hashes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pandas as pd


def read_source(path: Path) -> bytes:
    """The bytes of an input document; an unreadable file is an IngestError."""
    from pipeline.errors import IngestError

    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, then rename over the target."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Deterministic CSV: UTF-8, '\\n' line ends, no index, fixed float format."""
    atomic_write_text(path, df.to_csv(index=False, lineterminator="\n", float_format="%.4f"))


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv`, keeping empty strings as ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)
