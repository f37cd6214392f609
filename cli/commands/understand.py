"""`sasaeai understand`: classify resident messages, one per line on stdin, one JSON per line out.

    echo "あしたの午前中にかいものをたのみたい" | sasaeai understand --today 2026-11-25
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime

from domain.clock import TOKYO


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "understand",
        help="classify messages from stdin (one per line) into JSON lines",
        description="Read one resident message per line on stdin and write one JSON object per "
        "line: text, category, safety, when, confidence. Blank lines are skipped.",
    )
    parser.add_argument("--today", type=_date, default=None,
                        help="resolve 明日/来週… against this date (default: today in Asia/Tokyo)")
    parser.set_defaults(func=run)
    from cli.commands._corrections import add_export_corrections

    add_export_corrections(parser)  # `sasaeai understand export-corrections` (issue 15)


def run(args) -> int:
    from domain.understanding import understand

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
