"""Sentence segmentation: Blocks -> Sentences, with the Stanza Swedish tokenizer.

Segmentation is per block: a heading or a bullet never merges with its neighbour.
All texts of a call go to Stanza together (joined by blank lines, which Stanza
treats as paragraph breaks, so no sentence can cross from one text into the next)
and the sentence offsets are mapped back to each text.

The model is Stanza's official Swedish tokenizer (``sv/tokenize``, trained on UD
Swedish Talbanken). It is looked up in :func:`pipeline.config.stanza_resources_dir`
(``$STANZA_RESOURCES_DIR``, Stanza's own convention, else the shared bundle, else
``~/stanza_resources``). There is no fallback to another segmenter: a missing model
is a :class:`~pipeline.errors.PipelineError` that says how to get one.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import logging
import re
import sys
from pathlib import Path
from typing import Iterable

from pipeline import config
from pipeline.errors import PipelineError
from pipeline.records import Block, Sentence

log = logging.getLogger(__name__)

LANG = "sv"
PROCESSOR = "tokenize"
# Texts are handed to Stanza in chunks of about this many characters: big enough
# that Stanza batches well, small enough to bound memory on a whole corpus.
CHUNK_CHARS = 200_000
# Torch threads during a Stanza call. The tokenizer is a small LSTM: one thread
# gives ~55k chars/s here, while torch's default (one per core) was 4x slower
# whenever other processes shared the CPU (OpenMP threads spin waiting for each
# other), e.g. under `extract --jobs 2`. Restored after each call.
TORCH_THREADS = 1
_SEPARATOR = "\n\n"  # a blank line: Stanza starts a new paragraph (and sentence)
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*(?:\n[^\S\n]*)+")  # a line break, then >= 1 blank line
_LINE_BREAKS_RE = re.compile(r"\s*[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")


def _quiet_stanza() -> None:
    logging.getLogger("stanza").setLevel(logging.WARNING)


def _missing_model_message(resources_dir: Path, detail: str) -> str:
    return (
        f"Stanza Swedish tokenizer not found in {resources_dir} ({detail}). "
        f"Set STANZA_RESOURCES_DIR to a folder holding resources.json and "
        f"{LANG}/{PROCESSOR}/<model>.pt, or, on a machine with internet, run "
        f"`python -m pipeline models --download-if-missing` "
        f"(which calls stanza.download('{LANG}', processors='{PROCESSOR}'))."
    )


def _check_model_files(resources_dir: Path) -> None:
    """Raise PipelineError unless ``resources_dir`` looks like a usable Stanza bundle."""
    if not resources_dir.is_dir():
        raise PipelineError(_missing_model_message(resources_dir, "folder does not exist"))
    if not (resources_dir / "resources.json").is_file():
        raise PipelineError(_missing_model_message(resources_dir, "no resources.json"))
    model_dir = resources_dir / LANG / PROCESSOR
    if not model_dir.is_dir() or not any(model_dir.glob("*.pt")):
        raise PipelineError(_missing_model_message(resources_dir, f"no {LANG}/{PROCESSOR}/*.pt"))


@contextlib.contextmanager
def _no_training_optimizer():
    """Stanza's tokenizer Trainer builds an Adam optimizer even to predict; torch's
    optimizer imports torch._dynamo on first use, which is most of the model's load
    time (~5 s in each worker process). Segmenting never trains, so while the pipeline
    loads, Stanza's optimizer factory returns None (restored afterwards)."""
    try:
        from stanza.models.common import utils as stanza_utils
    except ImportError:
        yield
        return
    original = getattr(stanza_utils, "get_optimizer", None)
    if original is None:
        yield
        return
    stanza_utils.get_optimizer = lambda *args, **kwargs: None
    try:
        yield
    finally:
        stanza_utils.get_optimizer = original


@functools.lru_cache(maxsize=None)
def _load_pipeline(resources_dir: str):
    _quiet_stanza()
    path = Path(resources_dir)
    _check_model_files(path)
    import stanza

    from pipeline.worker import long_lived

    try:
        with _no_training_optimizer(), long_lived():
            nlp = stanza.Pipeline(
                LANG,
                dir=resources_dir,
                processors=PROCESSOR,
                download_method=None,
                logging_level="WARN",
            )
    except Exception as exc:  # Stanza raises several types for a broken bundle
        raise PipelineError(
            _missing_model_message(path, f"Stanza could not load it: {type(exc).__name__}: {exc}")
        ) from exc
    _quiet_stanza()  # Pipeline(logging_level=...) resets the level; keep it quiet
    log.debug("loaded Stanza %s tokenizer from %s", LANG, resources_dir)
    return nlp


