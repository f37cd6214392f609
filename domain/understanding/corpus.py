"""The labelled corpus shipped beside the reader: train/*.tsv for training, test.tsv held out.

Format (corpus/SPEC.md): a UTF-8 TSV with the header ``text category safety signal note``.
Training reads only ``corpus/train/``; nothing that trains may open ``corpus/test.tsv``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..categories import CATEGORY_CODES

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
TRAIN_DIR = CORPUS_DIR / "train"
TEST_FILE = CORPUS_DIR / "test.tsv"

SAFETY_LEVELS = ("none", "emergency", "crisis")
EMERGENCY_SIGNALS = ("medical", "injury", "fire", "missing")
CRISIS_SIGNALS = ("despair", "abuse", "dv", "fraud")
SIGNALS = EMERGENCY_SIGNALS + CRISIS_SIGNALS
LEVEL_OF_SIGNAL = {**{s: "emergency" for s in EMERGENCY_SIGNALS}, **{s: "crisis" for s in CRISIS_SIGNALS}}


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    safety: str
    signal: str  # "none" for safety=none
    note: str
    source: str  # file:line

    @property
    def family(self) -> str:
        return self.signal if self.safety != "none" else "none"


def read_tsv(path: str | Path) -> list[Example]:
    path = Path(path)
    out: list[Example] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        for number, row in enumerate(reader, start=2):
            text = (row.get("text") or "").strip()
            category = (row.get("category") or "").strip()
            safety = (row.get("safety") or "none").strip() or "none"
            signal = (row.get("signal") or "").strip() or "none"
            if not text:
                continue
            if category not in CATEGORY_CODES or safety not in SAFETY_LEVELS:
                raise ValueError(f"{path}:{number}: bad labels {category!r}/{safety!r}")
            if safety == "none":
                signal = "none"
            elif LEVEL_OF_SIGNAL.get(signal) != safety:
                raise ValueError(f"{path}:{number}: signal {signal!r} is not a {safety} family")
            out.append(Example(text, category, safety, signal, (row.get("note") or "").strip(),
                               f"{path.name}:{number}"))
    return out


def training_set(train_dir: str | Path = TRAIN_DIR) -> list[Example]:
    """Every example under ``train_dir`` (files in name order, so training is reproducible)."""
    examples: list[Example] = []
    for path in sorted(Path(train_dir).glob("*.tsv")):
        examples.extend(read_tsv(path))
    return examples


def test_set(path: str | Path = TEST_FILE) -> list[Example]:
    return read_tsv(path)
