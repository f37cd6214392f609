"""Per-category accuracy of understand() on a labelled TSV (columns: text, category, safety,
optional note; a header line starting with ``text`` is skipped).

    python -m domain.understanding.evaluate tests/data/understanding/labelled.tsv [-v]
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..categories import CATEGORY_CODES
from .core import understand

TODAY = date(2026, 11, 25)  # fixed: the labels do not depend on the date


@dataclass(frozen=True)
class Case:
    line: int
    text: str
    category: str
    safety: str
    note: str


@dataclass(frozen=True)
class Outcome:
    case: Case
    category: str
    safety: str
    confidence: float


def read_cases(path: str | Path) -> list[Case]:
    cases: list[Case] = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cols = raw.split("\t")
        if number == 1 and cols[0] == "text":
            continue
        if len(cols) < 3:
            raise ValueError(f"{path}:{number}: expected text, category, safety")
        text, category, safety = cols[0], cols[1].strip(), cols[2].strip()
        note = cols[3].strip() if len(cols) > 3 else ""
        cases.append(Case(number, text, category, safety, note))
    return cases


def run_cases(cases: list[Case], today: date = TODAY) -> list[Outcome]:
    outcomes = []
    for case in cases:
        u = understand(case.text, today)
        outcomes.append(Outcome(case, u.category, u.safety, u.confidence))
    return outcomes


def accuracy(outcomes: list[Outcome]) -> float:
    return sum(o.category == o.case.category for o in outcomes) / len(outcomes) if outcomes else 0.0


def table(outcomes: list[Outcome]) -> str:
    """The per-category accuracy table (markdown), plus the safety results."""
    lines = ["| category | n | correct | accuracy |", "| --- | ---: | ---: | ---: |"]
    for code in CATEGORY_CODES:
        mine = [o for o in outcomes if o.case.category == code]
        if not mine:
            continue
        ok = sum(o.category == code for o in mine)
        lines.append(f"| {code} | {len(mine)} | {ok} | {ok / len(mine):.2f} |")
    total_ok = sum(o.category == o.case.category for o in outcomes)
    lines.append(f"| **all** | {len(outcomes)} | {total_ok} | {accuracy(outcomes):.3f} |")
    lines.append("")
    lines.append("| safety label | n | detected as labelled | came out none | false alarms |")
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    for level in ("emergency", "crisis", "none"):
        mine = [o for o in outcomes if o.case.safety == level]
        same = sum(o.safety == level for o in mine)
        missed = sum(o.safety == "none" for o in mine) if level != "none" else 0
        alarms = sum(o.safety != "none" for o in mine) if level == "none" else 0
        lines.append(f"| {level} | {len(mine)} | {same} | {missed} | {alarms} |")
    return "\n".join(lines)


def mistakes(outcomes: list[Outcome]) -> list[str]:
    out = []
    for o in outcomes:
        if o.category != o.case.category or o.safety != o.case.safety:
            out.append(f"line {o.case.line}: {o.case.text[:60]!r} expected {o.case.category}/"
                       f"{o.case.safety}, got {o.category}/{o.safety} ({o.confidence})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tsv")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every mistake")
    args = parser.parse_args(argv)
    outcomes = run_cases(read_cases(args.tsv))
    print(table(outcomes))
    if args.verbose:
        print()
        print("\n".join(mistakes(outcomes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
