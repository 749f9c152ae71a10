"""Per-document extraction with a content-addressed store of each stage's output.

Stages are declared steps over one document's tables (in the spirit of Sparv's annotators):

* ``ingest``    file -> ``documents`` (one row) + ``blocks``
* ``segment``   blocks -> ``sentences``
* ``proposals`` document, blocks, sentences -> ``proposals`` (unlabelled)

:func:`process_document` runs the whole chain for one file inside a worker (a process of
the local pool or a ``dask.distributed`` worker); Stanza and the hunspell dictionary are
loaded once per worker process. Each stage's output is a Parquet file in the store,
keyed by the document's sha256, the stage's code version (a hash of the source files the
stage depends on, plus the versions of its libraries and models) and its settings (the
file name, the document's metadata), chained so that a stage's key includes the key of
the stage before it. So an unchanged rerun reuses everything, a new document costs one
document, and a change of one stage re-runs that stage and the stages after it.

Layout: ``<cache>/<stage>/<key[:2]>/<key>.<table>.parquet``, plus ``<cache>/files/``
(each input file's sha256 by path, size, mtime and inode); every file is written
atomically and is a pure function of its key, so concurrent writers cannot corrupt it.
The cache folder is ``--cache DIR``, else ``$PIPELINE_CACHE_DIR``, else
``.cache/pipeline/`` in the repository (git-ignored; ``make clean`` removes it).

The final tables are assembled from the store (:func:`assemble`, :func:`write_tables`)
one document at a time with pyarrow, so memory stays bounded by the largest document;
proposals are labelled and written in parts of :data:`ROWS_PER_WRITE` rows (the model's
labels of each document are kept in the store too, under ``classify/``: see
:class:`pipeline.classify.predict.ModelLabels`). Library entry points for
training, evaluation and tests: :func:`cached_tables` and :func:`cached_proposals`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from collections import Counter
from dataclasses import asdict, dataclass, fields
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import config
from pipeline.errors import PipelineError
from pipeline.records import Block, Document, Proposal, Sentence
from pipeline.storage import atomic_writer, csv_text, sha256_file, write_parquet

if TYPE_CHECKING:  # imported where frames are built: an up-to-date rerun never needs pandas
    import pandas as pd

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
STAGES = ("ingest", "segment", "proposals")
STAGE_TABLES = {"ingest": ("documents", "blocks"), "segment": ("sentences",), "proposals": ("proposals",)}
TABLES = ("documents", "blocks", "sentences", "proposals")
RECORDS = {"documents": Document, "blocks": Block, "sentences": Sentence, "proposals": Proposal}
# Source files (relative to the package; a folder means its *.py files) each stage's
# output depends on. records.py is in every stage: it is the tables' schema.
STAGE_SOURCES = {
    "ingest": ("extract/", "records.py", "storage.py", "errors.py"),
    "segment": ("segment.py", "records.py"),
    "proposals": ("proposals.py", "extract/bullets.py", "classify/codebook.py", "classify/codebook.yaml",
                  "records.py"),
}
# Libraries whose version is part of a stage's version.
STAGE_LIBRARIES = {
    "ingest": ("pdfplumber", "pdfminer.six", "beautifulsoup4", "lxml", "spylls", "hunspell-sv",
               "charset-normalizer", "numpy"),
    "segment": ("stanza", "torch"),
    "proposals": ("pyyaml",),
}
ROWS_PER_WRITE = 50_000  # rows gathered before a write of the assembled tables
WORKER_RETRIES = 2  # broken pools a document may be unfinished in before it runs alone
# Document columns given to the classifier beside each proposal (see cached_proposals).
DOC_COLUMNS = ("title", "actor_level", "kind", "year")
# Columns the labeller adds that proposals.csv keeps.
LABEL_OUTPUT = ("theme", "theme_confidence", "level", "level_confidence", "needs_review",
                "theme_source", "level_source")


def default_cache_dir() -> Path:
    env = os.environ.get("PIPELINE_CACHE_DIR")
    return Path(env) if env else config.REPO_ROOT / ".cache" / "pipeline"


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# ------------------------------------------------------------------ versions and keys


def _hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def _source_files(package_dir: Path, spec: str) -> list[Path]:
    p = package_dir / spec
    if spec.endswith("/"):
        return sorted(p.glob("*.py"))
    return [p] if p.exists() else []


def _library_version(name: str) -> str:
    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return ""


def _stanza_model_id() -> str:
    """The Stanza Swedish tokenizer in use: its folder's resources.json and model files."""
    from pipeline.segment import LANG, PROCESSOR

    root = config.stanza_resources_dir()
    files = [root / "resources.json", *sorted((root / LANG / PROCESSOR).glob("*.pt"))]
    return _hash(*(f"{f.name}:{hashlib.sha256(f.read_bytes()).hexdigest()}" for f in files if f.is_file()))


