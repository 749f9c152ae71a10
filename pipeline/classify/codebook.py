"""The codebook (codebook.yaml): label ids, cue words, level hints, and validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pipeline.errors import PipelineError

CODEBOOK_PATH = Path(__file__).with_name("codebook.yaml")


@dataclass(frozen=True)
class Label:
    id: str
    name: str
    description: str
    cues: tuple[str, ...]


@dataclass(frozen=True)
class Codebook:
    themes: tuple[Label, ...]
    levels: tuple[Label, ...]
    level_hints: dict
    actor_levels: dict = field(default_factory=dict)  # see codebook.yaml: order, patterns, parties, regions

    @property
    def theme_ids(self) -> list[str]:
        return [t.id for t in self.themes]

    @property
    def level_ids(self) -> list[str]:
        return [lv.id for lv in self.levels]

    def ids(self, field: str) -> list[str]:
        """Label ids of a field, ``theme`` or ``level``."""
        if field == "theme":
            return self.theme_ids
        if field == "level":
            return self.level_ids
        raise ValueError(f"unknown label field {field!r} (expected theme or level)")

    def level_hint(self, text: str) -> str:
        """The level an intro or heading names ("Förslag på nationell nivå:" -> stat), or ''."""
        low = " ".join(text.lower().split())
        for level, phrases in self.level_hints.items():
            if any(p in low for p in phrases):
                return level
        return ""

    def validate(self, rows, field: str, source: str, row_offset: int = 2) -> None:
        """Raise PipelineError naming file and row for any label id outside the codebook.

        ``rows`` is an iterable of label values; row numbers are reported as in the
        file (header is line 1, so the first data row is line 2)."""
        allowed = set(self.ids(field))
        for i, value in enumerate(rows):
            if value not in allowed:
                raise PipelineError(
                    f"{source}, row {i + row_offset}: {field} '{value}' is not in the codebook "
                    f"(allowed: {', '.join(sorted(allowed))})"
                )


def _labels(items) -> tuple[Label, ...]:
    return tuple(
        Label(it["id"], it["name"], it.get("description", ""), tuple(c.lower() for c in it.get("cues") or ()))
        for it in items
    )


@lru_cache(maxsize=None)
def load_codebook(path: Path = CODEBOOK_PATH) -> Codebook:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    ids = [t["id"] for t in data["themes"]]
    if len(ids) != len(set(ids)) or not all(re.fullmatch(r"[a-z_]+", i) for i in ids):
        raise PipelineError(f"{path}: theme ids must be unique lower-case ids")
    return Codebook(_labels(data["themes"]), _labels(data["levels"]), data.get("level_hints", {}),
                    data.get("actor_levels") or {})
