"""Sentence segmentation benchmark on UD Swedish test sets.

    .venv/bin/python benchmarks/segment.py

Compares, on sv_talbanken-ud-test and sv_lines-ud-test (read from ../shared/ud,
never copied into the repo):

  stanza      our segmenter, :func:`pipeline.segment.sentence_spans` (Stanza sv tokenizer)
  stanza+blk  as segment_blocks runs it on document blocks: no boundary after text
              without terminal punctuation (costs recall on UD's unpunctuated headlines)
  spacy    spaCy's rule-based sentencizer, ``spacy.blank("sv")`` + ``"sentencizer"``
  regex    split after [.!?] followed by whitespace and an uppercase letter

Each corpus is scored as two kinds of input (see benchmarks/_ud.py for details):

  paragraphs  a new text at each ``# newdoc`` / ``# newpar`` (sentences of a text
              joined by one space). This is how the pipeline sees its input: one
              block (paragraph, heading, bullet) at a time.
  running     the whole file as one text, sentences joined by one space. Harder
              (no paragraph ends to lean on); this is the setting of the figures in
              ../shared/models/README.md.

Scores are precision/recall/F1 of sentence end character offsets, text-final ends
excluded (every method gets those for free). Throughput is characters per second of
wall time, best of ``--repeats`` runs, model loading and a warm-up call excluded.
Skips (exit 0) when ../shared/ud is absent.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from pathlib import Path
from typing import Callable

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tqdm import tqdm  # noqa: E402

from _ud import PRF, UDText, boundary_scores, read_ud_texts  # noqa: E402
from pipeline import config  # noqa: E402
from pipeline.errors import PipelineError  # noqa: E402

log = logging.getLogger("benchmarks.segment")

CORPORA = {
    "talbanken": "sv_talbanken-ud-test.conllu",
    "lines": "sv_lines-ud-test.conllu",
}
MODES = {"paragraphs": True, "running": False}

Segmenter = Callable[[list[str]], list[list[int]]]  # texts -> sentence end offsets per text


def _stanza(repair: bool) -> Segmenter:
    from pipeline.segment import load_segmenter, sentence_spans

    load_segmenter()

    def run(texts: list[str]) -> list[list[int]]:
        return [[end for _, end in spans] for spans in sentence_spans(texts, repair=repair)]

    return run


def stanza_segmenter() -> Segmenter:
    """Our segmenter: Stanza's Swedish tokenizer (``segment`` command, sentence_spans)."""
    return _stanza(repair=False)


def stanza_block_segmenter() -> Segmenter:
    """As the pipeline runs it on document blocks: plus the punctuation repair."""
    return _stanza(repair=True)


def spacy_segmenter() -> Segmenter:
    import spacy

    nlp = spacy.blank("sv")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 10_000_000

    def run(texts: list[str]) -> list[list[int]]:
        out = []
        for doc in nlp.pipe(texts):
            ends = []
            for sent in doc.sents:
                stripped = sent.text.rstrip()
                if stripped.strip():
                    ends.append(sent.start_char + len(stripped))
            out.append(ends)
        return out

    return run


_REGEX_BOUNDARY = re.compile(r"[.!?](?=\s+(\w))")


def regex_ends(text: str) -> list[int]:
    """Sentence ends: after [.!?] followed by whitespace and an uppercase letter, plus the text end."""
    ends = [m.end() for m in _REGEX_BOUNDARY.finditer(text) if m.group(1).isupper()]
    last = len(text.rstrip())
    if last and (not ends or ends[-1] < last):
        ends.append(last)
    return ends


def regex_segmenter() -> Segmenter:
    def run(texts: list[str]) -> list[list[int]]:
        return [regex_ends(t) for t in texts]

    return run


METHODS: dict[str, Callable[[], Segmenter]] = {
    "stanza": stanza_segmenter,
    "stanza+blk": stanza_block_segmenter,
    "spacy": spacy_segmenter,
    "regex": regex_segmenter,
}


def measure(segment: Segmenter, texts: list[UDText], repeats: int) -> tuple[PRF, float]:
    raw = [t.text for t in texts]
    n_chars = sum(len(t) for t in raw)
    best = float("inf")
    pred: list[list[int]] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        pred = segment(raw)
        best = min(best, time.perf_counter() - t0)
    return boundary_scores(texts, pred), n_chars / best if best > 0 else float("inf")


def format_table(rows: list[dict]) -> str:
    header = ["corpus", "input", "texts", "sents", "method", "P", "R", "F1", "chars/s"]
    lines = []
    for r in rows:
        if r.get("error"):
            cells = [r["corpus"], r["input"], str(r["texts"]), str(r["gold"]), r["method"],
                     "-", "-", "-", r["error"]]
        else:
            s: PRF = r["score"]
            cells = [r["corpus"], r["input"], str(r["texts"]), str(r["gold"]), r["method"],
                     f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", f"{r['cps']:,.0f}"]
        lines.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(header)]
    left = {0, 1, 4}

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [fmt(header), "  ".join("-" * w for w in widths)]
    out += [fmt(c) for c in lines]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ud-dir", type=Path, default=config.UD_DIR, help="folder with the UD .conllu files")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per cell; the fastest counts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)

    missing = [name for name in CORPORA.values() if not (args.ud_dir / name).is_file()]
    if missing:
        print(f"SKIP: UD test files not found in {args.ud_dir} ({', '.join(missing)}); "
              f"put the shared folder at {config.SHARED_DIR} or pass --ud-dir.")
        return 0

    data = {
        (corpus, mode): read_ud_texts(args.ud_dir / fname, split_at_structure=split)
        for corpus, fname in CORPORA.items()
        for mode, split in MODES.items()
    }

    segmenters: dict[str, Segmenter | str] = {}
    for name, factory in METHODS.items():
        try:
            seg = factory()
            seg(["Det här är en mening. Och en till."])  # warm-up
            segmenters[name] = seg
        except PipelineError as exc:
            log.warning("%s unavailable: %s", name, exc)
            segmenters[name] = "unavailable"

    rows = []
    cells = [(c, m, name) for (c, m) in data for name in METHODS]
    for corpus, mode, name in tqdm(cells, desc="segment benchmark", unit="cell", file=sys.stderr):
        texts = data[(corpus, mode)]
        row = {"corpus": corpus, "input": mode, "texts": len(texts), "method": name,
               "gold": sum(t.n_sentences for t in texts)}
        seg = segmenters[name]
        if isinstance(seg, str):
            row["error"] = seg
        else:
            row["score"], row["cps"] = measure(seg, texts, args.repeats)
        rows.append(row)

    print("Sentence-boundary precision / recall / F1 (sentence end offsets, text-final ends excluded)")
    print(f"UD test sets from {args.ud_dir}; chars/s = best of {args.repeats} runs\n")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