@functools.lru_cache(maxsize=8)
def _stage_versions(package_dir: str) -> tuple[tuple[str, str], ...]:
    root = Path(package_dir)
    out = []
    for stage in STAGES:
        parts = []
        for spec in STAGE_SOURCES[stage]:
            for f in _source_files(root, spec):
                parts.append(f"{f.relative_to(root).as_posix()}:{hashlib.sha256(f.read_bytes()).hexdigest()}")
        parts += [f"{lib}=={_library_version(lib)}" for lib in STAGE_LIBRARIES[stage]]
        if stage == "segment":
            parts.append(f"model:{_stanza_model_id()}")
        out.append((stage, _hash(stage, *parts)[:16]))
    return tuple(out)


def stage_versions(package_dir: Path | None = None) -> dict[str, str]:
    """Each stage's code version: a hash of its source files (under ``package_dir``,
    default this package), its libraries' versions and, for segment, the Stanza model."""
    return dict(_stage_versions(str(Path(package_dir or PACKAGE_DIR).resolve())))


def stage_keys(sha256: str, file_name: str, meta: dict, versions: dict[str, str]) -> dict[str, str]:
    """The store key of each stage for one document. A stage's key includes the key of
    the stage before it, so a change upstream changes every key after it."""
    meta_json = json.dumps(meta or {}, sort_keys=True, ensure_ascii=False, default=str)
    # The metadata reaches the later stages on the document row, so only ingest reads it.
    settings = {"ingest": f"name={file_name}\x1emeta={meta_json}", "segment": "", "proposals": ""}
    keys: dict[str, str] = {}
    prev = sha256
    for stage in STAGES:
        prev = keys[stage] = _hash(stage, versions[stage], settings[stage], prev)
    return keys


# ------------------------------------------------------------------ table schemas

_ARROW_TYPES = {"str": pa.string(), "int": pa.int64(), "Optional[int]": pa.int64(),
                "float": pa.float64(), "Optional[float]": pa.float64(), "bool": pa.bool_(),
                "Optional[str]": pa.string()}


def arrow_schema(table: str) -> pa.Schema:
    """The Parquet schema of a table, from its record class (field order = column order)."""
    cls = RECORDS[table]
    out = []
    for f in fields(cls):
        t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        if t not in _ARROW_TYPES:
            raise TypeError(f"{cls.__name__}.{f.name}: no Parquet type for {t}")
        out.append(pa.field(f.name, _ARROW_TYPES[t]))
    return pa.schema(out)


def to_arrow(records: Iterable, table: str) -> pa.Table:
    return pa.Table.from_pylist([asdict(r) for r in records], schema=arrow_schema(table))


def frame_to_arrow(df: pd.DataFrame, table: str) -> pa.Table:
    """A frame of ``table`` (perhaps with more columns, e.g. the classifier's) as an
    Arrow table: the record columns with their schema types, other columns as inferred
    (large strings as strings), no pandas metadata."""
    base = arrow_schema(table)
    t = pa.Table.from_pandas(df, preserve_index=False)
    target = []
    for f in t.schema:
        if f.name in base.names:
            target.append(base.field(f.name))
        elif pa.types.is_large_string(f.type):
            target.append(pa.field(f.name, pa.string()))
        else:
            target.append(f)
    return t.cast(pa.schema(target)).replace_schema_metadata(None)


