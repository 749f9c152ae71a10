"""Atomic, deterministic file writes and content hashes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterator

if TYPE_CHECKING:
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


@contextlib.contextmanager
def atomic_writer(path: Path, durable: bool = True) -> Iterator[IO[bytes]]:
    """A binary file handle on a temp file in the target's folder; on a clean exit it is
    synced (unless not ``durable``: a hint that may be lost in a crash) and renamed over
    ``path``, on an error removed (the target is never partial)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, then rename over the target."""
    with atomic_writer(path) as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def csv_text(df: pd.DataFrame, header: bool = True) -> str:
    """The deterministic CSV form of a frame: '\\n' line ends, no index, fixed float format.
    Rows written in parts (``header=False`` after the first) give the same bytes."""
    return df.to_csv(index=False, header=header, lineterminator="\n", float_format="%.4f")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Deterministic CSV: UTF-8, '\\n' line ends, no index, fixed float format."""
    atomic_write_text(path, csv_text(df))


def write_parquet(table, path: Path) -> None:
    """A pyarrow Table as a Parquet file, atomically."""
    import pyarrow.parquet as pq

    with atomic_writer(path) as fh:
        pq.write_table(table, fh)


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv`, keeping empty strings as ''."""
    import pandas as pd

    return pd.read_csv(path, dtype=str, keep_default_na=False)
