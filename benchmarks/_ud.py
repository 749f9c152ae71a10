"""UD CoNLL-U files as running text with gold sentence boundaries, and boundary scores.

Running text: the ``# text =`` line of each sentence, sentences joined by a single
space. A new text starts at every ``# newdoc`` or ``# newpar`` comment (the file's
own document/paragraph structure, the way our blocks arrive: one paragraph per
block); a file with neither is one single text. Gold boundaries are the sentence
end offsets in each text.

Scoring counts only boundaries *inside* a text: a text's final offset is always a
boundary for every segmenter (the end of the input), so counting it would reward
every method equally and hide differences. Precision, recall and F1 are over these
internal end offsets, micro-averaged over all texts of a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class UDText:
    text: str = ""
    ends: list[int] = field(default_factory=list)  # gold sentence end offsets
    n_sentences: int = 0


def read_ud_texts(path: Path, split_at_structure: bool = True) -> list[UDText]:
    """Running texts of ``path`` (see module docstring)."""
    texts: list[UDText] = []
    current = UDText()
    parts: list[str] = []

    def flush() -> None:
        nonlocal current, parts
        if parts:
            current.text = " ".join(parts)
            texts.append(current)
        current, parts = UDText(), []

    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith("#"):
                continue
            key, _, value = line[1:].partition("=")
            key = key.strip()
            word = key.split()[0] if key else ""
            if word in ("newdoc", "newpar"):
                if split_at_structure:
                    flush()
            elif key == "text":
                sent = value.strip()
                if not sent:
                    continue
                offset = sum(len(p) for p in parts) + len(parts)  # one space between sentences
                parts.append(sent)
                current.ends.append(offset + len(sent))
                current.n_sentences += 1
    flush()
    return texts


@dataclass
class PRF:
    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.n_pred if self.n_pred else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.n_gold if self.n_gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def boundary_scores(texts: list[UDText], predicted_ends: list[list[int]]) -> PRF:
    """Micro P/R/F1 of predicted sentence end offsets against gold, text-final ends excluded."""
    if len(texts) != len(predicted_ends):
        raise ValueError(f"{len(texts)} texts but {len(predicted_ends)} predictions")
    score = PRF()
    for ud, pred in zip(texts, predicted_ends):
        n = len(ud.text.rstrip())
        gold = {e for e in ud.ends if e < n}
        guess = {e for e in pred if e < n}
        score.tp += len(gold & guess)
        score.n_gold += len(gold)
        score.n_pred += len(guess)
    return score