def _pandas_type(arrow_type: pa.DataType):
    # Integers stay integers with a missing value (as records.to_frame makes them).
    if pa.types.is_integer(arrow_type):
        import pandas as pd

        return pd.Int64Dtype()
    return None


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A store table as a DataFrame with the dtypes of :func:`pipeline.records.to_frame`."""
    return table.to_pandas(types_mapper=_pandas_type)


def _records(table: pa.Table, cls) -> list:
    return [cls(**row) for row in table.to_pylist()]


# ------------------------------------------------------------------ the store


class Store:
    """Stage outputs of single documents, as Parquet files under ``root``.

    ``executed`` counts the stage runs this process saw (its own and its workers'),
    e.g. ``{"ingest": 1, "segment": 1, "proposals": 1}`` after one new document."""

    def __init__(self, root: Path | str | None = None, versions: dict[str, str] | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.versions = dict(versions) if versions is not None else stage_versions()
        self.executed: Counter = Counter()

    def path(self, stage: str, key: str, table: str) -> Path:
        return self.root / stage / key[:2] / f"{key}.{table}.parquet"

    def has(self, stage: str, key: str) -> bool:
        return all(self.path(stage, key, t).is_file() for t in STAGE_TABLES[stage])

    def write(self, stage: str, key: str, tables: dict[str, pa.Table]) -> None:
        for name in STAGE_TABLES[stage]:
            write_parquet(tables[name], self.path(stage, key, name))

    def file_sha256(self, path: Path) -> str:
        """sha256 of a file's bytes, remembered by (path, size, mtime, inode) under
        ``files/`` so that an unchanged rerun over many documents does not read them
        all again (the rule make and git use to spot a changed file)."""
        path = Path(path)
        st = path.stat()
        stamp = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
        entry = self.root / "files" / f"{_hash(str(path.resolve()))}.json"
        try:
            known = json.loads(entry.read_text(encoding="utf-8"))
            if known.get("stamp") == stamp:
                return known["sha256"]
        except (OSError, ValueError, KeyError, AttributeError):
            pass
        sha = sha256_file(path)
        with atomic_writer(entry, durable=False) as fh:  # a hint: lost in a crash, it is recomputed
            fh.write(json.dumps({"stamp": stamp, "sha256": sha}).encode("utf-8"))
        return sha

    def read(self, stage: str, key: str, table: str) -> pa.Table:
        path = self.path(stage, key, table)
        try:
            return pq.read_table(path, schema=arrow_schema(table))
        except (OSError, pa.ArrowInvalid) as exc:
            raise PipelineError(f"store entry {path} is unreadable ({exc}); delete it and rerun") from None


# ------------------------------------------------------------------ one document


@dataclass
class DocTask:
    """One document to extract: its file, content hash, metadata and stage keys."""

    path: str
    sha256: str
    meta: dict
    keys: dict[str, str]


@dataclass
class DocDone:
    """What the worker reports back: which stages ran, the page count, and a failure
    of a stage after ingest (the document then becomes an error row)."""

    task: DocTask
    ran: tuple[str, ...] = ()
    n_pages: Optional[int] = None
    failed: str = ""


def _run_stage(stage: str, task: DocTask, inputs: dict[str, list]) -> dict[str, list]:
    if stage == "ingest":
        from pipeline.extract.ingest import ingest_file

        res = ingest_file(Path(task.path))
        return {"documents": [res.document], "blocks": res.blocks}
    doc = inputs["documents"][0]
    if stage == "segment":
        from pipeline.segment import segment_blocks

        blocks = inputs["blocks"]
        return {"sentences": segment_blocks(blocks) if doc.status == "ok" and blocks else []}
    from pipeline.proposals import find_proposals

    return {"proposals": find_proposals([doc], inputs["blocks"], inputs["sentences"])}


_STAGE_INPUTS = {"ingest": (), "segment": ("documents", "blocks"), "proposals": ("documents", "blocks", "sentences")}
_TABLE_STAGE = {t: s for s, ts in STAGE_TABLES.items() for t in ts}


def process_document(task: DocTask, root: str, versions: dict[str, str]) -> DocDone:
    """Run the stages whose output is not in the store for one document, store them.

    Runs in a worker. Ingest turns a bad file into an error row itself; an exception in
    a later stage is reported as ``failed`` (nothing stored for it), a PipelineError (a
    missing model, say) is raised: it would fail every document."""
    store = Store(root, versions)
    have: dict[str, list] = {}
    ran: list[str] = []
    n_pages = None

    def need(table: str) -> list:
        if table not in have:
            have[table] = _records(store.read(_TABLE_STAGE[table], task.keys[_TABLE_STAGE[table]], table),
                                   RECORDS[table])
        return have[table]

    for stage in STAGES:
        key = task.keys[stage]
        if store.has(stage, key):
            continue
        inputs = {t: need(t) for t in _STAGE_INPUTS[stage]}
        try:
            out = _run_stage(stage, task, inputs)
        except PipelineError:
            raise
        except Exception as exc:  # one document's failure must not stop the run
            reason = f"{stage} failed: {type(exc).__name__}: {exc}".splitlines()[0][:300]
            log.warning("%s: %s", Path(task.path).name, reason)
            return DocDone(task, tuple(ran), n_pages, reason)
        store.write(stage, key, {t: to_arrow(rows, t) for t, rows in out.items()})
        have.update(out)
        ran.append(stage)
        if stage == "ingest":
            n_pages = out["documents"][0].n_pages
    if ran:
        log.debug("%s: ran %s", Path(task.path).name, ", ".join(ran))
    return DocDone(task, tuple(ran), n_pages)


# ------------------------------------------------------------------ many documents


def _metadata_for(paths: list[Path]) -> dict[Path, dict]:
    """Each file's metadata kept outside it (``documents.yaml``, a sidecar): part of its
    stage keys, so editing it re-runs that document. A broken metadata file gives {} here;
    ingest reports it as the document's error."""
    from pipeline.extract.metadata import external_metadata

    out: dict[Path, dict] = {}
    for p in paths:
        try:
            out[p] = dict(external_metadata(p))
        except PipelineError:
            out[p] = {}
    return out


def plan(paths: list[Path], store: Store) -> list[DocTask]:
    """A task per file, in input order, with its stage keys."""
    meta = _metadata_for(paths)
    tasks = []
    for p in paths:
        try:
            sha = store.file_sha256(p)
        except OSError:
            sha = "unreadable:" + p.name  # ingest reports the error row
        tasks.append(DocTask(str(p), sha, meta[p], stage_keys(sha, p.name, meta[p], store.versions)))
    return tasks


def _pool(tasks: list[DocTask], fn: Callable[[DocTask], DocDone], workers: int):
    """Run ``tasks`` on a process pool, yielding each done record; returns the tasks left
    unfinished when a worker process died (the pool is then broken), else []."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from pipeline.worker import init_worker

    finished: set[str] = set()
    # spawn: a worker forked from a parent that already ran torch can hang.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=init_worker) as pool:
        futures = {pool.submit(fn, t): t for t in tasks}
        try:
            for f in as_completed(futures):
                r = f.result()
                finished.add(r.task.path)
                yield r
        except BrokenProcessPool:
            return [t for t in tasks if t.path not in finished]
    return []


def _local_results(tasks: list[DocTask], fn: Callable[[DocTask], DocDone], jobs: int) -> Iterator[DocDone]:
    """Done records of ``tasks`` on a local process pool of ``jobs`` workers.

    A worker process that dies (a crash in a C library, the kernel's out-of-memory
    killer) breaks the pool: the unfinished documents are retried on a new pool. A
    document that was unfinished in :data:`WORKER_RETRIES` broken pools is then run
    alone, and if it kills that worker too it becomes an error row; the run goes on."""
    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield fn(t)
        return
    tries: Counter = Counter()
    pending = list(tasks)
    while pending:
        suspect = next((t for t in pending if tries[t.path] >= WORKER_RETRIES), None)
        if suspect is not None:
            pending.remove(suspect)
            if (yield from _pool([suspect], fn, 1)):
                log.warning("%s: its worker process died %d times; it becomes an error row",
                            Path(suspect.path).name, tries[suspect.path] + 1)
                yield DocDone(suspect, failed="the worker process died while extracting this document")
            continue
        unfinished = yield from _pool(pending, fn, min(jobs, len(pending)))
        if unfinished:
            log.warning("a worker process died; %d unfinished document(s) go to a new pool", len(unfinished))
        for t in unfinished:
            tries[t.path] += 1
        pending = unfinished


def _dask_results(tasks: list[DocTask], fn: Callable[[DocTask], DocDone], jobs: int,
                  scheduler: str | None) -> Iterator[DocDone]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise PipelineError(f"--executor dask needs dask.distributed ({exc})") from None
    logging.getLogger("distributed").setLevel(logging.WARNING)
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise PipelineError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
    else:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        # One task per document; a worker that dies is retried on another worker, and a
        # document that kills WORKER_RETRIES + 1 workers is an error row.
        futures = client.map(fn, tasks, key=[f"doc-{t.keys['proposals']}" for t in tasks], retries=WORKER_RETRIES)
        task_of = {f.key: t for f, t in zip(futures, tasks)}
        for f in as_completed(futures):
            try:
                yield f.result()
            except PipelineError:
                raise
            except Exception as exc:  # KilledWorker: its workers died WORKER_RETRIES + 1 times
                t = task_of[f.key]
                log.warning("%s: %s; it becomes an error row", Path(t.path).name, type(exc).__name__)
                yield DocDone(t, failed=f"the worker process died while extracting this document ({type(exc).__name__})")
            f.release()
    finally:
        client.close()
        if cluster is not None:
            # A worker still unloading torch when asked to stop is killed: expected, not news.
            logging.getLogger("distributed.nanny").setLevel(logging.ERROR)
            cluster.close()


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def run_documents(paths: list[Path], store: Store, jobs: int | None = None, executor: str = "local",
                  scheduler: str | None = None) -> list[DocDone]:
    """Fill the store for ``paths``; the done records in input order."""
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    tasks = plan([Path(p) for p in paths], store)
    todo = [t for t in tasks if not all(store.has(s, t.keys[s]) for s in STAGES)]
    done: dict[str, DocDone] = {t.path: DocDone(t) for t in tasks}
    log.info("%d documents: %d in the store, %d to extract (%s, %d jobs)", len(tasks), len(tasks) - len(todo),
             len(todo), executor, jobs)
    if todo:
        from tqdm import tqdm

        from pipeline.segment import check_model

        # A missing Stanza bundle stops the run before any document starts (without it
        # the segment keys hash no model file, so every document needs segmenting).
        check_model()

        fn = functools.partial(process_document, root=str(store.root), versions=store.versions)
        # Largest files first, so that a big document does not start last and run alone.
        todo = sorted(todo, key=lambda t: -_file_size(t.path))
        if executor == "local":
            results = _local_results(todo, fn, jobs)
        elif executor == "dask":
            results = _dask_results(todo, fn, jobs, scheduler)
        else:
            raise PipelineError(f"unknown executor {executor!r} (expected local or dask)")
        pages = 0
        with tqdm(total=len(todo), unit="doc", desc="extract", disable=None) as bar:
            for r in results:
                done[r.task.path] = r
                store.executed.update(r.ran)
                pages += r.n_pages or 0
                bar.set_postfix(pages=pages, refresh=False)
                bar.update(1)
    return [done[t.path] for t in tasks]


# ------------------------------------------------------------------ assembly


def _final_doc_ids(docs: list[tuple[str, str]]) -> list[str]:
    """Two files with the same stem (a.pdf, a.html) get distinct doc_ids, in input
    order: ``a``, then ``a-<format>`` (``a-html``), then ``a-3``, ``a-4``, …
    ``docs``: (doc_id, format) of each document."""
    seen: dict[str, int] = {}
    out = []
    for base, fmt in docs:
        if base in seen:
            seen[base] += 1
            out.append(f"{base}-{fmt}" if seen[base] == 1 else f"{base}-{seen[base]}")
        else:
            seen[base] = 0
            out.append(base)
    return out


def _with_doc_id(table: pa.Table, doc_id: str) -> pa.Table:
    i = table.schema.get_field_index("doc_id")
    return table.set_column(i, "doc_id", pa.array([doc_id] * table.num_rows, pa.string()))


def _failed_row(doc: pa.Table, reason: str) -> pa.Table:
    row = doc.to_pylist()[0]
    row.update(status="error", error=reason, n_blocks=0, n_dropped_duplicate_blocks=0)
    return pa.Table.from_pylist([row], schema=doc.schema)


def _document(store: Store, d: DocDone) -> pa.Table:
    """The document's row from the store; for a document whose ingest itself failed
    (nothing stored), an error row built from the file name."""
    if d.failed and not store.has("ingest", d.task.keys["ingest"]):
        from pipeline.extract.ingest import FORMATS, doc_id_for

        path = Path(d.task.path)
        doc = Document(doc_id=doc_id_for(path), source_file=path.name, format=FORMATS.get(path.suffix.lower(), "unknown"),
                       sha256=d.task.sha256, status="error", error=d.failed)
        return to_arrow([doc], "documents")
    return store.read("ingest", d.task.keys["ingest"], "documents")


def _id_and_format(store: Store, d: DocDone) -> tuple[str, str]:
    if d.failed:
        row = _document(store, d).to_pylist()[0]
    else:
        path = store.path("ingest", d.task.keys["ingest"], "documents")
        row = pq.read_table(path, columns=["doc_id", "format"]).to_pylist()[0]
    return row["doc_id"], row["format"]


def iter_tables(done: list[DocDone], store: Store) -> Iterator[dict[str, pa.Table]]:
    """Each document's final tables from the store, in input order, doc_ids made unique.
    One document at a time: the caller decides what to keep."""
    ids = _final_doc_ids([_id_and_format(store, d) for d in done])
    schemas = {t: arrow_schema(t) for t in TABLES}
    for d, doc_id in zip(done, ids):
        doc = _document(store, d)
        if d.failed:
            out = {"documents": _failed_row(doc, d.failed)}
            out.update({t: schemas[t].empty_table() for t in ("blocks", "sentences", "proposals")})
        else:
            out = {"documents": doc}
            for t in ("blocks", "sentences", "proposals"):
                stage = _TABLE_STAGE[t]
                out[t] = store.read(stage, d.task.keys[stage], t)
        yield {t: _with_doc_id(tab, doc_id) for t, tab in out.items()}


def assemble(done: list[DocDone], store: Store) -> dict[str, pd.DataFrame]:
    """All four tables as DataFrames (unlabelled proposals)."""
    parts: dict[str, list[pa.Table]] = {t: [] for t in TABLES}
    for tables in iter_tables(done, store):
        for t, tab in tables.items():
            parts[t].append(tab)
    return {t: to_pandas(pa.concat_tables(parts[t]) if parts[t] else arrow_schema(t).empty_table())
            for t in TABLES}


class _TableWriter:
    """Streams one table to ``name.csv`` and ``name.parquet``, atomically, in parts.

    :meth:`add` buffers store tables of ``schema`` and writes every ROWS_PER_WRITE rows;
    :meth:`add_frame` writes a typed frame at once (its columns and Parquet schema are
    set by the first one: the labelled proposals, whose columns the labeller adds)."""

    def __init__(self, out_dir: Path, name: str, schema: pa.Schema | None = None):
        self._csv_cm = atomic_writer(out_dir / f"{name}.csv")
        self._pq_cm = atomic_writer(out_dir / f"{name}.parquet")
        self.csv = self._csv_cm.__enter__()
        self.pq_fh = self._pq_cm.__enter__()
        self.pq: pq.ParquetWriter | None = None
        self.buf: list[pa.Table] = []
        self.n_buf = 0
        self.rows = 0
        if schema is not None:
            import pandas as pd

            self._start(schema, pd.DataFrame(columns=schema.names))

    def _start(self, schema: pa.Schema, header: pd.DataFrame) -> None:
        self.pq = pq.ParquetWriter(self.pq_fh, schema)
        self.csv.write(csv_text(header.iloc[:0]).encode("utf-8"))

    def _write(self, table: pa.Table, frame: pd.DataFrame) -> None:
        self.csv.write(csv_text(frame, header=False).encode("utf-8"))
        self.pq.write_table(table)
        self.rows += table.num_rows

    def add(self, table: pa.Table) -> None:
        self.buf.append(table)
        self.n_buf += table.num_rows
        if self.n_buf >= ROWS_PER_WRITE:
            self.flush()

    def add_frame(self, df: pd.DataFrame) -> None:
        table = frame_to_arrow(df, "proposals")
        if self.pq is None:
            self._start(table.schema, df)
        elif table.schema != self.pq.schema:
            table = table.cast(self.pq.schema)
        self._write(table, df)

    def flush(self) -> None:
        if self.n_buf:
            table = pa.concat_tables(self.buf)
            self._write(table, to_pandas(table))
        self.buf, self.n_buf = [], 0

    def close(self, ok: bool = True) -> None:
        exc = (None, None, None) if ok else (RuntimeError, RuntimeError("aborted"), None)
        if ok:
            self.flush()
        if self.pq is not None:
            self.pq.close()
        self._pq_cm.__exit__(*exc)
        self._csv_cm.__exit__(*exc)


def _with_doc_columns(props: pd.DataFrame, docs: pd.DataFrame) -> pd.DataFrame:
    """Proposals with ``doc_sha256`` and the document columns of :data:`DOC_COLUMNS`
    (named ``doc_<name>`` where a proposal column has that name): the model's input
    beside the proposal's own columns, the same in training and extraction."""
    docs = docs.set_index("doc_id")
    props = props.copy()
    props["doc_sha256"] = props["doc_id"].map(docs["sha256"])
    for col in DOC_COLUMNS:
        if col in docs.columns:
            name = f"doc_{col}" if col in props.columns else col
            props[name] = props["doc_id"].map(docs[col]).astype(docs[col].dtype)
    return props


def write_tables(done: list[DocDone], store: Store, out_dir: Path,
                 label: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> dict[str, int]:
    """All four tables streamed from the store to CSV + Parquet in ``out_dir``, one
    document at a time, atomically. Proposals go in parts of about
    :data:`ROWS_PER_WRITE` rows: each part gets its documents' columns, is labelled with
    ``label`` (if given), enriched with document metadata and theme names
    (:func:`pipeline.outputs.enrich`) and written, so memory stays bounded however
    many documents there are. Returns the row count of each table."""
    from pipeline.outputs import enrich

    out_dir = Path(out_dir)
    writers = {t: _TableWriter(out_dir, t, arrow_schema(t)) for t in ("documents", "blocks", "sentences")}
    props_out = _TableWriter(out_dir, "proposals")
    part: dict[str, list[pa.Table]] = {"proposals": [], "documents": []}
    n_part = 0

    def flush(final: bool = False) -> None:
        nonlocal n_part
        if not n_part and not (final and props_out.rows == 0):
            return
        docs = to_pandas(pa.concat_tables(part["documents"]) if part["documents"]
                         else arrow_schema("documents").empty_table())
        raw = to_pandas(pa.concat_tables(part["proposals"]) if part["proposals"]
                        else arrow_schema("proposals").empty_table())
        props = _with_doc_columns(raw, docs)
        if label is not None:
            props = label(props)
        props = props.drop(columns=[c for c in props.columns if c not in raw.columns and c not in LABEL_OUTPUT])
        props_out.add_frame(enrich({"documents": docs, "proposals": props})["proposals"])
        part["proposals"], part["documents"], n_part = [], [], 0

    ok = False
    try:
        for tables in iter_tables(done, store):
            for t, w in writers.items():
                w.add(tables[t])
            part["proposals"].append(tables["proposals"])
            part["documents"].append(tables["documents"])
            n_part += tables["proposals"].num_rows
            if n_part >= ROWS_PER_WRITE:
                flush()
        flush(final=True)
        ok = True
    finally:
        for w in writers.values():
            w.close(ok)
        props_out.close(ok)
    counts = {t: w.rows for t, w in writers.items()}
    counts["proposals"] = props_out.rows
    return counts


# ------------------------------------------------------------------ library entry points


def cached_tables(paths: Iterable[Path], jobs: int | None = None, store: Store | None = None,
                  executor: str = "local", scheduler: str | None = None) -> dict[str, pd.DataFrame]:
    """documents, blocks, sentences and proposals (unlabelled) of ``paths``, from the
    store; documents missing from it are extracted first (``jobs`` at a time, default
    all usable cores)."""
    store = store or Store()
    done = run_documents(list(paths), store, jobs=jobs, executor=executor, scheduler=scheduler)
    return assemble(done, store)


def cached_proposals(paths: Iterable[Path], jobs: int | None = None, store: Store | None = None) -> pd.DataFrame:
    """Unlabelled proposals of ``paths`` with ``doc_sha256`` and the document columns
    title, actor_level, kind and year (named ``doc_<name>`` where a proposal column has
    that name; the proposal's own ``actor`` stays as it is)."""
    tables = cached_tables(paths, jobs=jobs, store=store)
    return _with_doc_columns(tables["proposals"], tables["documents"])
