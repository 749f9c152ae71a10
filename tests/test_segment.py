"""Sentence segmentation with the real Stanza Swedish tokenizer (skipped without it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import config
from pipeline.errors import PipelineError
from pipeline.records import Block

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seg():
    """The pipeline.segment module, once the Stanza model is known to load."""
    from pipeline import segment

    try:
        segment.load_segmenter()
    except PipelineError as exc:
        pytest.skip(f"Stanza Swedish tokenizer not available: {exc}")
    return segment


def _texts(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[s:e] for s, e in spans]


def _run_cli(*args: str, stdin: str = "", env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        input=stdin, capture_output=True, text=True, encoding="utf-8",
        cwd=REPO_ROOT, env=env, timeout=300,
    )


def test_three_sentences_with_offsets(seg):
    text = "Vi vill inrätta ett vittnesstöd. Polisen ska få mer resurser, t.ex. fler utredare. Det är bra!"
    [spans] = seg.sentence_spans([text])
    assert spans == [(0, 32), (33, 82), (83, 94)]
    assert _texts(text, spans) == [
        "Vi vill inrätta ett vittnesstöd.",
        "Polisen ska få mer resurser, t.ex. fler utredare.",
        "Det är bra!",
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Vi vill bl.a. bygga fler bostäder. Kommunen ska t.ex. erbjuda läxhjälp.",
         ["Vi vill bl.a. bygga fler bostäder.", "Kommunen ska t.ex. erbjuda läxhjälp."]),
        ("Satsningar på skola, vård m.m. är viktiga. Vi vill också se s.k. trygghetsvandringar.",
         ["Satsningar på skola, vård m.m. är viktiga.", "Vi vill också se s.k. trygghetsvandringar."]),
        ("Fler poliser i bl.a. Rinkeby, Tensta och Husby",
         ["Fler poliser i bl.a. Rinkeby, Tensta och Husby"]),
    ],
)
def test_abbreviations_do_not_split(seg, text, expected):
    [spans] = seg.sentence_spans([text])
    assert _texts(text, spans) == expected


def test_spans_are_stripped_and_mapped_per_text(seg):
    texts = [
        "  Först en mening. Sedan en till.  ",
        "",
        "   \n ",
        "Rubrik\n\nmed stycke. Andra meningen bl.a. här.\n",  # internal blank line
        "Utan punkt",
        "Ett. Två! Tre?",
    ]
    spans = seg.sentence_spans(texts)
    assert len(spans) == len(texts)
    assert _texts(texts[0], spans[0]) == ["Först en mening.", "Sedan en till."]
    assert spans[1] == [] and spans[2] == []
    # The blank line inside a text is not a text boundary: offsets stay valid.
    assert _texts(texts[3], spans[3]) == ["Rubrik\n\nmed stycke.", "Andra meningen bl.a. här."]
    assert _texts(texts[4], spans[4]) == ["Utan punkt"]
    for text, text_spans in zip(texts, spans):
        prev_end = 0
        for s, e in text_spans:
            assert prev_end <= s < e <= len(text)
            assert text[s:e] == text[s:e].strip()
            prev_end = e


def test_batched_equals_one_by_one(seg):
    texts = [
        "Kommunen ska bygga fler förskolor. Barngrupperna ska bli mindre",
        "Trygghet",
        "Vi vill:\n- sänka skatten\n- anställa fler lärare. Dessutom vill vi mer.",
        "Det är dags för förändring! Rösta på oss den 8 sept.",
    ]
    assert seg.sentence_spans(texts) == [seg.sentence_spans([t])[0] for t in texts]


def test_repair_shortcut_gives_what_stanza_and_the_join_give(seg):
    # Texts without terminal punctuation before their end skip Stanza (repair=True):
    # the join would undo any split inside them. Same spans as Stanza + the join.
    texts = [
        "Vi vill bygga Malmö helt nytt med Lunds universitet och Region Skåne",
        "  Trygghet i Storby  ",
        "Fler poliser i Göteborg, Malmö och Stockholm!",
        "Inför ”nolltolerans” mot klotter (även i tunnelbanan)",
        "Det här är en mening. Och en till utan punkt",
        "Så här: en lista",
        "",
        "   ",
        "Sänk skatten!!",
    ]
    stanza_then_join = [seg.join_unpunctuated(t, sp) for t, sp in zip(texts, seg.sentence_spans(texts))]
    assert seg.sentence_spans(texts, repair=True) == stanza_then_join


def test_segment_blocks_per_block_and_ids_per_doc(seg):
    blocks = [
        Block("a", 0, 1, "heading", "", "Trygghet och säkerhet"),
        Block("a", 1, 1, "paragraph", "Trygghet och säkerhet",
              "Vi vill inrätta ett vittnesstöd. Polisen ska få mer resurser, t.ex. fler utredare."),
        Block("a", 2, 1, "bullet", "Trygghet och säkerhet", "fler poliser i bl.a. centrum"),
        Block("a", 3, 1, "bullet", "Trygghet och säkerhet", "bättre belysning"),
        Block("b", 0, None, "paragraph", "", "Skolan är viktig. Alla barn ska få läxhjälp."),
        Block("b", 1, None, "heading", "", "Miljö"),
    ]
    sentences = seg.segment_blocks(blocks)
    by_block = {(b.doc_id, b.block_id): b for b in blocks}
    assert [(s.doc_id, s.block_id, s.sentence_id, s.text) for s in sentences] == [
        ("a", 0, 0, "Trygghet och säkerhet"),
        ("a", 1, 1, "Vi vill inrätta ett vittnesstöd."),
        ("a", 1, 2, "Polisen ska få mer resurser, t.ex. fler utredare."),
        ("a", 2, 3, "fler poliser i bl.a. centrum"),
        ("a", 3, 4, "bättre belysning"),
        ("b", 0, 0, "Skolan är viktig."),
        ("b", 0, 1, "Alla barn ska få läxhjälp."),
        ("b", 1, 2, "Miljö"),
    ]
    for s in sentences:
        assert by_block[(s.doc_id, s.block_id)].text[s.start_char:s.end_char] == s.text


def test_segment_blocks_empty(seg):
    assert seg.segment_blocks([]) == []
    assert seg.segment_blocks([Block("a", 0, None, "other", "", "   ")]) == []


def test_cli_segment_stdin_one_sentence_per_line(seg):
    stdin = (
        "Vi vill inrätta ett vittnesstöd. Polisen ska få mer\n"
        "resurser, t.ex. fler utredare.\n"
        "\n"
        "Trygghet\n"
        "\n \n"
        "Det är bra!\n"
    )
    proc = _run_cli("segment", "-", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "Vi vill inrätta ett vittnesstöd.",
        "Polisen ska få mer resurser, t.ex. fler utredare.",
        "Trygghet",
        "Det är bra!",
    ]


def test_cli_segment_file(seg, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("Första meningen. Andra meningen.\n", encoding="utf-8")
    proc = _run_cli("segment", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Första meningen.\nAndra meningen.\n"


def test_cli_models_ok(seg):
    proc = _run_cli("models")
    assert proc.returncode == 0, proc.stderr
    assert "tokenize" in proc.stderr


@pytest.mark.parametrize("command", [["segment", "-"], ["models"]])
def test_missing_model_exit_2(tmp_path, command):
    proc = _run_cli(*command, stdin="En mening.\n", env_extra={"STANZA_RESOURCES_DIR": str(tmp_path)})
    assert proc.returncode == 2
    assert "STANZA_RESOURCES_DIR" in proc.stderr
    assert "--download-if-missing" in proc.stderr
    assert proc.stdout == ""


def test_extract_without_model_stops_before_any_document(tmp_path):
    proc = _run_cli("extract", "--no-classify", "--raw", str(config.RAW_DIR), "--out", str(tmp_path / "out"),
                    "--cache", str(tmp_path / "cache"), env_extra={"STANZA_RESOURCES_DIR": str(tmp_path / "none")})
    assert proc.returncode == 2
    assert "STANZA_RESOURCES_DIR" in proc.stderr and "--download-if-missing" in proc.stderr
    assert not (tmp_path / "out").exists()
    assert not list((tmp_path / "cache").rglob("*.parquet"))  # not one document was ingested


def _talbanken_running_text(n_sentences: int) -> tuple[str, list[int]]:
    path = config.UD_DIR / "sv_talbanken-ud-test.conllu"
    if not path.is_file():
        pytest.skip(f"UD Talbanken test not found at {path}")
    parts: list[str] = []
    ends: list[int] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# text ="):
                sent = line.split("=", 1)[1].strip()
                offset = sum(len(p) + 1 for p in parts)
                parts.append(sent)
                ends.append(offset + len(sent))
                if len(parts) == n_sentences:
                    break
    return " ".join(parts), ends


def test_boundary_f1_on_talbanken_sample(seg):
    text, gold_ends = _talbanken_running_text(200)
    [spans] = seg.sentence_spans([text])
    gold = set(gold_ends[:-1])  # the text end is a boundary for any segmenter
    pred = {e for _, e in spans if e < len(text)}
    tp = len(gold & pred)
    precision, recall = tp / len(pred), tp / len(gold)
    f1 = 2 * precision * recall / (precision + recall)
    assert f1 >= 0.95, (precision, recall, f1)