@contextlib.contextmanager
def _torch_threads(n: int):
    import torch

    old = torch.get_num_threads()
    if old != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if old != n:
            torch.set_num_threads(old)


def check_model(resources_dir: str | Path | None = None) -> None:
    """Raise PipelineError (with what to do) unless the Stanza bundle's files are there:
    a cheap check a run makes before it starts any document, so that a missing model
    stops it at once instead of at the first document's segmentation."""
    _check_model_files(Path(resources_dir or config.stanza_resources_dir()).expanduser().resolve())


def load_segmenter(resources_dir: str | Path | None = None):
    """The Stanza Swedish tokenize pipeline, loaded once per process (per folder).

    ``resources_dir`` defaults to :func:`pipeline.config.stanza_resources_dir`.
    Raises PipelineError when the model is missing or cannot be loaded.
    """
    if resources_dir is None:
        resources_dir = config.stanza_resources_dir()
    return _load_pipeline(str(Path(resources_dir).expanduser().resolve()))


def _chunks(texts: list[str], max_chars: int) -> Iterable[tuple[int, int]]:
    """Index ranges [i, j) of ``texts`` whose joined length stays near ``max_chars``."""
    i, n = 0, len(texts)
    while i < n:
        j, size = i, 0
        while j < n and (j == i or size + len(texts[j]) <= max_chars):
            size += len(texts[j]) + len(_SEPARATOR)
            j += 1
        yield i, j
        i = j


def _strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _spans_for_chunk(nlp, texts: list[str]) -> list[list[tuple[int, int]]]:
    # Stanza's paragraph break is "\n<whitespace>\n"; with every "\n" inside a text
    # replaced by a space (same length, so offsets stay valid) the only breaks are
    # our separators.
    starts: list[int] = []
    pos = 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + len(_SEPARATOR)
    joined = _SEPARATOR.join(t.replace("\n", " ") for t in texts)
    doc = nlp(joined)

    out: list[list[tuple[int, int]]] = [[] for _ in texts]
    for sent in doc.sentences:
        if not sent.tokens:
            continue
        s, e = sent.tokens[0].start_char, sent.tokens[-1].end_char
        i = bisect.bisect_right(starts, s) - 1
        while s < e and i < len(texts):
            t_start = starts[i]
            t_end = t_start + len(texts[i])
            if e > t_end:
                # Cannot happen with Stanza's paragraph handling; if it ever does,
                # keep each text's part rather than produce a sentence spanning texts.
                log.warning(
                    "Stanza sentence [%d, %d) crosses the end of text %d [%d, %d); split there",
                    s, e, i, t_start, t_end,
                )
            span = _strip_span(texts[i], max(s, t_start) - t_start, min(e, t_end) - t_start)
            if span is not None:
                out[i].append(span)
            if e <= t_end:
                break
            i += 1
            s = starts[i] if i < len(texts) else e
    return out


# A sentence ends in terminal punctuation, optionally followed by closing quotes or brackets.
_TERMINAL = ".!?…:;"
_CLOSING = "\"'”’»)\\]"
_TERMINAL_RE = re.compile(f"[{_TERMINAL}][{_CLOSING}]*$")
_INNER_TERMINAL_RE = re.compile(f"[{_TERMINAL}]")
_TRAILING_RE = re.compile(f"[\\s{_TERMINAL}{_CLOSING}]*$")  # a text's end: punctuation, closing marks, space


