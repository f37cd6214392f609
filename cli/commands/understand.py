"""`sasaeai understand`: classify resident messages, one per line on stdin, one JSON per line out.

    echo "あしたの午前中にかいものをたのみたい" | sasaeai understand --today 2026-11-25
    sasaeai understand train       # train the learned reader on the corpus (writes the artifact)
    sasaeai understand evaluate    # recall, false alarms, categories, speed and memory
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, datetime

from domain.clock import TOKYO
from domain.understanding import understand


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日付は 2026-11-25 の形で書いてください: {value!r}") from exc


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "understand",
        help="classify messages from stdin (one per line) into JSON lines",
        description="Read one resident message per line on stdin and write one JSON object per "
        "line: text, category, safety, when, confidence, signal. Blank lines are skipped.",
    )
    parser.add_argument("--today", type=_date, default=None,
                        help="resolve 明日/来週… against this date (default: today in Asia/Tokyo)")
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(dest="understand_action", metavar="ACTION")
    train = actions.add_parser("train", help="train the learned reader on corpus/train and write its artifact",
                               description="Train the learned reader (scikit-learn) on "
                               "domain/understanding/corpus/train/*.tsv and write model/reader.npz.")
    train.add_argument("--out", default=None, help="where to write the artifact (default: inside the package)")
    train.set_defaults(func=run_train)
    evaluate = actions.add_parser("evaluate", help="print recall, false alarms, category accuracy, speed and memory",
                                  description="Read the held-out test split and the training set by "
                                  "cross-validation; print per-family recall, the false-alarm rate, "
                                  "category accuracy and confusions, time per message and memory.")
    evaluate.add_argument("--no-cv", action="store_true", help="skip the cross-validation on train")
    evaluate.add_argument("--by-writer", action="store_true",
                          help="also read each training file with a model trained on the others, and sweep the "
                               "alarm margins over those readings")
    evaluate.add_argument("-v", "--verbose", action="store_true",
                          help="list the cross-validation errors on train (never the test split's)")
    evaluate.set_defaults(func=run_evaluate)
    export = actions.add_parser("export-corrections",
                                help="コーディネーターが確かめた読み取りを学習用 TSV に書き出す（同意した住民のみ・個人情報なし）")
    export.add_argument("--output", "-o", help="書き出すファイル（既定: 標準出力）")
    export.set_defaults(func=run_export_corrections)


def run(args) -> int:
    today = args.today or datetime.now(TOKYO).date()
    stdin = sys.stdin
    if hasattr(stdin, "reconfigure"):
        stdin.reconfigure(encoding="utf-8", errors="replace")
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(encoding="utf-8")
    for line in stdin:
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        result = understand(text, today)
        out.write(json.dumps(result.to_json_dict(), ensure_ascii=False) + "\n")
        out.flush()
    return 0


def run_train(args) -> int:
    # Deferred (start-up of `sasaeai understand`): training loads scikit-learn and the corpus.
    from domain.understanding import model, train

    started = time.perf_counter()
    path, examples, features = train.train(args.out) if args.out else train.train()
    model.reset()
    size = path.stat().st_size / 1e6
    print(f"trained on {examples} messages, {features} features, in {time.perf_counter() - started:.1f} s;"
          f" wrote {path} ({size:.1f} MB)")
    return 0


def run_evaluate(args) -> int:
    # Deferred (start-up of `sasaeai understand`): evaluation loads scikit-learn and the corpus.
    from domain.understanding.evaluate import evaluate_corpus

    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(encoding="utf-8")
    return evaluate_corpus(cv=not args.no_cv, verbose=args.verbose, out=out, by_writer=args.by_writer)


def run_export_corrections(args) -> int:
    # Deferred (start-up of `sasaeai understand`): the export needs SQLAlchemy and the database.
    from cli.commands._corrections import run_export_corrections as export

    return export(args)
