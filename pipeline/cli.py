"""One command line: ``python -m pipeline <command>``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from pipeline import config
from pipeline.errors import PipelineError

log = logging.getLogger("pipeline")


def _lazy(target: str):
    """A command handler imported when it runs, so `--help` and light commands stay fast."""
    module, _, name = target.rpartition(".")

    def run(args) -> int:
        return getattr(importlib.import_module(module), name)(args)

    return run


def _folder_options(p, *names: str) -> None:
    """``--processed``, ``--labels``, ``--models``, ``--reports``: the project's folders
    (``config.<NAME>_DIR``, read when the parser is built)."""
    for name in names:
        p.add_argument(f"--{name}", type=Path, default=getattr(config, f"{name.upper()}_DIR"))


def _threshold_option(p) -> None:
    p.add_argument("--threshold", type=float, default=None,
                   help="least cosine similarity between two members of a group "
                        "(default: pipeline.groups.DEFAULT_THRESHOLD)")


def _add_extract(sub) -> None:
    p = sub.add_parser("extract", help="raw documents -> processed/ tables")
    p.add_argument("--raw", type=Path, default=config.RAW_DIR, help="input folder (default: raw/)")
    p.add_argument("--out", type=Path, default=config.PROCESSED_DIR, help="output folder (default: processed/)")
    p.add_argument("--jobs", type=_positive_int, default=None,
                   help="documents extracted in parallel (default: the usable cores)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local process pool (default) or one dask.distributed task per document")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="Dask scheduler address (tcp://host:8786); without it a LocalCluster of --jobs workers")
    p.add_argument("--cache", metavar="DIR", type=Path, default=None,
                   help="store of per-document stage outputs (default: $PIPELINE_CACHE_DIR, else .cache/pipeline/)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any document fails")
    p.add_argument("--no-classify", action="store_true", help="skip theme/level labelling")
    p.set_defaults(func=_cmd_extract)


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return n


def _cmd_extract(args) -> int:
    from pipeline.run import run_extract

    if args.scheduler and args.executor != "dask":
        raise PipelineError("--scheduler needs --executor dask")
    return run_extract(args.raw, args.out, jobs=args.jobs, strict=args.strict, classify=not args.no_classify,
                       executor=args.executor, scheduler=args.scheduler, cache=args.cache)


def _add_segment(sub) -> None:
    p = sub.add_parser("segment", help="print one sentence per line (Stanza Swedish tokenizer)")
    p.add_argument("file", help="a text file, or - for standard input")
    p.set_defaults(func=_cmd_segment)


def _cmd_segment(args) -> int:
    from pipeline.segment import segment_command

    return segment_command(args.file)


def _add_models(sub) -> None:
    p = sub.add_parser("models", help="check (or fetch) the Stanza Swedish tokenizer")
    p.add_argument("--download-if-missing", action="store_true",
                   help="run stanza.download('sv') when no local bundle is found (needs internet)")
    p.set_defaults(func=_cmd_models)


def _cmd_models(args) -> int:
    from pipeline.segment import models_command

    return models_command(download_if_missing=args.download_if_missing)


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train theme and level models from labels/")
    p.add_argument("--processed", type=Path, default=config.PROCESSED_DIR,
                   help="extracted tables, for corrected proposals that have no hand label")
    _folder_options(p, "labels", "models")
    p.add_argument("--allow-orphans", action="store_true",
                   help="skip labels that cannot be placed on an extracted proposal (default: fail naming them)")
    p.set_defaults(func=_lazy("pipeline.classify.train.train_command"))


def _add_classify(sub) -> None:
    p = sub.add_parser("classify", help="label any CSV of proposals with theme and level")
    p.add_argument("--in", dest="inp", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--text-col", default="text")
    p.add_argument("--context-cols", nargs="*", default=None)
    p.add_argument("--models", type=Path, default=config.MODELS_DIR)
    p.set_defaults(func=_lazy("pipeline.classify.predict.classify_command"))


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="grouped cross-validation report -> reports/")
    _folder_options(p, "processed", "labels", "reports")
    p.add_argument("--allow-orphans", action="store_true",
                   help="skip labels that cannot be placed on an extracted proposal (default: fail naming them)")
    p.set_defaults(func=_lazy("pipeline.classify.evaluate.evaluate_command"))


def _add_review(sub) -> None:
    p = sub.add_parser("review", help="review labels: spreadsheet batches, queue simulation")
    _folder_options(p, "processed", "labels", "models")
    rsub = p.add_subparsers(dest="review_cmd", required=True)
    e = rsub.add_parser("export", help="next batch of the review queue -> .xlsx with drop-down lists")
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--n", type=int, default=50, help="proposals in the batch (default: 50)")
    i = rsub.add_parser("import", help="filled .xlsx batch -> labels/corrections.csv (all rows or none)")
    i.add_argument("file", type=Path)
    i.add_argument("--reviewer", required=True, help="your name or initials")
    s = rsub.add_parser("simulate", help="active-learning simulation -> reports/active_learning.*")
    s.add_argument("--seeds", type=int, default=None,
                   help="number of seeds (default: 10, the reported ones; with --folds: 3 repetitions)")
    s.add_argument("--seed-start", type=int, default=None,
                   help="first seed (default: 0, the reported seeds; the queue was tuned on 100-109)")
    s.add_argument("--folds", type=int, default=0, metavar="K",
                   help="cross-validated protocol: per seed K grouped folds, each held out in turn, their "
                        "predictions pooled -> reports/active_learning_cv.* (default: 0, one held-out split "
                        "per seed -> reports/active_learning.*; the cross-validated report used 5)")
    s.add_argument("--jobs", type=int, default=1,
                   help="seeds (or folds) run in parallel on this many processes (default: 1)")
    s.add_argument("--from-csv", type=Path, default=None, metavar="CSV",
                   help="re-render the report (.md/.png) from curves saved by an earlier run (its "
                        "active_learning.csv or active_learning_cv.csv) instead of simulating")
    _folder_options(s, "reports")
    p.set_defaults(func=_lazy("pipeline.review.review_command"))


def _add_report(sub) -> None:
    p = sub.add_parser("report", help="processed/ -> reports/index.html, proposal groups, Parquet and .xlsx exports")
    _folder_options(p, "processed", "models", "reports")
    p.add_argument("--labels", type=Path, default=config.LABELS_DIR,
                   help="hand labels, to say which proposals the model was trained on")
    _threshold_option(p)
    p.set_defaults(func=_lazy("pipeline.report.report_command"))


def _add_groups(sub) -> None:
    p = sub.add_parser("groups", help="group similar proposals across documents -> proposal_groups.csv")
    p.add_argument("--processed", type=Path, default=config.PROCESSED_DIR, help="folder with proposals.csv")
    p.add_argument("--out", type=Path, default=None, help="default: <processed>/proposal_groups.csv")
    _threshold_option(p)
    p.set_defaults(func=_lazy("pipeline.report.groups_command"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_extract, _add_segment, _add_models, _add_train, _add_classify, _add_evaluate,
                _add_review, _add_report, _add_groups):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except PipelineError as exc:
        log.error("%s", exc)
        return 2