def join_unpunctuated(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Undo splits after a sentence that has no terminal punctuation.

    Talbanken's tokenizer sometimes ends a sentence before a capitalised proper noun
    ("Vi vill bygga | Malmö helt med …"). Within one block (a paragraph or a bullet;
    headings are blocks of their own) a sentence boundary needs punctuation."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and not _TERMINAL_RE.search(text[out[-1][0]:out[-1][1]]):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def sentence_spans(texts: list[str], repair: bool = False) -> list[list[tuple[int, int]]]:
    """For each text, the (start, end) character offsets of its sentences.

    Spans are stripped of surrounding whitespace, in text order, and never cross
    from one text into another. All texts are segmented in few Stanza calls.
    With ``repair``, splits after unpunctuated text are undone
    (:func:`join_unpunctuated`); :func:`segment_blocks` uses it for document
    blocks, where a heading is a block of its own.
    """
    texts = list(texts)
    out: list[list[tuple[int, int]] | None] = [None] * len(texts)
    if repair:
        # A text with no terminal punctuation before its end is one sentence whatever
        # Stanza says: join_unpunctuated would undo every split inside it.
        for k, t in enumerate(texts):
            if not _INNER_TERMINAL_RE.search(_TRAILING_RE.sub("", t)):
                span = _strip_span(t, 0, len(t))
                out[k] = [span] if span is not None else []
    todo = [k for k, sp in enumerate(out) if sp is None]
    if todo:
        nlp = load_segmenter()
        rest = [texts[k] for k in todo]
        spans: list[list[tuple[int, int]]] = []
        with _torch_threads(TORCH_THREADS):
            for i, j in _chunks(rest, CHUNK_CHARS):
                spans.extend(_spans_for_chunk(nlp, rest[i:j]))
        for k, sp in zip(todo, spans):
            out[k] = join_unpunctuated(texts[k], sp) if repair else sp
    return out


def segment_blocks(blocks: list[Block]) -> list[Sentence]:
    """The sentences of each block, in block order.

    ``sentence_id`` runs from 0 within each ``doc_id``; offsets are into ``block.text``.
    A sentence boundary inside a block needs terminal punctuation
    (:func:`join_unpunctuated`): on UD Talbanken, whose running text holds unpunctuated
    headlines, that rule costs recall (benchmarks/segment.py shows both), but in a
    document block, where headings stand alone, it removes Stanza's splits before
    capitalised names ("Vi vill bygga | Malmö helt …").
    """
    blocks = list(blocks)
    spans = sentence_spans([b.text for b in blocks], repair=True)
    next_id: dict[str, int] = {}
    sentences: list[Sentence] = []
    for block, block_spans in zip(blocks, spans):
        for start, end in block_spans:
            sid = next_id.get(block.doc_id, 0)
            next_id[block.doc_id] = sid + 1
            sentences.append(
                Sentence(
                    doc_id=block.doc_id,
                    block_id=block.block_id,
                    sentence_id=sid,
                    text=block.text[start:end],
                    start_char=start,
                    end_char=end,
                )
            )
    log.debug("segmented %d blocks into %d sentences", len(blocks), len(sentences))
    return sentences


def split_paragraphs(text: str) -> list[str]:
    """``text`` cut at blank lines (a line holding only whitespace counts as blank)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [p for p in _BLANK_LINE_RE.split(text) if p.strip()]


def segment_command(file: str) -> int:
    """``python -m pipeline segment FILE``: one sentence per line on stdout.

    Blank lines in the input are paragraph breaks; line breaks inside a sentence
    become single spaces so each sentence is one output line.
    """
    if file == "-":
        text = sys.stdin.read()
    else:
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise PipelineError(f"no such file: {path}") from exc
        except UnicodeDecodeError as exc:
            raise PipelineError(f"{path} is not UTF-8 text: {exc}") from exc
    paragraphs = split_paragraphs(text)
    spans = sentence_spans(paragraphs)
    out = sys.stdout
    for para, para_spans in zip(paragraphs, spans):
        for start, end in para_spans:
            out.write(_LINE_BREAKS_RE.sub(" ", para[start:end]) + "\n")
    out.flush()
    return 0


def _download(resources_dir: Path) -> None:
    _quiet_stanza()
    import stanza

    log.info("downloading the Stanza %s tokenizer to %s", LANG, resources_dir)
    try:
        stanza.download(LANG, processors=PROCESSOR, model_dir=str(resources_dir), logging_level="WARN")
    except Exception as exc:  # network errors come as requests/urllib/OS errors
        raise PipelineError(
            f"could not download the Stanza {LANG} tokenizer to {resources_dir} "
            f"({type(exc).__name__}: {exc}). Check the internet connection, or set "
            f"STANZA_RESOURCES_DIR to a folder holding resources.json and {LANG}/{PROCESSOR}/<model>.pt."
        ) from exc


def models_command(download_if_missing: bool = False) -> int:
    """``python -m pipeline models``: check the Swedish tokenizer loads (0), else 2."""
    resources_dir = config.stanza_resources_dir()
    try:
        try:
            load_segmenter(resources_dir)
        except PipelineError:
            if not download_if_missing:
                raise
            _download(resources_dir)
            _load_pipeline.cache_clear()
            load_segmenter(resources_dir)
    except PipelineError as exc:
        log.error("%s", exc)
        return 2
    model_files = sorted((resources_dir / LANG / PROCESSOR).glob("*.pt"))
    log.info(
        "Stanza %s tokenizer OK: %s",
        LANG,
        ", ".join(str(p) for p in model_files) or resources_dir,
    )
    return 0
