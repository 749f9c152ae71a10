"""Whole-pipeline benchmark: parallel speed, the store, scale and Dask, in one run.

    .venv/bin/python benchmarks/pipeline.py [--quick] [--jobs N] [--pdf-dir DIR]

Every pipeline measurement is ``python -m pipeline extract --no-classify`` in a fresh
process (so it includes interpreter start, worker start and model loading: what a user
waits for), timed by wall clock and CPU time (user + system of the process and its workers), with the
peak resident memory of its whole process
tree (parent + workers, summed, sampled every 0.1 s with psutil). Ratios are against
baselines measured in the same run:

  speed     the seven real PDFs (``--pdf-dir``, default ../shared/corpus/real, read in
            place), empty store, ``--jobs N`` (default 2): pages/s against plain
            pdfplumber (``page.extract_text()`` on every page, one process). Target
            >= 1.0. Skipped (with a note) when the folder is absent.
  rerun     the same command again (everything in the store, processed/ up to date:
            nothing is written) / the first run. Target <= 0.05. Also the same into an
            empty output folder (the tables assembled again from the store).
  added     one more document (a copy of the smallest real PDF with a comment appended,
            so a new sha256) / the first run.
  scale     10, 100 and 1,000 documents (``--quick``: 10 and 40), empty store: copies of
            real PDFs, each with a PDF comment line appended after %%EOF so every copy
            has its own sha256 and the store cannot help. ``--scale-pdfs K`` cycles
            through the K real PDFs with the fewest pages (default 1: the 12-page one,
            so 1,000 copies are 12,000 pages, about 25 minutes here; 7 takes all of them,
            27,600 pages at 1,000). Without the real corpus, copies of raw/'s two HTML
            pages and its four-page PDF. Target: linear time (s/doc about constant),
            peak RSS < 2 GB at 1,000.
  dask      the 100-document set (``--quick``: 10) on a Dask LocalCluster of N worker
            processes against the local pool (the scale row), both with an empty store.

The machine may be shared with other work: wall times then include waiting for the CPU.
``--parts`` runs a subset (e.g. ``--parts speed`` on a quiet machine, ``--parts scale,dask``
at another time). Temporary folders are removed at the end. Exit code 0; the table says
pass/fail.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from pipeline import config  # noqa: E402

PY = sys.executable


@dataclass
class Run:
    wall_s: float
    peak_rss: int  # bytes, whole process tree
    cpu_s: float  # user + system seconds of the process and its workers


def _tree_rss(proc) -> int:
    import psutil

    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def extract(raw: Path, out: Path, cache: Path, jobs: int, executor: str = "local") -> Run:
    """One ``pipeline extract`` in a new process: wall time and peak tree RSS."""
    import psutil

    cmd = [PY, "-m", "pipeline", "extract", "--raw", str(raw), "--out", str(out), "--cache", str(cache),
           "--jobs", str(jobs), "--executor", executor, "--no-classify"]
    env = dict(os.environ, PIPELINE_SHARED_DIR=str(config.SHARED_DIR), TQDM_DISABLE="1")
    peak = 0
    stop = threading.Event()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    popen = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc = psutil.Process(popen.pid)

    def sample():
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = popen.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stop.set()
    sampler.join()
    if popen.returncode != 0:
        raise SystemExit(f"extract failed ({popen.returncode}): {' '.join(cmd)}\n{err[-2000:]}")
    return Run(wall, peak, cpu)


def plain_pdfplumber(paths: list[Path]) -> tuple[int, float, float]:
    """Pages, wall seconds and CPU seconds of plain ``extract_text()`` over every page."""
    import pdfplumber

    pages, t0, c0 = 0, time.perf_counter(), time.process_time()
    for p in paths:
        with pdfplumber.open(p) as pdf:
            for page in pdf.pages:
                page.extract_text()
                pages += 1
                page.close()
    return pages, time.perf_counter() - t0, time.process_time() - c0


def _n_pages(path: Path) -> int:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return len(pdf.pages)


def _append(src: Path, dst: Path, n: int) -> None:
    data = src.read_bytes()
    tag = f"copy {n}".encode()
    if src.suffix.lower() == ".pdf":
        data += b"\n%" + tag + b"\n"
    else:
        data += b"\n<!-- " + tag + b" -->\n"
    dst.write_bytes(data)


def copies(templates: list[Path], n: int, folder: Path) -> Path:
    """``n`` documents cycling through ``templates``, each with its own bytes."""
    folder.mkdir(parents=True)
    for i in range(n):
        src = templates[i % len(templates)]
        _append(src, folder / f"doc-{i:05d}-{src.name}", i)
    return folder


class _Rows:
    """Table rows, printed as soon as they are measured."""

    def append(self, row: tuple[str, str, str, str]) -> None:  # measure, result, target, verdict
        print("| " + " | ".join(row) + " |", flush=True)


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller scale set (10, 40) and Dask on 10 documents")
    ap.add_argument("--sizes", default="10,100,1000", help="scale set sizes, comma-separated (default 10,100,1000)")
    ap.add_argument("--dask-docs", type=int, default=100, help="documents in the Dask comparison (a scale size)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--pdf-dir", type=Path, default=config.REAL_CORPUS_DIR)
    ap.add_argument("--scale-pdfs", type=int, default=1,
                    help="the scale set cycles through this many real PDFs, fewest pages first (default 1)")
    ap.add_argument("--parts", default="speed,scale,dask",
                    help="what to run, comma-separated: speed (with rerun and added), scale, dask (needs scale)")
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    if parts - {"speed", "scale", "dask"} or ("dask" in parts and "scale" not in parts):
        ap.error(f"--parts {args.parts}: choose from speed, scale, dask (dask needs scale)")
    jobs = args.jobs
    sizes = (10, 40) if args.quick else tuple(int(x) for x in args.sizes.split(","))
    dask_docs = 10 if args.quick else args.dask_docs
    if "dask" in parts and dask_docs not in sizes:
        ap.error(f"--dask-docs {dask_docs} is not one of the sizes {sizes}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"pipeline benchmark ({'quick' if args.quick else 'full'}; {os.cpu_count()} cores, "
          f"load average {load:.1f} at the start)\n")
    print("| measure | result | target | |")
    print("|---|---|---|---|", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    rows = _Rows()
    notes: list[str] = []
    try:
        # ---------------------------------------------------------------- real PDFs
        pdfs = sorted(args.pdf_dir.glob("*.pdf")) if args.pdf_dir.is_dir() else []
        if "speed" in parts and not pdfs:
            notes.append(f"real corpus not found at {args.pdf_dir}: speed, rerun and added rows skipped")
        elif "speed" in parts:
            real = work / "real"
            real.mkdir()
            for p in pdfs:
                os.symlink(p, real / p.name)
            pages, plumber_s, plumber_cpu = plain_pdfplumber(pdfs)
            first = extract(real, work / "out-real", work / "cache-real", jobs)
            ours = pages / first.wall_s
            plumber = pages / plumber_s
            rows.append((f"speed: {len(pdfs)} real PDFs, {pages} pages, --jobs {jobs}, empty store",
                         f"{ours:.2f} p/s vs pdfplumber {plumber:.2f} p/s = {ours / plumber:.2f}x "
                         f"({first.wall_s:.1f} s vs {plumber_s:.1f} s; CPU {first.cpu_s / pages:.3f} s/page vs "
                         f"{plumber_cpu / pages:.3f}; peak {_mb(first.peak_rss)})",
                         ">= 1.0x", "pass" if ours >= plumber else "FAIL"))
            rerun = extract(real, work / "out-real", work / "cache-real", jobs)
            r = rerun.wall_s / first.wall_s
            rows.append(("rerun, unchanged (the same command) / first run", f"{r:.3f} ({rerun.wall_s:.1f} s)",
                         "<= 0.05", "pass" if r <= 0.05 else "FAIL"))
            fresh = extract(real, work / "out-real-2", work / "cache-real", jobs)
            rows.append(("rerun into an empty output folder (tables assembled from the store) / first run",
                         f"{fresh.wall_s / first.wall_s:.3f} ({fresh.wall_s:.1f} s)", "", ""))
            smallest = min(pdfs, key=lambda p: p.stat().st_size)
            _append(smallest, real / f"added-{smallest.name}", 0)
            added = extract(real, work / "out-real-3", work / "cache-real", jobs)
            rows.append((f"one added document ({smallest.name} + a comment) / first run",
                         f"{added.wall_s / first.wall_s:.3f} ({added.wall_s:.1f} s)", f"~1/{len(pdfs)} + start-up", ""))

        # ---------------------------------------------------------------- scale
        if "scale" in parts:
            n_pages = {p: _n_pages(p) for p in pdfs}
            if pdfs:
                templates = sorted(pdfs, key=lambda p: (n_pages[p], p.name))[:max(1, args.scale_pdfs)]
            else:
                templates = sorted(p for p in config.RAW_DIR.iterdir() if p.suffix == ".html")
                templates.append(config.RAW_DIR / "asn-2023-12667-tjansteskrivelse.pdf")
                notes.append(f"real corpus not found at {args.pdf_dir}: the scale set is copies of raw/'s documents")
            rows.append(("scale set", ", ".join(f"{p.name} ({n_pages[p]} p.)" if p in n_pages else p.name
                                                for p in templates) + ", cycled", "", ""))
            scale: dict[int, Run] = {}
            for n in sizes:
                folder = copies(templates, n, work / f"scale-{n}")
                scale[n] = extract(folder, work / f"out-scale-{n}", work / f"cache-scale-{n}", jobs)
                per_doc = scale[n].wall_s / n
                rows.append((f"scale: {n} documents, --jobs {jobs}, empty store",
                             f"{scale[n].wall_s:.1f} s = {per_doc:.3f} s/doc (CPU {scale[n].cpu_s / n:.3f} s/doc), "
                             f"peak {_mb(scale[n].peak_rss)}",
                             "< 2 GB" if n == 1000 else "",
                             ("pass" if scale[n].peak_rss < 2 * 2**30 else "FAIL") if n == 1000 else ""))
            lo, hi = sizes[-2], sizes[-1]
            growth = (scale[hi].wall_s / hi) / (scale[lo].wall_s / lo)
            rows.append((f"scale: s/doc at {hi} / s/doc at {lo}", f"{growth:.2f}", "<= 1.2 (linear)",
                         "pass" if growth <= 1.2 else "FAIL"))

        # ---------------------------------------------------------------- dask
        if "dask" in parts:
            n = dask_docs
            folder = work / f"scale-{n}"
            dask = extract(folder, work / f"out-dask-{n}", work / f"cache-dask-{n}", jobs, executor="dask")
            same = all((work / f"out-dask-{n}" / f"{t}.csv").read_bytes() == (work / f"out-scale-{n}" / f"{t}.csv").read_bytes()
                       for t in ("documents", "blocks", "sentences", "proposals"))
            rows.append((f"dask LocalCluster ({jobs} workers) / local pool, {n} documents, empty store",
                         f"{dask.wall_s / scale[n].wall_s:.2f} ({dask.wall_s:.1f} s vs {scale[n].wall_s:.1f} s), "
                         f"peak {_mb(dask.peak_rss)}; same CSV bytes: {same}", "same bytes",
                         "pass" if same else "FAIL"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average {load:.1f} at the end")
    for note in notes:
        print(f"\nnote: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
