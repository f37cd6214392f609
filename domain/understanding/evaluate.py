"""Per-category accuracy of understand() on a labelled TSV (columns: text, category, safety,
optional note; a header line starting with ``text`` is skipped).

    python -m domain.understanding.evaluate tests/data/understanding/labelled.tsv [-v]
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
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


# -- the corpus report: `sasaeai understand evaluate` ---------------------------------------------
FAMILIES = ("medical", "injury", "fire", "missing", "despair", "abuse", "dv", "fraud")


@dataclass(frozen=True)
class Reading:
    """One labelled example and what the reader made of it."""

    example: object  # corpus.Example
    safety: str
    certainty: str
    signal: str | None
    category: str


def read_examples(examples) -> list[Reading]:
    """Read every example with understand() (the shipped rules and model)."""
    out = []
    for e in examples:
        u = understand(e.text, TODAY)
        out.append(Reading(e, u.safety, u.certainty, u.signal, u.category))
    return out


def out_of_fold(examples, fold_of) -> list[tuple]:
    """(rules, category, scores) of each example, read by rules + a model trained on the other
    folds (``fold_of``: the fold number of each example)."""
    import numpy as np

    from . import train as tr
    from .model import Scores

    prepared = [tr.prepare(e.text) for e in examples]
    docs = [p[2] for p in prepared]
    out: list[tuple | None] = [None] * len(examples)
    for f in sorted(set(int(x) for x in fold_of)):
        train_idx = [i for i in range(len(examples)) if fold_of[i] != f]
        test_idx = [i for i in range(len(examples)) if fold_of[i] == f]
        fitted = tr.fit([docs[i] for i in train_idx], [examples[i] for i in train_idx])
        margins = tr.predict_margins(fitted, [docs[i] for i in test_idx])
        for row, i in enumerate(test_idx):
            heads = {h: dict(zip(cls, (float(v) for v in np.atleast_2d(m)[row]))) for h, (cls, m) in margins.items()}
            rules, category, _ = prepared[i]
            out[i] = (rules, category, Scores(heads["safety"], heads["signal"], heads["category"]))
    return out


def readings_of(examples, read, thresholds=None) -> list[Reading]:
    from .core import Thresholds, decide

    out = []
    for e, (rules, category, scores) in zip(examples, read):
        d = decide(rules, category, scores, thresholds or Thresholds.shipped())
        out.append(Reading(e, d.safety, d.certainty, d.signal, d.category))
    return out


def cross_validated(examples, k: int = 5) -> list[Reading]:
    """Out-of-fold readings of the training set (stratified folds), through the same decide()
    as understand()."""
    from . import train as tr

    return readings_of(examples, out_of_fold(examples, tr.folds(examples, k)))


def writer_folds(examples) -> list[int]:
    """One fold per training file: each file was written by another hand, so a file read by a
    model trained on the others is the nearest thing to messages from people it never saw."""
    files = sorted({e.source.rsplit(":", 1)[0] for e in examples})
    return [files.index(e.source.rsplit(":", 1)[0]) for e in examples]


def threshold_sweep(examples, read) -> str:
    """Recall and false alarms of the by-writer readings for a grid of alarm margins: how the
    thresholds in core.py are chosen (never on the test split)."""
    from .core import Thresholds

    lines = ["| suspected from | in context from | recall | false alarms |", "| ---: | ---: | ---: | ---: |"]
    for suspected in (-0.3, -0.2, -0.1, 0.0, 0.1, 0.2):
        for in_context in (0.1, 0.3, 0.5):
            rs = readings_of(examples, read, Thresholds(suspected, Thresholds.shipped().sure, in_context))
            alarms = [r.safety != "none" for r in rs if r.example.safety == "none"]
            caught = [r.safety != "none" for r in rs if r.example.safety != "none"]
            lines.append(f"| {suspected:+.1f} | {in_context:+.1f} | {_pct(sum(caught), len(caught))} | "
                         f"{_pct(sum(alarms), len(alarms))} |")
    return "\n".join(lines)


def _pct(n: int, d: int) -> str:
    return f"{n / d:.3f}" if d else "-"


def corpus_report(readings: list[Reading], title: str) -> str:
    lines = [f"## {title}", ""]
    safety_rows = [r for r in readings if r.example.safety != "none"]
    none_rows = [r for r in readings if r.example.safety == "none"]
    caught = sum(r.safety != "none" for r in safety_rows)
    level_ok = sum(r.safety == r.example.safety for r in safety_rows)
    alarms = [r for r in none_rows if r.safety != "none"]
    lines.append(f"safety recall (any alarm): {caught}/{len(safety_rows)} = {_pct(caught, len(safety_rows))}"
                 f"   right level: {_pct(level_ok, len(safety_rows))}")
    sure = sum(r.certainty == "sure" for r in safety_rows if r.safety != "none")
    lines.append(f"  of those caught, sure: {sure}, suspected: {caught - sure}")
    lines.append(f"false alarms: {len(alarms)}/{len(none_rows)} = {_pct(len(alarms), len(none_rows))}"
                 f"   (sure: {sum(r.certainty == 'sure' for r in alarms)})")
    lines += ["", "| family | n | recall (any alarm) | right level | right family |", "| --- | ---: | ---: | ---: | ---: |"]
    for fam in FAMILIES:
        mine = [r for r in safety_rows if r.example.signal == fam]
        if not mine:
            continue
        a = sum(r.safety != "none" for r in mine)
        lv = sum(r.safety == r.example.safety for r in mine)
        fm = sum(r.signal == fam for r in mine)
        lines.append(f"| {fam} | {len(mine)} | {_pct(a, len(mine))} | {_pct(lv, len(mine))} | {_pct(fm, len(mine))} |")
    ok_none = sum(r.category == r.example.category for r in none_rows)
    ok_all = sum(r.category == r.example.category for r in readings)
    lines += ["", f"category accuracy, ordinary messages: {ok_none}/{len(none_rows)} = {_pct(ok_none, len(none_rows))}"
                  f"   all messages: {_pct(ok_all, len(readings))}", "",
              "| category | n | accuracy | most often read as |", "| --- | ---: | ---: | --- |"]
    for code in CATEGORY_CODES:
        mine = [r for r in none_rows if r.example.category == code]
        if not mine:
            continue
        wrong: dict[str, int] = {}
        for r in mine:
            if r.category != code:
                wrong[r.category] = wrong.get(r.category, 0) + 1
        worst = ", ".join(f"{k} {v}" for k, v in sorted(wrong.items(), key=lambda kv: -kv[1])[:3])
        lines.append(f"| {code} | {len(mine)} | {_pct(len(mine) - sum(wrong.values()), len(mine))} | {worst} |")
    fam_conf: dict[tuple[str, str], int] = {}
    for r in safety_rows:
        got = r.signal if r.safety != "none" else "none"
        if got != r.example.signal:
            fam_conf[(r.example.signal, got or "none")] = fam_conf.get((r.example.signal, got or "none"), 0) + 1
    if fam_conf:
        lines += ["", "family confusions (labelled → read): " + ", ".join(
            f"{a}→{b} {n}" for (a, b), n in sorted(fam_conf.items(), key=lambda kv: -kv[1])[:12])]
    return "\n".join(lines)


def speed_and_memory(texts: list[str]) -> str:
    """Time per message after start-up (p50, p99) and the memory the reader takes."""
    from .model import get_reader

    mem0 = _memory_mb()
    t0 = time.perf_counter()
    get_reader()
    understand("買い物", TODAY)
    start = time.perf_counter() - t0
    mem1 = _memory_mb()
    times = []
    for text in texts:
        t = time.perf_counter()
        understand(text, TODAY)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p50 = times[len(times) // 2]
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    mem2 = _memory_mb()
    grown = {k: mem2[k] - mem0[k] for k in mem0}
    return (f"time per message: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {times[-1]:.2f} ms ({len(times)} messages)\n"
            f"loading (dictionary, lexicon, model) {start:.2f} s; memory: RSS {mem0['rss']:.0f} → {mem1['rss']:.0f} MB "
            f"after loading → {mem2['rss']:.0f} MB after reading: grown by {grown['rss']:.0f} MB, of which "
            f"{grown['private']:.0f} MB private and {grown['file']:.0f} MB pages of mapped files (the Sudachi "
            "dictionary, shared by every process on the machine and given back under memory pressure)")


def _memory_mb() -> dict[str, float]:
    """RSS, and its private (anonymous) and file-backed parts, from /proc (Linux)."""
    found = {"rss": 0.0, "private": 0.0, "file": 0.0}
    names = {"VmRSS:": "rss", "RssAnon:": "private", "RssFile:": "file"}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key = names.get(line.split(" ")[0].split("\t")[0])
            if key:
                found[key] = int(line.split()[1]) / 1024
    except OSError:
        found["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return found


def evaluate_corpus(cv: bool = True, verbose: bool = False, out=sys.stdout, by_writer: bool = False) -> int:
    """Print the report on the held-out test split, then by cross-validation on train
    (``verbose``: list the cross-validation errors; the test split's are never listed)."""
    from .corpus import test_set, training_set

    test = test_set()
    texts = [e.text for e in test]
    out.write(speed_and_memory(texts) + "\n\n")
    readings = read_examples(test)
    out.write(corpus_report(readings, f"held-out test split ({len(test)} messages)") + "\n\n")
    if cv:
        train = training_set()
        cv_readings = cross_validated(train)
        out.write(corpus_report(cv_readings, f"5-fold cross-validation on train ({len(train)} messages)") + "\n")
        if by_writer:
            read = out_of_fold(train, writer_folds(train))
            out.write("\n" + corpus_report(readings_of(train, read), "by writer: each training file read by a model "
                                            "trained on the other files") + "\n\n")
            out.write("alarm margins, by writer (core.ALARM_SUSPECTED, core.ALARM_IN_CONTEXT):\n\n"
                      + threshold_sweep(train, read) + "\n")
        if verbose:  # the training set's errors only: the test split is never read for tuning
            for r in cv_readings:
                if (r.safety == "none") != (r.example.safety == "none") or r.category != r.example.category:
                    out.write(f"  {r.example.source}: {r.example.text[:70]!r} labelled {r.example.category}/"
                              f"{r.example.signal} read {r.category}/{r.signal or 'none'} {r.certainty}\n")
    out.flush()
    return 0
